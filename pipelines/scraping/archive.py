"""Writing one raw_captures partition: searches, archived responses (stored once per content
hash, compressed) and the search timeline.

Fetch once, parse many times: everything downstream re-reads these rows, never the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from downloader.types import FetchedResponse
from pipelines.scraping import store
from pipelines.scraping.body_archive import read_archived
from pipelines.scraping.pages import ArchivedPage

BODY_ENCODING = "zlib"
COMPRESSION_LEVEL = 3  # HTML/JSON shrink ~6x at level 3; higher levels cost CPU for little more.


def compress(body: bytes) -> bytes:
    return zlib.compress(body, COMPRESSION_LEVEL)


def decompress(data: bytes, encoding: str) -> bytes:
    if encoding != BODY_ENCODING:
        raise ValueError(f"unknown capture body encoding {encoding!r}")
    return zlib.decompress(data)


@dataclass
class CapturedPage:
    """One response of a search, with its place in the pagination."""

    page_number: int
    response: FetchedResponse
    items_seen: int = 0


@dataclass
class SearchRun:
    """Outcome of one tracked query: its pages, status and timeline."""

    query: str
    status: str  # success | partial | failed
    pages: list[CapturedPage]
    started_at: dt.datetime
    duration_ms: int
    items: int = 0
    error: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cache_hit: bool = False  # reused from a fresh earlier search (pipelines/scraping/search_cache.py)

    @property
    def requests(self) -> int:
        return sum(page.response.attempts for page in self.pages)

    @property
    def bytes(self) -> int:
        return sum(page.response.bytes_received for page in self.pages)

    @property
    def browser_seconds(self) -> float:
        return sum(page.response.browser_seconds for page in self.pages)


@dataclass(frozen=True)
class ArchiveSummary:
    searches: int
    pages: int
    bodies_new: int
    bytes: int


def replace_captures_partition(conn: Connection, *, vendor_id: int, partition_date: dt.date,
                               runs: list[SearchRun], request_id: int | None = None) -> ArchiveSummary:
    """Replace the (vendor, day) partition's searches and captures; call inside one transaction.

    With ``request_id`` (an on-demand search) only the searches of the runs' queries are replaced,
    and marked with it; a scheduled fetch (without) leaves such marked searches of other queries
    in the partition, so what an on-demand search archived is parsed whenever the day is.

    A query searched before in this partition keeps its ``searches`` row (rewritten in place),
    so the search results and parse report of the published listings partition stay until the
    listings step publishes a new parse (write, audit, publish): a re-fetch whose parse fails its
    audits leaves the day's published positions as they were. Searches of queries no longer
    tracked are deleted, cascading to their captures, events and search results; nothing is
    ever duplicated. Bodies are content-addressed and shared across partitions.
    """
    key = {"vendor_id": vendor_id, "partition_date": partition_date}
    store.lock_vendor_archive(conn, vendor_id)
    earlier: dict[str, list[int]] = {}
    for row in store.partition_searches(conn, vendor_id=vendor_id, partition_date=partition_date):
        earlier.setdefault(row.query, []).append(row.id)
    reused = [earlier[run.query].pop(0) if earlier.get(run.query) else None for run in runs]
    store.delete_captures_partition(conn, vendor_id=vendor_id, partition_date=partition_date,
                                    keep=[search_id for search_id in reused if search_id is not None],
                                    queries=[run.query for run in runs], on_demand=request_id is not None)
    bodies: dict[str, dict[str, Any]] = {}
    captures: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for run, earlier_id in zip(runs, reused, strict=True):
        search = {
            **key, "query": run.query, "status": run.status, "pages": len(run.pages), "items": run.items,
            "requests": run.requests, "bytes": run.bytes, "browser_seconds": run.browser_seconds,
            "duration_ms": run.duration_ms, "error": run.error, "started_at": run.started_at,
            "cache_hit": run.cache_hit, "request_id": request_id,
            "completed_at": run.started_at + dt.timedelta(milliseconds=run.duration_ms),
        }
        if earlier_id is None:
            search_id = store.insert_search(conn, search)
        else:
            search_id = earlier_id
            store.update_search(conn, search_id, search)
        for page in run.pages:
            response = page.response
            sha = None
            if response.body:
                sha = hashlib.sha256(response.body).hexdigest()
                if sha not in bodies:
                    bodies[sha] = {"sha256": sha, "encoding": BODY_ENCODING, "size": len(response.body),
                                   "body": compress(response.body)}
            captures.append({
                **key, "search_id": search_id, "query": run.query, "page_number": page.page_number,
                "url": response.requested_url, "final_url": response.final_url, "status": response.status,
                "headers": json.dumps(response.headers), "content_type": response.content_type,
                "fetch_mode": response.fetch_mode, "body_sha256": sha, "bytes": response.bytes_received,
                "attempts": response.attempts, "elapsed_ms": response.elapsed_ms,
                "browser_seconds": response.browser_seconds, "error": response.error,
                "fetched_at": response.started_at,
            })
        events.extend({"search_id": search_id, "vendor_id": vendor_id, "event_type": kind,
                       "data": json.dumps(data, default=str)} for kind, data in run.events)
    bodies_new = 0
    if bodies:
        existing = store.existing_body_hashes(conn, list(bodies))
        fresh = [b for sha, b in bodies.items() if sha not in existing]
        store.insert_bodies(conn, fresh)
        bodies_new = len(fresh)
    store.insert_captures(conn, captures)
    store.insert_search_events(conn, events)
    return ArchiveSummary(searches=len(runs), pages=len(captures), bodies_new=bodies_new,
                          bytes=sum(c["bytes"] for c in captures))


def stored_body(row: Any) -> bytes:
    """A capture row's body, decompressed: from the database, or from the archive file its row
    points to once it was moved out (``archive_url``); empty when the response had none."""
    if row.body is not None:
        return decompress(row.body, row.encoding)
    if row.archive_url is not None:
        return decompress(read_archived(row.archive_url), row.encoding)
    return b""


def read_captures_partition(conn: Connection, *, vendor_id: int, partition_date: dt.date) -> list[ArchivedPage]:
    rows = store.captures_of_partition(conn, vendor_id=vendor_id, partition_date=partition_date)
    return [ArchivedPage(search_id=r.search_id, query=r.query, page_number=r.page_number, url=r.url,
                         status=r.status, error=r.error, fetched_at=r.fetched_at, body=stored_body(r))
            for r in rows]
