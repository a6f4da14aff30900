"""What a saved search asks for: criteria and rules (``saved_searches.criteria``) and where to send
matches (``saved_searches.notification_settings``, targets sealed), as validated pydantic models.

Pure: no Dagster, no SQL, no network. The CLI, the YAML sync and the matcher all go through
these models, so a search that was stored is a search that validates.

Text semantics (shared with :mod:`pipelines.alerts.matching`): titles and words are normalised
like the shops' own search (NFKD, accents dropped, case-folded, every run of characters outside
``[0-9a-z]`` becomes one space); a word or phrase matches when it occurs in the normalised title.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.alerts.targets import InvalidTarget, validate_url
from pipelines.alerts.text import normalize

__all__ = [
    "BelowMarketRule",
    "CriteriaError",
    "NewMatchRule",
    "NotificationSettings",
    "PriceDropRule",
    "Rule",
    "SealedTarget",
    "SearchCriteria",
    "StoredNotification",
    "describe_rule",
    "format_validation_error",
    "parse_rule",
]

MAX_WORDS = 20


class CriteriaError(ValueError):
    """A saved search is invalid; the message names the field and never contains a secret."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewMatchRule(_Model):
    """Notify when a listing matches for the first time: a listing first seen that matches, or one
    whose price changed into the criteria (it had never matched this search before)."""

    kind: Literal["new_match"] = "new_match"


class PriceDropRule(_Model):
    """Notify when a matched listing's price fell by at least ``min_percent`` % or at least
    ``min_amount`` (same currency) since the price last notified for it."""

    kind: Literal["price_drop"] = "price_drop"
    min_percent: Decimal | None = Field(default=None, gt=0, lt=100)
    min_amount: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_threshold(self) -> PriceDropRule:
        if self.min_percent is None and self.min_amount is None:
            raise ValueError("price_drop needs min_percent or min_amount (e.g. drop:10% or drop:50)")
        return self


class BelowMarketRule(_Model):
    """Notify when a listing's price is at least ``min_percent`` % under its product's market value
    (``price_snapshots.market_value`` in the listing's currency), only when that snapshot is based
    on at least ``min_sample_size`` listings."""

    kind: Literal["below_market"] = "below_market"
    min_percent: Decimal = Field(gt=0, lt=100)
    min_sample_size: int = Field(default=5, ge=1)


Rule = Annotated[NewMatchRule | PriceDropRule | BelowMarketRule, Field(discriminator="kind")]


def _default_rules() -> list[Rule]:
    """A search without rules alerts on new matches."""
    return [NewMatchRule()]


def _clean_words(values: list[str], field: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        norm = normalize(value)
        if not norm:
            raise ValueError(f"{field}: {value!r} has no letters or digits")
        if norm not in cleaned:
            cleaned.append(norm)
    if len(cleaned) > MAX_WORDS:
        raise ValueError(f"{field}: at most {MAX_WORDS} entries")
    return cleaned


class SearchCriteria(_Model):
    """Which listings a saved search wants, and which events about them it is told about."""

    all_words: list[str] = Field(default_factory=list, description="every word/phrase must occur in the title")
    any_words: list[str] = Field(default_factory=list, description="at least one must occur (when given)")
    none_words: list[str] = Field(default_factory=list, description="none may occur")
    vendors: list[str] = Field(default_factory=list, description="vendor names; empty = every vendor")
    min_price: Decimal | None = Field(default=None, ge=0)
    max_price: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, description="only listings priced in this currency")
    conditions: list[str] = Field(default_factory=list, description="any of these conditions (new, used...)")
    locations: list[str] = Field(default_factory=list, description="location contains any of these")
    attributes: dict[str, str] = Field(default_factory=dict, description="attribute name -> value it contains")
    rules: list[Rule] = Field(default_factory=_default_rules, min_length=1)

    @field_validator("all_words", "any_words", "none_words", "conditions", "locations")
    @classmethod
    def _words(cls, values: list[str], info: Any) -> list[str]:
        return _clean_words(values, info.field_name)

    @field_validator("vendors")
    @classmethod
    def _vendors(cls, values: list[str]) -> list[str]:
        names = []
        for value in values:
            name = value.strip().lower()
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
                raise ValueError(f"vendors: {value!r} is not a vendor name")
            if name not in names:
                names.append(name)
        return names

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        from pipelines.parsing.standards import check_currency  # lazy: importing pipelines.scraping is slow

        return None if value is None else check_currency(value)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, values: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in values.items():
            nkey, nvalue = normalize(key), normalize(str(value))
            if not nkey or not nvalue:
                raise ValueError(f"attributes: {key!r}: name and value need letters or digits")
            out[nkey] = nvalue
        return out

    @model_validator(mode="after")
    def _consistent(self) -> SearchCriteria:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError(f"min_price ({self.min_price}) is greater than max_price ({self.max_price})")
        if (self.min_price is not None or self.max_price is not None) and self.currency is None:
            raise ValueError("a price range needs a currency (prices are never compared across currencies)")
        if not self.all_words and not self.any_words:
            raise ValueError("give at least one word to look for (all_words or any_words)")
        clash = set(self.none_words) & (set(self.all_words) | set(self.any_words))
        if clash:
            raise ValueError(f"none_words contradicts the words looked for: {sorted(clash)}")
        kinds = [r.kind for r in self.rules]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"each rule kind at most once, got {kinds}")
        return self

    def rule(self, kind: str) -> Any:
        return next((r for r in self.rules if r.kind == kind), None)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class NotificationSettings(_Model):
    """Where matches go: one or more Apprise URLs; ``digest`` sends one message per evaluation
    (all of that run's matches of this search) instead of one per match. The URLs are as the
    user wrote them (``${VAR}`` references kept); they are stored sealed, as
    :class:`StoredNotification`."""

    urls: list[str] = Field(min_length=1)
    digest: bool = False

    @field_validator("urls")
    @classmethod
    def _urls(cls, values: list[str], info: Any) -> list[str]:
        # Stored settings were validated with Apprise when written; re-parsing every URL on every
        # sensor tick costs ~1 ms each, so loading from the database passes context {"stored": True}.
        stored = bool(info.context and info.context.get("stored"))
        urls: list[str] = []
        for i, value in enumerate(values):
            try:
                url = value.strip() if stored else validate_url(value)
            except InvalidTarget as exc:
                raise ValueError(f"entry {i + 1}: {exc}") from None
            if url not in urls:
                urls.append(url)
        return urls

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class SealedTarget(_Model):
    """One notification target as stored: encrypted, with a stable random id and a masked label."""

    id: str = Field(pattern=r"^[0-9a-f]{12,32}$", description="Stable per saved search target: dedupe keys.")
    label: str = Field(description="The target masked (`json://bob:****@host/…`): what every listing shows.")
    sealed: str = Field(min_length=1, description="Fernet token of the URL as written (`${VAR}` references kept).")


