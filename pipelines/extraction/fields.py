"""Reading the fields of one listing (an HTML element or a JSON object) with a compiled plan.

Every option of a field is applied here or was refused when the vendor file was loaded
(``OPTIONS_BY_TYPE`` in the vendor schema): ``regex`` and ``map`` refine text values, ``default``
stands in for a missing value, ``required`` turns a missing value into a skipped, reported item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin, urlsplit

from pipelines.extraction.plan import FieldPlan, Plan
from pipelines.extraction.results import ExtractedItem, ItemFailure
from pipelines.parsing.conditions import vocabulary_word
from pipelines.parsing.currencies import from_minor_units, iso_exponent, number_amount
from pipelines.parsing.embedded import EmbeddedDataError
from pipelines.parsing.price_text import ParsedPrice, PriceKind, PriceParseError, currency_from_text, parse_price
from pipelines.parsing.selectors import PageData, node_value
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


def _pick(regex: re.Pattern[str], value: str) -> str | None:
    match = regex.search(value)
    if match is None:
        return None
    return match.group(1) if regex.groups else match.group(0)


def _refine(plan: FieldPlan, value: str | None) -> str | None:
    """Apply the field's regex and map to an already cleaned value; empty becomes ``None``."""
    if value and plan.regex is not None:
        picked = _pick(plan.regex, value)
        value = clean_text(picked) if picked else None
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


def _read_flag(plan: FieldPlan, item: Any, page: PageData) -> tuple[bool, str]:
    source = plan.source
    assert source is not None
    if plan.regex is not None:
        texts = [clean_text(text) for text in source.texts(item, page)]
        return any(plan.regex.search(text) for text in texts), " | ".join(texts)
    if source.yields_data:
        result = source.first_result(item, page)
        return bool(result), "" if result is None else clean_text(node_value(result, None) or str(result))
    matches = source.values(item, page)
    if source.attributes:
        matches = [m for m in matches if node_value(m, source.attributes) is not None]
    return bool(matches), clean_text(node_value(matches[0], None) or "") if matches else ""


def _read_images(plan: FieldPlan, item: Any, page: PageData, resolve: UrlResolver) -> tuple[list[str], str]:
    source = plan.source
    assert source is not None
    found: list[str] = []
    if source.yields_data:
        found = [text for text in source.texts(item, page) if text and not text.lstrip().startswith("data:")]
    else:
        for match in source.values(item, page):
            for attribute in source.attributes or (None,):
                value = node_value(match, (attribute,) if attribute else None)
                if value and not value.lstrip().startswith("data:"):
                    found.append(value)
                    break
    urls = []
    for value in found:
        picked = _pick(plan.regex, value) if plan.regex is not None else value
        url = resolve(picked) if picked else None
        if url is not None and url not in urls:
            urls.append(url)
    return urls, " | ".join(found)


def _read_attributes(plan: FieldPlan, item: Any, page: PageData) -> tuple[dict[str, str], str]:
    assert plan.key is not None and plan.value is not None
    pairs: dict[str, str] = {}
    keys, values = plan.key.texts(item, page), plan.value.texts(item, page)
    for key, value in zip(keys, values, strict=False):
        key, value = clean_text(key), clean_text(value)
        if key and key not in pairs:
            pairs[key] = value
    return pairs, " | ".join(f"{k}={v}" for k, v in zip(keys, values, strict=False))


def _read_scalar(fp: FieldPlan, item: Any, page: PageData, resolve: UrlResolver, raw: dict[str, str]) -> Any:
    """One text-like field: first match, cleaned, regex/map applied, default if absent.

    A price read from data keeps its JSON number (``129900``, ``12.5``): numbers are amounts,
    never texts to guess separators in.
    """
    assert fp.source is not None
    number: int | float | None = None
    if fp.type == FieldType.PRICE and fp.source.yields_data:
        first = next((v for v in fp.source.values(item, page) if node_value(v, None) is not None), None)
        if isinstance(first, int | float) and not isinstance(first, bool):
            number = first
        found = None if first is None else node_value(first, None)
    else:
        found = fp.source.first_text(item, page)
    value = None
    if found is not None:
        raw[fp.name] = found
        value = _refine(fp, clean_text(found))
        if number is not None and value == found:
            return number
    if value is None:
        value = fp.default
    if value is not None and fp.type == FieldType.URL:
        value = resolve(value)
    return value


