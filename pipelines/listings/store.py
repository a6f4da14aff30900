"""Writing one listings partition: stage the parsed items, then derive state in set-based SQL.

The whole partition is replaced inside the caller's transaction. Listing state is derived from
``listing_sightings`` (one row per listing and day), so any partition can be re-parsed at any
time, in any order, and the warehouse converges on the same result.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, text

from pipelines.listings.records import StagedItem, StagedPosition

SQL_DIR = Path(__file__).parent / "sql"


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


@cache
def _statements(name: str) -> list[str]:
    """A SQL file's statements: whole-line ``--`` comments dropped, then split on ``;``
    (our SQL files keep comments on their own lines and no semicolons inside literals)."""
    code = "\n".join(line for line in _sql(name).splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in code.split(";") if statement.strip()]


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

ITEM_COLUMNS = ("external_id", "title", "price", "currency", "price_kind", "condition", "location", "url",
                "seller", "product_code", "is_sold", "seen_at", "attributes", "images", "metadata")


def replace_listings_partition(conn: Connection, *, vendor_id: int, partition_date: dt.date,
                               items: list[StagedItem], positions: list[StagedPosition],
                               removed_after: int) -> PartitionSummary:
    """Replace everything the (vendor, day) partition contributes; call inside one transaction.

    Partitions of one vendor are serialised by a transaction-scoped advisory lock: each derives
    state over all of the vendor's listings, and two at once (a backfill) could deadlock.
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(:namespace, :vendor_id)"),
                 {"namespace": LISTINGS_LOCK_NAMESPACE, "vendor_id": vendor_id})
    for statement in _statements("create_staging"):
        conn.execute(text(statement))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY staged_items ({', '.join(ITEM_COLUMNS)}) FROM STDIN") as copy:
            for item in items:
                copy.write_row((
                    item.external_id, item.title, item.price, item.currency, item.price_kind,
                    item.condition, item.location, item.url, item.seller, item.product_code,
                    item.is_sold, item.seen_at, json.dumps(item.attributes), json.dumps(item.images),
                    json.dumps(item.metadata, default=str),
                ))
        with cursor.copy("COPY staged_positions (search_id, external_id, position, page) FROM STDIN") as copy:
            for pos in positions:
                copy.write_row((pos.search_id, pos.external_id, pos.position, pos.page))
    conn.execute(text("ANALYZE staged_items, staged_positions"))  # temp tables have no statistics otherwise
    params = {"vendor_id": vendor_id, "partition_date": partition_date, "removed_after": removed_after}
    for name in ("merge_listings", "replace_sightings", "derive_listing_state", "derive_sold_removed",
                 "replace_details"):
        for statement in _statements(name):
            conn.execute(text(statement), params)
    row = conn.execute(text(_sql("partition_summary")), params).one()
    return PartitionSummary(**row._mapping)
