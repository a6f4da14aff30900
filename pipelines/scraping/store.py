"""The scraping archive in SQL: searches, raw captures and their bodies, search events, and the
listing cache. The statements are the files of ``pipelines/scraping/sql/``.

Every function takes a SQLAlchemy ``Connection``; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row

from pipelines.shared.sql import SqlFiles

SQL = SqlFiles.beside(__file__)


# --- the archive (pipelines.scraping.archive) --------------------------------------------------


ARCHIVE_LOCK_NAMESPACE = 1_000_003
"""First key of the (namespace, vendor id) advisory lock taken while a vendor's archive is written."""


def lock_vendor_archive(conn: Connection, vendor_id: int) -> None:
    """Hold the vendor's archive until the transaction ends (see the SQL file)."""
    SQL.run(conn, "lock_vendor_archive", {"namespace": ARCHIVE_LOCK_NAMESPACE, "vendor_id": vendor_id})


def partition_searches(conn: Connection, *, vendor_id: int, partition_date: dt.date) -> list[Row[Any]]:
    """``id`` and ``query`` of the searches the (vendor, day) partition archived before, oldest first."""
    return SQL.rows(conn, "select_partition_searches", {"vendor_id": vendor_id, "partition_date": partition_date})


def delete_captures_partition(conn: Connection, *, vendor_id: int, partition_date: dt.date,
                              keep: Sequence[int] = (), queries: Sequence[str] = (), on_demand: bool = False) -> None:
    """Make room in the (vendor, day) partition for a new fetch of ``queries``: its searches go with
    everything hanging off them, except the searches in ``keep``, which only lose their captures and
    fetch timeline, and, for a scheduled fetch, on-demand searches of other queries (see the SQL file)."""
    SQL.run(conn, "delete_captures_partition",
            {"vendor_id": vendor_id, "partition_date": partition_date, "keep": list(keep),
             "queries": list(queries), "on_demand": on_demand})


def insert_search(conn: Connection, search: Mapping[str, Any]) -> int:
    """A ``searches`` row (its columns as parameters); its id."""
    return int(SQL.scalar(conn, "insert_search", search))


def update_search(conn: Connection, search_id: int, search: Mapping[str, Any]) -> None:
    """Rewrite an earlier search of the same partition and query with a new fetch's outcome."""
    SQL.run(conn, "update_search", {**search, "id": search_id})


def existing_body_hashes(conn: Connection, shas: Sequence[str]) -> set[str]:
    """The content hashes among ``shas`` already in ``capture_bodies``."""
    return {r.sha256 for r in SQL.rows(conn, "select_existing_bodies", {"shas": list(shas)})}


def insert_bodies(conn: Connection, bodies: Sequence[Mapping[str, Any]]) -> None:
    """Store bodies (``sha256``, ``encoding``, ``size``, ``body``); a hash stored already is skipped."""
    SQL.run_many(conn, "insert_capture_body", bodies)


def insert_captures(conn: Connection, captures: Sequence[Mapping[str, Any]]) -> None:
    SQL.run_many(conn, "insert_capture", captures)


def insert_search_events(conn: Connection, events: Sequence[Mapping[str, Any]]) -> None:
    SQL.run_many(conn, "insert_search_event", events)


def captures_of_partition(conn: Connection, *, vendor_id: int, partition_date: dt.date) -> list[Row[Any]]:
    """The partition's captures in (search, page) order, with compressed ``body`` and its ``encoding``."""
    return SQL.rows(conn, "select_captures_partition", {"vendor_id": vendor_id, "partition_date": partition_date})


def last_successful_scrapes(conn: Connection) -> list[Row[Any]]:
    """Each active vendor's ``name`` and ``last_success`` (completion of its last successful search, or None)."""
    return SQL.rows(conn, "select_last_successful_scrapes")


# --- the search cache (pipelines.scraping.search_cache) ------------------------------------------


def reusable_search(conn: Connection, *, vendor_id: int, query: str, url: str, since: dt.datetime) -> Row[Any] | None:
    """The newest successful search of ``query`` that fetched ``url``, with all its pages
    downloaded since ``since``: its ``id``, ``items`` and ``fetched_at`` (oldest page)."""
    return SQL.one_or_none(conn, "select_reusable_search",
                           {"vendor_id": vendor_id, "query": query, "url": url, "since": since})


