"""Archived pages → staged listings for one (vendor, day): pure, no I/O.

Runs over what ``raw_captures`` stored, never the network, so fixing an extraction rule and
re-materialising a past partition repairs its history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from pipelines.extraction.memo import ItemMemo
from pipelines.extraction.pages import extract_page
from pipelines.extraction.results import ExtractedItem
from pipelines.listings.records import StagedItem, StagedPosition
from pipelines.scraping.pages import ArchivedPage
from pipelines.vendors.config.vendor import VendorConfig


@dataclass
class SearchParse:
    """How one search of the partition parsed: what the audits judge and name in their messages."""

    search_id: int
    query: str
    pages: int = 0
    """Pages fetched fine (no fetch error, status below 400): the ones the selectors are judged on."""
    pages_failed: int = 0
    """Pages whose fetch failed (recorded by raw_captures): the search may have stopped short."""
    page_errors: int = 0
    """Of those, pages that were not a results page (page marker missing, not HTML/JSON...)."""
    nodes: int = 0
    """Listing elements the ``extract.items`` selector matched, read or not."""
    listings: int = 0
    """Listings read from those elements (positions)."""
    failures: Counter[str] = field(default_factory=Counter)
    """Skipped listing elements by the field at fault."""


@dataclass
class ParsedPartition:
    items: list[StagedItem] = field(default_factory=list)
    positions: list[StagedPosition] = field(default_factory=list)
    item_failures: list[dict[str, object]] = field(default_factory=list)
    page_errors: list[dict[str, object]] = field(default_factory=list)
    pages_parsed: int = 0
    items_seen: int = 0
    unmapped_conditions: dict[str, int] = field(default_factory=dict)
    searches: dict[int, SearchParse] = field(default_factory=dict)

    @property
    def failure_rate(self) -> float:
        """Share of listing nodes on parsed pages that could not be turned into a listing."""
        return len(self.item_failures) / self.items_seen if self.items_seen else 0.0


def seen_at_for(day: dt.date, fetched_at: dt.datetime) -> dt.datetime:
    """When a listing counts as seen: the fetch time when fetched that day, otherwise the end
    of the partition's day (an as-of fetch shows the catalogue as it was at the end of the day)."""
    end_of_day = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)
    if fetched_at.astimezone(dt.UTC).date() == day:
        return fetched_at
    return end_of_day


def _item_metadata(item: ExtractedItem) -> dict[str, str]:
    """What the page said where the stored value is interpreted: the price text, an unmapped condition."""
    metadata = {}
    if item.raw.get("price"):
        metadata["raw_price"] = item.raw["price"]
    if item.unmapped_condition is not None:
        metadata["raw_condition"] = item.unmapped_condition
    return metadata


def parse_partition(vendor: VendorConfig, day: dt.date, pages: list[ArchivedPage]) -> ParsedPartition:
    """Extract every archived page; the first appearance of a listing in the day wins."""
    parsed = ParsedPartition()
    by_id: dict[str, StagedItem] = {}
    positions: dict[int, int] = {}
    memo = ItemMemo()  # overlapping queries show the same listings: read each one once
    for page in pages:
        search = parsed.searches.setdefault(page.search_id, SearchParse(page.search_id, page.query))
        if page.error is not None or page.status is None or page.status >= 400:
            search.pages_failed += 1
            continue  # recorded by raw_captures; nothing to parse
        extraction = extract_page(vendor, page.body, url=page.url, memo=memo)
        parsed.pages_parsed += 1
        search.pages += 1
        if extraction.error is not None:
            search.page_errors += 1
            parsed.page_errors.append({"search_id": page.search_id, "query": page.query,
                                       "page": page.page_number, "error": extraction.error})
            continue
        parsed.items_seen += extraction.item_count_seen
        search.nodes += extraction.item_count_seen
        search.listings += len(extraction.items)
        search.failures.update(f.field for f in extraction.failures)
        parsed.item_failures.extend(
            {"search_id": page.search_id, "query": page.query, "page": page.page_number,
             "position": f.position, "external_id": f.external_id, "field": f.field, "reason": f.reason}
            for f in extraction.failures)
        seen_at = seen_at_for(day, page.fetched_at)
        for item in extraction.items:
            if item.unmapped_condition is not None:
                counts = parsed.unmapped_conditions
                counts[item.unmapped_condition] = counts.get(item.unmapped_condition, 0) + 1
            position = positions.get(page.search_id, 0) + 1
            positions[page.search_id] = position
            parsed.positions.append(StagedPosition(search_id=page.search_id, external_id=item.external_id,
                                                   position=position, page=page.page_number))
            if item.external_id in by_id:
                continue
            by_id[item.external_id] = StagedItem(
                external_id=item.external_id, title=item.title, price=item.price, currency=item.currency,
                price_kind=item.price_kind, seen_at=seen_at, is_sold=item.sold, condition=item.condition,
                location=item.location, url=item.url, seller=item.seller, product_code=item.product_code,
                attributes=item.attributes, images=item.images,
                metadata=_item_metadata(item),
            )
    parsed.items = list(by_id.values())
    return parsed
