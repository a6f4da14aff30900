"""Price snapshots in SQL: writing them for a window of days (inside the caller's transaction),
and what the asset's previews and the checks read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row

from pipelines.shared.sql import SqlFiles
from pipelines.shared.windows import Window

SQL = SqlFiles.beside(__file__)


@dataclass(frozen=True)
class SnapshotDay:
    day: Any
    snapshots: int
    products: int
    currencies: int
    offers: int
    high_confidence: int


def rebuild_price_snapshots(conn: Connection, window: Window) -> None:
    """Delete and re-insert the window's snapshots: one SQL pass over the whole window."""
    SQL.run(conn, "delete_price_snapshots_window", window.params())
    SQL.run(conn, "insert_price_snapshots", window.money_params())


def replace_price_snapshots(conn: Connection, window: Window) -> list[SnapshotDay]:
    """:func:`rebuild_price_snapshots`, then the per-day totals of what was written."""
    rebuild_price_snapshots(conn, window)
    return [SnapshotDay(**r._mapping) for r in SQL.rows(conn, "snapshot_summary", window.params())]


# --- what the assets' previews and the checks read ---------------------------------------------


def snapshot_preview(conn: Connection, day: dt.date) -> list[Row[Any]]:
    """The day's snapshots of the most offered products."""
    return SQL.rows(conn, "snapshot_preview", {"day": day})


def price_history(conn: Connection, day: dt.date, *, days: int, top: int) -> list[Row[Any]]:
    """Market value and FMV band over ``days`` days to ``day`` of the ``top`` most offered products."""
    return SQL.rows(conn, "price_history", {"day": day, "days": days, "top": top})


def band_violations(conn: Connection, window: Window) -> Row[Any]:
    """Snapshots of the window, and how many have disordered prices or a missing FMV band."""
    return SQL.one(conn, "select_band_violations", window.params())


def sample_violations(conn: Connection, window: Window) -> Row[Any]:
    """Snapshots of the window, and how many have a bad sample size, trim count or confidence."""
    return SQL.one(conn, "select_sample_violations", window.params())
