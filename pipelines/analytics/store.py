"""``vendor_performance`` and ``search_analytics`` in SQL: replacing a window of days (inside the
caller's transaction), and what the assets' previews and charts read back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row

from pipelines.shared.sql import SqlFiles
from pipelines.shared.windows import Window

SQL = SqlFiles.beside(__file__)


def replace_vendor_performance(conn: Connection, window: Window) -> list[Row[Any]]:
    """Delete and re-insert the window's rows in one SQL pass; per-day totals of what was written."""
    SQL.run(conn, "delete_vendor_performance_window", window.params())
    SQL.run(conn, "insert_vendor_performance", window.params())
    return SQL.rows(conn, "vendor_performance_summary", window.params())


def replace_search_analytics(conn: Connection, window: Window) -> list[Row[Any]]:
    """The same for ``search_query_stats`` and ``tracked_product_prices``."""
    SQL.run(conn, "delete_search_analytics_window", window.params())
    SQL.run(conn, "insert_search_query_stats", window.params())
    SQL.run(conn, "insert_tracked_product_prices", window.money_params())
    return SQL.rows(conn, "search_analytics_summary", window.params())


def vendor_performance_preview(conn: Connection, day: dt.date) -> list[Row[Any]]:
    """Each vendor's row of the day."""
    return SQL.rows(conn, "vendor_performance_preview", {"day": day})


def vendor_success_history(conn: Connection, day: dt.date, *, days: int) -> list[Row[Any]]:
    """Each vendor's search success rate per day over ``days`` days to ``day``."""
    return SQL.rows(conn, "vendor_success_history", {"day": day, "days": days})


def popular_queries(conn: Connection, day: dt.date) -> list[Row[Any]]:
    """The tracked queries ranked by popularity on ``day``."""
    return SQL.rows(conn, "popular_queries", {"day": day})


def tracked_price_history(conn: Connection, day: dt.date, *, days: int, top: int) -> list[Row[Any]]:
    """Offered prices over ``days`` days to ``day`` of the ``top`` most-watched products."""
    return SQL.rows(conn, "tracked_price_history", {"day": day, "days": days, "top": top})


def replace_api_usage(conn: Connection, window: Window) -> list[Row[Any]]:
    """``api_usage_daily`` for the window from the per-key counts; per-day totals of what was written."""
    SQL.run(conn, "delete_api_usage_window", window.params())
    SQL.run(conn, "insert_api_usage_daily", window.params())
    return SQL.rows(conn, "api_usage_summary", window.params())


def api_usage_preview(conn: Connection, day: dt.date) -> list[Row[Any]]:
    """The day's heaviest API users."""
    return SQL.rows(conn, "api_usage_preview", {"day": day})
