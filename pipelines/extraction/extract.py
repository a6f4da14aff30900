"""Reading listings out of an archived search page with a vendor's extraction rules.

``extract_page`` is pure (bytes in, dataclasses out) so the same archived body can be parsed
again, over the whole history, whenever a vendor file's rules improve. It never raises for bad
input: a listing that cannot be read is skipped and reported in ``failures``, and a body that
is not a results page at all (error page, truncated JSON, binary) yields no items and a
page-level ``error``. The caller decides what an error means (retry, alert, stop paginating).

Speed matters because history re-parses are bulk jobs: the rules are compiled once per vendor
(``VendorConfig.cached``) and all-CSS HTML vendors use selectolax/lexbor, which is about ten
times faster than lxml; XPath rules switch that vendor to parsel/lxml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import lxml.etree
import orjson
from parsel import Selector as ParselSelector
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipelines.extraction.search_requests import PageRequest, build_search_url, first_request, next_request
from pipelines.parsing.price_text import (
    ParsedPrice,
    PriceKind,
    PriceParseError,
    currency_from_text,
    parse_price,
)
from pipelines.parsing.selectors import CompiledSelector, HtmlEngine, node_value
from pipelines.parsing.text import clean_text
from pipelines.vendors.config import FieldType, Selector, VendorConfig

__all__ = [
    "ExtractedItem",
    "ItemFailure",
    "ItemMemo",
    "PageExtraction",
    "PageRequest",
    "build_search_url",
    "extract_page",
    "first_request",
    "next_request",
    "probe_page",
]


@dataclass(frozen=True, slots=True)
class ExtractedItem:
    """One listing as read from a search page.

    ``price`` is ``None`` only when ``price_kind`` is ``on_request``; ``currency`` is ISO 4217
    (per-item field, else the price text's symbol, else the vendor's currency). URLs are
    absolute; ``images`` are de-duplicated in page order. ``position`` is the 1-based position
    on the page (among all listing elements, including skipped ones). ``raw`` keeps the field
    strings as found, for debugging rules.
    """

    external_id: str
    title: str
    price: Decimal | None
    price_kind: PriceKind
    currency: str
    position: int
    url: str | None = None
    condition: str | None = None
    location: str | None = None
    seller: str | None = None
    images: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    sold: bool = False
    product_code: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ItemFailure:
    """A listing that was skipped. ``field`` is the first field at fault; ``reason`` lists every
    problem as ``"<field>: <what>"``, e.g. ``"price: cannot parse 'abc' (no amount found)"``."""

    position: int
    external_id: str | None
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class PageExtraction:
    """Everything read from one page.

    ``item_count_seen`` counts listing elements found, read or not (so ``len(items) +
    len(failures) == item_count_seen``). ``next_page_url`` (absolute) and ``next_cursor`` are
    set when the vendor paginates that way and the page offers a next page. ``error`` is set,
    with no items, when the body is not a usable results page.
    """

    url: str
    items: list[ExtractedItem] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    next_page_url: str | None = None
    next_cursor: str | None = None
    item_count_seen: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# -- the compiled plan ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    """A compiled selector plus the attributes to read from its matches."""

    selector: CompiledSelector
    attributes: tuple[str, ...] | None

    def first(self, node: Any) -> str | None:
        if self.selector.kind == "json":
            for match in self.selector.select(node):
                value = node_value(match, None)
                if value is not None:
                    return value
            return None
        match = self.selector.select_first(node)
        return None if match is None else node_value(match, self.attributes)

    def all(self, node: Any) -> list[str]:
        values = []
        for match in self.selector.select(node):
            value = node_value(match, self.attributes)
            if value is not None:
                values.append(value)
        return values


@dataclass(frozen=True, slots=True)
class _FieldPlan:
    name: str
    type: FieldType
    source: _Source | None
    required: bool
    default: str | None
    regex: re.Pattern[str] | None
    value_map: dict[str, str] | None
    key: _Source | None = None
    value: _Source | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    format: str
    engine: HtmlEngine | None
    items: CompiledSelector
    page_marker: _Source | None
    fields: tuple[_FieldPlan, ...]
    next_link: _Source | None
    cursor: _Source | None
    vendor_currency: str
    decimal_separator: Literal[".", ","]


_REQUIRED = ("external_id", "title", "price")


def _source(
    selector: Selector | None, engine: HtmlEngine | None, default_attributes: tuple[str, ...] | None = None
) -> _Source | None:
    if selector is None or not selector.has_expression:
        return None
    attributes = tuple(selector.attribute) if selector.attribute else None
    if attributes is None and selector.kind == "css":
        attributes = default_attributes
    return _Source(CompiledSelector.build(selector.kind, selector.query, engine), attributes)


def _build_plan(vendor: VendorConfig) -> _Plan:
    engine = vendor.html_engine if vendor.extract.format == "html" else None
    fields = []
    for name, rule in vendor.extract.fields.items():
        assert rule.type is not None  # resolved when the vendor file was loaded
        fields.append(
            _FieldPlan(
                name=name,
                type=rule.type,
                source=_source(rule, engine),
                required=rule.required or name in _REQUIRED,
                default=rule.default,
                regex=re.compile(rule.regex) if rule.regex else None,
                value_map={k.casefold(): v for k, v in rule.map.items()} if rule.map else None,
                key=_source(rule.key, engine),
                value=_source(rule.value, engine),
            )
        )
    items = vendor.extract.items
    pagination = vendor.pagination
    return _Plan(
        format=vendor.extract.format,
        engine=engine,
        items=CompiledSelector.build(items.kind, items.query, engine),
        page_marker=_source(vendor.extract.page_marker, engine),
        fields=tuple(fields),
        next_link=_source(pagination.next_link, engine, ("href",)),
        cursor=_source(pagination.cursor, engine),
        vendor_currency=vendor.currency,
        decimal_separator=vendor.decimal_separator,
    )


def _plan_for(vendor: VendorConfig) -> _Plan:
    return vendor.cached("extract_plan", lambda: _build_plan(vendor))


# -- reading fields -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Problem:
    """Why one field of one listing is unusable; ``reason`` is what ``ItemFailure`` shows."""

    field_name: str
    detail: str

    @property
    def reason(self) -> str:
        return f"{self.field_name}: {self.detail}"


def _refine(plan: _FieldPlan, value: str | None) -> str | None:
    """Apply the field's regex and map to an already cleaned value; empty becomes ``None``."""
    if value and plan.regex is not None:
        match = plan.regex.search(value)
        value = None if match is None else (match.group(1) if plan.regex.groups else match.group(0))
        value = clean_text(value) if value else None
    if value and plan.value_map is not None:
        value = plan.value_map.get(value.casefold(), value)
    return value or None


