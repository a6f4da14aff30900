"""Nothing in a vendor file is silently ignored: every option is honoured or refused at load time.

Three walks over the schema prove it:

1. every field-rule option on every field type: set on a page where it must make a difference,
   the extraction differs from the same rule without it, or the file is refused naming the option;
2. every selector step in every place a selector can stand (items, page marker, pagination,
   fields of HTML items, fields of data items, JSON vendors): refused, or the extraction differs;
3. every option of every section of the schema (found by walking the pydantic models, so a new
   option is covered the day it is added) is read by code outside the schema, or is one of the
   options the first two walks prove.
"""

from __future__ import annotations

import ast
import copy
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pipelines.extraction.pages import extract_page
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.config.fields import OPTIONS_BY_TYPE, RULE_OPTIONS, FieldRule, FieldType
from pipelines.vendors.config.selectors import Selector
from pipelines.vendors.config.vendor import VendorConfig, parse_vendor

ROOT = Path(__file__).resolve().parents[1]

PAGE = """<html><body><ul class="r">
<li class="i" id="1" data-j='{"t": "Hello World", "n": 1250, "u": "/item/1", "im": ["/a.jpg"], "s": true}'>
  <a class="t" href="/item/1" data-alt="alt text">Hello World</a><b class="p">12,50 €</b><b class="n">1250</b>
  <img class="im" src="/a.jpg" data-src="/b.jpg"><dl><dt>Colour</dt><dd>Red</dd><dt>Size</dt><dd>M</dd></dl>
  <span class="s">sold out</span><em class="c">Used</em>
</li>
<li class="i" id="2" data-j='{"t": "Other", "n": 900, "u": "/item/2", "im": [], "s": false}'>
  <a class="t" href="/item/2" data-alt="other">Other</a><b class="p">9,00 €</b><b class="n">900</b>
  <dl><dt>Colour</dt><dd>Blue</dd></dl><em class="c">New</em>
</li></ul><a class="next" href="/s?q=x&amp;p=2">next</a>
<script id="data" type="application/json">{"more": true, "total": 7, "items": [{"id": "1"}]}</script>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "WebPage", "next": "/s?q=x&p=2"}</script>
</body></html>""".encode()
URL = "https://shop.example/s?q=x"

# The field that carries each type in the walk, and its rule on PAGE.
FIELD_OF_TYPE: dict[FieldType, tuple[str, dict[str, Any]]] = {
    FieldType.TEXT: ("location", {"css": "a.t", "type": "text"}),
    FieldType.ATTRIBUTE: ("seller", {"css": "a.t", "attribute": "data-alt", "type": "attribute"}),
    FieldType.PRICE: ("price", {"css": "b.p"}),
    FieldType.URL: ("url", {"css": "a.t"}),
    FieldType.IMAGES: ("images", {"css": "img.im"}),
    FieldType.ATTRIBUTES: ("attributes", {"key": {"css": "dt"}, "value": {"css": "dd"}}),
    FieldType.FLAG: ("sold", {"css": "span.s"}),
}
BASE_FIELDS = {"external_id": {"css": ":scope", "attribute": "id"}, "title": {"css": "a.t"}, "price": {"css": "b.p"}}


def vendor(fields: dict[str, Any] | None = None, extract: dict[str, Any] | None = None, **top: Any) -> VendorConfig:
    data: dict[str, Any] = {
        "name": "walk", "display_name": "Walk", "base_url": "https://shop.example", "country": "DE",
        "currency": "EUR", "decimal_separator": ",", "timezone": "Europe/Berlin", "history": "live",
        "search": {"url": "/s?q={query}&p={page}"}, "queries": ["x"],
        "pagination": {"kind": "page_number"},
        "extract": {"items": {"css": "li.i"}, "fields": {**BASE_FIELDS, **(fields or {})}, **(extract or {})},
    }
    for key, value in top.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return parse_vendor(copy.deepcopy(data), source="walk")


def outcome(fields: dict[str, Any] | None = None, extract: dict[str, Any] | None = None, body: bytes = PAGE,
            **top: Any) -> Any:
    """What the file does with ``body``: the extraction, or the load error as a string."""
    try:
        rules = vendor(fields, extract, **top)
    except VendorConfigError as exc:
        return str(exc)
    return extract_page(rules, body, url=URL)


