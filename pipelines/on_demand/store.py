"""Rows of on-demand searches: requests, their timelines, what they found."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from pipelines.shared.sql import AnyRow, SqlFiles

SQL = SqlFiles.beside(__file__)

DONE = "done"
ABANDONED_AFTER_MINUTES = 15
"""A request still running this long after it began was left by a process that stopped."""
EVENT_TYPES = ("started", "page", "results", "error", "done")
"""What a timeline holds: a vendor started, fetched a page, published its results or failed; the end."""


def create_request(conn: Connection, *, query: str, query_key: str, vendors: Sequence[str],
                   user_id: int | None = None, api_key_id: int | None = None) -> int:
    """A running request; its id."""
    return int(SQL.scalar(conn, "insert_request", {"query": query, "query_key": query_key, "vendors": list(vendors),
                                                   "user_id": user_id, "api_key_id": api_key_id}))


def fresh_request(conn: Connection, *, query_key: str, vendors: Sequence[str], max_age_minutes: int,
                  user_id: int | None) -> int | None:
    """The id of the user's identical request younger than ``max_age_minutes`` (done or running), if any."""
    if max_age_minutes <= 0:
        return None
    row = SQL.one_or_none(conn, "select_fresh_request", {"query_key": query_key, "vendors": list(vendors),
                                                         "max_age_minutes": max_age_minutes, "user_id": user_id,
                                                         "abandoned_after": ABANDONED_AFTER_MINUTES})
    return int(row.id) if row is not None else None


def request(conn: Connection, request_id: int) -> AnyRow | None:
    return SQL.one_or_none(conn, "select_request", {"id": request_id})


def add_event(conn: Connection, request_id: int, event_type: str, data: dict[str, Any],
              vendor: str | None = None) -> int:
    """Append to the request's timeline; the event's id (its place in the stream)."""
    assert event_type in EVENT_TYPES, event_type
    return int(SQL.scalar(conn, "insert_request_event", {"request_id": request_id, "vendor": vendor,
                                                         "event_type": event_type,
                                                         "data": json.dumps(data, default=str)}))


def events_after(conn: Connection, request_id: int, after: int = 0, limit: int = 500) -> list[AnyRow]:
    return SQL.rows(conn, "select_request_events", {"request_id": request_id, "after": after, "limit": limit})


def finish_request(conn: Connection, request_id: int, *, status: str, pages: int, results: int,
                   error: str | None) -> None:
    SQL.run(conn, "finish_request", {"id": request_id, "status": status, "pages": pages, "results": results,
                                     "error": error})


def search_listings(conn: Connection, *, request_id: int, vendor_id: int, partition_date: dt.date,
                    limit: int) -> list[AnyRow]:
    """What the request's search of one vendor found, as published, in the shop's order."""
    return SQL.rows(conn, "select_search_listings", {"request_id": request_id, "vendor_id": vendor_id,
                                                     "partition_date": partition_date, "limit": limit})


def requests_before(conn: Connection, before: dt.date, *, delete: bool) -> int:
    """How many requests were made before ``before`` (deleted, with their timelines, when ``delete``)."""
    if delete:
        return SQL.run(conn, "delete_requests_before", {"before": before})
    return int(SQL.scalar(conn, "count_requests_before", {"before": before}))


def fail_abandoned(conn: Connection, after_minutes: int = ABANDONED_AFTER_MINUTES) -> int:
    """End requests left running by a process that stopped (see the SQL file); how many."""
    return SQL.run(conn, "fail_abandoned_requests", {"after_minutes": after_minutes})