def _amount(value: int | float | str, currency: str, fp: FieldPlan) -> tuple[Decimal | None, str | None]:
    """A number (JSON number, or digits when counting minor units) as an amount, or why not."""
    if fp.minor_units:
        text = str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if not re.fullmatch(r"\d+", text):
            return None, f"minor units must be a whole number, got {text!r}"
        exponent = fp.exponent if fp.exponent is not None else iso_exponent(currency)
        if exponent is None:
            return None, f"ISO 4217 gives {currency} no minor unit; declare exponent"
        return from_minor_units(int(text), exponent), None
    try:
        return number_amount(Decimal(str(value)), currency), None
    except InvalidOperation:
        return None, f"not a number: {value!r}"


def _price_and_currency(
    plan: Plan, fp: FieldPlan | None, value: Any, currency_text: str | None, problems: list[_Problem]
) -> tuple[ParsedPrice | None, str]:
    """The price and its currency; the per-item currency field, when present, beats the price's symbol."""
    currency = plan.vendor_currency
    if currency_text is not None:
        named = currency_from_text(currency_text, default_currency=plan.vendor_currency)
        if named is None:
            problems.append(_Problem("currency", f"unknown currency {currency_text!r}"))
        else:
            currency = named
    if value is None or fp is None:
        return None, currency
    text = str(value)
    folded = clean_text(text).casefold()
    if fp.on_request and any(phrase in folded for phrase in fp.on_request):
        return ParsedPrice(None, currency, PriceKind.ON_REQUEST, text), currency
    if fp.minor_units or not isinstance(value, str):
        amount, problem = _amount(value, currency, fp)
        if amount is None:
            problems.append(_Problem("price", f"cannot read {text!r} ({problem})"))
            return None, currency
        kind = PriceKind.FREE if amount == 0 else PriceKind.PRICED
        return ParsedPrice(amount, currency, kind, text), currency
    try:
        price = parse_price(text, default_currency=plan.vendor_currency, decimal_separator=plan.decimal_separator)
    except PriceParseError as exc:
        problems.append(_Problem("price", f"cannot parse {exc.text!r} ({exc.reason})"))
        return None, currency
    return price, currency if currency_text is not None else price.currency


def _condition(value: str | None) -> tuple[str | None, str | None]:
    """``(vocabulary word, unmapped raw value)`` for a condition read from the page."""
    if value is None:
        return None, None
    word = vocabulary_word(value)
    return (word, None) if word is not None else (None, value)


def read_item(plan: Plan, item: Any, position: int, resolve: UrlResolver,
              page: PageData) -> ExtractedItem | ItemFailure:
    """One listing, or the reasons it cannot be used (every problem, not just the first)."""
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    problems: list[_Problem] = []
    price_plan = None
    for fp in plan.fields:
        try:
            if fp.type == FieldType.FLAG:
                values[fp.name], raw[fp.name] = _read_flag(fp, item, page)
                continue
            if fp.type == FieldType.IMAGES:
                values[fp.name], raw[fp.name] = _read_images(fp, item, page, resolve)
            elif fp.type == FieldType.ATTRIBUTES:
                values[fp.name], raw[fp.name] = _read_attributes(fp, item, page)
            else:
                values[fp.name] = _read_scalar(fp, item, page, resolve, raw)
        except EmbeddedDataError as exc:
            source = fp.source or fp.key or fp.value
            problems.append(_Problem(fp.name, f"text of {source.label if source else fp.name!r} {exc}"))
            values[fp.name] = None
            continue
        if fp.name == "price":
            price_plan = fp
        if fp.required and values[fp.name] in (None, [], {}):
            problems.append(_Problem(fp.name, "missing"))

    price, currency = _price_and_currency(plan, price_plan, values.get("price"), values.get("currency"), problems)
    condition, unmapped = _condition(values.get("condition"))
    external_id = values.get("external_id")
    if problems or price is None:
        problems = problems or [_Problem("price", "missing")]
        reason = "; ".join(problem.reason for problem in problems)
        return ItemFailure(position, external_id, problems[0].field_name, reason)
    assert external_id is not None, "external_id is a required field: a missing one is a problem above"
    return ExtractedItem(
        external_id=external_id,
        title=values["title"],
        price=price.amount,
        price_kind=price.kind,
        currency=currency,
        position=position,
        url=values.get("url"),
        condition=condition,
        location=values.get("location"),
        seller=values.get("seller"),
        images=values.get("images", []),
        attributes={**values.get("attributes", {}),
                    **{name: values[name] for name in ("mpn", "gtin") if values.get(name)}},
        sold=values.get("sold", False),
        product_code=values.get("product_code"),
        raw=raw,
        unmapped_condition=unmapped,
    )
