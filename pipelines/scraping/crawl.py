"""Running a vendor's tracked queries: follow pagination, keep every response, record outcomes.

The crawler is given a ``fetch(url) -> FetchedResponse`` function (HTTP or browser, with its
politeness policy) and knows nothing of Dagster or SQL. Queries run concurrently; pages of one
query run in order because each page says where the next one is. Limits on concurrency and
rate belong to the fetch session, not to this loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

from downloader.types import FetchedResponse
from pipelines.extraction.pages import probe_page
from pipelines.extraction.search_requests import PageRequest, first_request, next_request
from pipelines.scraping.archive import CapturedPage, SearchRun
from pipelines.vendors.config.vendor import VendorConfig

Fetch = Callable[[str], Awaitable[FetchedResponse]]
Listener = Callable[[str, str, dict[str, Any]], None]
"""Told each timeline event as it happens: (query, kind, data); an on-demand search streams them."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def crawl_query(vendor: VendorConfig, query: str, fetch: Fetch, *, asof: dt.date | None,
                      listener: Listener | None = None) -> SearchRun:
    """One query, all its pages. ``status`` is ``success``, ``partial`` (some pages, then an
    error) or ``failed`` (not even the first page). ``listener`` hears each page as it comes."""
    started_at, clock = _now(), time.perf_counter()
    run = SearchRun(query=query, status="success", pages=[], started_at=started_at, duration_ms=0)
    request: PageRequest | None = first_request(vendor, query, asof=asof)
    while request is not None:
        response = await fetch(request.url)
        page = CapturedPage(page_number=request.page_index, response=response)
        run.pages.append(page)
        problem = response.error or _bad_status(response)
        if problem is None:
            # Pagination only needs the page's shape; listings are parsed from the archive later.
            extraction = probe_page(vendor, response.body, url=response.final_url or request.url)
            problem = extraction.error
            page.items_seen = extraction.item_count_seen
            run.items += extraction.item_count_seen
        fetched = {
            "page": request.page_index, "url": request.url, "status": response.status,
            "elapsed_ms": round(response.elapsed_ms, 1), "attempts": response.attempts,
            "bytes": response.bytes_received, "items": page.items_seen, "error": problem,
        }
        run.events.append(("page_fetched", fetched))
        if listener is not None:
            listener(query, "page_fetched", fetched)
        if problem is not None:
            run.error = f"page {request.page_index}: {problem}"
            run.status = "partial" if run.items else "failed"
            break
        request = next_request(vendor, request, extraction)
    run.duration_ms = int((time.perf_counter() - clock) * 1000)
    run.events.append(("search_completed", {"status": run.status, "pages": len(run.pages),
                                            "items": run.items, "error": run.error}))
    return run


def _bad_status(response: FetchedResponse) -> str | None:
    if response.status is not None and response.status >= 400:
        return f"HTTP {response.status}"
    return None


async def crawl_vendor(vendor: VendorConfig, fetch: Fetch, *, asof: dt.date | None,
                       queries: list[str] | None = None, listener: Listener | None = None) -> list[SearchRun]:
    """Every tracked query of ``vendor`` (or ``queries``), concurrently, in their given order."""
    wanted = queries if queries is not None else list(vendor.queries)
    return list(await asyncio.gather(*(crawl_query(vendor, q, fetch, asof=asof, listener=listener)
                                       for q in wanted)))