class _UrlResolver:
    """Makes links absolute against the page URL; ``urljoin`` is only used for the hard cases
    because it dominated the per-item cost on image-heavy pages."""

    __slots__ = ("origin", "page_url", "used_page_url")

    def __init__(self, page_url: str) -> None:
        self.page_url = page_url
        self.used_page_url = False  # set when a result depended on more than the page's origin
        parts = urlsplit(page_url)
        self.origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None

    def __call__(self, value: str) -> str | None:
        value = value.strip()
        if not value:
            return None
        if value.startswith(("http://", "https://")) and "/." not in value:
            return value
        if self.origin and value[0] == "/" and not value.startswith("//") and "/." not in value:
            return self.origin + value
        self.used_page_url = True
        url = urljoin(self.page_url, value)
        return url if url.startswith(("http://", "https://")) else None


def _read_flag(plan: _FieldPlan, item: Any) -> tuple[bool, str]:
    assert plan.source is not None
    selector = plan.source.selector
    if plan.regex is None:
        if selector.kind == "json":
            result = selector.search_json(item)
            return bool(result), "" if result is None else str(result)
        matches = selector.select(item)
        if plan.source.attributes:
            matches = [m for m in matches if node_value(m, plan.source.attributes) is not None]
        return bool(matches), clean_text(node_value(matches[0], None) or "") if matches else ""
    texts = [clean_text(text) for text in plan.source.all(item)]
    return any(plan.regex.search(text) for text in texts), " | ".join(texts)


