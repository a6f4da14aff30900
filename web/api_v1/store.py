"""The HTTP API's SQL (``web/api_v1/sql/*.sql``): reads of the warehouse, the caller's own saved
searches and notifications, and API usage. Reads are given a connection of the read-only role."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row

from pipelines.parsing.currencies import decimals_table
from pipelines.shared.sql import SqlFiles

SQL = SqlFiles.beside(__file__)

LISTING_SORTS = {"newest": "listings_newest", "price_asc": "listings_price_asc", "price_desc": "listings_price_desc"}


def like_pattern(words: str | None) -> str | None:
    """``ILIKE`` pattern for words in this order anywhere in a text; ``%``, ``_`` and ``\\`` are
    matched literally."""
    if words is None or not words.split():
        return None
    escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words.split()]
    return "%" + "%".join(escaped) + "%"


@cache
def _currency_decimals() -> str:
    return json.dumps(decimals_table())


def vendors(conn: Connection) -> list[Row[Any]]:
    return SQL.rows(conn, "vendors")


def vendor_exists(conn: Connection, name: str) -> bool:
    return SQL.one_or_none(conn, "vendor_exists", {"vendor": name}) is not None


def products(conn: Connection, q: str | None, after: int, limit: int) -> list[Row[Any]]:
    return SQL.rows(conn, "products", {"like": like_pattern(q), "after": after, "limit": limit})


def product(conn: Connection, product_id: int) -> Row[Any] | None:
    return SQL.one_or_none(conn, "product", {"product_id": product_id})


def product_snapshots(conn: Connection, product_id: int, days: int) -> list[Row[Any]]:
    return SQL.rows(conn, "product_snapshots", {"product_id": product_id, "days": days})


def product_observations(conn: Connection, product_id: int, days: int) -> list[Row[Any]]:
    """The window's first day is passed as a value (a day early: slack for the application's and
    the database's clocks) so the planner leaves out the older month partitions when it plans, not
    only when it runs: planning every month of the history was most of the query's time at 70 months."""
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).date() - dt.timedelta(days=1)
    return SQL.rows(conn, "product_observations", {"product_id": product_id, "days": days, "since": since})


def listing(conn: Connection, listing_id: int) -> Row[Any] | None:
    return SQL.one_or_none(conn, "listing", {"listing_id": listing_id})


def listing_observations(conn: Connection, listing_id: int) -> list[Row[Any]]:
    return SQL.rows(conn, "listing_observations", {"listing_id": listing_id})


def listings_page(conn: Connection, sort: str, filters: Mapping[str, Any], after: Sequence[Any] | None,
                  limit: int) -> list[Row[Any]]:
    """One keyset page; ``after`` is the last row's sort key (value, id) of the previous page."""
    params = dict(filters)
    params["like"] = like_pattern(params.pop("q", None))
    params.update({"after_time": None, "after_price": None, "after_id": None, "limit": limit})
    if after is not None:
        params["after_time" if sort == "newest" else "after_price"] = after[0]
        params["after_id"] = after[1]
    return SQL.rows(conn, LISTING_SORTS[sort], params)


def comps(conn: Connection, q: str, days: int, currency: str | None, limit: int) -> tuple[list[Row[Any]],
                                                                                          list[Row[Any]]]:
    """(band per currency, the most recently seen comps)."""
    params = {"like": like_pattern(q), "days": days, "currency": currency}
    bands = SQL.rows(conn, "comps_band", {**params, "currency_decimals": _currency_decimals()})
    return bands, SQL.rows(conn, "comps_listings", {**params, "limit": limit})


def popular_searches(conn: Connection, days: int, limit: int) -> list[Row[Any]]:
    return SQL.rows(conn, "popular_searches", {"days": days, "limit": limit})


def vendor_performance(conn: Connection, vendor: str | None, days: int) -> list[Row[Any]]:
    return SQL.rows(conn, "vendor_performance", {"vendor": vendor, "days": days})


def saved_searches(conn: Connection, user_id: int, search_id: int | None = None) -> list[Row[Any]]:
    return SQL.rows(conn, "saved_searches", {"user_id": user_id, "search_id": search_id})


def set_saved_search(conn: Connection, user_id: int, search_id: int, *, name: str | None,
                     active: bool | None) -> bool:
    return SQL.one_or_none(conn, "set_saved_search", {"user_id": user_id, "search_id": search_id, "name": name,
                                                      "active": active}) is not None


def delete_saved_search(conn: Connection, user_id: int, search_id: int) -> bool:
    return SQL.one_or_none(conn, "delete_saved_search", {"user_id": user_id, "search_id": search_id}) is not None


def notifications(conn: Connection, user_id: int, status: str | None, before_id: int, limit: int) -> list[Row[Any]]:
    return SQL.rows(conn, "notifications", {"user_id": user_id, "status": status, "before_id": before_id,
                                            "limit": limit})


def ready(conn: Connection) -> bool:
    return SQL.scalar(conn, "ready") == 1


def record_usage(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add counted use: rows of api_key_id, usage_date, requests, searches, pages, compute_units."""
    SQL.run_many(conn, "record_usage", rows)


def key_usage(conn: Connection, username: str | None, days: int) -> list[Row[Any]]:
    return SQL.rows(conn, "key_usage", {"username": username, "days": days})


