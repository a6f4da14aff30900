"""Price-snapshot rollup over ~1M price observations: ours vs bare SQL vs pandas.

Synthetic market generated inside Postgres with ``generate_series`` (3 vendors/currencies,
1 000 products, 40 000 listings, each sighted on each of 25 days = 1 000 000 price observations,
~5 % outliers, some sold / on-request / free). Then, over the same 25-day window:

- **ours**: the ``price_snapshots`` asset materialised by Dagster in one run for the whole window
  (single-run backfill): delete + one SQL pass (trimmed percentiles, FMV band, quick/patient
  sale, breakdowns by vendor and condition) + per-day metadata, preview and the PNG chart.
- **bare SQL, same statistics**: the same delete + ``INSERT … SELECT`` run directly through
  psycopg (no Dagster, no metadata, no chart): what the asset's orchestration costs on top.
- **minimal SQL aggregate**: count/min/max/avg/median only (``percentile_cont``), into the same
  table — the least any SQL rollup does, to show what the richer statistics cost (trimmed
  percentiles, FMV band, quick/patient sale, breakdowns by vendor and condition in JSONB).

(A first "textbook" version of the same statistics — ``percentile_cont`` twice, the trimmed
offers joined back to their fences — took 8 s to 200 s here depending on the plan Postgres picked
for its CTE joins; ours computes everything from one sorted array per group, with no join back.)
- **pandas**: the usual read-compute-write: ``pd.read_sql`` of the offers, the same statistics
  with groupby/quantile (trimmed with the same Tukey fences), ``DataFrame.to_sql`` back.

Run: ``uv run python bench/rollups.py [--rounds 3]``. Prints medians and the ratios measured in
the same run, and appends them to ``bench/RESULTS.md`` with ``--record``. Uses an embedded
PostgreSQL under a temp folder, or ``MARKET_PULSE_BENCH_DATABASE_URL`` (a server URL; a
``mp_bench_rollups`` database is created on it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text

from infra import migrate
from infra.database import connect, engine_for
from infra.embedded_postgres import EmbeddedPostgres
from infra.settings import PROJECT_ROOT, with_database

FIRST_DAY = dt.date(2025, 1, 1)
RESULTS = PROJECT_ROOT / "bench" / "RESULTS.md"


@contextmanager
def bench_database(name: str) -> Iterator[str]:
    """A fresh, migrated warehouse database (embedded server, or the given server)."""
    given = os.environ.get("MARKET_PULSE_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if given:
            base = with_database(given, "postgres")
        else:
            server = EmbeddedPostgres(Path(tmp) / "postgres")
            base = server.ensure_running().url("postgres")
        with connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        url = with_database(base, name)
        migrate.upgrade(url, "heads")
        try:
            yield url
        finally:
            engine_for(url).dispose()
            with connect(base, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            if server is not None:
                server.stop()


SEED_SQL = """
INSERT INTO vendors (name, display_name, base_url, currency)
VALUES ('bench_id', 'Bench ID', 'http://127.0.0.1', 'IDR'), ('bench_gt', 'Bench GT', 'http://127.0.0.1', 'GTQ'),
       ('bench_us', 'Bench US', 'http://127.0.0.1', 'USD');
INSERT INTO products (product_key, name)
SELECT 'bench:' || p, 'Bench product ' || p FROM generate_series(1, :products) AS p;
INSERT INTO listings (vendor_id, external_id, product_id, title, price, currency, price_kind, condition,
                      first_seen_at, last_seen_at)
SELECT v.id, 'L' || i, (SELECT min(id) FROM products) + (i * 7919) % :products, 'Bench listing ' || i,
       NULL, v.currency, CASE WHEN i % 41 = 0 THEN 'on_request' WHEN i % 97 = 0 THEN 'free' ELSE 'priced' END,
       (ARRAY['new', 'used', 'refurbished', 'like_new', NULL])[1 + i % 5],
       CAST(:first_day AS date), CAST(:first_day AS date)
FROM generate_series(1, :listings) AS i
JOIN (SELECT id, currency, row_number() OVER (ORDER BY id) - 1 AS k FROM vendors) v ON v.k = i % 3;
INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind,
                               is_sold, title)
