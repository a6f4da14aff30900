"""Backfill of 365 daily rollup partitions: one single run vs one run per partition.

A year of synthetic history is generated inside Postgres with ``generate_series`` (3 vendors,
300 products, 2 000 listings sighted every day, 3 searches per vendor and day with their search
results). The three SQL rollups (``price_snapshots``, ``vendor_performance``,
``search_analytics``) are then backfilled for the 365 days:

- **single run**: what ``BackfillPolicy.single_run()`` launches — one run whose assets get the
  whole window and replace it with one SQL pass each;
- **one run per partition**: ``--per-partition`` runs (default 12, spread over the year) of one
  day each, timed and scaled to 365 (the per-day work is the same, the per-run overhead repeats).

Both are measured twice, against a Dagster instance on Postgres storage (as ``dagster dev`` here):

- **as deployed**: each run is ``dagster asset materialize -m pipelines.definitions --select
  <rollups> --partition <day>`` (or ``--partition-range <first>...<last>``) in a fresh process, with
  Dagster's default multiprocess executor (a process per step) — what a backfill's run workers do;
- **in process**: ``dagster.materialize()`` in this process: no process start-up, no code
  loading, the lower bound of a run's overhead.

Run: ``uv run python bench/backfill.py [--per-partition 12] [--record]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.rollups import FIRST_DAY, SQL, bench_database, drop_database, record, recreate_database, timed
from infra.database import engine_for
from infra.settings import PROJECT_ROOT, with_database, with_driver

ROLLUPS = ["price_snapshots", "vendor_performance", "search_analytics"]
STORAGE_DATABASE = "mp_bench_backfill_dagster"
EVENT_BATCH_SIZE = 1000
"""What the project sets (``infra.settings``' ``DAGSTER_EVENT_BATCH_SIZE`` default, see Environment.variables)."""


def seed(url: str, *, days: int, listings: int, products: int) -> dict[str, int]:
    with engine_for(url).begin() as conn:
        SQL.run(conn, "seed_backfill", {"days": days, "listings": listings, "products": products,
                                        "first_day": FIRST_DAY})
        return {table: int(n) for table, n in SQL.one(conn, "count_backfill_rows")._mapping.items()}


def cli_materialize(env: dict[str, str], partition: str | None = None, partition_range: str | None = None) -> None:
    """One run as a deployment launches it: a fresh process loading the code location."""
    command = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "pipelines.definitions",
               "--select", ",".join(ROLLUPS)]
    command += ["--partition", partition] if partition else ["--partition-range", partition_range or ""]
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[3:])} failed:\n{done.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-partition", type=int, default=12, help="per-partition runs to time (>= 10)")
    parser.add_argument("--listings", type=int, default=2_000)
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--skip-deployed", action="store_true", help="only the in-process measurements")
    parser.add_argument("--batch", type=int, default=EVENT_BATCH_SIZE,
                        help="DAGSTER_EVENT_BATCH_SIZE of the batched in-process variant (0: leave it out)")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    from dagster import instance_for_test, materialize

    from pipelines.analytics.assets import search_analytics, vendor_performance
    from pipelines.prices.assets import price_snapshots
    from pipelines.shared.warehouse import Warehouse

    rollups = [price_snapshots, vendor_performance, search_analytics]
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(args.days)]
    step = max(1, len(days) // args.per_partition)
    sample = days[::step][: args.per_partition]
    results: dict[str, tuple[float, list[float]]] = {}
    with bench_database("mp_bench_backfill") as url, tempfile.TemporaryDirectory() as tmp:
        counts = seed(url, days=args.days, listings=args.listings, products=300)
        print("seeded " + ", ".join(f"{n:,} {t}" for t, n in counts.items()), flush=True)
        server = with_database(url, "postgres")
        storage = with_driver(with_database(url, STORAGE_DATABASE), "psycopg2")

        def fresh_storage() -> None:
            recreate_database(server, STORAGE_DATABASE)

        # as deployed: a process per run, the project's dagster.yaml on a fresh storage database
        fresh_storage()
        if args.skip_deployed:
            pass
        else:
            home = Path(tmp) / "dagster_home"
            home.mkdir()
            (home / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
            env = {**os.environ, "DAGSTER_HOME": str(home), "MARKET_PULSE_DATABASE_URL": url,
                   "MARKET_PULSE_DAGSTER_STORAGE_URL": storage}
            cli_materialize(env, partition=str(days[0]))  # warm-up (bytecode, storage schema)
            single = timed(lambda: cli_materialize(env, partition_range=f"{days[0]}...{days[-1]}"))
            per_run = [timed(lambda d=day: cli_materialize(env, partition=str(d))) for day in sample]
            results["as deployed (a process per run)"] = (single, per_run)
            print(f"as deployed: single {single:.1f} s, per partition {statistics.mean(per_run):.2f} s", flush=True)

        resources = {"warehouse": Warehouse(database_url=url)}
        variants = [("in process (materialize())", 0)]
        if args.batch:
            variants.append((f"in process, events batched (DAGSTER_EVENT_BATCH_SIZE={args.batch})", args.batch))
        for mode, batch in [] if args.skip_in_process else variants:
            fresh_storage()
            os.environ["DAGSTER_EVENT_BATCH_SIZE"] = str(batch)  # read by Dagster at each event
            overrides = {"storage": {"postgres": {"postgres_url": storage}}}
            with instance_for_test(temp_dir=tmp, overrides=overrides) as inst:
                materialize(rollups, partition_key=str(days[0]), resources=resources, instance=inst)  # warm-up
                runs_before = len(inst.get_run_records())
                single = timed(lambda: materialize(rollups, resources=resources, instance=inst, tags={
                    "dagster/asset_partition_range_start": str(days[0]),
                    "dagster/asset_partition_range_end": str(days[-1])}))
                assert len(inst.get_run_records()) - runs_before == 1
                materialized = inst.get_materialized_partitions(rollups[0].key)
                assert {str(d) for d in days} <= materialized, "a partition lost its status"
                per_run = [timed(lambda d=day: materialize(rollups, partition_key=str(d), resources=resources,
                                                           instance=inst)) for day in sample]
            results[mode] = (single, per_run)
            print(f"{mode}: single {single:.1f} s, per partition {statistics.mean(per_run):.2f} s", flush=True)
        drop_database(server, STORAGE_DATABASE)

    lines = [f"backfill of {len(days)} daily partitions of {', '.join(ROLLUPS)} "
             f"({counts['listing_sightings']:,} sightings, {counts['searches']:,} searches); "
             f"per-partition runs: {len(sample)} timed, scaled to {len(days)}"]
    for mode, (single, per_run) in results.items():
        mean = statistics.mean(per_run)
        lines += [
            f"  {mode}:",
            f"    single run (BackfillPolicy.single_run)  {single:8.1f} s  (1 run)",
            f"    one run per partition                   {mean * len(days):8.1f} s  (mean {mean:.2f} s per run, "
            f"median {statistics.median(per_run):.2f} s)",
            f"    speed-up                                {mean * len(days) / single:8.1f}x (target >= 20x)",
        ]
    print("\n".join(lines))
    if args.record:
        record("Rollups: 365-day backfill, single run vs per partition (bench/backfill.py)", lines)


if __name__ == "__main__":
    main()
