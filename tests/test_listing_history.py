"""Listing state and price history converge whatever order partitions are (re-)written in.

The listings step rebuilds price history only from the partition's day onwards, reads first and
latest sightings with index probes, and re-derives sold/removed only for the listings a partition
touched (the others' state is carried in ``listings``); these tests replay random histories
through ``replace_listings_partition`` in random orders, with corrections of already written days
and days whose scrape failed, and compare the warehouse with everything recomputed from scratch
in Python.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from infra.database import engine_for
from pipelines.listings.records import StagedItem
from pipelines.listings.store import replace_listings_partition

FIRST_DAY = dt.date(2026, 3, 1)
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(12)]
IDS = [f"L{i}" for i in range(8)]

REMOVED_AFTER = 2

Sightings = dict[dt.date, dict[str, StagedItem]]


@pytest.fixture
def engine(fresh_database: str) -> Iterator[Engine]:
    engine = engine_for(fresh_database)
    yield engine
    engine.dispose()


def _vendor(engine: Engine) -> int:
    with engine.begin() as conn:
        return conn.execute(text(
            "INSERT INTO vendors (name, display_name, base_url, currency) "
            "VALUES ('hist', 'History', 'http://127.0.0.1:9', 'EUR') RETURNING id")).scalar_one()


def _random_history(rng: random.Random) -> Sightings:
    """Per day, the listings seen and their prices: gaps, repeated prices, a currency switch."""
    history: Sightings = {}
    for day in DAYS:
        items = {}
        for external_id in IDS:
            if rng.random() < 0.3:
                continue  # not seen that day
            price = Decimal(rng.choice(["10.00", "10.00", "12.50", "9.99", "15.00"]))
            currency = "USD" if external_id == IDS[0] and day >= DAYS[6] else "EUR"
            seen_at = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)), tzinfo=dt.UTC)
            sold = external_id in IDS[:3] and rng.random() < 0.4  # some listings carry a sold marker
            items[external_id] = StagedItem(external_id=external_id, title=f"{external_id} on {day}", price=price,
                                            currency=currency, price_kind="priced", seen_at=seen_at, is_sold=sold)
        history[day] = items
    return history


def _write(engine: Engine, vendor_id: int, day: dt.date, items: dict[str, StagedItem], complete: bool = True) -> None:
    """What raw_captures then listings write for one day: its searches (all successful or not), then
    the parsed listings."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM searches WHERE vendor_id = :v AND partition_date = :d"),
                     {"v": vendor_id, "d": day})
        conn.execute(text(
            "INSERT INTO searches (vendor_id, partition_date, query, status, started_at) "
            "VALUES (:v, :d, 'a', 'success', now()), (:v, :d, 'b', :status, now())"),
            {"v": vendor_id, "d": day, "status": "success" if complete else "failed"})
        replace_listings_partition(conn, vendor_id=vendor_id, partition_date=day, items=list(items.values()),
                                   positions=[], removed_after=REMOVED_AFTER)


def _expected(history: Sightings, incomplete: set[dt.date] = frozenset()) -> tuple[set[tuple], set[tuple]]:  # type: ignore[assignment]
    """(price observations, listing state) recomputed from the final sightings, day by day."""
    observations, states = set(), set()
    scrape_days = [d for d in DAYS if d not in incomplete and history[d]]  # complete, parsed, saw something
    for external_id in IDS:
        seen = [(day, history[day][external_id]) for day in DAYS if external_id in history[day]]
        if not seen:
            continue
        previous = None
        for day, item in seen:
            if previous is None or (item.price, item.currency) != previous:
                observations.add((external_id, day, item.seen_at, item.price, item.currency))
            previous = (item.price, item.currency)
        last_day, latest = seen[-1]
        sold_at = None
        if latest.is_sold:  # start of the final run of sold sightings
            streak = [item for _, item in seen]
            while len(streak) > 1 and streak[-2].is_sold:
                streak.pop()
            sold_at = streak[-1].seen_at
        after = [d for d in scrape_days if d > last_day]
        removed = not latest.is_sold and len(after) >= REMOVED_AFTER
        removed_at = (dt.datetime.combine(after[REMOVED_AFTER - 1], dt.time(), tzinfo=dt.UTC) if removed else None)
        states.add((external_id, seen[0][1].seen_at, latest.seen_at, latest.title, latest.price, latest.currency,
                    latest.is_sold, sold_at, len(after), removed, removed_at))
    return observations, states


def _stored(engine: Engine) -> tuple[set[tuple], set[tuple]]:
    with engine.connect() as conn:
        observations = {tuple(r) for r in conn.execute(text(
            "SELECT l.external_id, p.observed_date, p.observed_at, p.price, p.currency "
            "FROM price_observations p JOIN listings l ON l.id = p.listing_id"))}
        states = {tuple(r) for r in conn.execute(text(
            "SELECT external_id, first_seen_at, last_seen_at, title, price, currency, is_sold, sold_at, "
            "missed_scrapes, is_removed, removed_at FROM listings"))}
    return observations, states


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_history_converges_in_any_order_with_corrections(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    vendor_id = _vendor(engine)
    history = _random_history(rng)
    incomplete = set(rng.sample(DAYS, 2))  # a search failed those days: they never count as missed
    order = DAYS[:]
    rng.shuffle(order)
    for day in order:
        _write(engine, vendor_id, day, history[day], complete=day not in incomplete)
    assert _stored(engine) == _expected(history, incomplete)

    # corrections: a parser fix re-reads some days with other prices or fewer listings; a failed
    # day is scraped again successfully
    corrected = _random_history(rng)
    for day in rng.sample(DAYS, 6):
        history[day] = corrected[day]
        incomplete.discard(day)
        _write(engine, vendor_id, day, history[day])
        assert _stored(engine) == _expected(history, incomplete), f"after rewriting {day}"


def test_forward_days_leave_earlier_history_untouched(engine: Engine) -> None:
    """A daily run only rewrites observations from its own day on (ids of older rows survive)."""
    vendor_id = _vendor(engine)
    history = _random_history(random.Random(7))
    for day in DAYS[:-1]:
        _write(engine, vendor_id, day, history[day])
    with engine.connect() as conn:
        before = {tuple(r) for r in conn.execute(text("SELECT id, listing_id, observed_date FROM price_observations"))}
    _write(engine, vendor_id, DAYS[-1], history[DAYS[-1]])
    with engine.connect() as conn:
        after = {tuple(r) for r in conn.execute(text("SELECT id, listing_id, observed_date FROM price_observations"))}
    assert before <= after
    assert {r[2] for r in after - before} <= {DAYS[-1]}
    assert _stored(engine) == _expected(history)