SELECT l.id, l.vendor_id, CAST(:first_day AS date) + d, CAST(:first_day AS date) + d + time '06:00',
       CASE l.price_kind
           WHEN 'on_request' THEN NULL WHEN 'free' THEN 0
           ELSE round(CAST((50 + (l.id * 37) % 900) * (1 + 0.05 * sin(l.id + d))
                           * CASE WHEN l.id % 20 = 0 THEN 8 ELSE 1 END
                           * CASE l.currency WHEN 'IDR' THEN 15000 WHEN 'GTQ' THEN 7.75 ELSE 1 END AS numeric), 2)
       END,
       l.currency, l.price_kind, (l.id + d) % 53 = 0, l.title
FROM listings l CROSS JOIN generate_series(0, :days - 1) AS d;
ANALYZE;
"""

WORK_MEM = "SET LOCAL work_mem = '128MB'"  # what our rollup SQL sets: sorts of ~1M rows stay in memory

BARE_SQL = """
DELETE FROM price_snapshots WHERE snapshot_date >= :start AND snapshot_date < :end;
INSERT INTO price_snapshots (product_id, snapshot_date, currency, sample_size, min_price, max_price, avg_price,
                             market_value)
SELECT l.product_id, s.partition_date, s.currency, count(*), min(s.price), max(s.price), round(avg(s.price), 2),
       round(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(s.price AS double precision)) AS numeric), 2)
FROM listing_sightings s JOIN listings l ON l.id = s.listing_id
WHERE s.partition_date >= :start AND s.partition_date < :end
  AND s.price_kind = 'priced' AND s.price IS NOT NULL AND NOT s.is_sold AND l.product_id IS NOT NULL
GROUP BY l.product_id, s.partition_date, s.currency
"""

def seed(url: str, *, listings: int = 40_000, days: int = 25, products: int = 1_000) -> int:
    with engine_for(url).begin() as conn:
        for statement in SEED_SQL.split(";"):
            if statement.strip():
                conn.execute(text(statement), {"products": products, "listings": listings, "days": days,
                                               "first_day": FIRST_DAY})
        return conn.execute(text("SELECT count(*) FROM listing_sightings")).scalar_one()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_sql(url: str, sql: str, start: dt.date, end: dt.date) -> None:
    with engine_for(url).begin() as conn:
        conn.execute(text(WORK_MEM))
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(text(statement), {"start": start, "end": end})


def run_same_sql(url: str, start: dt.date, end: dt.date) -> None:
    from pipelines.analytics.rollup import Window
    from pipelines.prices.store import SQL

    with engine_for(url).begin() as conn:
        window = Window(start, end)
        SQL.run(conn, "delete_price_snapshots_window", window.params())
        SQL.run(conn, "insert_price_snapshots", window.money_params())


def run_ours(url: str, start: dt.date, end: dt.date, instance) -> None:  # type: ignore[no-untyped-def]
    from dagster import materialize

    from pipelines.prices.assets import price_snapshots
    from pipelines.shared.warehouse import Warehouse

    result = materialize([price_snapshots], resources={"warehouse": Warehouse(database_url=url)}, instance=instance,
                         tags={"dagster/asset_partition_range_start": str(start),
                               "dagster/asset_partition_range_end": str(end - dt.timedelta(days=1))})
    assert result.success


PANDAS_READ = """
SELECT l.product_id, s.partition_date AS day, s.currency, v.name AS vendor, l.condition, s.price
FROM listing_sightings s JOIN listings l ON l.id = s.listing_id JOIN vendors v ON v.id = s.vendor_id
WHERE s.partition_date >= %(start)s AND s.partition_date < %(end)s
  AND s.price_kind = 'priced' AND s.price IS NOT NULL AND NOT s.is_sold AND l.product_id IS NOT NULL