def _read_images(plan: _FieldPlan, item: Any, resolve: _UrlResolver) -> tuple[list[str], str]:
    assert plan.source is not None
    found: list[str] = []
    for match in plan.source.selector.select(item):
        for attribute in plan.source.attributes or (None,):
            value = node_value(match, (attribute,) if attribute else None)
            if value and not value.lstrip().startswith("data:"):
                found.append(value)
                break
    urls = []
    for value in found:
        url = resolve(value)
        if url is not None and url not in urls:
            urls.append(url)
    return urls, " | ".join(found)


def _read_attributes(plan: _FieldPlan, item: Any) -> tuple[dict[str, str], str]:
    assert plan.key is not None and plan.value is not None
    pairs: dict[str, str] = {}
    keys, values = plan.key.all(item), plan.value.all(item)
    for key, value in zip(keys, values, strict=False):
        key, value = clean_text(key), clean_text(value)
        if key and key not in pairs:
            pairs[key] = value
    return pairs, " | ".join(f"{k}={v}" for k, v in zip(keys, values, strict=False))


def _read_scalar(fp: _FieldPlan, item: Any, resolve: _UrlResolver, raw: dict[str, str]) -> str | None:
    """One text-like field: first match, cleaned, regex/map applied, default if absent."""
    assert fp.source is not None
    found = fp.source.first(item)
    value = None
    if found is not None:
        raw[fp.name] = found
        value = _refine(fp, clean_text(found))
    if value is None:
        value = fp.default
    if value is not None and fp.type == FieldType.URL:
        value = resolve(value)
    return value


def _price_and_currency(
    plan: _Plan, price_text: str | None, currency_text: str | None, problems: list[_Problem]
) -> tuple[ParsedPrice | None, str]:
    """Parse the price; the per-item currency field, when present, beats the price's symbol."""
    price = None
    if price_text is not None:
        try:
            price = parse_price(
                price_text, default_currency=plan.vendor_currency, decimal_separator=plan.decimal_separator
            )
        except PriceParseError as exc:
            problems.append(_Problem("price", f"cannot parse {exc.text!r} ({exc.reason})"))
    currency = price.currency if price is not None else plan.vendor_currency
    if currency_text is not None:
        named = currency_from_text(currency_text, default_currency=plan.vendor_currency)
        if named is None:
            problems.append(_Problem("currency", f"unknown currency {currency_text!r}"))
        else:
            currency = named
    return price, currency


def _read_item(plan: _Plan, item: Any, position: int, resolve: _UrlResolver) -> ExtractedItem | ItemFailure:
    """One listing, or the reasons it cannot be used (every problem, not just the first)."""
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    problems: list[_Problem] = []
    for fp in plan.fields:
        if fp.type == FieldType.FLAG:
            values[fp.name], raw[fp.name] = _read_flag(fp, item)
        elif fp.type == FieldType.IMAGES:
            values[fp.name], raw[fp.name] = _read_images(fp, item, resolve)
        elif fp.type == FieldType.ATTRIBUTES:
            values[fp.name], raw[fp.name] = _read_attributes(fp, item)
        else:
            value = _read_scalar(fp, item, resolve, raw)
            if value is None and fp.required:
                problems.append(_Problem(fp.name, "missing"))
            values[fp.name] = value

    price, currency = _price_and_currency(plan, values.get("price"), values.get("currency"), problems)
    external_id = values.get("external_id")
    if problems or price is None:
        problems = problems or [_Problem("price", "missing")]
        reason = "; ".join(problem.reason for problem in problems)
        return ItemFailure(position, external_id, problems[0].field_name, reason)
    return ExtractedItem(
        external_id=external_id,
        title=values["title"],
        price=price.amount,
        price_kind=price.kind,
        currency=currency,
        position=position,
        url=values.get("url"),
        condition=values.get("condition"),
        location=values.get("location"),
        seller=values.get("seller"),
        images=values.get("images", []),
        attributes={**values.get("attributes", {}),
                    **{name: values[name] for name in ("mpn", "gtin") if values.get(name)}},
        sold=values.get("sold", False),
        product_code=values.get("product_code"),
        raw=raw,
    )