def search_pages(conn: Connection, search_id: int) -> list[Row[Any]]:
    """A search's captures in page order, with compressed ``body`` and its ``encoding``."""
    return SQL.rows(conn, "select_search_pages", {"search_id": search_id})


def page_item_counts(conn: Connection, search_id: int) -> dict[int, int]:
    """Items seen per page number of a search."""
    return {r.page: r.items for r in SQL.rows(conn, "select_page_item_counts", {"search_id": search_id})}


# --- the listing cache (pipelines.scraping.listing_cache) -----------------------------------------


def cached_listing(conn: Connection, *, vendor_id: int, url: str) -> Row[Any] | None:
    """The unexpired cached detail page of ``url``, with compressed ``body`` and its ``encoding``."""
    return SQL.one_or_none(conn, "select_cached_listing", {"vendor_id": vendor_id, "url": url})


def upsert_cached_listing(conn: Connection, page: Mapping[str, Any]) -> None:
    """Store a downloaded detail page (its ``listing_cache`` columns as parameters)."""
    SQL.run(conn, "upsert_cached_listing", page)


def touch_cached_listing(conn: Connection, *, vendor_id: int, url: str, validated_at: dt.datetime,
                         expires_at: dt.datetime) -> None:
    """The server confirmed the cached page: move its validation and expiry, count the hit."""
    SQL.run(conn, "touch_cached_listing", {"vendor_id": vendor_id, "url": url, "validated_at": validated_at,
                                           "expires_at": expires_at})


def delete_expired_listing_cache(conn: Connection, now: dt.datetime) -> int:
    """Delete the cache rows expired at ``now``; how many."""
    return SQL.run(conn, "delete_expired_listing_cache", {"now": now})


# --- bodies kept outside the database (pipelines.scraping.body_archive) ---------------------------


def count_bodies_to_offload(conn: Connection, before: dt.datetime) -> Row[Any]:
    """``bodies`` and compressed ``bytes`` stored before ``before`` that an offload would move."""
    return SQL.one(conn, "count_bodies_to_offload", {"before": before})


def bodies_to_offload(conn: Connection, before: dt.datetime, batch: int) -> list[Row[Any]]:
    """Up to ``batch`` bodies (``sha256``, ``encoding``, compressed ``body``) stored before ``before``."""
    return SQL.rows(conn, "select_bodies_to_offload", {"before": before, "batch": batch})


def mark_body_offloaded(conn: Connection, sha256: str, archive_url: str) -> int:
    return SQL.run(conn, "mark_body_offloaded", {"sha256": sha256, "archive_url": archive_url})


def offloaded_bodies(conn: Connection, batch: int) -> list[Row[Any]]:
    """Up to ``batch`` bodies kept outside the database: ``sha256``, ``encoding``, ``archive_url``."""
    return SQL.rows(conn, "select_offloaded_bodies", {"batch": batch})


def restore_body(conn: Connection, sha256: str, body: bytes) -> int:
    return SQL.run(conn, "restore_body", {"sha256": sha256, "body": body})


def delete_orphan_bodies(conn: Connection) -> list[Row[Any]]:
    """Delete the bodies nothing refers to; their ``sha256`` and ``archive_url`` (None when in the database)."""
    return list(conn.execute(SQL.statement("delete_orphan_bodies")))
def try_fetch_lock(conn: Connection, *, namespace: int, vendor_id: int) -> bool:
    """Take the vendor's session-level fetch lock without waiting; true when ``conn`` now holds it."""
    return bool(SQL.scalar(conn, "try_fetch_lock", {"namespace": namespace, "vendor_id": vendor_id}))


def release_fetch_lock(conn: Connection, *, namespace: int, vendor_id: int) -> None:
    """Give the vendor's fetch lock back (closing ``conn`` would too)."""
    SQL.scalar(conn, "release_fetch_lock", {"namespace": namespace, "vendor_id": vendor_id})
