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


def _write(engine: Engine, vendor_id: int, day: dt.date, items: dict[str, StagedItem], complete: bool = True,
           removed_after: int = REMOVED_AFTER) -> None:
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
                                   positions=[], removed_after=removed_after)


def _expected(history: Sightings, incomplete: set[dt.date] = frozenset(),  # type: ignore[assignment]
              removed_after: int = REMOVED_AFTER) -> tuple[set[tuple], set[tuple]]:
    """(price observations, listing state) recomputed from the final sightings, day by day.
    missed_scrapes counts the complete scrapes after the last sighting up to ``removed_after``."""
    observations, states = set(), set()
    days = sorted(history)
    scrape_days = [d for d in days if d not in incomplete and history[d]]  # complete, parsed, saw something
    for external_id in sorted({i for items in history.values() for i in items}):
        seen = [(day, history[day][external_id]) for day in days if external_id in history[day]]
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
        removed = not latest.is_sold and len(after) >= removed_after
        removed_at = (dt.datetime.combine(after[removed_after - 1], dt.time(), tzinfo=dt.UTC) if removed else None)
        states.add((external_id, seen[0][1].seen_at, latest.seen_at, latest.title, latest.price, latest.currency,
                    latest.is_sold, sold_at, min(len(after), removed_after), removed, removed_at))
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


def _item(external_id: str, day: dt.date, price: str = "10.00", sold: bool = False) -> StagedItem:
    return StagedItem(external_id=external_id, title=f"{external_id} on {day}", price=Decimal(price), currency="EUR",
                      price_kind="priced", seen_at=dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC), is_sold=sold)


def _long_history(rng: random.Random, days: int = 24) -> Sightings:
    """Listings with lifetimes of a few days (most gone long before the last day), some seen again
    after a long gap, a few sold: enough history for the write's bound to leave listings out."""
    all_days = [FIRST_DAY + dt.timedelta(days=i) for i in range(days)]
    history: Sightings = {day: {} for day in all_days}
    for n in range(14):
        external_id = f"M{n}"
        start = rng.randrange(days)
        spans = [(start, min(days, start + rng.randint(1, 4)))]
        if rng.random() < 0.3 and spans[0][1] + 6 < days:  # back after a long absence
            again = rng.randrange(spans[0][1] + 6, days)
            spans.append((again, min(days, again + rng.randint(1, 3))))
        for first, end in spans:
            for i in range(first, end):
                if rng.random() < 0.85:
                    sold = n % 5 == 0 and i == end - 1
                    history[all_days[i]][external_id] = _item(external_id, all_days[i], rng.choice(["10.00", "11.00"]),
                                                              sold)
    return history


@pytest.mark.parametrize(("seed", "removed_after"), [(11, 1), (12, 2), (13, 3), (14, 2)])
def test_long_history_any_order_with_status_flips(engine: Engine, seed: int, removed_after: int) -> None:
    """Over a history much longer than the removal threshold: random order, failed days, then
    re-runs of old days that flip complete to failed and back; checked after every write."""
    rng = random.Random(seed)
    vendor_id = _vendor(engine)
    history = _long_history(rng)
    days = sorted(history)
    incomplete = set(rng.sample(days, 4))
    order = days[:]
    rng.shuffle(order)
    for day in order:
        _write(engine, vendor_id, day, history[day], complete=day not in incomplete, removed_after=removed_after)
        written = {d: history[d] if d in order[:order.index(day) + 1] else {} for d in days}
        assert _stored(engine) == _expected(written, incomplete, removed_after), f"after writing {day}"
    for day in rng.sample(days[:-3], 8):
        incomplete ^= {day}
        _write(engine, vendor_id, day, history[day], complete=day not in incomplete, removed_after=removed_after)
        assert _stored(engine) == _expected(history, incomplete, removed_after), f"after flipping {day}"