"""


def run_pandas(url: str, start: dt.date, end: dt.date) -> None:
    """Read the offers, compute the same statistics with pandas, write the snapshots back."""
    engine = engine_for(url)
    df = pd.read_sql(PANDAS_READ, engine, params={"start": start, "end": end})
    df["price"] = df.price.astype(float)
    df["condition"] = df.condition.fillna("unknown")
    keys = ["product_id", "day", "currency"]
    g = df.groupby(keys).price
    whole = g.agg(n="size", min_price="min", max_price="max", avg_price="mean")
    quartiles = g.quantile([0.25, 0.75]).unstack()
    quartiles.columns = ["q1", "q3"]
    iqr = quartiles.q3 - quartiles.q1
    fences = pd.DataFrame({"low": quartiles.q1 - 1.5 * iqr, "high": quartiles.q3 + 1.5 * iqr})
    df = df.join(fences, on=keys)
    kept = df[(df.price >= df.low) & (df.price <= df.high)]
    pct = kept.groupby(keys).price.quantile([0.2, 0.25, 0.5, 0.75, 0.8]).unstack()
    pct.columns = ["quick_sale", "fmv_low", "market_value", "fmv_high", "patient_sale"]
    out = whole.join(pct).join(kept.groupby(keys).size().rename("kept"))
    out["volume_confidence"] = np.select([out.n >= 15, out.n >= 5], ["high", "medium"], "low")
    breakdowns: dict[str, dict[tuple, dict]] = {}  # type: ignore[type-arg]
    for part in ("vendor", "condition"):
        b = df.groupby([*keys, part]).price.agg(["size", "min", "max", "mean"]).round(2).reset_index()
        per_group: dict[tuple, dict] = {}  # type: ignore[type-arg]
        for r in b.itertuples(index=False):
            per_group.setdefault((r.product_id, r.day, r.currency), {})[str(getattr(r, part))] = {
                "n": int(r.size), "min": r.min, "max": r.max, "avg": r.mean}
        breakdowns[part] = per_group
    import json

    out["analyses"] = [json.dumps({"kept": int(k), "by_vendor": breakdowns["vendor"][g],
                                   "by_condition": breakdowns["condition"][g]})
                       for g, k in zip(out.index, out.kept, strict=True)]
    out = out.round(2).reset_index().rename(columns={"day": "snapshot_date", "n": "sample_size"})
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS pandas_snapshots"))
    out.to_sql("pandas_snapshots", engine, index=False, method="multi", chunksize=2_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pandas-rounds", type=int, default=1, help="pandas is slow: fewer rounds")
    parser.add_argument("--listings", type=int, default=40_000)
    parser.add_argument("--days", type=int, default=25)
    parser.add_argument("--record", action="store_true", help=f"append the results to {RESULTS}")
    args = parser.parse_args()

    from dagster import DagsterInstance

    with bench_database("mp_bench_rollups") as url, DagsterInstance.ephemeral() as instance:
        seconds = timed(lambda: seed(url, listings=args.listings, days=args.days))
        with engine_for(url).connect() as conn:
            observations = conn.execute(text("SELECT count(*) FROM listing_sightings")).scalar_one()
        print(f"seeded {observations:,} price observations in {seconds:.1f} s")
        start, end = FIRST_DAY, FIRST_DAY + dt.timedelta(days=args.days)
        run_ours(url, start, end, instance)  # warm-up: imports, caches, plans
        times: dict[str, list[float]] = {"ours": [], "bare": [], "same_sql": [], "pandas": []}
        for i in range(args.rounds):  # interleaved, so load on the machine hits every variant alike
            times["bare"].append(timed(lambda: run_sql(url, BARE_SQL, start, end)))
            times["same_sql"].append(timed(lambda: run_same_sql(url, start, end)))
            times["ours"].append(timed(lambda: run_ours(url, start, end, instance)))
            if i < args.pandas_rounds:
                times["pandas"].append(timed(lambda: run_pandas(url, start, end)))
            print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v), flush=True)
        with engine_for(url).connect() as conn:
            snapshots = conn.execute(text("SELECT count(*) FROM price_snapshots")).scalar_one()
    m = {k: statistics.median(v) for k, v in times.items()}
    lines = [
        f"rollup of {observations:,} price observations into {snapshots:,} snapshots over {args.days} days "
        f"(medians of {args.rounds} interleaved rounds, pandas {args.pandas_rounds})",
        f"  ours: price_snapshots asset, one Dagster run      {m['ours']:7.2f} s",
        f"  bare SQL, same statistics (no Dagster)           {m['same_sql']:7.2f} s   ours / bare SQL = "
        f"{m['ours'] / m['same_sql']:.2f}x (target <= 1.2x)",
        f"  minimal SQL aggregate (count/min/max/avg/median) {m['bare']:7.2f} s   ours / minimal = "
        f"{m['ours'] / m['bare']:.2f}x (cost of the richer statistics)",
        f"  pandas read-compute-write                        {m['pandas']:7.2f} s   pandas / ours = "
        f"{m['pandas'] / m['ours']:.1f}x (target >= 5x)",
    ]
    print("\n".join(lines))
    if args.record:
        record("Rollups: price snapshots over 1M observations (bench/rollups.py)", lines)


def record(heading: str, lines: list[str]) -> None:
    """Append a dated section to bench/RESULTS.md (created when missing)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nEach section is appended by the benchmark that measured it.\n")
    with RESULTS.open("a") as out:
        out.write(f"\n## {heading} ({stamp}, {os.cpu_count()} CPUs)\n\n```\n" + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()
