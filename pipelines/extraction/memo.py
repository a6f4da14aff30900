"""Reading each distinct listing once per batch of pages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import lxml.etree
import orjson
from selectolax.lexbor import LexborNode

from pipelines.extraction.fields import UrlResolver, read_item
from pipelines.extraction.plan import Plan
from pipelines.extraction.results import ExtractedItem, ItemFailure
from pipelines.parsing.selectors import PageData


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
        self._plan: Plan | None = None
        self._seen: dict[tuple[str | None, Any], tuple[ExtractedItem | ItemFailure, str | None]] = {}
        self.hits = 0

    def read(self, plan: Plan, node: Any, position: int, resolve: UrlResolver,
             page: PageData) -> ExtractedItem | ItemFailure:
        if plan is not self._plan:  # another vendor's (or an edited vendor's) rules: start afresh
            self._plan, self._seen = plan, {}
        key = (resolve.origin, markup_key(node))
        known = self._seen.get(key)
        if known is not None and (known[1] is None or known[1] == resolve.page_url):
            self.hits += 1
            return replace(known[0], position=position)
        resolve.used_page_url = False
        result = read_item(plan, node, position, resolve, page)
        self._seen[key] = (result, resolve.page_url if resolve.used_page_url else None)
        return result


def markup_key(node: Any) -> Any:
    """A hashable, exact rendering of one listing node (lexbor node, lxml element or JSON value)."""
    if isinstance(node, LexborNode):
        return node.html
    if isinstance(node, lxml.etree._Element):
        return lxml.etree.tostring(node)
    return orjson.dumps(node, option=orjson.OPT_SORT_KEYS)


def read_items(plan: Plan, nodes: list[Any], page_url: str, page: PageData,
               memo: ItemMemo | None = None) -> tuple[list[ExtractedItem], list[ItemFailure]]:
    """Every listing node of a page: read (through ``memo`` when given), duplicates reported."""
    items: list[ExtractedItem] = []
    failures: list[ItemFailure] = []
    positions: dict[str, int] = {}
    resolve = UrlResolver(page_url)
    for position, node in enumerate(nodes, start=1):
        if memo is not None:
            result = memo.read(plan, node, position, resolve, page)
        else:
            result = read_item(plan, node, position, resolve, page)
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
