"""The vendor file format: one YAML file per shop in ``vendors/``, so a new shop needs no code.

A vendor file says *who* the shop is (name, country, currency, number format, time zone),
*when* to scrape it (cron schedule), *how* to ask it for search results (URL template,
pagination, HTTP or headless browser, politeness limits) and *how* to read the answer
(extraction rules turning a page into listings). ``vendors/README.md`` shows a complete,
commented example; the models below are the authoritative reference.

Everything is checked when the file is loaded, including that every CSS selector, XPath and
JMESPath expression compiles, so a typo fails ``load_vendors`` with a message naming the file,
the field path and the problem (``vendors/toko.yaml: extract.fields.price.selector: field
required``) instead of surfacing as empty scrapes days later. A folder is read file by file
(:func:`read_vendor_folder`): a bad file takes out its own vendor and is reported, the others load.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from pipelines.parsing.selectors import (
    HtmlEngine,
    SelectorKind,
    check_css,
    check_expression,
    compile_css_as_xpath,
)
from pipelines.parsing.standards import check_country, check_cron, check_currency, check_timezone

__all__ = [
    "DEFAULT_SCHEDULE",
    "PLACEHOLDERS",
    "AsOfNotSupportedError",
    "CacheRules",
    "ExtractRules",
    "FetchRules",
    "FieldRule",
    "FieldType",
    "Fields",
    "History",
    "PaginationRules",
    "RateLimit",
    "SearchRules",
    "Selector",
    "SessionRules",
    "VendorConfig",
    "VendorConfigError",
    "VendorFileProblem",
    "VendorFolder",
    "ensure_asof_supported",
    "load_vendor_file",
    "load_vendors",
    "parse_vendor",
    "read_vendor_folder",
]

DEFAULT_SCHEDULE = "0 6 * * *"
"""Daily at 06:00 in the vendor's own time zone."""

PLACEHOLDERS = ("query", "page", "cursor", "asof")
"""Placeholders a ``search.url`` template may use, in the order error messages list them."""

_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


class VendorConfigError(ValueError):
    """A vendor file (or directory of them) is invalid.

    ``errors`` holds one line per problem, each ``<file>: <field.path>: <what is wrong>``;
    ``str(error)`` joins them with newlines.
    """

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class AsOfNotSupportedError(ValueError):
    """A past-day (``asof``) scrape was asked of a vendor that only shows its live catalogue."""


class _FieldError(ValueError):
    """Raised inside validators to report a problem at a sub-path of the model being checked.

    Pydantic pins an error raised by a model validator to the model itself; the loader appends
    ``loc`` so the message points at the exact field (``extract.fields.price.selector``).
    """

    def __init__(self, loc: str | tuple[str, ...], message: str) -> None:
        self.loc = (loc,) if isinstance(loc, str) else tuple(loc)
        self.message = message
        super().__init__(message)