class ItemMemo:
    """Listings already read from earlier pages of the same batch, keyed by their markup.

    One partition's pages show the same listings again and again (overlapping queries such as
    "samsung", "samsung galaxy" and "galaxy"; the same listing on page 3 of one and page 1 of
    another). Reading a listing costs a dozen selector calls and a price parse; serialising its
    node costs a few microseconds, so identical markup is read once. A result that depended on the
    page's full URL (a relative link resolved with ``urljoin``) is only reused on that same URL;
    links that are absolute or root-relative only depend on the origin, which is part of the key.
    """

    __slots__ = ("_plan", "_seen", "hits")

    def __init__(self) -> None:
        self._plan: _Plan | None = None
        self._seen: dict[tuple[str | None, Any], tuple[ExtractedItem | ItemFailure, str | None]] = {}
        self.hits = 0

    def read(self, plan: _Plan, node: Any, position: int, resolve: _UrlResolver) -> ExtractedItem | ItemFailure:
        if plan is not self._plan:  # another vendor's (or an edited vendor's) rules: start afresh
            self._plan, self._seen = plan, {}
        key = (resolve.origin, _markup(node))
        known = self._seen.get(key)
        if known is not None and (known[1] is None or known[1] == resolve.page_url):
            self.hits += 1
            return replace(known[0], position=position)
        resolve.used_page_url = False
        result = _read_item(plan, node, position, resolve)
        self._seen[key] = (result, resolve.page_url if resolve.used_page_url else None)
        return result


def _markup(node: Any) -> Any:
    """A hashable, exact rendering of one listing node (lexbor node, lxml element or JSON value)."""
    if isinstance(node, LexborNode):
        return node.html
    if isinstance(node, lxml.etree._Element):
        return lxml.etree.tostring(node)
    return orjson.dumps(node, option=orjson.OPT_SORT_KEYS)


def _read_items(plan: _Plan, nodes: list[Any], page_url: str,
                memo: ItemMemo | None = None) -> tuple[list[ExtractedItem], list[ItemFailure]]:
    items: list[ExtractedItem] = []
    failures: list[ItemFailure] = []
    positions: dict[str, int] = {}
    resolve = _UrlResolver(page_url)
    for position, node in enumerate(nodes, start=1):
        if memo is not None:
            result = memo.read(plan, node, position, resolve)
        else:
            result = _read_item(plan, node, position, resolve)
        if isinstance(result, ItemFailure):
            failures.append(result)
        elif result.external_id in positions:
            failures.append(
                ItemFailure(
                    position=position,
                    external_id=result.external_id,
                    field="external_id",
                    reason=f"external_id: duplicate of position {positions[result.external_id]}",
                )
            )
        else:
            positions[result.external_id] = position
            items.append(result)
    return items, failures


# -- pages ----------------------------------------------------------------------------------

