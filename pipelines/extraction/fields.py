"""Reading the fields of one listing (an HTML element or a JSON object) with a compiled plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from pipelines.extraction.plan import FieldPlan, Plan
from pipelines.extraction.results import ExtractedItem, ItemFailure
from pipelines.parsing.price_text import ParsedPrice, PriceParseError, currency_from_text, parse_price
from pipelines.parsing.selectors import node_value
from pipelines.parsing.text import clean_text
from pipelines.vendors.config.fields import FieldType


@dataclass(frozen=True, slots=True)
class _Problem:
    """Why one field of one listing is unusable; ``reason`` is what ``ItemFailure`` shows."""

    field_name: str
    detail: str

    @property
    def reason(self) -> str:
        return f"{self.field_name}: {self.detail}"


def _refine(plan: FieldPlan, value: str | None) -> str | None:
    """Apply the field's regex and map to an already cleaned value; empty becomes ``None``."""
    if value and plan.regex is not None:
        match = plan.regex.search(value)
        value = None if match is None else (match.group(1) if plan.regex.groups else match.group(0))
        value = clean_text(value) if value else None
    if value and plan.value_map is not None:
        value = plan.value_map.get(value.casefold(), value)
    return value or None


class UrlResolver:
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


def _read_flag(plan: FieldPlan, item: Any) -> tuple[bool, str]:
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


def _read_images(plan: FieldPlan, item: Any, resolve: UrlResolver) -> tuple[list[str], str]:
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


def _read_attributes(plan: FieldPlan, item: Any) -> tuple[dict[str, str], str]:
    assert plan.key is not None and plan.value is not None
    pairs: dict[str, str] = {}
    keys, values = plan.key.all(item), plan.value.all(item)
    for key, value in zip(keys, values, strict=False):
        key, value = clean_text(key), clean_text(value)
        if key and key not in pairs:
            pairs[key] = value
    return pairs, " | ".join(f"{k}={v}" for k, v in zip(keys, values, strict=False))


def _read_scalar(fp: FieldPlan, item: Any, resolve: UrlResolver, raw: dict[str, str]) -> str | None:
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
    plan: Plan, price_text: str | None, currency_text: str | None, problems: list[_Problem]
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


def read_item(plan: Plan, item: Any, position: int, resolve: UrlResolver) -> ExtractedItem | ItemFailure:
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
        attributes=values.get("attributes", {}),
        sold=values.get("sold", False),
        product_code=values.get("product_code"),
        raw=raw,
    )