def _scenario(option: str, field_type: FieldType, name: str, rule: dict[str, Any]) -> tuple[dict, dict]:
    """(rule without the option, rule with it) on a page where the option must change something."""
    missing = {**rule, "css": "no-such"} if "css" in rule else {"key": {"css": "no-such"}, "value": {"css": "dd"}}
    if option == "required":
        return missing, {**missing, "required": True}
    if option == "default":
        value = {"price": "5", "url": "/d", "images": "/d.jpg"}.get(name, "dflt")
        return missing, {**missing, "default": value}
    if option == "regex":
        return rule, {**rule, "regex": "nomatch" if field_type == FieldType.FLAG else r"^(\w)"}
    if option == "map":
        raw = {"location": "Hello World", "seller": "alt text", "price": "12,50 €", "url": "/item/1",
               "images": "/b.jpg", "sold": "sold out", "attributes": "Colour"}[name]
        return rule, {**rule, "map": {raw: "1" if name == "price" else "/mapped"}}
    if option in ("key", "value"):
        if field_type == FieldType.ATTRIBUTES:
            return rule, {**rule, option: {"css": "dl > *:first-child"}}
        return rule, {**rule, option: {"css": "dt"}}
    if option == "on_request":
        return rule, {**rule, "on_request": ["12,50"]}
    if option == "minor_units":
        return {**rule, "css": "b.n"} if "css" in rule else rule, {**rule, "css": "b.n", "minor_units": True}
    if option == "exponent":
        numbers = {**rule, "css": "b.n", "minor_units": True} if "css" in rule else rule
        return numbers, {**numbers, "exponent": 0}
    raise AssertionError(f"no scenario for option {option!r}: add one")


CASES = [(t, o) for t in FieldType for o in sorted(RULE_OPTIONS)]


@pytest.mark.parametrize(("field_type", "option"), CASES, ids=[f"{t.value}-{o}" for t, o in CASES])
def test_every_rule_option_is_honoured_or_refused_for_every_type(field_type: FieldType, option: str) -> None:
    name, rule = FIELD_OF_TYPE[field_type]
    without, with_option = _scenario(option, field_type, name, rule)
    before, after = outcome({name: without}), outcome({name: with_option})
    if option in OPTIONS_BY_TYPE[field_type]:
        assert not isinstance(after, str), f"{option} is documented for {field_type.value} but refused: {after}"
        assert not isinstance(before, str), before
        assert (after.items, after.failures) != (before.items, before.failures), \
            f"{option} on a {field_type.value} field changed nothing: silently ignored"
    else:
        assert isinstance(after, str), f"{option} on a {field_type.value} field was accepted but is not applied"
        assert f"extract.fields.{name}.{option}:" in after, after


def test_the_walk_covers_every_rule_option_and_type() -> None:
    declared = set(FieldRule.model_fields) - set(Selector.model_fields) - {"type"}
    assert declared == set(RULE_OPTIONS), "a field-rule option without a row in OPTIONS_BY_TYPE"
    assert set(FIELD_OF_TYPE) == set(FieldType)


# -- selector steps, wherever a selector stands -----------------------------------------------------

STEPS: dict[str, dict[str, Any]] = {  # on the page
    "css": {"css": "a.next"},
    "xpath": {"xpath": "//a[@class='next']"},
    "css+attribute": {"css": "a.next", "attribute": "href"},
    "css+json": {"css": "script#data", "json": "more"},
    "css+parse": {"css": "script#data", "parse": "javascript", "json": "more"},
    "embedded": {"embedded": "json-ld", "json": "[0].next"},
    "json": {"json": "more"},
}
ITEM_STEPS: dict[str, dict[str, Any]] = {  # relative to one listing element (or its data)
    "css": {"css": "a.t"},
    "xpath": {"xpath": ".//a[@class='t']"},
    "css+attribute": {"css": "a.t", "attribute": "data-alt"},
    "css+json": {"css": ":scope", "attribute": "data-j", "json": "t"},
    "css+parse": {"css": ":scope", "attribute": "data-j", "parse": "javascript", "json": "t"},
    "embedded": {"embedded": "json-ld", "json": "[0].next"},
    "json": {"json": "u"},
}