_MARKUP = re.compile(r"<\s*[A-Za-z!/?]")
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode(body: bytes | str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else the declared charset, else cp1252."""
    if isinstance(body, str):
        return body.removeprefix("\ufeff")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(body[:2048])
    if declared is not None:
        try:
            return body.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return body.decode("cp1252", errors="replace")


def _preview(text: str) -> str:
    snippet = clean_text(text[:80])
    return snippet if len(text) <= 80 else snippet + "…"


def _html_problem(text: str) -> str | None:
    """Why ``text`` cannot be an HTML results page, or ``None`` if it might be one."""
    stripped = text.strip()
    if not stripped:
        return "empty body"
    if "\x00" in text[:4096]:
        return "binary body, not HTML"
    if stripped[0] in "{[":
        try:
            orjson.loads(stripped)
            return "expected HTML but got JSON"
        except orjson.JSONDecodeError:
            pass
    if _MARKUP.search(text, 0, 65536) is None:
        return f"not HTML (no markup): {_preview(stripped)!r}"
    return None


def _next_link(plan: _Plan, root: Any, page_url: str) -> str | None:
    if plan.next_link is None:
        return None
    value = plan.next_link.first(root)
    return _UrlResolver(page_url)(value) if value else None


def _next_cursor(plan: _Plan, root: Any) -> str | None:
    if plan.cursor is None:
        return None
    value = plan.cursor.first(root)
    return value.strip() or None if value is not None else None


def _marker_missing(plan: _Plan, root: Any) -> str | None:
    if plan.page_marker is None:
        return None
    selector = plan.page_marker.selector
    found = selector.search_json(root) is not None if selector.kind == "json" else bool(selector.select(root))
    if found:
        return None
    return (
        f"page marker {selector.query!r} not found (blocked, captcha, error page, changed layout or page not rendered)"
    )


def _parse_html(text: str, engine: HtmlEngine | None) -> Any:
    """The document root for the vendor's engine (lexbor node or lxml element)."""
    if engine == "lxml":
        return ParselSelector(text=text, type="html").root
    return LexborHTMLParser(text).root


def _extract_html(plan: _Plan, body: bytes | str, url: str, read_items: bool = True,
                  memo: ItemMemo | None = None) -> PageExtraction:
    text = _decode(body)
    problem = _html_problem(text)
    if problem is not None:
        return PageExtraction(url=url, error=problem)
    root = _parse_html(text, plan.engine)
    if root is None:
        return PageExtraction(url=url, error="unparseable HTML")
    missing = _marker_missing(plan, root)
    if missing is not None:
        return PageExtraction(url=url, error=missing)
    nodes = plan.items.select(root)
    items, failures = _read_items(plan, nodes, url, memo) if read_items else ([], [])
    return PageExtraction(
        url=url,
        items=items,
        failures=failures,
        next_page_url=_next_link(plan, root, url),
        next_cursor=_next_cursor(plan, root),
        item_count_seen=len(nodes),
    )


def _extract_json(plan: _Plan, body: bytes | str, url: str, read_items: bool = True,
                  memo: ItemMemo | None = None) -> PageExtraction:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        preview = _preview(_decode(body) if isinstance(body, bytes) else body)
        return PageExtraction(url=url, error=f"invalid JSON ({exc}): {preview!r}")
    missing = _marker_missing(plan, data)
    if missing is not None:
        return PageExtraction(url=url, error=missing)
    found = plan.items.search_json(data)
    if found is None:
        return PageExtraction(url=url, error=f"items {plan.items.query!r} not found in the JSON")
    if not isinstance(found, list):
        return PageExtraction(url=url, error=f"items {plan.items.query!r} is a {type(found).__name__}, not a list")
    nodes = found
    items, failures = _read_items(plan, nodes, url, memo) if read_items else ([], [])
    return PageExtraction(
        url=url,
        items=items,
        failures=failures,
        next_page_url=_next_link(plan, data, url),
        next_cursor=_next_cursor(plan, data),
        item_count_seen=len(nodes),
    )


def extract_page(vendor: VendorConfig, body: bytes | str, *, url: str,
                 memo: ItemMemo | None = None) -> PageExtraction:
    """Read every listing on one fetched page of ``vendor``; ``url`` is the page's own URL.

    Relative links and images are resolved against ``url``. Never raises for bad input; see
    ``PageExtraction.error`` and ``PageExtraction.failures``. Pass one :class:`ItemMemo` to all
    the pages of a batch (a partition) to read each distinct listing once.
    """
    plan = _plan_for(vendor)
    if plan.format == "json":
        return _extract_json(plan, body, url, memo=memo)
    return _extract_html(plan, body, url, memo=memo)


def probe_page(vendor: VendorConfig, body: bytes | str, *, url: str) -> PageExtraction:
    """What the crawler needs to paginate, without reading listing fields (several times cheaper).

    Same page-level checks as :func:`extract_page` (not a results page, missing page marker) and
    the same ``item_count_seen``, ``next_page_url`` and ``next_cursor``; ``items`` stays empty.
    Listings are read later, from the archive, by the listings asset.
    """
    plan = _plan_for(vendor)
    if plan.format == "json":
        return _extract_json(plan, body, url, read_items=False)
    return _extract_html(plan, body, url, read_items=False)
