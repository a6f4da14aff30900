"""One process at a time fetches a vendor, wherever it runs: a Postgres advisory lock per vendor.

A vendor's ``rate_limit`` (requests per second, requests in flight) is enforced inside the
process that crawls it. That is the vendor's limit for the whole deployment only if no other
process crawls the same vendor at the same time — and runs of the same vendor can meet: Celery
workers on several machines, a backfill, ``market-pulse run`` and ``demo seed`` (which execute
jobs in their own process, outside Dagster's run queue and its per-vendor run limit). So the
crawl holds a session-level advisory lock on ``(FETCH_LOCK_NAMESPACE, vendor id)`` in the
warehouse, which every one of them shares:

* a second crawl of the vendor waits (polling, so it can say so in the run's log) until the first
  is done, up to ``MARKET_PULSE_VENDOR_LOCK_WAIT`` seconds, then fails with a retryable error;
* the lock lives on its own connection: a crashed or killed process releases it the moment its
  connection closes, so a lost worker never blocks the vendor;
* the holder keeps it one request interval (``1 / requests_per_second``) after its crawl ends, so
  the next holder's first request cannot follow the last one closer than the rate allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from pipelines.scraping.store import release_fetch_lock, try_fetch_lock

FETCH_LOCK_NAMESPACE = 1_000_002
"""First key of the (namespace, vendor id) advisory lock held while a vendor is being fetched
(``pipelines.listings.store.LISTINGS_LOCK_NAMESPACE`` is 1_000_001, the archive's
``pipelines.scraping.store.ARCHIVE_LOCK_NAMESPACE`` 1_000_003)."""

POLL_SECONDS = 0.25


class VendorBusy(RuntimeError):
    """Another process kept fetching the vendor for longer than we were willing to wait."""


@contextmanager
def vendor_fetch_lock(engine: Engine, *, vendor_id: int, vendor: str, wait_seconds: float,
                      hold_after_seconds: float = 0.0,
                      say: Callable[[str], object] | None = None) -> Iterator[float]:
    """Hold the vendor's fetch lock for the ``with`` block; yields the seconds spent waiting for it."""
    key = {"namespace": FETCH_LOCK_NAMESPACE, "vendor_id": vendor_id}
    with engine.connect() as conn:
        # Autocommit: the lock belongs to the session, and no transaction stays open while we crawl.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        started = time.monotonic()
        announced = False
        while not try_fetch_lock(conn, **key):
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise VendorBusy(f"{vendor}: another process has been fetching this vendor for over "
                                 f"{wait_seconds:.0f}s (MARKET_PULSE_VENDOR_LOCK_WAIT); try again later")
            if not announced and say is not None:
                say(f"{vendor}: another process is fetching this vendor; waiting for it to finish "
                    f"(one crawl per vendor at a time keeps its rate limit)")
                announced = True
            time.sleep(POLL_SECONDS)
        try:
            yield time.monotonic() - started
        finally:
            try:
                if hold_after_seconds > 0:
                    time.sleep(hold_after_seconds)
                release_fetch_lock(conn, **key)
            except DBAPIError:
                conn.invalidate()  # the connection is gone, and the lock went with it