class _Strict(BaseModel):
    """Base for every section: unknown keys are errors (a misspelt key must not be ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = {field.alias or name for name, field in cls.model_fields.items()}
            for key in data:
                if key not in allowed:
                    raise _FieldError(str(key), f"unknown field; allowed: {', '.join(sorted(allowed))}")
        return data


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


# -- selectors and fields -------------------------------------------------------------------


class Selector(_Strict):
    """Where a value is on the page: exactly one of ``css``, ``xpath`` or ``json`` (JMESPath).

    ``attribute`` (HTML only) reads an attribute of the matched element instead of its text; a
    list means "the first of these that is non-empty" (``[data-src, src]`` for lazy images).
    Selectors of item fields are relative to the item element (or JSON object); ``:scope`` /
    ``.`` / ``@`` select the item itself.
    """

    css: str | None = None
    xpath: str | None = None
    json_path: str | None = Field(default=None, alias="json")
    attribute: list[str] | None = None

    normalise_attribute = field_validator("attribute", mode="before")(_as_list)

    @field_validator("css")
    @classmethod
    def _compile_css(cls, value: str | None) -> str | None:
        return None if value is None else check_css(value)

    @field_validator("xpath")
    @classmethod
    def _compile_xpath(cls, value: str | None) -> str | None:
        return None if value is None else check_expression("xpath", value)

    @field_validator("json_path")
    @classmethod
    def _compile_jmespath(cls, value: str | None) -> str | None:
        return None if value is None else check_expression("json", value)

    @field_validator("attribute")
    @classmethod
    def _check_attribute(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(name.strip() for name in value)):
            raise ValueError("attribute names must be non-empty")
        return value

    @model_validator(mode="after")
    def _exactly_one_expression(self) -> Selector:
        given = [kind for kind, query in self._expressions() if query is not None]
        if self._needs_expression() and not given:
            raise _FieldError("selector", "field required (give one of css, xpath, json)")
        if len(given) > 1:
            raise _FieldError("selector", f"give only one of css, xpath, json (got {', '.join(given)})")
        return self

    def _needs_expression(self) -> bool:
        return True

    def _expressions(self) -> list[tuple[SelectorKind, str | None]]:
        return [("css", self.css), ("xpath", self.xpath), ("json", self.json_path)]

    @property
    def kind(self) -> SelectorKind:
        """Which language the expression is in: ``css``, ``xpath`` or ``json``."""
        for kind, query in self._expressions():
            if query is not None:
                return kind
        raise ValueError("selector has no expression")

    @property
    def query(self) -> str:
        """The expression itself."""
        for _, query in self._expressions():
            if query is not None:
                return query
        raise ValueError("selector has no expression")

    @property
    def has_expression(self) -> bool:
        return any(query is not None for _, query in self._expressions())


class FieldType(StrEnum):
    """How a field's raw string becomes a value.

    ``text`` element text (whitespace-normalised); ``attribute`` an attribute's value;
    ``price`` text parsed with the vendor's number format; ``url`` a link made absolute
    against the page URL (attribute defaults to ``href``); ``images`` every match, made
    absolute and de-duplicated (attribute defaults to ``[data-src, src]``); ``attributes``
    key/value pairs zipped from the ``key`` and ``value`` selectors; ``flag`` true when the
    selector matches (and, with ``regex``, when the matched text matches it).
    """

    TEXT = "text"
    ATTRIBUTE = "attribute"
    PRICE = "price"
    URL = "url"
    IMAGES = "images"
    ATTRIBUTES = "attributes"
    FLAG = "flag"


# Logical field -> (types it may have, default type).
_FIELD_TYPES: dict[str, tuple[frozenset[FieldType], FieldType]] = {
    "external_id": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "title": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "price": (frozenset({FieldType.PRICE}), FieldType.PRICE),
    "url": (frozenset({FieldType.URL}), FieldType.URL),
    "condition": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "location": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "seller": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "images": (frozenset({FieldType.IMAGES}), FieldType.IMAGES),
    "attributes": (frozenset({FieldType.ATTRIBUTES}), FieldType.ATTRIBUTES),
    "sold": (frozenset({FieldType.FLAG}), FieldType.FLAG),
    "product_code": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "currency": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
}
REQUIRED_FIELDS = ("external_id", "title", "price")


class FieldRule(Selector):
    """How to read one logical field of a listing.

    ``type`` defaults from the field name (``price`` -> price, ``images`` -> images, ``sold``
    -> flag, text otherwise, or attribute when ``attribute`` is given). ``required: true``
    makes an optional field mandatory (an item without it is skipped and reported);
    ``external_id``, ``title`` and ``price`` are always required. ``default`` is used when the
    selector finds nothing. ``regex`` keeps only the part of the value it matches (group 1 if
    it has a group); for flags it is the test. ``map`` translates values (case-insensitive),
    e.g. ``{Bekas: used}`` to normalise conditions; unmapped values pass through.
    """

    type: FieldType | None = None
    required: bool = False
    default: str | None = None
    regex: str | None = None
    map: dict[str, str] | None = None
    key: Selector | None = None
    value: Selector | None = None

    check_regex = field_validator("regex")(_check_regex)

    def _needs_expression(self) -> bool:
        # Checked in ``resolved`` instead: whether a selector is needed depends on the type,
        # and the type may only be known from the field name.
        return False

    def resolved(self, field_name: str) -> FieldRule:
        """This rule with ``type`` (and the type's default ``attribute``) filled in and checked.

        Raises ``_FieldError`` for options that do not fit the type, e.g. a flag with a default.
        """
        allowed, default_type = _FIELD_TYPES[field_name]
        field_type = self.type or default_type
        if self.type is None and self.attribute and default_type == FieldType.TEXT:
            field_type = FieldType.ATTRIBUTE
        if field_type not in allowed:
            names = ", ".join(sorted(t.value for t in allowed))
            raise _FieldError("type", f"{field_type.value!r} is not allowed for {field_name}; use {names}")
        self._check_options(field_type)
        attribute = self.attribute
        if attribute is None and self.kind_or_none in ("css", "xpath"):
            if field_type == FieldType.URL:
                attribute = ["href"]
            elif field_type == FieldType.IMAGES:
                attribute = ["data-src", "src"]
        return self.model_copy(update={"type": field_type, "attribute": attribute})

    def _check_options(self, field_type: FieldType) -> None:
        if field_type == FieldType.ATTRIBUTES:
            if self.has_expression:
                raise _FieldError("selector", "not used by type attributes; give key and value selectors")
            for part in ("key", "value"):
                if getattr(self, part) is None:
                    raise _FieldError(part, "field required (type attributes needs key and value selectors)")
            return
        if not self.has_expression:
            raise _FieldError("selector", "field required (give one of css, xpath, json)")
        for part in ("key", "value"):
            if getattr(self, part) is not None:
                raise _FieldError(part, "only used by type attributes")
        if field_type == FieldType.ATTRIBUTE and not self.attribute and self.kind == "css":
            raise _FieldError("attribute", "field required for type attribute")
        if field_type == FieldType.FLAG:
            for option in ("default", "required"):
                if option in self.model_fields_set:
                    raise _FieldError(option, "not used by a flag (a flag is simply false when absent)")

    @property
    def kind_or_none(self) -> SelectorKind | None:
        return self.kind if self.has_expression else None


class Fields(_Strict):
    """The logical fields of a listing. ``external_id``, ``title`` and ``price`` are required.

    ``product_code`` is any identifier the vendor gives for the *product* (GTIN/EAN, SKU, card
    number), which helps match the same product across vendors; ``currency`` overrides the
    currency per item (ISO code or symbol) when one vendor lists in several currencies.
    """

    external_id: FieldRule
    title: FieldRule
    price: FieldRule
    url: FieldRule | None = None
    condition: FieldRule | None = None
    location: FieldRule | None = None
    seller: FieldRule | None = None
    images: FieldRule | None = None
    attributes: FieldRule | None = None
    sold: FieldRule | None = None
    product_code: FieldRule | None = None
    currency: FieldRule | None = None

    @model_validator(mode="after")
    def _resolve_types(self) -> Fields:
        for name in _FIELD_TYPES:
            rule = getattr(self, name)
            if rule is None:
                continue
            try:
                resolved = rule.resolved(name)
            except _FieldError as exc:
                raise _FieldError((name, *exc.loc), exc.message) from None
            if name in REQUIRED_FIELDS and "required" in rule.model_fields_set and not rule.required:
                raise _FieldError((name, "required"), f"{name} is always required")
            object.__setattr__(self, name, resolved)
        return self

    def items(self) -> Iterator[tuple[str, FieldRule]]:
        """The configured fields as ``(name, rule)`` pairs, required ones first."""
        for name in _FIELD_TYPES:
            rule = getattr(self, name)
            if rule is not None:
                yield name, rule


class ExtractRules(_Strict):
    """How to turn a fetched body into listings.

    ``format`` is ``html`` (CSS/XPath selectors) or ``json`` (JMESPath). ``items`` selects the
    list of listing elements/objects; every field selector is relative to one of them.
    ``page_marker`` (optional) matches on every genuine results page, even an empty one: when
    it is missing the page is reported as an error (blocked, captcha, changed layout, JS not
    rendered) instead of silently reading as "no listings".
    """

    format: Literal["html", "json"] = "html"
    items: Selector
    fields: Fields
    page_marker: Selector | None = None


# -- request side ---------------------------------------------------------------------------


class History(StrEnum):
    """Whether a vendor can show its catalogue as of a past day.

    ``asof`` vendors accept an ``{asof}`` date in the search URL, so history can be back-filled;
    ``live`` vendors only show the present, so a past-day scrape must be refused.
    """

    ASOF = "asof"
    LIVE = "live"


class SearchRules(_Strict):
    """The search request. ``url`` is a template with ``{query}``, ``{page}``, ``{cursor}``,
    ``{asof}``; a relative template is appended to ``base_url`` (``/search`` under
    ``http://host/toko`` is ``http://host/toko/search``). A query-string parameter whose value is
    a placeholder without a value (``cursor`` on the first page, ``asof`` for today) is dropped.
    """

    url: str
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _check_placeholders(cls, value: str) -> str:
        allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        for name in _PLACEHOLDER_RE.findall(value):
            if name not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{name}}}; allowed: {allowed}")
        if "{query}" not in value:
            raise ValueError("missing placeholder {query}")
        if value.startswith(("http://", "https://")):
            return value
        if "://" in value or value.startswith("//"):
            raise ValueError("must be a path relative to base_url or an absolute http(s) URL")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                raise ValueError(f"invalid HTTP header name {name!r}")
        return value

    def placeholders(self) -> set[str]:
        """The placeholder names the template uses."""
        return set(_PLACEHOLDER_RE.findall(self.url))


class PaginationRules(_Strict):
    """How to get from one result page to the next.

    ``page_number``: ``{page}`` runs ``start``, ``start + step``, … while pages have items
    (``page_size``, when given, also stops after a short page). ``next_link``: follow the URL
    the ``next_link`` selector finds (attribute defaults to ``href``). ``cursor``: pass the value
    the ``cursor`` selector finds as ``{cursor}``. ``none``: one page. Never more than
    ``max_pages`` pages per query.
    """

    kind: Literal["page_number", "next_link", "cursor", "none"] = "none"
    start: int = Field(default=1, ge=0)
    step: int = Field(default=1, ge=1)
    page_size: int | None = Field(default=None, ge=1)
    next_link: Selector | None = None
    cursor: Selector | None = None
    max_pages: int = Field(default=10, ge=1, le=1000)

    @model_validator(mode="after")
    def _check_kind_options(self) -> PaginationRules:
        if self.kind == "next_link" and self.next_link is None:
            raise _FieldError("next_link", "field required for kind next_link")
        if self.kind == "cursor" and self.cursor is None:
            raise _FieldError("cursor", "field required for kind cursor")
        if self.kind != "next_link" and self.next_link is not None:
            raise _FieldError("next_link", f"only used by kind next_link (kind is {self.kind})")
        if self.kind != "cursor" and self.cursor is not None:
            raise _FieldError("cursor", f"only used by kind cursor (kind is {self.kind})")
        if self.kind != "page_number":
            for name in ("start", "step", "page_size"):
                if name in self.model_fields_set:
                    raise _FieldError(name, f"only used by kind page_number (kind is {self.kind})")
        return self


class FetchRules(_Strict):
    """How to fetch pages: plain ``http`` or a headless ``browser`` for JS-rendered shops.

    ``wait_for`` (browser only) is a CSS selector that appears once rendering is done; the page
    is archived after it matches or after ``timeout_seconds``.

    ``obey_robots`` (default true): honour the host's robots.txt; false is logged as a warning.
    ``user_agent``: this vendor's User-Agent (default: the fetcher resource's). ``max_attempts``:
    tries per page for dropped connections, 429 and 5xx (default: the resource's).
    ``max_consecutive_failures`` (default 5): failed pages in a row after which the rest of the
    run's requests to this vendor are skipped (circuit breaker). ``require_html_end`` (default
    true, http mode): an HTML page without a closing ``</html>`` counts as truncated and is
    fetched again; turn it off for a shop whose pages never close the tag.
    """

    mode: Literal["http", "browser"] = "http"
    wait_for: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    obey_robots: bool = True
    user_agent: str | None = Field(default=None, min_length=1, max_length=500)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    max_consecutive_failures: int = Field(default=5, ge=1, le=1000)
    require_html_end: bool = True

    @field_validator("user_agent")
    @classmethod
    def _check_user_agent(cls, value: str | None) -> str | None:
        if value is not None and (value != value.strip() or any(ord(c) < 32 for c in value)):
            raise ValueError("must be one line without leading/trailing spaces")
        return value

    @field_validator("wait_for")
    @classmethod
    def _compile_wait_for(cls, value: str | None) -> str | None:
        return None if value is None else check_css(value)

    @model_validator(mode="after")
    def _wait_for_needs_browser(self) -> FetchRules:
        if self.wait_for is not None and self.mode != "browser":
            raise _FieldError("wait_for", "only used with mode browser")
        return self


class RateLimit(_Strict):
    """Politeness: at most ``requests_per_second`` and ``concurrency`` requests in flight, per host.

    ``adaptive: true`` adds an AutoThrottle-like delay that grows when the server slows down
    or answers 429/503 (and honours Retry-After for the whole host), and shrinks back to the
    ``requests_per_second`` pace when it recovers; ``target_concurrency`` (default
    ``concurrency``) is how many requests it aims to keep in flight at the server,
    ``max_delay_seconds`` the most it waits between two requests.
    """

    requests_per_second: float = Field(default=1.0, gt=0, le=100)
    concurrency: int = Field(default=1, ge=1, le=64)
    adaptive: bool = False
    target_concurrency: float | None = Field(default=None, gt=0, le=64)
    max_delay_seconds: float = Field(default=30.0, gt=0, le=600)


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> dt.timedelta | None:
    """``30m``, ``1h30m``, ``45s``, ``7d``, a number of seconds, or ``off``/``0`` (None)."""
    if value is None or value is False:
        return None
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text in ("off", "none", "0", ""):
            return None
        if text.startswith("p"):  # ISO 8601, as model_dump(mode="json") writes it
            seconds = TypeAdapter(dt.timedelta).validate_python(value.strip()).total_seconds()
            return dt.timedelta(seconds=seconds) if seconds > 0 else None
        if not re.fullmatch(r"(\d+(?:\.\d+)?(d|h|m|s))+", text):
            raise ValueError(f"invalid duration {value!r}; use e.g. 30m, 2h, 1h30m, 45s, 7d or off")
        seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_RE.findall(text))
    else:
        raise ValueError(f"invalid duration {value!r}; use e.g. 30m, 2h, 45s or off")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return dt.timedelta(seconds=seconds) if seconds > 0 else None


class CacheRules(_Strict):
    """Not fetching what we already have.

    ``search_max_age``: a search for the same query (same first-page URL) fetched successfully
    within this age is reused instead of fetched again: its archived pages are copied into the
    new partition and the search is recorded with ``cache_hit``. Default off.
    ``detail_max_age``: a cached detail page younger than this is used without asking the
    server; older ones are revalidated with a conditional request (ETag / Last-Modified).
    Default off (always revalidate). ``listing_ttl``: how long a cached detail page is kept
    before the ``prune_listing_cache`` job deletes it (default 7d).
    ``detail_url_pattern``: regex of the URLs that are detail pages (default: any URL that is
    not a search page).
    """

    search_max_age: dt.timedelta | None = None
    detail_max_age: dt.timedelta | None = None
    listing_ttl: dt.timedelta | None = dt.timedelta(days=7)
    detail_url_pattern: str | None = None

    check_durations = field_validator("search_max_age", "detail_max_age", "listing_ttl", mode="before")(
        parse_duration)
    check_detail_url_pattern = field_validator("detail_url_pattern")(_check_regex)


class SessionRules(_Strict):
    """For shops that need a login: a session imported with ``market-pulse sessions import``.

    ``login_marker`` matches on a page served to a logged-out session (e.g. the login form);
    ``login_redirect_pattern`` is a regex matching the URL logged-out requests are sent to.
    Either one seen in a response marks the stored session invalid and fails the vendor's run
    ("session expired: import a fresh one"): a vendor is never scraped logged out. With
    ``required: true`` (default) a run without a valid stored session fails before any request.
    """

    login_marker: Selector | None = None
    login_redirect_pattern: str | None = None
    required: bool = True

    check_login_redirect_pattern = field_validator("login_redirect_pattern")(_check_regex)


# -- the vendor -----------------------------------------------------------------------------

Slug = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=64)]


class VendorConfig(_Strict):
    """One shop or marketplace, as declared in ``vendors/<name>.yaml``.

    Identity: ``name`` (slug used in keys and file names), ``display_name``, ``base_url``
    (scheme and host, plus a path prefix if the shop has one; overridable with
    ``with_base_url``), ``country`` (ISO 3166-1 alpha-2), ``currency`` (ISO 4217; the
    default for prices), ``decimal_separator`` ("." or "," as the shop writes prices),
    ``locale`` (informational BCP 47 tag), ``timezone`` (IANA; the schedule and "today" are
    in it), ``schedule`` (cron, default daily at 06:00), ``enabled``.

    ``removed_after_missing``: a listing absent from this many consecutive scrapes (and not
    marked sold) counts as removed; one missed scrape is usually a glitch, not a removal.
    """

    name: Slug
    display_name: str = Field(min_length=1)
    base_url: str
    country: str
    currency: str
    decimal_separator: Literal[".", ","]
    locale: str | None = None
    timezone: str
    schedule: str = DEFAULT_SCHEDULE
    enabled: bool = True
    history: History
    search: SearchRules
    queries: list[str] = Field(min_length=1)
    pagination: PaginationRules = Field(default_factory=PaginationRules)
    fetch: FetchRules = Field(default_factory=FetchRules)
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    cache: CacheRules = Field(default_factory=CacheRules)
    extract: ExtractRules
    removed_after_missing: int = Field(default=2, ge=1, le=365)
    session: SessionRules | None = None

    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    validate_country = field_validator("country")(check_country)
    validate_currency = field_validator("currency")(check_currency)
    validate_timezone = field_validator("timezone")(check_timezone)
    validate_schedule = field_validator("schedule")(check_cron)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        if parts.query or parts.fragment:
            raise ValueError("must not contain a query string or fragment (put those in search.url)")
        return value.rstrip("/")

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", value):
            raise ValueError(f"invalid locale {value!r}; use a BCP 47 tag like 'id-ID'")
        return value

    @field_validator("queries")
    @classmethod
    def _check_queries(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(query.split()) for query in value]
        seen: set[str] = set()
        for query in cleaned:
            if query.casefold() in seen:
                raise ValueError(f"duplicate query {query!r}")
            seen.add(query.casefold())
        return cleaned

    @model_validator(mode="after")
    def _check_consistency(self) -> VendorConfig:
        used = self.search.placeholders()
        kind = self.pagination.kind
        if kind == "page_number" and "page" not in used:
            raise _FieldError(("search", "url"), "pagination kind page_number needs a {page} placeholder")
        if kind != "page_number" and "page" in used:
            raise _FieldError(("search", "url"), f"{{page}} is only for pagination kind page_number (kind is {kind})")
        if kind == "cursor" and "cursor" not in used:
            raise _FieldError(("search", "url"), "pagination kind cursor needs a {cursor} placeholder")
        if kind != "cursor" and "cursor" in used:
            raise _FieldError(("search", "url"), f"{{cursor}} is only for pagination kind cursor (kind is {kind})")
        if self.history == History.ASOF and "asof" not in used:
            raise _FieldError(("search", "url"), "history asof needs an {asof} placeholder")
        if self.history == History.LIVE and "asof" in used:
            raise _FieldError(("search", "url"), "uses {asof} but history is live; set history: asof")
        self._check_selector_languages()
        return self

    def _check_selector_languages(self) -> None:
        fmt = self.extract.format
        engine = self.html_engine
        for loc, selector in self.selectors():
            if not selector.has_expression:
                continue
            if fmt == "json" and selector.kind != "json":
                raise _FieldError((*loc, selector.kind), "extract.format is json; use a json (JMESPath) selector")
            if fmt == "html" and selector.kind == "json":
                raise _FieldError((*loc, "json"), "extract.format is html; use a css or xpath selector")
            if fmt == "json" and selector.attribute:
                raise _FieldError((*loc, "attribute"), "not used with json; the JMESPath picks the value")
            if engine == "lxml" and selector.kind == "css":
                try:
                    compile_css_as_xpath(selector.query)
                except ValueError as exc:
                    raise _FieldError((*loc, "css"), str(exc)) from None

    def selectors(self) -> Iterator[tuple[tuple[str, ...], Selector]]:
        """Every selector in the file with its field path (for validation and tooling)."""
        yield ("extract", "items"), self.extract.items
        if self.extract.page_marker is not None:
            yield ("extract", "page_marker"), self.extract.page_marker
        for name, rule in self.extract.fields.items():
            yield ("extract", "fields", name), rule
            for part in ("key", "value"):
                sub = getattr(rule, part)
                if sub is not None:
                    yield ("extract", "fields", name, part), sub
        for name in ("next_link", "cursor"):
            sub = getattr(self.pagination, name)
            if sub is not None:
                yield ("pagination", name), sub
        if self.session is not None and self.session.login_marker is not None:
            yield ("session", "login_marker"), self.session.login_marker

    @property
    def html_engine(self) -> HtmlEngine:
        """``lexbor`` (fast CSS) unless some selector is XPath, then ``lxml``."""
        uses_xpath = any(sel.xpath is not None for _, sel in self.selectors())
        return "lxml" if uses_xpath else "lexbor"

    @property
    def accepts_asof(self) -> bool:
        """True when the vendor can be scraped as of a past day."""
        return self.history == History.ASOF

    @property
    def search_url_template(self) -> str:
        """``search.url`` made absolute against ``base_url`` (placeholders still in it)."""
        template = self.search.url
        if template.startswith(("http://", "https://")):
            return template
        return f"{self.base_url}/{template.lstrip('/')}"

    def with_base_url(self, base_url: str) -> VendorConfig:
        """A validated copy pointing at another host, e.g. the demo server on another port."""
        data = self.model_dump(by_alias=True, exclude_unset=True)
        data["base_url"] = base_url
        return parse_vendor(data, source=f"{self.name} (base_url override)")

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> VendorConfig:
        """A copy without the derived-data memo, which may not match the updated fields."""
        copied = super().model_copy(update=update, deep=deep)
        copied._cache = {}
        return copied

    def __getstate__(self) -> dict[Any, Any]:
        # Compiled selectors (lxml XPath objects) cannot be pickled; they are rebuilt on demand.
        state = super().__getstate__()
        state["__pydantic_private__"] = {**(state.get("__pydantic_private__") or {}), "_cache": {}}
        return state

    def cached(self, key: str, build: Any) -> Any:
        """Per-vendor memo for derived data (compiled extraction plans): ``build()`` runs once."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]


def ensure_asof_supported(vendor: VendorConfig, asof: dt.date | None, *, today: dt.date) -> None:
    """Refuse a scrape of a past day from a vendor that only shows its live catalogue.

    ``today`` is the current date in the vendor's time zone; ``asof`` of ``None`` or ``today``
    is always fine.
    """
    if asof is None or asof == today:
        return
    if asof > today:
        raise AsOfNotSupportedError(f"{vendor.name}: cannot scrape a future day ({asof.isoformat()})")
    if vendor.accepts_asof:
        return
    raise AsOfNotSupportedError(
        f"{vendor.name}: history is live (only the current catalogue is visible); "
        f"cannot scrape as of {asof.isoformat()}"
    )


# -- loading --------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            continue  # PyYAML reports unhashable keys itself
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _format_location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str | int | float | bool):
        return f"{type(value).__name__} {value!r}"
    return f"a {type(value).__name__}"


