"""Does a daily listings partition get slower as history accumulates, and what do its audits cost?

A vendor with ``--listings`` listings, each sighted every day and found by one search. History
of ``--days`` days is generated in SQL (sightings, one price observation per price change,
complete searches and their search results), then the next day's partition (90% of the listings
seen again, prices moved) is written two ways, each with the real store functions:

- **unaudited**: stage, then publish (``replace_listings_partition``): the step as it was before
  write-audit-publish;
- **audited**: stage, read what the audits need (the staged rows, the vendor's last 7 published
  days: per-search medians and field fill rates), judge them, publish: what the ``listings`` step
  now does (``pipelines/listings/publish.py``).

Both after 7 days of history and after ``--days``, in the same run, alternating, so the ratios
are measured on the same machine state. Ratio near 1: the cost follows the partition and the
vendor's listings, not the length of history (long / short), and the audits add little
(audited / unaudited).

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

from sqlalchemy import Connection, Engine, text

from bench.rollups import bench_database
from infra.database import engine_for
from infra.settings import PROJECT_ROOT
from pipelines.listings.audits import RECENT_DAYS, audit_partition
from pipelines.listings.parse import ParsedPartition, SearchParse
from pipelines.listings.records import StagedItem, StagedPosition
from pipelines.listings.store import (
    publish_listings_partition,
    recent_facts,
    replace_listings_partition,
    stage_listings_partition,
    staged_facts,
)
from pipelines.vendors.config.loading import load_vendor_file

VENDOR = load_vendor_file(PROJECT_ROOT / "vendors" / "toko.yaml")
"""Whose rules the audits name (the generated listings fill only the required fields)."""

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
        conn.execute(text("""
            INSERT INTO search_results (search_id, listing_id, position, page, partition_date)
            SELECT s.id, g.listing_id, g.position, 1 + (g.position - 1) / 20, s.partition_date
            FROM searches s
            JOIN (SELECT listing_id, partition_date,
                         row_number() OVER (PARTITION BY partition_date ORDER BY listing_id) AS position
                  FROM listing_sightings WHERE vendor_id = :v) g ON g.partition_date = s.partition_date
            WHERE s.vendor_id = :v"""), params)
        conn.execute(text("ANALYZE"))
    return vendor_id


def day_search(engine: Engine, vendor_id: int, day: dt.date) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM searches WHERE vendor_id = :v AND partition_date = :d"),
                                {"v": vendor_id, "d": day}).scalar_one())


def next_day_items(listings: int, day: dt.date) -> list[StagedItem]:
    seen_at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    return [StagedItem(external_id=f"L{i}", title=f"item {i}", price=Decimal(11 + i % 5), currency="EUR",
                       price_kind="priced", seen_at=seen_at) for i in range(1, listings + 1) if i % 10]


def parsed_partition(items: list[StagedItem], search_id: int) -> ParsedPartition:
    """What parsing the day's pages would have produced: every listing on one search, 20 a page."""
    positions = [StagedPosition(search_id, item.external_id, n, 1 + (n - 1) // 20) for n, item in enumerate(items, 1)]
    search = SearchParse(search_id, "q", pages=len(items) // 20 + 1, nodes=len(items), listings=len(items))
    return ParsedPartition(items=items, positions=positions, items_seen=len(items),
                           pages_parsed=search.pages, searches={search_id: search})


def write_unaudited(conn: Connection, vendor_id: int, day: dt.date, parsed: ParsedPartition) -> float:
    replace_listings_partition(conn, vendor_id=vendor_id, partition_date=day, items=parsed.items,
                               positions=parsed.positions, removed_after=2)
    return 0.0


def write_audited(conn: Connection, vendor_id: int, day: dt.date, parsed: ParsedPartition) -> float:
    """The listings step's SQL and audits after parsing, as ``write_audit_publish`` runs them; returns
    the seconds spent between staging and publishing (reading the audits' facts and judging them)."""
    stage_listings_partition(conn, vendor_id=vendor_id, items=parsed.items, positions=parsed.positions)
    started = time.perf_counter()
    verdicts = audit_partition(VENDOR, parsed, staged_facts(conn),
                               recent_facts(conn, vendor_id=vendor_id, partition_date=day, days=RECENT_DAYS))
    audit_seconds = time.perf_counter() - started
    assert not any(v.stops_publishing for v in verdicts), [v.message for v in verdicts if v.stops_publishing]
    publish_listings_partition(conn, vendor_id=vendor_id, partition_date=day, removed_after=2)
    return audit_seconds


def time_partition(engine: Engine, vendor_id: int, day: dt.date, parsed: ParsedPartition, rounds: int
                   ) -> dict[str, float]:
    """Median seconds of writing (and re-writing: idempotent) the day's partition, each way, alternating,
    and of the audits alone inside the audited way."""
    times: dict[str, list[float]] = {"unaudited": [], "audited": [], "audits": []}
    for _ in range(rounds):
        for label, write in (("unaudited", write_unaudited), ("audited", write_audited)):
            started = time.perf_counter()
            with engine.begin() as conn:
                audit_seconds = write(conn, vendor_id, day, parsed)
            times[label].append(time.perf_counter() - started)
            if label == "audited":
                times["audits"].append(audit_seconds)
    return {label: statistics.median(values) for label, values in times.items()}


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
            parsed = parsed_partition(next_day_items(args.listings, day), day_search(engine, vendor_id, day))
            results[label] = time_partition(engine, vendor_id, day, parsed, args.rounds)
    sightings = args.listings * args.days
    print(f"listings partition of {args.listings} listings (90% seen), median of {args.rounds}")
    print("                                          unaudited   audited   audited / unaudited   audits alone")
    names = {"short": "after 7 days of history", "long": f"after {args.days} days ({sightings:,} sightings)"}
    for label, name in names.items():
        r = results[label]
        print(f"  {name:38s} {r['unaudited']:7.2f} s {r['audited']:7.2f} s   {r['audited'] / r['unaudited']:.2f}x"
              f"                 {r['audits'] * 1000:5.1f} ms")
    for way in ("unaudited", "audited"):
        print(f"  {way}: long / short = {results['long'][way] / results['short'][way]:.2f}x "
              "(1.0 = independent of history)")


if __name__ == "__main__":
    main()
