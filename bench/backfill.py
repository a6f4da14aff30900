"""Backfill of 365 daily rollup partitions: one single run vs one run per partition.

A year of synthetic history is generated inside Postgres with ``generate_series`` (3 vendors,
300 products, 2 000 listings sighted every day, 3 searches per vendor and day with their search
results). The three SQL rollups (``price_snapshots``, ``vendor_performance``,
``search_analytics``) are then backfilled for the 365 days:

- **single run**: what ``BackfillPolicy.single_run()`` launches — one run whose assets get the
  whole window and replace it with one SQL pass each;
- **one run per partition**: ``--per-partition`` runs (default 12, spread over the year) of one
  day each, timed and scaled to 365 (the per-day work is the same, the per-run overhead repeats).

Runs execute in process against a Dagster instance on Postgres storage (as ``dagster dev`` here),
so the per-run cost is a lower bound: a deployed backfill also starts a process per run.

Run: ``uv run python bench/backfill.py [--per-partition 12] [--record]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile

from sqlalchemy import text

from bench.rollups import FIRST_DAY, bench_database, record, timed
from resources.database import connect, engine_for
from resources.settings import with_database, with_driver

SEED_SQL = """
INSERT INTO vendors (name, display_name, base_url, currency)
VALUES ('bench_id', 'Bench ID', 'http://127.0.0.1', 'IDR'), ('bench_gt', 'Bench GT', 'http://127.0.0.1', 'GTQ'),
       ('bench_us', 'Bench US', 'http://127.0.0.1', 'USD');
INSERT INTO products (product_key, name)
SELECT 'bench:' || p, 'Bench product ' || p FROM generate_series(1, :products) AS p;
INSERT INTO listings (vendor_id, external_id, product_id, title, price, currency, price_kind, condition,
                      first_seen_at, last_seen_at)
SELECT v.id, 'L' || i, (SELECT min(id) FROM products) + (i * 7919) % :products, 'Bench listing ' || i, NULL,
       v.currency, 'priced', (ARRAY['new', 'used', 'refurbished'])[1 + i % 3],
       CAST(:first_day AS date), CAST(:first_day AS date)
FROM generate_series(1, :listings) AS i
JOIN (SELECT id, currency, row_number() OVER (ORDER BY id) - 1 AS k FROM vendors) v ON v.k = i % 3;
INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind,
                               is_sold, title)
SELECT l.id, l.vendor_id, CAST(:first_day AS date) + d, CAST(:first_day AS date) + d + time '06:00',
       round(CAST((50 + (l.id * 37) % 900) * (1 + 0.05 * sin(l.id + d)) AS numeric), 2),
       l.currency, 'priced', (l.id + d) % 53 = 0, l.title
FROM listings l CROSS JOIN generate_series(0, :days - 1) AS d;
INSERT INTO searches (vendor_id, partition_date, query, status, pages, items, requests, bytes, browser_seconds,
                      duration_ms, cache_hit)
SELECT v.id, CAST(:first_day AS date) + d, q, CASE WHEN (v.id + d) % 17 = 0 THEN 'partial' ELSE 'success' END,
       3, 20, 3, 150000, 0, 1000 + (v.id * 131 + d * 17) % 4000, d % 5 = 0
FROM vendors v CROSS JOIN generate_series(0, :days - 1) AS d CROSS JOIN unnest(ARRAY['iphone', 'galaxy', 'ps5']) AS q;
INSERT INTO search_results (search_id, listing_id, position)
SELECT s.id, l.id, row_number() OVER (PARTITION BY s.id ORDER BY l.id)
FROM searches s
JOIN listings l ON l.vendor_id = s.vendor_id AND l.id % 100 < 3 AND l.id % 7 = length(s.query) % 7;
ANALYZE;
"""


def seed(url: str, *, days: int, listings: int, products: int) -> dict[str, int]:
    with engine_for(url).begin() as conn:
        for statement in SEED_SQL.split(";"):
            if statement.strip():
                conn.execute(text(statement), {"days": days, "listings": listings, "products": products,
                                               "first_day": FIRST_DAY})
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("listing_sightings", "searches", "search_results")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-partition", type=int, default=12, help="per-partition runs to time (>= 10)")
    parser.add_argument("--listings", type=int, default=2_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    from dagster import instance_for_test, materialize

    from pipelines.analytics.assets import search_analytics, vendor_performance
    from pipelines.prices.assets import price_snapshots
    from resources.warehouse import Warehouse

    rollups = [price_snapshots, vendor_performance, search_analytics]
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(args.days)]
    with bench_database("mp_bench_backfill") as url, tempfile.TemporaryDirectory() as tmp:
        counts = seed(url, days=args.days, listings=args.listings, products=300)
        print("seeded " + ", ".join(f"{n:,} {t}" for t, n in counts.items()), flush=True)
        storage = with_database(url, "mp_bench_backfill_dagster")
        with connect(with_database(url, "postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS mp_bench_backfill_dagster WITH (FORCE)")
            conn.execute("CREATE DATABASE mp_bench_backfill_dagster")
        resources = {"warehouse": Warehouse(database_url=url)}
        with instance_for_test(temp_dir=tmp, overrides={
            "storage": {"postgres": {"postgres_url": with_driver(storage, "psycopg2")}},
        }) as instance:
            materialize(rollups, partition_key=str(days[0]), resources=resources, instance=instance)  # warm-up

            def single() -> None:
                result = materialize(rollups, resources=resources, instance=instance, tags={
                    "dagster/asset_partition_range_start": str(days[0]),
                    "dagster/asset_partition_range_end": str(days[-1])})
                assert result.success

            runs_before = len(instance.get_run_records())
            single_s = timed(single)
            assert len(instance.get_run_records()) - runs_before == 1
            step = max(1, len(days) // args.per_partition)
            sample = days[::step][: args.per_partition]
            per_run = []
            for day in sample:
                per_run.append(timed(lambda d=day: materialize(rollups, partition_key=str(d), resources=resources,
                                                               instance=instance)))
        with connect(with_database(url, "postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS mp_bench_backfill_dagster WITH (FORCE)")
    mean = statistics.mean(per_run)
    scaled = mean * len(days)
    lines = [
        f"backfill of {len(days)} daily partitions of price_snapshots + vendor_performance + search_analytics "
        f"({counts['listing_sightings']:,} sightings, {counts['searches']:,} searches)",
        f"  single run (BackfillPolicy.single_run)    {single_s:8.1f} s  (1 run)",
        f"  one run per partition                     {scaled:8.1f} s  ({len(per_run)} runs timed: mean "
        f"{mean:.2f} s, median {statistics.median(per_run):.2f} s, scaled to {len(days)})",
        f"  speed-up                                  {scaled / single_s:8.1f}x (target >= 20x)",
    ]
    print("\n".join(lines))
    if args.record:
        record("Rollups: 365-day backfill, single run vs per partition (bench/backfill.py)", lines)


if __name__ == "__main__":
    main()