def _format_validation_error(shown: str, exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _FieldError):
            loc += cause.loc
            message = cause.message
        else:
            message = error["msg"].removeprefix("Value error, ")
            message = message[:1].lower() + message[1:]
            value = error.get("input")
            if error["type"] in ("model_type", "model_attributes_type", "dict_type"):
                message = f"expected a mapping of options, got {_describe(value)}"
            elif error["type"] == "string_type" and isinstance(value, bool):
                message += " (YAML read this as a boolean; put it in quotes)"
            elif error["type"] in ("literal_error", "enum") and isinstance(value, str | int | float):
                message += f" (got {value!r})"
        lines.append(f"{shown}: {_format_location(loc)}: {message}")
    return lines


def parse_vendor(data: Any, *, source: str = "<vendor>") -> VendorConfig:
    """Validate already-parsed YAML/JSON data as a vendor; errors are reported against ``source``."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise VendorConfigError([f"{source}: (top level): expected a mapping of vendor fields, got {kind}"])
    try:
        return VendorConfig.model_validate(data)
    except ValidationError as exc:
        raise VendorConfigError(_format_validation_error(source, exc)) from None


def load_vendor_file(path: str | os.PathLike[str]) -> VendorConfig:
    """Load and fully validate one vendor file; raise ``VendorConfigError`` on any problem."""
    path = Path(path)
    shown = _display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VendorConfigError([f"{shown}: cannot read file: {exc}"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise VendorConfigError([f"{shown}: {where}invalid YAML: {problem}"]) from None
    return parse_vendor(data, source=shown)


@dataclass(frozen=True)
class VendorFileProblem:
    """One vendor file that cannot be used: where it is, which vendor it meant to declare (its
    ``name`` when that much could be read, else ``None``) and one line per problem."""

    path: str
    name: str | None
    errors: tuple[str, ...]


@dataclass(frozen=True)
class VendorFolder:
    """A vendor folder read file by file: the good vendors (by name, with their file) and the bad files."""

    vendors: dict[str, tuple[VendorConfig, str]]
    problems: tuple[VendorFileProblem, ...] = ()

    @property
    def configs(self) -> list[VendorConfig]:
        return [self.vendors[name][0] for name in sorted(self.vendors)]


def read_vendor_folder(directory: str | os.PathLike[str]) -> VendorFolder:
    """Load every ``*.yaml``/``*.yml`` in ``directory`` on its own: a bad file (malformed YAML, an
    unknown key, a selector that does not compile, a second file with a taken ``name``) becomes a
    :class:`VendorFileProblem` and never keeps the other vendors from loading.

    A missing folder is not one vendor's problem: it raises ``VendorConfigError``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise VendorConfigError([f"{_display_path(directory)}: not a directory"])
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    vendors: dict[str, tuple[VendorConfig, str]] = {}
    problems: list[VendorFileProblem] = []
    for path in files:
        shown = _display_path(path)
        try:
            vendor = load_vendor_file(path)
        except VendorConfigError as exc:
            problems.append(VendorFileProblem(shown, _declared_name(path), tuple(exc.errors)))
            continue
        if vendor.name in vendors:
            problems.append(VendorFileProblem(shown, None, (
                f"{shown}: name: duplicate vendor name {vendor.name!r} (also in {vendors[vendor.name][1]})",)))
            continue
        vendors[vendor.name] = (vendor, shown)
    return VendorFolder(vendors, tuple(problems))


def _declared_name(path: Path) -> str | None:
    """The vendor a broken file meant: its ``name`` when the YAML is readable that far, else the
    file's stem (``toko.yaml``: ``toko``), so that vendor is not mistaken for a deleted one."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        data = None
    name = data.get("name") if isinstance(data, dict) else path.stem
    return name if isinstance(name, str) and re.fullmatch(r"[a-z0-9_-]{1,64}", name) else None


def load_vendors(directory: str | os.PathLike[str]) -> list[VendorConfig]:
    """Load every ``*.yaml``/``*.yml`` in ``directory``, sorted by vendor name, all or nothing.

    All files are checked and every problem is reported in one ``VendorConfigError``; if there
    is any problem (including two files declaring the same ``name``) nothing is returned. The
    code location reads the folder with :func:`read_vendor_folder` instead, so one bad file
    only takes its own vendor out.
    """
    folder = read_vendor_folder(directory)
    if folder.problems:
        raise VendorConfigError([line for problem in folder.problems for line in problem.errors])
    return folder.configs
