"""A vendor's extraction rules compiled once into a plan (selectors compiled, options resolved).

History re-parses are bulk jobs, so nothing that depends only on the vendor file is recomputed
per page: the plan is memoised on the vendor (``VendorConfig.cached``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pipelines.parsing.selectors import HtmlEngine, SelectorChain
from pipelines.parsing.text import clean_text
from pipelines.vendors.config.fields import REQUIRED_FIELDS, FieldType
from pipelines.vendors.config.selectors import Selector
from pipelines.vendors.config.vendor import VendorConfig


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field of the vendor file, ready to read: its selector chain and every option it applies."""

    name: str
    type: FieldType
    source: SelectorChain | None
    required: bool
    default: str | None
    regex: re.Pattern[str] | None
    value_map: dict[str, str] | None
    key: SelectorChain | None = None
    value: SelectorChain | None = None
    on_request: tuple[str, ...] = ()
    minor_units: bool = False
    exponent: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The whole extraction of one vendor: page-level selectors, then one plan per field."""

    format: str
    engine: HtmlEngine | None
    uses_embedded: bool
    items: SelectorChain
    page_marker: SelectorChain | None
    fields: tuple[FieldPlan, ...]
    next_link: SelectorChain | None
    cursor: SelectorChain | None
    has_next: SelectorChain | None
    total: SelectorChain | None
    vendor_currency: str
    decimal_separator: Literal[".", ","]


def chain_for(selector: Selector | None, engine: HtmlEngine | None,
              default_attributes: tuple[str, ...] | None = None) -> SelectorChain | None:
    """The compiled form of ``selector``; ``default_attributes`` apply to a plain CSS step."""
    if selector is None or not selector.has_expression:
        return None
    attributes = tuple(selector.attribute) if selector.attribute else None
    if attributes is None and selector.css is not None and not selector.yields_data:
        attributes = default_attributes
    markup_kind = selector.markup_kind
    markup = (markup_kind, selector.markup_query) if markup_kind is not None and selector.markup_query else None
    return SelectorChain.build(markup=markup, embedded=selector.embedded, attributes=attributes,
                               parse=selector.parse, data=selector.json_path, engine=engine)


def build_plan(vendor: VendorConfig) -> Plan:
    engine = vendor.html_engine if vendor.extract.format == "html" else None
    fields = []
    for name, rule in vendor.extract.fields.items():
        assert rule.type is not None  # resolved when the vendor file was loaded
        fields.append(
            FieldPlan(
                name=name,
                type=rule.type,
                source=chain_for(rule, engine),
                required=rule.required or name in REQUIRED_FIELDS,
                default=rule.default,
                regex=re.compile(rule.regex) if rule.regex else None,
                value_map={clean_text(k).casefold(): v for k, v in rule.map.items()} if rule.map else None,
                key=chain_for(rule.key, engine),
                value=chain_for(rule.value, engine),
                on_request=tuple(clean_text(p).casefold() for p in rule.on_request or ()),
                minor_units=rule.minor_units,
                exponent=rule.exponent,
            )
        )
    extract = vendor.extract
    pagination = vendor.pagination
    items = chain_for(extract.items, engine)
    assert items is not None
    return Plan(
        format=extract.format,
        engine=engine,
        uses_embedded=any(selector.embedded is not None for _, selector in vendor.selectors()),
        items=items,
        page_marker=chain_for(extract.page_marker, engine),
        fields=tuple(fields),
        next_link=chain_for(pagination.next_link, engine, ("href",)),
        cursor=chain_for(pagination.cursor, engine),
        has_next=chain_for(pagination.has_next, engine),
        total=chain_for(pagination.total, engine),
        vendor_currency=vendor.currency,
        decimal_separator=vendor.decimal_separator,
    )


def plan_for(vendor: VendorConfig) -> Plan:
    return vendor.cached("extract_plan", lambda: build_plan(vendor))
