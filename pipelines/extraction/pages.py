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
from typing import Any

import orjson

from pipelines.extraction.documents import PageDocument, decode, html_problem, markup_problem, parse_html, preview
from pipelines.extraction.fields import UrlResolver
from pipelines.extraction.memo import ItemMemo, read_items
from pipelines.extraction.plan import Plan, plan_for
from pipelines.extraction.results import PageExtraction
from pipelines.parsing.embedded import EmbeddedDataError
from pipelines.parsing.selectors import node_value
from pipelines.vendors.config.vendor import VendorConfig


class _PageFailure(Exception):
    """A page-level problem found while reading it; becomes ``PageExtraction.error``."""


def _text_of(value: Any) -> str | None:
    text = node_value(value, None) if value is not None else None
    return text.strip() or None if text is not None else None


def _next_link(plan: Plan, root: Any, page: PageDocument) -> str | None:
    if plan.next_link is None:
        return None
    value = plan.next_link.first_text(root, page)
    return UrlResolver(page.url)(value) if value else None


def _next_cursor(plan: Plan, root: Any, page: PageDocument) -> str | None:
    if plan.cursor is None:
        return None
    value = plan.cursor.first_text(root, page)
    return value.strip() or None if value is not None else None


def _has_next(plan: Plan, root: Any, page: PageDocument) -> bool | None:
    """``pagination.has_next``: a JSON value's truthiness, or whether the element is there."""
    if plan.has_next is None:
        return None
    result = plan.has_next.first_result(root, page)
    if isinstance(result, str):  # a JSON string, or an XPath string result
        return result.strip().casefold() not in ("", "false", "0", "no", "null")
    if not plan.has_next.yields_data:
        return result is not None  # an element (a "next" button) is there or not
    return bool(result)


_INTEGER = re.compile(r"\d[\d.,'\s\u00a0\u202f]*")


def _total(plan: Plan, root: Any, page: PageDocument) -> int | None:
    """``pagination.total``: a number, or the first number in a text ("1.234 results" is 1234)."""
    if plan.total is None:
        return None
    result = plan.total.first_result(root, page)
    if isinstance(result, int | float) and not isinstance(result, bool):
        return int(result)
    text = _text_of(result)
    match = _INTEGER.search(text) if text else None
    if match is None:
        raise _PageFailure(f"pagination total {plan.total.label!r} not found or not a number")
    return int(re.sub(r"\D", "", match.group(0)))


def _marker_missing(plan: Plan, root: Any, page: PageDocument) -> str | None:
    if plan.page_marker is None:
        return None
    if plan.page_marker.first_result(root, page) is not None:
        return None
    return (f"page marker {plan.page_marker.label!r} not found (blocked, captcha, error page, changed layout "
            "or page not rendered)")


def _item_nodes(plan: Plan, root: Any, page: PageDocument) -> list[Any]:
    """The listing elements, or the listing objects when the items are read as data."""
    if not plan.items.yields_data:
        return plan.items.values(root, page)
    results = plan.items.results(root, page)
    if not results or all(result is None for result in results):
        raise _PageFailure(f"items {plan.items.label!r} not found" + (" in the JSON" if plan.format == "json" else ""))
    nodes: list[Any] = []
    for result in results:
        if result is None:
            continue
        if isinstance(result, dict) and plan.format == "html":
            nodes.append(result)  # one object per matched element or per structured-data block
        elif isinstance(result, list):
            nodes.extend(result)
        else:
            raise _PageFailure(f"items {plan.items.label!r} is a {type(result).__name__}, not a list")
    return nodes


def _read_page(plan: Plan, root: Any, page: PageDocument, with_items: bool,
               memo: ItemMemo | None) -> PageExtraction:
    try:
        missing = _marker_missing(plan, root, page)
        if missing is not None:
            return PageExtraction(url=page.url, error=missing)
        nodes = _item_nodes(plan, root, page)
        items, failures = read_items(plan, nodes, page.url, page, memo) if with_items else ([], [])
        return PageExtraction(
            url=page.url,
            items=items,
            failures=failures,
            next_page_url=_next_link(plan, root, page),
            next_cursor=_next_cursor(plan, root, page),
            has_next=_has_next(plan, root, page),
            total=_total(plan, root, page),
            item_count_seen=len(nodes),
        )
    except EmbeddedDataError as exc:
        return PageExtraction(url=page.url, error=f"embedded data {exc}")
    except _PageFailure as exc:
        return PageExtraction(url=page.url, error=str(exc))


def _extract_html(plan: Plan, body: bytes | str, url: str, with_items: bool = True,
                  memo: ItemMemo | None = None) -> PageExtraction:
    text = decode(body)
    problem = html_problem(text) or markup_problem(text)
    if problem is not None:
        return PageExtraction(url=url, error=problem)
    root = parse_html(text, plan.engine)
    if root is None:
        return PageExtraction(url=url, error="unparseable HTML")
    return _read_page(plan, root, PageDocument(text, url), with_items, memo)


def _extract_json(plan: Plan, body: bytes | str, url: str, with_items: bool = True,
                  memo: ItemMemo | None = None) -> PageExtraction:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        shown = preview(decode(body) if isinstance(body, bytes) else body)
        return PageExtraction(url=url, error=f"invalid JSON ({exc}): {shown!r}")
    return _read_page(plan, data, PageDocument("", url), with_items, memo)


def extract_page(vendor: VendorConfig, body: bytes | str, *, url: str,
                 memo: ItemMemo | None = None) -> PageExtraction:
    """Read every listing on one fetched page of ``vendor``; ``url`` is the page's own URL.

    Relative links and images are resolved against ``url``. Never raises for bad input; see
    ``PageExtraction.error`` and ``PageExtraction.failures``. Pass one :class:`ItemMemo` to all
    the pages of a batch (a partition) to read each distinct listing once.
    """
    plan = plan_for(vendor)
    if plan.format == "json":
        return _extract_json(plan, body, url, memo=memo)
    return _extract_html(plan, body, url, memo=memo)


def probe_page(vendor: VendorConfig, body: bytes | str, *, url: str) -> PageExtraction:
    """What the crawler needs to paginate, without reading listing fields (several times cheaper).

    Same page-level checks as :func:`extract_page` (not a results page, missing page marker) and
    the same ``item_count_seen``, ``next_page_url``, ``next_cursor``, ``has_next`` and ``total``;
    ``items`` stays empty. Listings are read later, from the archive, by the listings asset.
    """
    plan = plan_for(vendor)
    if plan.format == "json":
        return _extract_json(plan, body, url, with_items=False)
    return _extract_html(plan, body, url, with_items=False)
