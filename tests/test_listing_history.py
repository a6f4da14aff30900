"""Listing state and price history converge whatever order partitions are (re-)written in.

The listings step rebuilds price history only from the partition's day onwards, and reads first
and latest sightings with index probes; these tests replay random histories through
``replace_listings_partition`` in random orders, with corrections of already written days, and
compare the warehouse with the history recomputed from scratch in Python.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from pipelines.listings.store import StagedItem, replace_listings_partition
from resources.database import engine_for

FIRST_DAY = dt.date(2026, 3, 1)
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(12)]
IDS = [f"L{i}" for i in range(8)]

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
            items[external_id] = StagedItem(external_id=external_id, title=f"{external_id} on {day}", price=price,
                                            currency=currency, price_kind="priced", seen_at=seen_at)
        history[day] = items
    return history


def _write(engine: Engine, vendor_id: int, day: dt.date, items: dict[str, StagedItem]) -> None:
    with engine.begin() as conn:
        replace_listings_partition(conn, vendor_id=vendor_id, partition_date=day, items=list(items.values()),
                                   positions=[], removed_after=2)


def _expected(history: Sightings) -> tuple[set[tuple], set[tuple]]:
    """(price observations, listing state) recomputed from the final sightings, day by day."""
    observations, states = set(), set()
    for external_id in IDS:
        seen = [(day, history[day][external_id]) for day in DAYS if external_id in history[day]]
        if not seen:
            continue
        previous = None
        for day, item in seen:
            if previous is None or (item.price, item.currency) != previous:
                observations.add((external_id, day, item.seen_at, item.price, item.currency))
            previous = (item.price, item.currency)
        latest = seen[-1][1]
        states.add((external_id, seen[0][1].seen_at, latest.seen_at, latest.title, latest.price, latest.currency))
    return observations, states


def _stored(engine: Engine) -> tuple[set[tuple], set[tuple]]:
    with engine.connect() as conn:
        observations = {tuple(r) for r in conn.execute(text(
            "SELECT l.external_id, p.observed_date, p.observed_at, p.price, p.currency "
            "FROM price_observations p JOIN listings l ON l.id = p.listing_id"))}
        states = {tuple(r) for r in conn.execute(text(
            "SELECT external_id, first_seen_at, last_seen_at, title, price, currency FROM listings"))}
    return observations, states


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_history_converges_in_any_order_with_corrections(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    vendor_id = _vendor(engine)
    history = _random_history(rng)
    order = DAYS[:]
    rng.shuffle(order)
    for day in order:
        _write(engine, vendor_id, day, history[day])
    assert _stored(engine) == _expected(history)

    # corrections: a parser fix re-reads some days with other prices, or fewer listings
    corrected = _random_history(rng)
    for day in rng.sample(DAYS, 5):
        history[day] = corrected[day]
        _write(engine, vendor_id, day, history[day])
        assert _stored(engine) == _expected(history), f"after rewriting {day}"


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
