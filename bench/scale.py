"""Is a day's work flat in the length of history, at 1M sightings and at tens of millions?

History is generated in SQL (``generate_series``, a month partition per statement): ``--vendors``
vendors, each sighting ``50 x --new-per-day`` live listings a day (each listing lives 50 days; a
new cohort of ``--new-per-day`` is born every day), a price that moves every 5 days (about one
sighting in five is a price observation), one search per vendor and day (its search results for
the last 8 days only: what the audits read). Listings are loaded with the sold/removed state the
listings writes would have left (every day a complete scrape; removed two days after the last
sighting, ``missed_scrapes`` counted up to 2), so the measured writes start from a converged warehouse.

Two databases on one server: **small** holds the last ``--small`` sightings' worth of days,
**large** the same days and as many before them as make ``--large`` sightings (or as far as
``--budget-minutes`` of loading allows; the size reached is printed). Loading is bulk: the
history tables' indexes and keys are dropped, the months are filled, then the indexes are built
(both databases alike, so both have freshly built indexes); foreign-key triggers are off
(``session_replication_role = replica``; the data is consistent by construction), so this needs a
superuser URL: the embedded server's, or ``MARKET_PULSE_BENCH_DATABASE_URL``. Then VACUUM ANALYZE
of the catalogue and the last three months, ANALYZE of older months (see ``History.settle``). The
load rate (sightings a second with their price observations, index builds apart) is printed.

Measured on the same day's work in both, **interleaved** (small, large, small, large … per
query after a warm-up of each), so a ratio compares the two at the same moments of a shared,
busy machine; figures are medians:

- **listings partition write**: one vendor's next day (its live listings, prices moved), staged,
  audited and published with the listings step's store functions (bench/listing_history.py);
- **rollup**: ``price_snapshots`` of the measured day, every vendor (``rebuild_price_snapshots``);
- **alert candidates**: ``load_candidates`` of the measured day for one vendor (the alert sensor's query);
- **price history (observations)**: one product's price changes over 30 days (listings x
  price_observations), the HTTP API's own query (``web/api_v1/sql/product_observations.sql``);
  **(snapshots)**: its 30 daily ``price_snapshots`` (``product_snapshots.sql``).

Ratios large / small near 1.0 mean the cost follows the day, not the history; the spread of the
per-pair ratios shows how much the machine moved under them. Disk per 1M sightings is
``listing_sightings`` with its indexes (all partitions) over its rows.

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
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from bench.listing_history import parsed_partition, write_audited
from bench.rollups import bench_databases, record
from infra.database import engine_for
from pipelines.alerts.store import load_candidates
from pipelines.history.store import ensure_history_partitions, history_partitions
from pipelines.listings.audits import RECENT_DAYS
from pipelines.listings.parse import ParsedPartition
from pipelines.listings.records import StagedItem
from pipelines.listings.store import SQL as SQL_LISTINGS
from pipelines.listings.store import recent_facts, stage_listings_partition, staged_facts
from pipelines.prices.store import rebuild_price_snapshots
from pipelines.shared.sql import SqlFiles
from pipelines.shared.windows import Window
from web.api_v1 import store as api_store

SQL = SqlFiles.beside(__file__)
EPOCH = dt.date(2000, 1, 1)
LAST_DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
"""The last day of generated history: yesterday, so the API's queries (windows ending now) read it;
the measured listings day is today."""
LIVE_DAYS = 50
VACUUMED_DAYS = 92
CATALOGUE_TABLES = ["listings", "vendors", "products", "searches", "price_snapshots", "listing_attributes",
                    "listing_images"]
BULK_TABLES = ["listing_sightings", "price_observations", "listings"]
"""Tables whose indexes are dropped while loading and built after (``listings`` keeps its keys:
foreign keys point at them)."""


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


class History:
    """One database's generated history and how far back it reaches."""

    def __init__(self, engine: Engine, *, vendors: int, new_per_day: int, products: int) -> None:
        self.engine, self.vendors, self.new_per_day, self.products = engine, vendors, new_per_day, products
        self.first_n = day_number(LAST_DAY) + 1  # nothing loaded yet
        self.load_seconds = self.index_seconds = self.vacuum_seconds = 0.0
        with engine.begin() as conn:
            SQL.run(conn, "scale_setup", {"vendors": vendors, "products": products})

    @property
    def per_day(self) -> int:
        return self.vendors * LIVE_DAYS * self.new_per_day

    @property
    def loaded(self) -> int:
        """Sightings generated so far."""
        return (day_number(LAST_DAY) - self.first_n + 1) * self.per_day

    def load(self, sightings: int, deadline: float) -> None:
        """Days back from LAST_DAY until about ``sightings`` in all (or the deadline passes), a month
        partition per transaction, with the bulk tables' indexes dropped; then the indexes, VACUUM ANALYZE."""
        final_n = day_number(LAST_DAY)
        oldest = final_n - max(1, sightings // self.per_day) + 1
        params = {"vendors": self.vendors, "per_day_new": self.new_per_day, "products": self.products,
                  "final_n": final_n}
        with self.engine.begin() as conn:
            indexes = SQL.rows(conn, "scale_index_definitions",
                               {"tables": BULK_TABLES, "keep_constraints": ["listings"]})
            for index in indexes:
                conn.exec_driver_sql(index.drop_sql)
        started = time.perf_counter()
        while self.first_n > oldest and time.perf_counter() < deadline:
            month_start = EPOCH + dt.timedelta(days=self.first_n - 1)
            chunk_first = max(oldest, day_number(month_start.replace(day=1)))
            with self.engine.begin() as conn:
                ensure_history_partitions(conn, EPOCH + dt.timedelta(days=chunk_first), today=LAST_DAY,
                                          months_ahead=1)
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                chunk = {**params, "first_n": chunk_first, "last_n": self.first_n - 1}
                SQL.run(conn, "scale_listings", chunk)
                SQL.run(conn, "scale_sightings", chunk)
                for n in range(max(chunk_first, final_n - 7), self.first_n):
                    SQL.run(conn, "scale_search_results", {**params, "n": n})
            self.first_n = chunk_first
            seconds = time.perf_counter() - started
            print(f"  back to {EPOCH + dt.timedelta(days=self.first_n)}: ~{self.loaded:,} sightings "
                  f"({seconds:.0f} s, {self.loaded / seconds:,.0f} sightings/s)", flush=True)
        self.load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with self.engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            for index in indexes:
                conn.exec_driver_sql(index.create_sql)
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('listings', 'id'), {10 ** 10})"))
        self.index_seconds = time.perf_counter() - started
        started = time.perf_counter()
        self.settle()
        self.vacuum_seconds = time.perf_counter() - started

    def settle(self) -> None:
        """VACUUM ANALYZE what a day's work reads (the catalogue, the last ``VACUUMED_DAYS`` days'
        partitions), ANALYZE the older months: in a warehouse they were vacuumed long ago, and
        vacuuming tens of millions of fresh rows would take longer than loading them."""
        oldest_vacuumed = LAST_DAY - dt.timedelta(days=VACUUMED_DAYS)
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            partitions = history_partitions(conn)
            old = {p.name for p in partitions if p.upper_day is not None and p.upper_day <= oldest_vacuumed}
            for name in sorted(old):
                conn.exec_driver_sql(f'ANALYZE "{name}"')
            recent = [p.name for p in partitions if p.name not in old]
            for name in [*recent, *CATALOGUE_TABLES]:
                conn.exec_driver_sql(f'VACUUM ANALYZE "{name}"')
            conn.exec_driver_sql("ANALYZE listing_sightings, price_observations, search_results")

    def prepare_measured_day(self) -> tuple[dt.date, ParsedPartition]:
        """30 days of daily markets (for the snapshot history) and the listings partition to write."""
        with self.engine.begin() as conn:
            rebuild_price_snapshots(conn, Window(LAST_DAY - dt.timedelta(days=29), LAST_DAY + dt.timedelta(days=1)))
        return next_day_partition(self.engine, 1, self.new_per_day)

    def sizes(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {key: int(value or 0) for key, value in SQL.one(conn, "scale_sizes")._mapping.items()}


def next_day_partition(engine: Engine, vendor_id: int, new_per_day: int) -> tuple[dt.date, ParsedPartition]:
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


Work = Callable[[Engine, tuple[dt.date, ParsedPartition], int], object]


def listings_write(engine: Engine, partition: tuple[dt.date, ParsedPartition], product: int) -> None:
    day, parsed = partition
    with engine.begin() as conn:
        write_audited(conn, 1, day, parsed)


def rollup(engine: Engine, partition: tuple[dt.date, ParsedPartition], product: int) -> None:
    with engine.begin() as conn:
        rebuild_price_snapshots(conn, Window(LAST_DAY, LAST_DAY + dt.timedelta(days=1)))


def candidates(engine: Engine, partition: tuple[dt.date, ParsedPartition], product: int) -> None:
    with engine.connect() as conn:
        found, _ = load_candidates(conn, [(LAST_DAY, "v1")], with_attributes=True)
    assert found


def observations(engine: Engine, partition: tuple[dt.date, ParsedPartition], product: int) -> None:
    with engine.connect() as conn:
        assert api_store.product_observations(conn, product, 30)


def snapshots(engine: Engine, partition: tuple[dt.date, ParsedPartition], product: int) -> None:
    with engine.connect() as conn:
        assert api_store.product_snapshots(conn, product, 30)


WORK: dict[str, tuple[Work, int, int]] = {
    "listings partition write (1 vendor-day)": (listings_write, 1, 1),
    "rollup: price_snapshots of a day": (rollup, 1, 1),
    "alert sensor candidates (1 vendor-day)": (candidates, 1, 1),
    "price history: observations, 30 days": (observations, 5, 20),
    "price history: snapshots, 30 days": (snapshots, 5, 20),
}
"""What is measured, how many times more rounds than ``--rounds``, and how many calls each sample
averages: the price history reads take well under a millisecond, where one late wake-up of this
process on a shared machine is as long as the read, so each of their samples is the mean of 20
calls in a row."""


def interleaved(work: Work, sides: list[tuple[Engine, tuple[dt.date, ParsedPartition]]], product: int,
                rounds: int, calls: int = 1) -> tuple[list[float], list[list[float]]]:
    """Seconds of the warm-up on each side (caches, plans; for the listings write, the day's first
    write), then of each round on each side (the mean of ``calls`` calls), the sides taking turns."""
    times: list[list[float]] = [[] for _ in sides]
    first = []
    for engine, partition in sides:
        started = time.perf_counter()
        work(engine, partition, product)
        first.append(time.perf_counter() - started)
    for _ in range(rounds):
        for side, (engine, partition) in enumerate(sides):
            started = time.perf_counter()
            for _ in range(calls):
                work(engine, partition, product)
            times[side].append((time.perf_counter() - started) / calls)
    return first, times


PUBLISH_STEPS = ("merge_listings", "replace_sightings", "derive_listing_state", "derive_sold_removed",
                 "replace_details", "partition_summary")
"""The SQL files ``publish_listings_partition`` runs, in its order (timed one by one below)."""


def write_steps(engine: Engine, partition: tuple[dt.date, ParsedPartition]) -> dict[str, float]:
    """Seconds of each step of one (re-)write of the listings partition: where its time goes."""
    day, parsed = partition
    params = {"vendor_id": 1, "partition_date": day, "removed_after": 2}
    times = {}
    with engine.begin() as conn:
        started = time.perf_counter()
        stage_listings_partition(conn, vendor_id=1, items=parsed.items, positions=parsed.positions)
        times["stage (COPY into temporary tables)"] = time.perf_counter() - started
        started = time.perf_counter()
        staged_facts(conn)
        recent_facts(conn, vendor_id=1, partition_date=day, days=RECENT_DAYS)
        times["audits' reads"] = time.perf_counter() - started
        for name in PUBLISH_STEPS:
            started = time.perf_counter()
            SQL_LISTINGS.run(conn, name, params)
            times[name] = time.perf_counter() - started
    return times


def explain_candidates(conn: Connection) -> str:
    """The alert candidates' plan with buffers: which sighting partitions the first-sighting test touches."""
    vendor = conn.execute(text("SELECT id FROM vendors WHERE name = 'v1'")).scalar_one()
    statement = SqlFiles(Path(__file__).parents[1] / "pipelines" / "alerts" / "sql").statement("select_candidates")
    plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement.text),
                        {"vendor_id": vendor, "day": LAST_DAY})
    return "\n".join(row[0] for row in plan)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=100_000_000)
    parser.add_argument("--vendors", type=int, default=10)
    parser.add_argument("--new-per-day", type=int, default=100, help="new listings per vendor and day")
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget-minutes", type=float, default=60.0, help="stop loading the large history after this")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    shape = {"vendors": args.vendors, "new_per_day": args.new_per_day, "products": args.products}
    with bench_databases("mp_bench_scale_small", "mp_bench_scale_large",
                         bulk_loading=True) as (small_url, large_url):
        engines = [engine_for(small_url), engine_for(large_url)]
        small, large = (History(engine, **shape) for engine in engines)
        print("small:", flush=True)
        small.load(args.small, deadline=time.perf_counter() + 3600)
        print("large:", flush=True)
        large.load(args.large, deadline=time.perf_counter() + args.budget_minutes * 60)
        sides = [(small.engine, small.prepare_measured_day()), (large.engine, large.prepare_measured_day())]
        product = 1 + (day_number(LAST_DAY) * args.new_per_day * 7 + 1) % args.products
        sizes = [small.sizes(), large.sizes()]
        load_before = os.getloadavg()
        results = {name: interleaved(work, sides, product, args.rounds * more, calls)
                   for name, (work, more, calls) in WORK.items()}
        load_after = os.getloadavg()
        steps = [write_steps(engine, partition) for engine, partition in sides]
        with large.engine.connect() as conn:
            plan = explain_candidates(conn)
    print("alert candidates' plan at large:\n" + plan)
    rate = large.loaded / large.load_seconds
    per_million = sizes[1]["sightings_bytes"] / (sizes[1]["sightings"] / 1e6)
    reached = "" if sizes[1]["sightings"] >= args.large * 0.99 else \
        f" (target {args.large:,}: loading stopped at the {args.budget_minutes:g}-minute budget)"
    lines = [
        f"small: {sizes[0]['sightings']:,} sightings, {sizes[0]['observations']:,} price observations, "
        f"{sizes[0]['listings']:,} listings, {sizes[0]['sighting_partitions']} sighting partitions",
        f"large: {sizes[1]['sightings']:,} sightings, {sizes[1]['observations']:,} price observations, "
        f"{sizes[1]['listings']:,} listings, {sizes[1]['sighting_partitions']} sighting partitions{reached}",
        f"large loaded in {large.load_seconds / 60:.1f} min = {rate:,.0f} sightings/s (with their price "
        f"observations, indexes dropped); indexes built in {large.index_seconds / 60:.1f} min, "
        f"VACUUM ANALYZE {large.vacuum_seconds / 60:.1f} min",
        f"disk: listing_sightings {sizes[1]['sightings_bytes'] / 2**30:.2f} GiB with indexes = "
        f"{per_million / 2**20:.0f} MiB per 1M sightings; price_observations "
        f"{sizes[1]['observations_bytes'] / 2**30:.2f} GiB",
        f"load average (1 min) at start {load_at_start[0]:.1f}, before measuring {load_before[0]:.1f}, "
        f"after {load_after[0]:.1f} ({os.cpu_count()} cores, shared)",
        f"interleaved small/large, median of {args.rounds} (price history: of {args.rounds * 5}, "
        "each the mean of 20 calls) after a warm-up",
        f"  {'':44s} {'small':>10s} {'large':>10s}  large/small  per-pair ratios (min-max)",
    ]
    for name, (_, (small_times, large_times)) in results.items():
        pairs = [b / a for a, b in zip(small_times, large_times, strict=True)]
        s, g = statistics.median(small_times), statistics.median(large_times)
        lines.append(f"  {name:44s} {s * 1000:7.1f} ms {g * 1000:7.1f} ms  {g / s:9.2f}x  "
                     f"{min(pairs):.2f}-{max(pairs):.2f}")
    first = results["listings partition write (1 vendor-day)"][0]
    lines.append(f"  the day's first write (the warm-up; rounds re-write it) {first[0] * 1000:.1f} ms small, "
                 f"{first[1] * 1000:.1f} ms large: {first[1] / first[0]:.2f}x (one sample each)")
    lines.append("  where a re-write of the listings partition spends its time (one sample each):")
    for name in steps[0]:
        lines.append(f"    {name:42s} {steps[0][name] * 1000:8.1f} ms {steps[1][name] * 1000:8.1f} ms")
    print("\n".join(lines))
    if args.record:
        record(f"History at scale: {sizes[1]['sightings'] / 1e6:.0f}M sightings vs 1M, interleaved (bench/scale.py)",
               [f"uv run python bench/scale.py --large {args.large} --budget-minutes {args.budget_minutes:g}"
                " --record", *lines])


if __name__ == "__main__":
    main()