class StoredNotification(_Model):
    """``saved_searches.notification_settings``: where matches go, with every target sealed."""

    targets: list[SealedTarget] = Field(min_length=1)
    digest: bool = False


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line per problem, ``field: message``, without echoing input values (they may be secrets)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"] if p not in ("function-after",))
        message = str(error["msg"]).removeprefix("Value error, ")
        where = f"{prefix}{where}" if where else prefix.rstrip(".")
        lines.append(f"{where}: {message}" if where else message)
    return "\n".join(lines)


_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


def _number(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CriteriaError(f"{what}: {text!r} is not a number") from None
    return value


def parse_rule(text: str) -> dict[str, Any]:
    """The CLI's rule shorthand → rule data (validated later by :class:`SearchCriteria`).

    ``new`` · ``drop:10%`` · ``drop:50`` · ``drop:10%,50`` (either) · ``below-market:20%`` ·
    ``below-market:20%:n=8`` (snapshot built from at least 8 listings).
    """
    head, _, rest = text.strip().lower().replace("_", "-").partition(":")
    args = [a for a in re.split(r"[,:]", rest) if a] if rest else []
    if head in {"new", "new-match"}:
        if args:
            raise CriteriaError(f"rule {text!r}: 'new' takes no arguments")
        return {"kind": "new_match"}
    if head in {"drop", "price-drop"}:
        rule: dict[str, Any] = {"kind": "price_drop"}
        for arg in args:
            m = _PERCENT.match(arg)
            if m:
                rule["min_percent"] = _number(m.group(1), f"rule {text!r}")
            else:
                rule["min_amount"] = _number(arg, f"rule {text!r}")
        if len(rule) == 1:
            raise CriteriaError(f"rule {text!r}: say how much, e.g. drop:10% or drop:50")
        return rule
    if head in {"below-market", "below"}:
        rule = {"kind": "below_market"}
        for arg in args:
            m = _PERCENT.match(arg)
            if m:
                rule["min_percent"] = _number(m.group(1), f"rule {text!r}")
            elif arg.startswith("n="):
                try:
                    rule["min_sample_size"] = int(arg[2:])
                except ValueError:
                    raise CriteriaError(f"rule {text!r}: n= needs a whole number") from None
            else:
                raise CriteriaError(f"rule {text!r}: expected a percentage like 20% or n=<sample size>")
        if "min_percent" not in rule:
            raise CriteriaError(f"rule {text!r}: say how far below market, e.g. below-market:20%")
        return rule
    raise CriteriaError(f"unknown rule {text!r}: use new, drop:<X%|amount>, below-market:<Y%>[:n=<N>]")


def describe_rule(rule: Any) -> str:
    """The shorthand back, for listings (``new``, ``drop:10%``, ``below-market:20%:n=5``)."""
    if rule.kind == "new_match":
        return "new"
    if rule.kind == "price_drop":
        parts = []
        if rule.min_percent is not None:
            parts.append(f"{rule.min_percent.normalize():f}%")
        if rule.min_amount is not None:
            parts.append(f"{rule.min_amount.normalize():f}")
        return "drop:" + ",".join(parts)
    return f"below-market:{rule.min_percent.normalize():f}%:n={rule.min_sample_size}"
