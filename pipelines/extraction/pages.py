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

from typing import Any

import orjson

from pipelines.extraction.documents import decode, html_problem, parse_html, preview
from pipelines.extraction.fields import UrlResolver
from pipelines.extraction.memo import ItemMemo, read_items
from pipelines.extraction.plan import Plan, plan_for
from pipelines.extraction.results import PageExtraction
from pipelines.vendors.config.vendor import VendorConfig


def _next_link(plan: Plan, root: Any, page_url: str) -> str | None:
    if plan.next_link is None:
        return None
    value = plan.next_link.first(root)
    return UrlResolver(page_url)(value) if value else None


def _next_cursor(plan: Plan, root: Any) -> str | None:
    if plan.cursor is None:
        return None
    value = plan.cursor.first(root)
    return value.strip() or None if value is not None else None


def _marker_missing(plan: Plan, root: Any) -> str | None:
    if plan.page_marker is None:
        return None
    selector = plan.page_marker.selector
    found = selector.search_json(root) is not None if selector.kind == "json" else bool(selector.select(root))
    if found:
        return None
    return (
        f"page marker {selector.query!r} not found (blocked, captcha, error page, changed layout or page not rendered)"
    )


def _extract_html(plan: Plan, body: bytes | str, url: str, with_items: bool = True,
                  memo: ItemMemo | None = None) -> PageExtraction:
    text = decode(body)
    problem = html_problem(text)
    if problem is not None:
        return PageExtraction(url=url, error=problem)
    root = parse_html(text, plan.engine)
    if root is None:
        return PageExtraction(url=url, error="unparseable HTML")
    missing = _marker_missing(plan, root)
    if missing is not None:
        return PageExtraction(url=url, error=missing)
    nodes = plan.items.select(root)
    items, failures = read_items(plan, nodes, url, memo) if with_items else ([], [])
    return PageExtraction(
        url=url,
        items=items,
        failures=failures,
        next_page_url=_next_link(plan, root, url),
        next_cursor=_next_cursor(plan, root),
        item_count_seen=len(nodes),
    )


def _extract_json(plan: Plan, body: bytes | str, url: str, with_items: bool = True,
                  memo: ItemMemo | None = None) -> PageExtraction:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        shown = preview(decode(body) if isinstance(body, bytes) else body)
        return PageExtraction(url=url, error=f"invalid JSON ({exc}): {shown!r}")
    missing = _marker_missing(plan, data)
    if missing is not None:
        return PageExtraction(url=url, error=missing)
    found = plan.items.search_json(data)
    if found is None:
        return PageExtraction(url=url, error=f"items {plan.items.query!r} not found in the JSON")
    if not isinstance(found, list):
        return PageExtraction(url=url, error=f"items {plan.items.query!r} is a {type(found).__name__}, not a list")
    nodes = found
    items, failures = read_items(plan, nodes, url, memo) if with_items else ([], [])
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
    plan = plan_for(vendor)
    if plan.format == "json":
        return _extract_json(plan, body, url, memo=memo)
    return _extract_html(plan, body, url, memo=memo)


def probe_page(vendor: VendorConfig, body: bytes | str, *, url: str) -> PageExtraction:
    """What the crawler needs to paginate, without reading listing fields (several times cheaper).

    Same page-level checks as :func:`extract_page` (not a results page, missing page marker) and
    the same ``item_count_seen``, ``next_page_url`` and ``next_cursor``; ``items`` stays empty.
    Listings are read later, from the archive, by the listings asset.
    """
    plan = plan_for(vendor)
    if plan.format == "json":
        return _extract_json(plan, body, url, with_items=False)
    return _extract_html(plan, body, url, with_items=False)