def test_rerun_of_an_old_day_flips_removal_day(engine: Engine) -> None:
    """A listing last seen on day 1 is removed on day 3 (two complete scrapes after it); day 3
    re-run as failed moves its removal to day 4, back to complete moves it back, whatever came after."""
    vendor_id = _vendor(engine)
    history: Sightings = {day: {"other": _item("other", day)} for day in DAYS}
    history[DAYS[0]]["gone"] = _item("gone", DAYS[0])
    history[DAYS[1]]["gone"] = _item("gone", DAYS[1])
    for day in DAYS:
        _write(engine, vendor_id, day, history[day])
    assert _stored(engine) == _expected(history)

    def removed_at() -> dt.datetime:
        with engine.connect() as conn:
            return conn.execute(text("SELECT removed_at FROM listings WHERE external_id = 'gone'")).scalar_one()

    assert removed_at().date() == DAYS[3]
    _write(engine, vendor_id, DAYS[3], history[DAYS[3]], complete=False)
    assert _stored(engine) == _expected(history, {DAYS[3]})
    assert removed_at().date() == DAYS[4]
    _write(engine, vendor_id, DAYS[2], history[DAYS[2]], complete=False)
    assert _stored(engine) == _expected(history, {DAYS[2], DAYS[3]})
    assert removed_at().date() == DAYS[5]
    _write(engine, vendor_id, DAYS[3], history[DAYS[3]])
    _write(engine, vendor_id, DAYS[2], history[DAYS[2]])
    assert _stored(engine) == _expected(history)
    assert removed_at().date() == DAYS[3]


def test_listing_removed_long_ago_comes_back(engine: Engine) -> None:
    """Removed after day 0, seen again on the last day (un-removed), then that day re-parsed
    without it (removed again, as of long ago), then seen again on a day in the middle (backfill)."""
    vendor_id = _vendor(engine)
    history: Sightings = {day: {"other": _item("other", day)} for day in DAYS}
    history[DAYS[0]]["back"] = _item("back", DAYS[0])
    for day in DAYS[:-1]:
        _write(engine, vendor_id, day, history[day])
    assert _stored(engine) == _expected({d: history[d] for d in DAYS[:-1]})
    history[DAYS[-1]]["back"] = _item("back", DAYS[-1], "8.00")
    _write(engine, vendor_id, DAYS[-1], history[DAYS[-1]])
    assert _stored(engine) == _expected(history)
    with engine.connect() as conn:
        state = conn.execute(text("SELECT is_removed, removed_at, missed_scrapes FROM listings "
                                  "WHERE external_id = 'back'")).one()
    assert tuple(state) == (False, None, 0)
    del history[DAYS[-1]]["back"]
    _write(engine, vendor_id, DAYS[-1], history[DAYS[-1]])
    assert _stored(engine) == _expected(history)
    history[DAYS[6]]["back"] = _item("back", DAYS[6], "9.00")
    _write(engine, vendor_id, DAYS[6], history[DAYS[6]])
    assert _stored(engine) == _expected(history)


def test_backfilling_older_days_after_newer_ones(engine: Engine) -> None:
    """The newer half written first, then the older half newest first (a backfill): right after every write."""
    vendor_id = _vendor(engine)
    history = _random_history(random.Random(5))
    order = DAYS[6:] + DAYS[5::-1]
    for n, day in enumerate(order):
        _write(engine, vendor_id, day, history[day])
        written = {d: history[d] if d in order[:n + 1] else {} for d in DAYS}
        assert _stored(engine) == _expected(written), f"after writing {day}"


def test_a_new_removal_threshold_rederives_every_listing(engine: Engine) -> None:
    """State derived with another removed_after (or an unsaturated count written before it
    saturated) is re-derived for all of the vendor's listings by its next write."""
    vendor_id = _vendor(engine)
    history = _long_history(random.Random(21))
    days = sorted(history)
    for day in days[:-2]:
        _write(engine, vendor_id, day, history[day], removed_after=2)
    _write(engine, vendor_id, days[-2], history[days[-2]], removed_after=4)
    written = {d: history[d] if d in days[:-1] else {} for d in days}
    assert _stored(engine) == _expected(written, removed_after=4)
    _write(engine, vendor_id, days[-1], history[days[-1]], removed_after=1)
    assert _stored(engine) == _expected(history, removed_after=1)
    with engine.begin() as conn:  # as rows written before the count saturated
        conn.execute(text("UPDATE listings SET missed_scrapes = 9 WHERE is_removed"))
    _write(engine, vendor_id, days[-1], history[days[-1]], removed_after=1)
    assert _stored(engine) == _expected(history, removed_after=1)
