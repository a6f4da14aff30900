"""A vendor's extraction rules compiled once into a plan (selectors compiled, options resolved).

History re-parses are bulk jobs, so nothing that depends only on the vendor file is recomputed
per page: the plan is memoised on the vendor (``VendorConfig.cached``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pipelines.parsing.selectors import CompiledSelector, HtmlEngine, node_value
from pipelines.vendors.config.fields import FieldType
from pipelines.vendors.config.selectors import Selector
from pipelines.vendors.config.vendor import VendorConfig


@dataclass(frozen=True, slots=True)
class Source:
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
class FieldPlan:
    name: str
    type: FieldType
    source: Source | None
    required: bool
    default: str | None
    regex: re.Pattern[str] | None
    value_map: dict[str, str] | None
    key: Source | None = None
    value: Source | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    format: str
    engine: HtmlEngine | None
    items: CompiledSelector
    page_marker: Source | None
    fields: tuple[FieldPlan, ...]
    next_link: Source | None
    cursor: Source | None
    vendor_currency: str
    decimal_separator: Literal[".", ","]


_REQUIRED = ("external_id", "title", "price")


def source_for(
    selector: Selector | None, engine: HtmlEngine | None, default_attributes: tuple[str, ...] | None = None
) -> Source | None:
    if selector is None or not selector.has_expression:
        return None
    attributes = tuple(selector.attribute) if selector.attribute else None
    if attributes is None and selector.kind == "css":
        attributes = default_attributes
    return Source(CompiledSelector.build(selector.kind, selector.query, engine), attributes)


def build_plan(vendor: VendorConfig) -> Plan:
    engine = vendor.html_engine if vendor.extract.format == "html" else None
    fields = []
    for name, rule in vendor.extract.fields.items():
        assert rule.type is not None  # resolved when the vendor file was loaded
        fields.append(
            FieldPlan(
                name=name,
                type=rule.type,
                source=source_for(rule, engine),
                required=rule.required or name in _REQUIRED,
                default=rule.default,
                regex=re.compile(rule.regex) if rule.regex else None,
                value_map={k.casefold(): v for k, v in rule.map.items()} if rule.map else None,
                key=source_for(rule.key, engine),
                value=source_for(rule.value, engine),
            )
        )
    items = vendor.extract.items
    pagination = vendor.pagination
    return Plan(
        format=vendor.extract.format,
        engine=engine,
        items=CompiledSelector.build(items.kind, items.query, engine),
        page_marker=source_for(vendor.extract.page_marker, engine),
        fields=tuple(fields),
        next_link=source_for(pagination.next_link, engine, ("href",)),
        cursor=source_for(pagination.cursor, engine),
        vendor_currency=vendor.currency,
        decimal_separator=vendor.decimal_separator,
    )


def plan_for(vendor: VendorConfig) -> Plan:
    return vendor.cached("extract_plan", lambda: build_plan(vendor))
