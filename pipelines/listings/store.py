"""Writing one listings partition: stage the parsed items, read what the audits need, publish
by deriving state in set-based SQL.

Staging, audits and publishing happen inside the caller's one transaction; nothing outside the
staging tables changes until :func:`publish_listings_partition`. Listing state is derived from
``listing_sightings`` (one row per listing and day), so any partition can be re-parsed at any
time, in any order, and the warehouse converges on the same result.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row

from pipelines.listings.audits import MAY_BE_EMPTY, FieldCounts, QueryHistory, RecentFacts, StagedFacts
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


def stage_listings_partition(conn: Connection, *, vendor_id: int, items: list[StagedItem],
                             positions: list[StagedPosition]) -> None:
    """Write, the first step of write-audit-publish: the parsed partition into temporary staging
    tables (gone at commit), nothing published yet. Call inside the partition's one transaction.

    Partitions of one vendor are serialised by a transaction-scoped advisory lock, taken first:
    each derives state over all of the vendor's listings, and two at once (a backfill) could
    deadlock; the audits' view of the vendor's recent days must not move under them either.
    """
    SQL.run(conn, "lock_vendor_listings", {"namespace": LISTINGS_LOCK_NAMESPACE, "vendor_id": vendor_id})
    SQL.run(conn, "plan_costs")
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


def staged_facts(conn: Connection) -> StagedFacts:
    """What the audits read of the staged rows: field counts overall and per search, price problems, currencies."""
    row = SQL.one(conn, "audit_staged_items")
    by_search = {r.search_id: _field_counts(r) for r in SQL.rows(conn, "audit_staged_searches")}
    return StagedFacts(items=_field_counts(row), by_search=by_search, priced=row.priced,
                       priced_without_price=row.priced_without_price, negative=row.negative,
                       examples=list(row.examples or []), currencies=dict(row.currencies))


def recent_facts(conn: Connection, *, vendor_id: int, partition_date: dt.date, days: int) -> RecentFacts:
    """The vendor's published days in the ``days`` before ``partition_date``: listings per query
    (median over the days) and how filled the fields of the listings published then are."""
    since = partition_date - dt.timedelta(days=days)
    params = {"vendor_id": vendor_id, "partition_date": partition_date, "since": since}
    queries = {r.query: QueryHistory(days=r.days, median=float(r.median))
               for r in SQL.rows(conn, "audit_recent_searches", params)}
    return RecentFacts(since=since, listings=_field_counts(SQL.one(conn, "audit_recent_fields", params)),
                       queries=queries)


def _field_counts(row: Row[Any]) -> FieldCounts:
    return FieldCounts(listings=row.listings, filled={name: getattr(row, name) for name in MAY_BE_EMPTY})


def publish_listings_partition(conn: Connection, *, vendor_id: int, partition_date: dt.date,
                               removed_after: int) -> PartitionSummary:
    """Publish the staged partition: replace everything the (vendor, day) partition contributes
    (listings, sightings, price history, sold/removed state, positions, attributes, images) in
    set-based SQL, in the transaction that staged it."""
    params = {"vendor_id": vendor_id, "partition_date": partition_date, "removed_after": removed_after}
    for name in ("merge_listings", "replace_sightings", "derive_listing_state", "derive_sold_removed",
                 "replace_details"):
        SQL.run(conn, name, params)
    row = SQL.one(conn, "partition_summary", params)
    return PartitionSummary(**row._mapping)


def replace_listings_partition(conn: Connection, *, vendor_id: int, partition_date: dt.date,
                               items: list[StagedItem], positions: list[StagedPosition],
                               removed_after: int) -> PartitionSummary:
    """Stage and publish without audits: what the derivation tests and benchmarks exercise. The
    ``listings`` asset always audits between the two (:mod:`pipelines.listings.publish`)."""
    stage_listings_partition(conn, vendor_id=vendor_id, items=items, positions=positions)
    return publish_listings_partition(conn, vendor_id=vendor_id, partition_date=partition_date,
                                      removed_after=removed_after)


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


# --- what the freshness check reads ------------------------------------------------------


def latest_vendor_days(conn: Connection, names: list[str]) -> dict[str, Row[Any]]:
    """Per vendor name: ``last_sighting`` and ``last_successful_search`` (days, or None)."""
    return {r.name: r for r in SQL.rows(conn, "select_latest_vendor_days", {"names": names})}
