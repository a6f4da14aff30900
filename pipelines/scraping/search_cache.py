"""The smart search cache: do not search again what was searched successfully a moment ago.

With ``cache.search_max_age`` set in a vendor file, a tracked query whose *same first request*
(same URL: same query, same ``asof`` day, same host) was fetched successfully within that age
is not fetched again. Its archived pages are read back and re-archived for the new partition
(bodies are content-addressed, so nothing new is stored), the search is recorded with
``cache_hit = true`` and a ``cache_hit`` event naming the search it reuses, and ``listings``
parses those pages as usual.

Age is measured from when the pages were really downloaded (the captures' ``fetched_at``,
which a reuse keeps), so chained reuses never stretch the data beyond ``search_max_age``. Only
``success`` searches are reused: a partial or failed one is always fetched again.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

from sqlalchemy import Connection

from downloader.types import FetchedResponse
from pipelines.extraction.search_requests import first_request
from pipelines.scraping import store
from pipelines.scraping.archive import CapturedPage, SearchRun, stored_body
from pipelines.shared.sql import AnyRow
from pipelines.vendors.config.vendor import VendorConfig


def find_cached_runs(conn: Connection, *, vendor: VendorConfig, vendor_id: int, queries: Sequence[str],
                     asof: dt.date | None, now: dt.datetime | None = None) -> dict[str, SearchRun]:
    """For each query with a fresh enough successful search, a `SearchRun` reusing its pages."""
    max_age = vendor.cache.search_max_age
    if max_age is None:
        return {}
    now = now or dt.datetime.now(dt.UTC)
    found: dict[str, SearchRun] = {}
    for query in queries:
        clock = time.perf_counter()
        url = first_request(vendor, query, asof=asof).url
        source = store.reusable_search(conn, vendor_id=vendor_id, query=query, url=url, since=now - max_age)
        if source is None:
            continue
        items_by_page = store.page_item_counts(conn, source.id)
        pages = [CapturedPage(page_number=row.page_number, response=_response(row),
                              items_seen=items_by_page.get(row.page_number, 0))
                 for row in store.search_pages(conn, source.id)]
        age_s = round((now - source.fetched_at).total_seconds(), 1)
        run = SearchRun(query=query, status="success", pages=pages, started_at=now,
                        duration_ms=int((time.perf_counter() - clock) * 1000), items=source.items)
        run.cache_hit = True
        run.events.append(("cache_hit", {"source_search_id": source.id, "fetched_at": source.fetched_at,
                                         "age_s": age_s, "max_age_s": max_age.total_seconds(),
                                         "pages": len(pages), "items": source.items}))
        run.events.append(("search_completed", {"status": "success", "pages": len(pages), "items": source.items,
                                                "error": None, "cache_hit": True}))
        found[query] = run
    return found


def _response(row: AnyRow) -> FetchedResponse:
    """An archived capture as a response again; no request was made for it (attempts 0)."""
    return FetchedResponse(
        requested_url=row.url, final_url=row.final_url or row.url, status=row.status, headers=dict(row.headers),
        body=stored_body(row), content_type=row.content_type,
        elapsed_ms=0.0, started_at=row.fetched_at, fetch_mode=row.fetch_mode, error=row.error, attempts=0,
        bytes_received=0)
