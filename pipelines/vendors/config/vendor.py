"""The vendor: one shop, as declared in ``vendors/<name>.yaml``.

A vendor file says *who* the shop is (name, country, currency, number format, time zone),
*when* to scrape it (cron schedule), *how* to ask it for search results (URL template,
pagination, HTTP or headless browser, politeness limits) and *how* to read the answer
(extraction rules turning a page into listings). ``vendors/README.md`` shows a complete,
commented example; the models of this package are the authoritative reference.

Everything is checked when the file is validated, including that every CSS selector, XPath and
JMESPath expression compiles, so a typo fails with a message naming the file, the field path and
the problem (``vendors/toko.yaml: extract.fields.price.selector: field required``) instead of
surfacing as empty scrapes days later.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from pipelines.parsing.selectors import HtmlEngine, compile_css_as_xpath
from pipelines.parsing.standards import check_country, check_cron, check_currency, check_timezone
from pipelines.vendors.config.base import FieldError, StrictModel
from pipelines.vendors.config.errors import VendorConfigError, format_validation_error
from pipelines.vendors.config.extraction import ExtractRules
from pipelines.vendors.config.fetch_rules import CacheRules, FetchRules, RateLimitRules, SessionRules
from pipelines.vendors.config.requests import History, PaginationRules, SearchRules
from pipelines.vendors.config.selectors import Selector

DEFAULT_SCHEDULE = "0 6 * * *"
"""Daily at 06:00 in the vendor's own time zone."""


class AsOfNotSupportedError(ValueError):
    """A past-day (``asof``) scrape was asked of a vendor that only shows its live catalogue."""


Slug = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=64)]

_ALLOWED_HOST_RE = re.compile(r"(\*\.)?[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*")
_HOST_PORT_RE = re.compile(r"(\[[^\]]*\]|[^:\[\]]*):\d+")  # host:port or [v6]:port, not a bare v6


class VendorConfig(StrictModel):
    """One shop or marketplace, as declared in ``vendors/<name>.yaml``.

    Identity: ``name`` (slug used in keys and file names), ``display_name``, ``base_url``
    (scheme and host, plus a path prefix if the shop has one; overridable with
    ``with_base_url``), ``allowed_hosts`` (other hosts the fetcher may reach besides the
    ``base_url`` host: ``cdn.shop.com``, ``*.shop.com``, or an address or network such as
    ``10.0.0.0/8`` to allow a non-public address, each optionally with ``:port``), ``country``
    (ISO 3166-1 alpha-2), ``currency`` (ISO 4217; the default for prices),
    ``decimal_separator`` ("." or "," as the shop writes prices), ``locale`` (BCP 47 tag, sent
    as Accept-Language), ``timezone`` (IANA; the schedule and "today" are in it), ``schedule``
    (cron, default daily at 06:00), ``enabled``.

    ``removed_after_missing``: a listing absent from this many consecutive scrapes (and not
    marked sold) counts as removed; one missed scrape is usually a glitch, not a removal.
    """

    name: Slug
    display_name: str = Field(min_length=1)
    base_url: str
    allowed_hosts: list[str] = Field(default_factory=list)
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
    rate_limit: RateLimitRules = Field(default_factory=RateLimitRules)
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

    @field_validator("allowed_hosts")
    @classmethod
    def _check_allowed_hosts(cls, value: list[str]) -> list[str]:
        for entry in value:
            host, port = entry.strip().lower(), ""
            if _HOST_PORT_RE.fullmatch(host):
                host, _, port = host.rpartition(":")
            host = host.strip("[]")
            if port and not 0 < int(port) < 65536:
                raise ValueError(f"{entry!r}: port must be from 1 to 65535")
            try:
                ipaddress.ip_network(host, strict=False)
                continue
            except ValueError:
                pass
            if not _ALLOWED_HOST_RE.fullmatch(host):
                raise ValueError(f"{entry!r} is not a host name, *.domain, IP address or network (optionally :port)")
        return value

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
            raise FieldError(("search", "url"), "pagination kind page_number needs a {page} placeholder")
        if kind != "page_number" and "page" in used:
            raise FieldError(("search", "url"), f"{{page}} is only for pagination kind page_number (kind is {kind})")
        if kind == "cursor" and "cursor" not in used:
            raise FieldError(("search", "url"), "pagination kind cursor needs a {cursor} placeholder")
        if kind != "cursor" and "cursor" in used:
            raise FieldError(("search", "url"), f"{{cursor}} is only for pagination kind cursor (kind is {kind})")
        if self.history == History.ASOF and "asof" not in used:
            raise FieldError(("search", "url"), "history asof needs an {asof} placeholder")
        if self.history == History.LIVE and "asof" in used:
            raise FieldError(("search", "url"), "uses {asof} but history is live; set history: asof")
        self._check_selector_languages()
        return self

    def _check_selector_languages(self) -> None:
        """Each selector's steps must fit the body format and where the selector runs."""
        engine = self.html_engine
        for loc, selector in self.selectors():
            if not selector.has_expression:
                continue
            problem = self._selector_problem(loc, selector)
            if problem is not None:
                raise FieldError((*loc, problem[0]), problem[1])
            if engine == "lxml" and selector.css is not None:
                try:
                    compile_css_as_xpath(selector.css)
                except ValueError as exc:
                    raise FieldError((*loc, "css"), str(exc)) from None

    def _selector_problem(self, loc: tuple[str, ...], selector: Selector) -> tuple[str, str] | None:
        """``(option, message)`` when ``selector`` cannot work where it is, else ``None``."""
        first = selector.kind
        if loc == ("session", "login_marker") and not selector.is_single_step:
            return "selector", "a login marker is one css, xpath or json expression"
        if self.extract.format == "json":
            if first != "json":
                return first, "extract.format is json; use a json (JMESPath) selector"
            return None
        in_item = loc[:2] == ("extract", "fields")
        if not in_item:
            if first == "json":
                return "json", ("extract.format is html; use a css or xpath selector (followed by json to read "
                                "data inside the page) or embedded")
            return None
        if self.extract.items.yields_data:
            if first != "json":
                return first, ("the items are read as data (extract.items has a data step); use a json selector "
                               "relative to one item")
            return None
        if first == "embedded":
            return "embedded", "embedded data belongs to the whole page; use it in items, page_marker or pagination"
        if first == "json":
            return "json", ("the items are HTML elements; use a css or xpath selector (followed by json to read "
                            "data inside the element)")
        return None

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
        for name in ("next_link", "cursor", "has_next", "total"):
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

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> VendorConfig:
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


def parse_vendor(data: Any, *, source: str = "<vendor>") -> VendorConfig:
    """Validate already-parsed YAML/JSON data as a vendor; errors are reported against ``source``."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise VendorConfigError([f"{source}: (top level): expected a mapping of vendor fields, got {kind}"])
    try:
        return VendorConfig.model_validate(data)
    except ValidationError as exc:
        raise VendorConfigError(format_validation_error(source, exc)) from None
