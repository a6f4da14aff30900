"""The HTTP API on a real server: a warehouse seeded with a small market and its rollups, users
with keys, and the front door (API included) on uvicorn, reading through the read-only role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import text

from infra.database import engine_for
from infra.settings import READONLY
from pipelines.analytics.store import replace_search_analytics, replace_vendor_performance
from pipelines.prices.store import rebuild_price_snapshots
from pipelines.shared.windows import Window
from tests.support.databases import SessionRoles, warehouse_name
from tests.support.market_data import Market, seed_market
from tests.support.servers import app_in_thread
from web import accounts
from web.api_keys import create_key
from web.api_v1.searches import SearchLauncher
from web.app import create_front_door
from web.config import load_config

DAYS = [dt.datetime.now(dt.UTC).date() - dt.timedelta(days=i) for i in (3, 2, 1, 0)]


@dataclass
class ApiWorld:
    url: str
    database_url: str
    readonly_url: str
    market: Market
    keys: dict[str, str] = field(default_factory=dict)


def seed_api_market(database_url: str) -> Market:
    """The market of :mod:`tests.support.market_data` over the last four days (the API's windows end
    today), its price observations, and the rollups the API reads."""
    with engine_for(database_url).begin() as conn:
        market = seed_market(conn, DAYS)
        conn.execute(text(
            "INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency) "
            "SELECT DISTINCT ON (listing_id, price) listing_id, seen_at, partition_date, price, currency "
            "FROM listing_sightings ORDER BY listing_id, price, seen_at"))
        window = Window(DAYS[0], DAYS[-1] + dt.timedelta(days=1))
        rebuild_price_snapshots(conn, window)
        replace_vendor_performance(conn, window)
        replace_search_analytics(conn, window)
    return market


def add_users_and_keys(database_url: str) -> dict[str, str]:
    """ana (operator) and bob (operator) with read and write keys; vic (viewer) with a read key."""
    made = {}
    with engine_for(database_url).begin() as conn:
        for name, role in (("ana", "operator"), ("bob", "operator"), ("vic", "viewer")):
            accounts.add_user(conn, name, f"{name}@example.com", role=role, password=f"{name}-password-123")
            made[f"{name}_read"] = create_key(conn, name, "read", expires_at=None).key
            if role == "operator":
                made[f"{name}_write"] = create_key(conn, name, "write", expires_at=None).key
    return made


@contextmanager
def api_server(database_url: str, roles: SessionRoles, rate_limit: str = "10000/minute",
               searches: SearchLauncher | None = None) -> Iterator[tuple[str, str]]:
    """The front door without Dagster's UI; yields (base URL, read-only URL)."""
    readonly_url = roles.url(warehouse_name(database_url), READONLY)
    door = create_front_door(load_config({"MARKET_PULSE_API_RATE_LIMIT": rate_limit}), database_url,
                             readonly_url=readonly_url, searches=searches)
    door.pages.state.meter.interval_seconds = 0.2
    with app_in_thread(door) as url:
        yield url, readonly_url
