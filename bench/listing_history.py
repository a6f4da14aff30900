"""Does a daily listings partition get slower as history accumulates?

A vendor with ``--listings`` listings, each sighted every day. History of ``--days`` days is
generated in SQL (sightings, one price observation per price change, complete searches), then the
next day's partition (90% of the listings seen again, prices moved) is written with the real
``replace_listings_partition`` — the whole listings step after parsing. The baseline is the same
partition after only 7 days of history, in the same run. Ratio near 1: the step's cost follows the
partition and the vendor's listings, not the length of history.

Run: ``uv run python bench/listing_history.py [--listings 3000] [--days 365] [--rounds 3]``.
Uses an embedded PostgreSQL under a temp folder (or ``MARKET_PULSE_BENCH_DATABASE_URL``), as the
rollup benchmarks do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from decimal import Decimal

from sqlalchemy import Engine, text

from bench.rollups import bench_database
from infra.database import engine_for
from pipelines.listings.records import StagedItem
from pipelines.listings.store import replace_listings_partition

FIRST_DAY = dt.date(2025, 1, 1)


def seed(engine: Engine, name: str, listings: int, days: int) -> int:
    """A vendor with ``days`` days of history; returns its id."""
    last = FIRST_DAY + dt.timedelta(days=days - 1)
    params = {"name": name, "n": listings, "first": FIRST_DAY, "last": last}
    with engine.begin() as conn:
        vendor_id = conn.execute(text(
            "INSERT INTO vendors (name, display_name, base_url, currency) VALUES (:name, :name, 'x', 'EUR') "
            "RETURNING id"), params).scalar_one()
        params["v"] = vendor_id
        conn.execute(text("""
            INSERT INTO listings (vendor_id, external_id, title, price, currency, price_kind, first_seen_at,
                                  last_seen_at)
            SELECT :v, 'L' || g, 'item ' || g, 10 + g % 7 * (:last - :first) / 60, 'EUR', 'priced',
                   :first + time '12:00', :last + time '12:00'
            FROM generate_series(1, :n) g"""), params)
        conn.execute(text("""
            INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency,
                                           price_kind, is_sold, title)
            SELECT l.id, :v, d::date, d + interval '12 hours', 10 + l.id % 7 * (d::date - :first) / 60, 'EUR',
                   'priced', false, l.title
            FROM listings l, generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') d
            WHERE l.vendor_id = :v"""), params)
        conn.execute(text("""
            INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency)
            SELECT listing_id, seen_at, partition_date, price, currency FROM (
                SELECT s.*, lag(price) OVER (PARTITION BY listing_id ORDER BY partition_date) AS previous
                FROM listing_sightings s WHERE vendor_id = :v) h
            WHERE previous IS NULL OR previous <> price"""), params)
        conn.execute(text("""
            INSERT INTO searches (vendor_id, partition_date, query, status, started_at)
            SELECT :v, d::date, 'q', 'success', d
            FROM generate_series(CAST(:first AS date), CAST(:last AS date) + 1, interval '1 day') d"""), params)
        conn.execute(text("ANALYZE"))
    return vendor_id


def next_day_items(listings: int, day: dt.date) -> list[StagedItem]:
    seen_at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    return [StagedItem(external_id=f"L{i}", title=f"item {i}", price=Decimal(11 + i % 5), currency="EUR",
                       price_kind="priced", seen_at=seen_at) for i in range(1, listings + 1) if i % 10]


def time_partition(engine: Engine, vendor_id: int, day: dt.date, items: list[StagedItem], rounds: int) -> float:
    """Median seconds of writing (and re-writing: idempotent) the day's partition."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        with engine.begin() as conn:
            replace_listings_partition(conn, vendor_id=vendor_id, partition_date=day, items=items, positions=[],
                                       removed_after=2)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=3000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench_database("mp_bench_listing_history") as url:
        engine = engine_for(url)
        results = {}
        for label, days in (("short", 7), ("long", args.days)):
            vendor_id = seed(engine, f"v{days}", args.listings, days)
            day = FIRST_DAY + dt.timedelta(days=days)
            results[label] = time_partition(engine, vendor_id, day, next_day_items(args.listings, day), args.rounds)
    sightings = args.listings * args.days
    print(f"listings partition of {args.listings} listings (90% seen), median of {args.rounds}")
    print(f"  after 7 days of history            {results['short']:6.2f} s")
    print(f"  after {args.days} days ({sightings:,} sightings) {results['long']:6.2f} s")
    print(f"  long / short = {results['long'] / results['short']:.2f}x (1.0 = independent of history)")


if __name__ == "__main__":
    main()
