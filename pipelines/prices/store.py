"""Writing price snapshots for a window of days (inside the caller's transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from pipelines.analytics.rollup import SqlFiles, Window

SQL = SqlFiles(Path(__file__).parent / "sql")


@dataclass(frozen=True)
class SnapshotDay:
    day: Any
    snapshots: int
    products: int
    currencies: int
    offers: int
    high_confidence: int


def replace_price_snapshots(conn: Connection, window: Window) -> list[SnapshotDay]:
    """Delete and re-insert the window's snapshots (one SQL pass over the whole window); the
    per-day totals of what was written."""
    SQL.run(conn, "delete_price_snapshots_window", window.params())
    SQL.run(conn, "insert_price_snapshots", window.params())
    return [SnapshotDay(**r._mapping) for r in SQL.rows(conn, "snapshot_summary", window.params())]