def _place(place: str, selector: dict[str, Any]) -> dict[str, Any]:
    """Vendor-file arguments putting ``selector`` at ``place``."""
    if place == "page_marker":
        return {"extract": {"page_marker": selector}}
    if place in ("has_next", "total"):
        return {"pagination": {"kind": "page_number", place: selector}}
    if place == "next_link":
        return {"pagination": {"kind": "next_link", "next_link": selector}, "search": {"url": "/s?q={query}"}}
    if place == "field of an element":
        return {"fields": {"seller": {**selector, "type": "text"}}}
    if place == "field of a data item":
        return {"extract": {"items": {"css": "li.i", "attribute": "data-j", "json": "@"}},
                "fields": {"external_id": {"json": "t"}, "title": {"json": "t"}, "price": {"json": "n"},
                           "seller": {**selector}}}
    raise AssertionError(place)


PLACES = ["page_marker", "has_next", "total", "next_link", "field of an element", "field of a data item"]
ALLOWED = {
    "page_marker": {"css", "xpath", "css+attribute", "css+json", "css+parse", "embedded"},
    "has_next": {"css", "xpath", "css+attribute", "css+json", "css+parse", "embedded"},
    "total": {"css", "xpath", "css+attribute", "css+json", "css+parse", "embedded"},
    "next_link": {"css", "xpath", "css+attribute", "css+json", "css+parse", "embedded"},
    "field of an element": {"css", "xpath", "css+attribute", "css+json", "css+parse"},
    "field of a data item": {"json"},
}
SELECTOR_CASES = [(p, s) for p in PLACES for s in STEPS]


@pytest.mark.parametrize(("place", "step"), SELECTOR_CASES, ids=[f"{p}-{s}" for p, s in SELECTOR_CASES])
def test_every_selector_step_is_honoured_or_refused_everywhere(place: str, step: str) -> None:
    selector = (ITEM_STEPS if place.startswith("field") else STEPS)[step]
    arguments = _place(place, selector)
    fields = arguments.pop("fields", None)
    result = outcome(fields, **arguments)
    if step not in ALLOWED[place]:
        assert isinstance(result, str), f"{step} accepted at {place} but it cannot be applied there"
        return
    assert not isinstance(result, str), result
    baseline_arguments = _place(place, {"css": "no-such"} if place != "field of a data item" else {"json": "zz"})
    baseline = outcome(baseline_arguments.pop("fields", None), **baseline_arguments)
    assert not isinstance(baseline, str), baseline
    assert result != baseline, f"{step} at {place} changed nothing"


def test_a_json_vendor_refuses_every_markup_step() -> None:
    for step in ("css", "xpath", "css+attribute", "css+json", "css+parse", "embedded"):
        result = outcome({"title": STEPS[step]}, {"format": "json", "items": {"json": "items"}})
        assert isinstance(result, str) and "extract.format is json" in result, (step, result)


# -- every option of the whole schema -----------------------------------------------------------------

PROVEN_ABOVE = set(RULE_OPTIONS) | {"type", "css", "xpath", "embedded", "attribute", "parse", "json_path"}


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    if model.__name__ in seen:
        return seen
    seen[model.__name__] = model
    for info in model.model_fields.values():
        for inner in _types(info.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                _models(inner, seen)
    return seen


def _types(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) in (typing.Union, list, dict):
        return [t for arg in args for t in _types(arg)]
    return [annotation]


def _attributes_read_outside_the_schema() -> set[str]:
    names: set[str] = set()
    schema = ROOT / "pipelines" / "vendors" / "config"
    for folder in ("pipelines", "downloader", "cli"):
        for path in (ROOT / folder).rglob("*.py"):
            if schema in path.parents:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute):
                    names.add(node.attr)
    return names


def test_every_option_of_the_schema_is_read_by_the_pipeline() -> None:
    models = _models(VendorConfig, {})
    assert {"VendorConfig", "SearchRules", "PaginationRules", "FetchRules", "RateLimitRules", "CacheRules",
            "ExtractRules", "Fields", "FieldRule", "Selector", "SessionRules"} <= set(models)
    read = _attributes_read_outside_the_schema()
    unread = sorted(f"{name}.{option}" for name, model in models.items() for option in model.model_fields
                    if option not in read and option not in PROVEN_ABOVE)
    assert unread == [], f"options nothing reads (silently ignored): {unread}"
