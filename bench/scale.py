"""Is a day's work flat in the length of history, at 1M sightings and at tens of millions?

History is generated in SQL (``generate_series``, one day per statement, straight into the month
partitions): ``--vendors`` vendors, each sighting ``50 x --new-per-day`` live listings a day (each
listing lives 50 days; a new cohort of ``--new-per-day`` is born every day), a price that moves
every 5 days (about one sighting in five is a price observation), one search per vendor and day
(its search results for the last 8 days only: what the audits read). Foreign-key triggers are off
while loading (``session_replication_role = replica``; the data is consistent by construction), so
this needs a superuser URL: the embedded server's, or ``MARKET_PULSE_BENCH_DATABASE_URL``.

The same day's work is measured twice in one run: after the small history (``--small`` sightings,
the last days before the measured day), then after the history is extended back in time to
``--large`` sightings (or as far as ``--budget-minutes`` of loading allows; the size reached is
printed). Measured, median of ``--rounds`` (after one warm-up):

- **listings partition write**: one vendor's next day (its live listings, prices moved), staged,
  audited and published with the listings step's store functions (bench/listing_history.py);
- **rollup**: ``price_snapshots`` of the measured day, every vendor (``rebuild_price_snapshots``);
- **alert candidates**: ``load_candidates`` of the measured day for one vendor (the alert sensor's query);
- **price history (observations)**: one product's price changes over 30 days (listings x
  price_observations), as an API would read them; **(snapshots)**: its 30 daily ``price_snapshots``.

Ratios large / small near 1.0 mean the cost follows the day, not the history. Disk per 1M sightings
is ``listing_sightings`` with its indexes (all partitions) over its rows.

Run: ``uv run python bench/scale.py [--small 1000000] [--large 100000000] [--budget-minutes 30] [--record]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import Engine, text

from bench.listing_history import parsed_partition, write_audited
from bench.rollups import bench_database, record
from infra.database import engine_for
from pipelines.alerts.store import load_candidates
from pipelines.history.store import ensure_history_partitions
from pipelines.listings.records import StagedItem
from pipelines.prices.store import rebuild_price_snapshots
from pipelines.shared.sql import SqlFiles
from pipelines.shared.windows import Window

SQL = SqlFiles.beside(__file__)
EPOCH = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2026, 10, 31)
"""The last day of generated history; the measured listings day is the next one."""
LIVE_DAYS = 50


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


class History:
    """The generated history and how far back it reaches."""

    def __init__(self, engine: Engine, *, vendors: int, new_per_day: int, products: int) -> None:
        self.engine, self.vendors, self.new_per_day, self.products = engine, vendors, new_per_day, products
        self.first_n = day_number(LAST_DAY) + 1  # nothing loaded yet
        self.load_seconds = 0.0
        with engine.begin() as conn:
            SQL.run(conn, "scale_setup", {"vendors": vendors, "products": products})

    @property
    def per_day(self) -> int:
        return self.vendors * LIVE_DAYS * self.new_per_day

    def extend(self, sightings: int, deadline: float) -> None:
        """Add days before the oldest until about ``sightings`` in all (or the deadline passes)."""
        target_days = max(1, sightings // self.per_day)
        final_n = day_number(LAST_DAY)
        oldest = final_n - target_days + 1
        started = time.perf_counter()
        with self.engine.begin() as conn:
            ensure_history_partitions(conn, EPOCH + dt.timedelta(days=oldest), today=LAST_DAY, months_ahead=1)
        params = {"vendors": self.vendors, "per_day_new": self.new_per_day, "products": self.products,
                  "final_n": final_n}
        while self.first_n > oldest and time.perf_counter() < deadline:
            chunk_first = max(oldest, self.first_n - 30)
            with self.engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                SQL.run(conn, "scale_listings", {**params, "first_n": chunk_first, "last_n": self.first_n - 1})
                for n in range(self.first_n - 1, chunk_first - 1, -1):
                    SQL.run(conn, "scale_sightings", {**params, "n": n})
                    if n > final_n - 8:
                        SQL.run(conn, "scale_search_results", {**params, "n": n})
            self.first_n = chunk_first
            loaded = (final_n - self.first_n + 1) * self.per_day
            print(f"  history back to {EPOCH + dt.timedelta(days=self.first_n)}: ~{loaded:,} sightings "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
        with self.engine.begin() as conn:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('listings', 'id'), {10 ** 10})"))
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        self.load_seconds += time.perf_counter() - started

    def sizes(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {key: int(value or 0) for key, value in SQL.one(conn, "scale_sizes")._mapping.items()}


def next_day_partition(engine: Engine, vendor_id: int, new_per_day: int):  # type: ignore[no-untyped-def]
    """Vendor ``vendor_id``'s listings alive the day after the history, prices moved, on a search of that day."""
    day = LAST_DAY + dt.timedelta(days=1)
    n = day_number(day)
    seen_at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    items = [StagedItem(external_id=f"L{k}", title=f"item {k}", price=Decimal(100 + k % 13 + (n + k) // 5 % 3 + 1),
                        currency="EUR", price_kind="priced", seen_at=seen_at)
             for k in range((n - LIVE_DAYS + 1) * new_per_day, (n + 1) * new_per_day)]
    with engine.begin() as conn:
        search_id = conn.execute(text(
            "INSERT INTO searches (vendor_id, partition_date, query, status, started_at) "
            "VALUES (:v, :d, 'q', 'success', :t) RETURNING id"), {"v": vendor_id, "d": day, "t": seen_at}).scalar_one()
    return day, parsed_partition(items, search_id)


def median_seconds(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up: caches, plans, and the first write of an idempotent partition
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(engine: Engine, partition, rounds: int, product: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    day, parsed = partition

    def listings_write() -> None:
        with engine.begin() as conn:
            write_audited(conn, 1, day, parsed)

    def rollup() -> None:
        with engine.begin() as conn:
            rebuild_price_snapshots(conn, Window(LAST_DAY, LAST_DAY + dt.timedelta(days=1)))

    def candidates() -> None:
        with engine.connect() as conn:
            found, _ = load_candidates(conn, [(LAST_DAY, "v1")], with_attributes=True)
        assert found

    def observations() -> None:
        with engine.connect() as conn:
            assert SQL.rows(conn, "product_price_history", {"product": product, "day": LAST_DAY})

    def snapshots() -> None:
        with engine.connect() as conn:
            assert SQL.rows(conn, "product_snapshot_history", {"product": product, "day": LAST_DAY})

    return {"listings partition write (1 vendor-day)": median_seconds(listings_write, rounds),
            "rollup: price_snapshots of a day": median_seconds(rollup, rounds),
            "alert sensor candidates (1 vendor-day)": median_seconds(candidates, rounds),
            "price history: observations, 30 days": median_seconds(observations, rounds * 5),
            "price history: snapshots, 30 days": median_seconds(snapshots, rounds * 5)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=100_000_000)
    parser.add_argument("--vendors", type=int, default=10)
    parser.add_argument("--new-per-day", type=int, default=100, help="new listings per vendor and day")
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget-minutes", type=float, default=60.0, help="stop extending history after this")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    load = os.getloadavg()
    with bench_database("mp_bench_scale") as url:
        engine = engine_for(url)
        history = History(engine, vendors=args.vendors, new_per_day=args.new_per_day, products=args.products)
        history.extend(args.small, deadline=time.perf_counter() + 3600)
        with engine.begin() as conn:  # 30 days of daily markets for the snapshot history
            rebuild_price_snapshots(conn, Window(LAST_DAY - dt.timedelta(days=29), LAST_DAY + dt.timedelta(days=1)))
        partition = next_day_partition(engine, 1, args.new_per_day)
        product = 1 + (day_number(LAST_DAY) * args.new_per_day * 7 + 1) % args.products
        small_sizes = history.sizes()
        small = measure(engine, partition, args.rounds, product)
        figures = ", ".join(f"{v * 1000:.1f} ms" for v in small.values())
        print(f"small: {small_sizes['sightings']:,} sightings: {figures}", flush=True)
        history.extend(args.large, deadline=time.perf_counter() + args.budget_minutes * 60)
        large_sizes = history.sizes()
        large = measure(engine, partition, args.rounds, product)
    per_million = large_sizes["sightings_bytes"] / (large_sizes["sightings"] / 1e6)
    reached = "" if large_sizes["sightings"] >= args.large * 0.99 else \
        f" (target {args.large:,}: loading stopped at the {args.budget_minutes:.0f}-minute budget)"
    lines = [
        f"small: {small_sizes['sightings']:,} sightings, {small_sizes['observations']:,} price observations",
        f"large: {large_sizes['sightings']:,} sightings, {large_sizes['observations']:,} price observations{reached}",
        f"loaded in {history.load_seconds / 60:.1f} min; load average at start {load[0]:.1f} (2 cores, shared)",
        f"disk: listing_sightings {large_sizes['sightings_bytes'] / 2**30:.2f} GiB with indexes = "
        f"{per_million / 2**20:.0f} MiB per 1M sightings; price_observations "
        f"{large_sizes['observations_bytes'] / 2**30:.2f} GiB",
        f"median of {args.rounds} (price history: of {args.rounds * 5}) after a warm-up"
        "     small      large   large/small",
    ]
    for name in small:
        lines.append(f"  {name:44s} {small[name] * 1000:8.1f} ms {large[name] * 1000:8.1f} ms   "
                     f"{large[name] / small[name]:.2f}x")
    print("\n".join(lines))
    if args.record:
        record(f"History at scale: {large_sizes['sightings'] / 1e6:.0f}M sightings vs 1M (bench/scale.py)",
               [f"uv run python bench/scale.py --large {args.large} --budget-minutes {args.budget_minutes:g}"
                " --record", *lines])


if __name__ == "__main__":
    main()
