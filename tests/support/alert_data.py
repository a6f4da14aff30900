"""Small synthetic warehouse states for alert tests: vendors, listings, daily sightings, prices.

Mirrors what the ``listings`` asset derives (a sighting per listing and day, a price observation
when the price is new or changed, the listing row carrying the latest state) without scraping.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from infra.secrets import SecretBox, generate_key

TEST_SECRET_KEY = generate_key()
"""The key ring of the test session (the ``secret_key`` fixture puts it in the environment)."""


def sealing_box() -> SecretBox:
    return SecretBox(secret_key=TEST_SECRET_KEY)


def add_vendor(conn: Connection, name: str, currency: str = "EUR") -> int:
    return int(conn.execute(text("""
        INSERT INTO vendors (name, display_name, base_url, currency) VALUES (:n, :n, :url, :c)
        ON CONFLICT (name) DO UPDATE SET currency = EXCLUDED.currency RETURNING id
    """), {"n": name, "c": currency, "url": f"http://127.0.0.1/{name}"}).scalar_one())


def add_product(conn: Connection, key: str) -> int:
    return int(conn.execute(text("""
        INSERT INTO products (product_key, name) VALUES (:k, :name)
        ON CONFLICT (product_key) DO UPDATE SET name = EXCLUDED.name RETURNING id
    """), {"k": key, "name": key}).scalar_one())


def add_snapshot(conn: Connection, product_id: int, day: dt.date, currency: str, market_value: Any,
                 sample_size: int) -> None:
    conn.execute(text("""
        INSERT INTO price_snapshots (product_id, snapshot_date, currency, market_value, sample_size)
        VALUES (:p, :d, :c, :v, :n)
        ON CONFLICT (product_id, snapshot_date, currency) DO UPDATE SET market_value = EXCLUDED.market_value,
            sample_size = EXCLUDED.sample_size
    """), {"p": product_id, "d": day, "c": currency, "v": Decimal(str(market_value)), "n": sample_size})


def see(conn: Connection, vendor_id: int, external_id: str, day: dt.date, *, title: str, price: Any,
        currency: str = "EUR", condition: str | None = None, location: str | None = None,
        product_id: int | None = None, attributes: dict[str, str] | None = None, sold: bool = False) -> int:
    """Record that ``external_id`` was seen on ``day`` at ``price``; returns the listing id."""
    price = None if price is None else Decimal(str(price))
    seen_at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    listing_id = int(conn.execute(text("""
        INSERT INTO listings (vendor_id, external_id, title, price, currency, condition, location, url, product_id,
                              first_seen_at, last_seen_at, is_sold)
        VALUES (:v, :e, :t, :p, :c, :cond, :loc, :url, :prod, :s, :s, :sold)
        ON CONFLICT (vendor_id, external_id) DO UPDATE SET
            title = EXCLUDED.title, price = EXCLUDED.price, currency = EXCLUDED.currency,
            condition = EXCLUDED.condition, location = EXCLUDED.location, product_id = EXCLUDED.product_id,
            last_seen_at = EXCLUDED.last_seen_at, is_sold = EXCLUDED.is_sold
        RETURNING id
    """), {"v": vendor_id, "e": external_id, "t": title, "p": price, "c": currency, "cond": condition,
           "loc": location, "prod": product_id, "s": seen_at, "sold": sold,
           "url": f"http://127.0.0.1/item/{external_id}"}).scalar_one())
    conn.execute(text("""
        INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind,
                                       is_sold, title)
        VALUES (:l, :v, :d, :s, :p, :c, 'priced', :sold, :t)
        ON CONFLICT (listing_id, partition_date) DO UPDATE SET price = EXCLUDED.price
    """), {"l": listing_id, "v": vendor_id, "d": day, "s": seen_at, "p": price, "c": currency, "sold": sold,
           "t": title})
    previous = conn.execute(text("""
        SELECT price FROM price_observations WHERE listing_id = :l AND observed_date < :d
        ORDER BY observed_date DESC LIMIT 1
    """), {"l": listing_id, "d": day}).first()
    if previous is None or previous.price != price:
        conn.execute(text("""
            INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency)
            VALUES (:l, :s, :d, :p, :c) ON CONFLICT DO NOTHING
        """), {"l": listing_id, "s": seen_at, "d": day, "p": price, "c": currency})
    for key, value in (attributes or {}).items():
        conn.execute(text("""
            INSERT INTO listing_attributes (listing_id, key, value) VALUES (:l, :k, :v)
            ON CONFLICT (listing_id, key) DO UPDATE SET value = EXCLUDED.value
        """), {"l": listing_id, "k": key, "v": value})
    return listing_id


def add_user(conn: Connection, username: str = "alice") -> int:
    return int(conn.execute(text("""
        INSERT INTO users (username, email) VALUES (:u, :email)
        ON CONFLICT (username) DO UPDATE SET email = EXCLUDED.email RETURNING id
    """), {"u": username, "email": f"{username}@example.com"}).scalar_one())


def add_search(conn: Connection, user_id: int, name: str, query: str, *, urls: list[str], digest: bool = False,
               active: bool = True, **criteria: Any) -> int:
    """A saved search stored exactly as the CLI stores it (validated models, targets sealed with
    :data:`TEST_SECRET_KEY`)."""
    from pipelines.alerts.criteria import NotificationSettings, SearchCriteria
    from pipelines.alerts.vault import seal

    criteria.setdefault("all_words", query.split())
    c = SearchCriteria.model_validate(criteria)
    s = seal(NotificationSettings(urls=urls, digest=digest), sealing_box())
    return int(conn.execute(text("""
        INSERT INTO saved_searches (user_id, name, query, criteria, notification_settings, is_active)
        VALUES (:u, :n, :q, CAST(:c AS jsonb), CAST(:s AS jsonb), :a) RETURNING id
    """), {"u": user_id, "n": name, "q": query, "c": c.model_dump_json(), "s": s.model_dump_json(),
           "a": active}).scalar_one())


def rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params))
