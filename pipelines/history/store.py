"""Month partitions of the history tables: made ahead before writing, listed, dropped by age.

``listing_sightings``, ``price_observations``, ``search_results``, ``search_events`` and
``raw_captures`` are partitioned by month (migration 0011). A row for a month without its own
partition lands in the table's DEFAULT partition and is never refused; making the months ahead
keeps the DEFAULT partition empty, so each month stays a unit that can be dropped whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from pipelines.history.ages import add_months
from pipelines.shared.sql import SqlFiles

SQL = SqlFiles.beside(__file__)

MONTHS_AHEAD = 3
"""Months made ahead of the current one: a quiet deployment still has partitions for a season."""

HISTORY_TABLES = ("listing_sightings", "price_observations", "search_results", "search_events", "raw_captures")


@dataclass(frozen=True)
class HistoryPartition:
    table: str
    name: str
    lower_day: dt.date | None
    """First day it holds; None for the DEFAULT partition."""
    upper_day: dt.date | None
    """First day it no longer holds; None for the DEFAULT partition."""
    rows_estimate: int
    bytes: int


def ensure_history_partitions(conn: Connection, day: dt.date, *, today: dt.date | None = None,
                              months_ahead: int = MONTHS_AHEAD) -> int:
    """Make the month partitions of ``day`` and of today to ``months_ahead`` months ahead, where missing;
    returns how many were made. Cheap when they exist (a catalog lookup per month and table)."""
    today = today or dt.datetime.now(dt.UTC).date()
    first = min(day, today)
    last = add_months(max(day, today).replace(day=1), months_ahead)
    return int(SQL.scalar(conn, "ensure_partitions", {"first_day": first, "last_day": last}))


def history_partitions(conn: Connection) -> list[HistoryPartition]:
    """Every partition of the history tables, oldest month first, DEFAULT partitions last."""
    return [HistoryPartition(table=r.parent, name=r.name, lower_day=r.lower_day, upper_day=r.upper_day,
                             rows_estimate=r.rows_estimate, bytes=r.bytes)
            for r in SQL.rows(conn, "select_history_partitions")]


def partitions_before(conn: Connection, cutoff: dt.date) -> list[HistoryPartition]:
    """The month partitions whose every day is before ``cutoff`` (a month partly newer is kept whole)."""
    return [p for p in history_partitions(conn) if p.upper_day is not None and p.upper_day <= cutoff]


def drop_partition(conn: Connection, partition: HistoryPartition) -> None:
    """Detach and drop one month partition. DDL: the connection must be the owner role's."""
    SQL.run(conn, "drop_partition", {"partition": partition.name})
