"""One crawl per vendor at a time, across processes: the warehouse's per-vendor fetch lock."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from sqlalchemy import create_engine

from infra.database import libpq_conninfo
from pipelines.scraping.vendor_lock import FETCH_LOCK_NAMESPACE, VendorBusy, vendor_fetch_lock


@pytest.fixture
def engines(database_url: str):  # type: ignore[no-untyped-def]
    """Two engines, as two processes would have (their own connections)."""
    made = [create_engine(database_url) for _ in range(2)]
    yield made
    for engine in made:
        engine.dispose()


def test_a_second_crawl_of_the_vendor_waits_for_the_first(engines) -> None:  # type: ignore[no-untyped-def]
    first, second = engines
    events: list[str] = []
    said: list[str] = []
    holding = threading.Event()

    def crawl_first() -> None:
        with vendor_fetch_lock(first, vendor_id=7, vendor="toko", wait_seconds=30):
            events.append("first:start")
            holding.set()
            time.sleep(1.0)
            events.append("first:end")

    thread = threading.Thread(target=crawl_first)
    thread.start()
    holding.wait(10)
    with vendor_fetch_lock(second, vendor_id=7, vendor="toko", wait_seconds=30, say=said.append) as waited:
        events.append("second:start")
    thread.join()
    assert events == ["first:start", "first:end", "second:start"]
    assert waited >= 0.5
    assert said == ["toko: another process is fetching this vendor; waiting for it to finish "
                    "(one crawl per vendor at a time keeps its rate limit)"]


def test_other_vendors_do_not_wait(engines) -> None:  # type: ignore[no-untyped-def]
    first, second = engines
    with vendor_fetch_lock(first, vendor_id=7, vendor="toko", wait_seconds=30), \
            vendor_fetch_lock(second, vendor_id=8, vendor="chapin", wait_seconds=0.5) as waited:
        assert waited < 0.5


def test_waiting_too_long_is_a_clear_error(engines) -> None:  # type: ignore[no-untyped-def]
    first, second = engines
    with vendor_fetch_lock(first, vendor_id=7, vendor="toko", wait_seconds=30):
        started = time.monotonic()
        with pytest.raises(VendorBusy, match="toko: another process has been fetching this vendor for over 1s"), \
                vendor_fetch_lock(second, vendor_id=7, vendor="toko", wait_seconds=1):
            pass
        assert time.monotonic() - started >= 1


def test_a_dead_holder_releases_the_vendor(database_url: str, engines) -> None:  # type: ignore[no-untyped-def]
    """A worker killed mid-crawl: its connection closes, and the lock goes with it."""
    holder = psycopg.connect(libpq_conninfo(database_url), autocommit=True)
    assert holder.execute("SELECT pg_try_advisory_lock(%s, %s)", (FETCH_LOCK_NAMESPACE, 7)).fetchone() == (True,)
    with pytest.raises(VendorBusy), vendor_fetch_lock(engines[0], vendor_id=7, vendor="toko", wait_seconds=0.5):
        pass
    holder.close()  # what the kernel does for a killed process
    with vendor_fetch_lock(engines[0], vendor_id=7, vendor="toko", wait_seconds=10) as waited:
        assert waited < 5


def test_the_holder_keeps_the_rate_for_the_next_one(engines) -> None:  # type: ignore[no-untyped-def]
    """The lock outlives the crawl by one request interval, so the next crawl's first request
    cannot follow the last one sooner than the vendor's rate allows."""
    first, second = engines
    released = []

    def crawl_first() -> None:
        with vendor_fetch_lock(first, vendor_id=7, vendor="toko", wait_seconds=30, hold_after_seconds=0.8):
            released.append(time.monotonic())  # the crawl's last request
    thread = threading.Thread(target=crawl_first)
    thread.start()
    time.sleep(0.2)
    with vendor_fetch_lock(second, vendor_id=7, vendor="toko", wait_seconds=30):
        acquired = time.monotonic()
    thread.join()
    assert acquired - released[0] >= 0.8
