"""Writing one listings partition: stage the parsed items, then derive state in set-based SQL.

The whole partition is replaced inside the caller's transaction. Listing state is derived from
``listing_sightings`` (one row per listing and day), so any partition can be re-parsed at any
time, in any order, and the warehouse converges on the same result.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row

from pipelines.listings.records import StagedItem, StagedPosition
from pipelines.shared.sql import SqlFiles

SQL = SqlFiles.beside(__file__)


@dataclass(frozen=True)
class PartitionSummary:
    seen: int
    new: int
    price_changed: int
    sold: int
    removed: int
    active: int


LISTINGS_LOCK_NAMESPACE = 1_000_001
"""First key of the (namespace, vendor id) advisory lock taken by a listings partition."""


def replace_listings_partition(conn: Connection, *, vendor_id: int, partition_date: dt.date,
                               items: list[StagedItem], positions: list[StagedPosition],
                               removed_after: int) -> PartitionSummary:
    """Replace everything the (vendor, day) partition contributes; call inside one transaction.

    Partitions of one vendor are serialised by a transaction-scoped advisory lock: each derives
    state over all of the vendor's listings, and two at once (a backfill) could deadlock.
    """
    SQL.run(conn, "lock_vendor_listings", {"namespace": LISTINGS_LOCK_NAMESPACE, "vendor_id": vendor_id})
    SQL.run(conn, "create_staging")
    SQL.copy(conn, "copy_staged_items", ((
        item.external_id, item.title, item.price, item.currency, item.price_kind,
        item.condition, item.location, item.url, item.seller, item.product_code,
        item.is_sold, item.seen_at, json.dumps(item.attributes), json.dumps(item.images),
        json.dumps(item.metadata, default=str),
    ) for item in items))
    SQL.copy(conn, "copy_staged_positions", ((pos.search_id, pos.external_id, pos.position, pos.page)
                                             for pos in positions))
    SQL.run(conn, "analyze_staging")
    params = {"vendor_id": vendor_id, "partition_date": partition_date, "removed_after": removed_after}
    for name in ("merge_listings", "replace_sightings", "derive_listing_state", "derive_sold_removed",
                 "replace_details"):
        SQL.run(conn, name, params)
    row = SQL.one(conn, "partition_summary", params)
    return PartitionSummary(**row._mapping)


# --- the partition's parse report and preview ------------------------------------------------


def replace_parse_report(conn: Connection, *, vendor_id: int, partition_date: dt.date,
                         report: dict[str, Any] | None) -> None:
    """Drop the partition's earlier parse report; store ``report`` (when there is one) on its first search."""
    key = {"vendor_id": vendor_id, "partition_date": partition_date}
    SQL.run(conn, "delete_parse_reports", key)
    if report is not None:
        SQL.run(conn, "insert_parse_report", {**key, "data": json.dumps(report, default=str)})


def partition_preview(conn: Connection, *, vendor_id: int, partition_date: dt.date) -> list[Row[Any]]:
    """The partition's ten most recently first-seen listings."""
    return SQL.rows(conn, "select_partition_preview", {"vendor_id": vendor_id, "partition_date": partition_date})


# --- what the checks read --------------------------------------------------------------------


def price_problems(conn: Connection, vendor_id: int | None, day: dt.date) -> Row[Any]:
    """Counts of priced sightings without a price and of negative prices, with examples."""
    return SQL.one(conn, "select_price_problems", {"vendor_id": vendor_id, "day": day})


def currency_counts(conn: Connection, vendor_id: int | None, day: dt.date) -> dict[str, int]:
    return {r.currency: r.n for r in SQL.rows(conn, "select_currency_counts", {"vendor_id": vendor_id, "day": day})}


def parse_outcome(conn: Connection, vendor_id: int | None, day: dt.date) -> tuple[Row[Any], int]:
    """The partition's parse report totals (``failures``, ``page_errors``) and its parsed item count."""
    key = {"vendor_id": vendor_id, "day": day}
    return SQL.one(conn, "select_parse_report_totals", key), int(SQL.scalar(conn, "count_parsed_items", key))


def latest_vendor_days(conn: Connection, names: list[str]) -> dict[str, Row[Any]]:
    """Per vendor name: ``last_sighting`` and ``last_successful_search`` (days, or None)."""
    return {r.name: r for r in SQL.rows(conn, "select_latest_vendor_days", {"names": names})}
