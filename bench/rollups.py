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
from psycopg import sql

from infra import migrate
from infra.database import connect, engine_for
from infra.embedded_postgres import EmbeddedPostgres
from infra.settings import PROJECT_ROOT, with_database
from pipelines.shared.sql import SqlFiles

FIRST_DAY = dt.date(2025, 1, 1)
RESULTS = PROJECT_ROOT / "bench" / "RESULTS.md"
SQL = SqlFiles.beside(__file__)
"""The benchmarks' own statements (seeds, the minimal rollup, pandas' read): ``bench/sql/``."""


def recreate_database(server_url: str, name: str) -> None:
    """Drop (closing its connections) and create the database ``name`` on the server."""
    drop_database(server_url, name)
    with connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server_url: str, name: str) -> None:
    with connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def bench_database(name: str) -> Iterator[str]:
    """A fresh, migrated warehouse database (embedded server, or the given server)."""
    with bench_databases(name) as urls:
        yield urls[0]


@contextmanager
def bench_databases(*names: str, bulk_loading: bool = False) -> Iterator[list[str]]:
    """Fresh, migrated warehouse databases on one server: the embedded one (with ``bulk_loading``
    tuned for it: larger WAL between checkpoints, autovacuum off, as the loads vacuum and analyse
    what they load themselves), or ``MARKET_PULSE_BENCH_DATABASE_URL``'s, left as it is."""
    given = os.environ.get("MARKET_PULSE_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if given:
            base = with_database(given, "postgres")
        else:
            server = EmbeddedPostgres(Path(tmp) / "postgres")
            base = server.ensure_running().url("postgres")
            if bulk_loading:
                with connect(base, autocommit=True) as conn:
                    for setting in ("max_wal_size = '16GB'", "checkpoint_timeout = '30min'",
                                    "maintenance_work_mem = '1GB'", "autovacuum = off"):
                        conn.execute(sql.SQL("ALTER SYSTEM SET " + setting))  # constants, not input
                    conn.execute("SELECT pg_reload_conf()")
        urls = []
        try:
            for name in names:
                recreate_database(base, name)
                urls.append(with_database(base, name))
                migrate.upgrade(urls[-1], "heads")
            yield urls
        finally:
            for name, url in zip(names, urls, strict=False):
                engine_for(url).dispose()
                drop_database(base, name)
            if server is not None:
                server.stop()


def seed(url: str, *, listings: int = 40_000, days: int = 25, products: int = 1_000) -> int:
    with engine_for(url).begin() as conn:
        SQL.run(conn, "seed_rollups", {"products": products, "listings": listings, "days": days,
                                       "first_day": FIRST_DAY})
        return int(SQL.scalar(conn, "count_listing_sightings"))


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_minimal_sql(url: str, start: dt.date, end: dt.date) -> None:
    with engine_for(url).begin() as conn:
        SQL.run(conn, "set_work_mem")
        SQL.run(conn, "replace_minimal_price_snapshots", {"start": start, "end": end})


def run_same_sql(url: str, start: dt.date, end: dt.date) -> None:
    from pipelines.prices.store import rebuild_price_snapshots
    from pipelines.shared.windows import Window

    with engine_for(url).begin() as conn:
        rebuild_price_snapshots(conn, Window(start, end))


def run_ours(url: str, start: dt.date, end: dt.date, instance) -> None:  # type: ignore[no-untyped-def]
    from dagster import materialize

    from pipelines.prices.assets import price_snapshots
    from pipelines.shared.warehouse import Warehouse

    result = materialize([price_snapshots], resources={"warehouse": Warehouse(database_url=url)}, instance=instance,
                         tags={"dagster/asset_partition_range_start": str(start),
                               "dagster/asset_partition_range_end": str(end - dt.timedelta(days=1))})
    assert result.success


def run_pandas(url: str, start: dt.date, end: dt.date) -> None:
    """Read the offers, compute the same statistics with pandas, write the snapshots back."""
    engine = engine_for(url)
    df = pd.read_sql(SQL.statement("select_offers"), engine, params={"start": start, "end": end})
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
        SQL.run(conn, "drop_pandas_snapshots")
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
            observations = int(SQL.scalar(conn, "count_listing_sightings"))
        print(f"seeded {observations:,} price observations in {seconds:.1f} s")
        start, end = FIRST_DAY, FIRST_DAY + dt.timedelta(days=args.days)
        run_ours(url, start, end, instance)  # warm-up: imports, caches, plans
        times: dict[str, list[float]] = {"ours": [], "bare": [], "same_sql": [], "pandas": []}
        for i in range(args.rounds):  # interleaved, so load on the machine hits every variant alike
            times["bare"].append(timed(lambda: run_minimal_sql(url, start, end)))
            times["same_sql"].append(timed(lambda: run_same_sql(url, start, end)))
            times["ours"].append(timed(lambda: run_ours(url, start, end, instance)))
            if i < args.pandas_rounds:
                times["pandas"].append(timed(lambda: run_pandas(url, start, end)))
            print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v), flush=True)
        with engine_for(url).connect() as conn:
            snapshots = int(SQL.scalar(conn, "count_price_snapshots"))
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
