"""Per-key rate limits and usage counting for the HTTP API.

Limits (a moving window per key in this process's memory, set in ``limits`` notation) are checked
before a request is answered: over the limit is a 429 with ``Retry-After``. Usage (requests, searches
started, pages fetched, compute units: 1 CU = one minute of server time) is counted in memory
and added to ``api_key_usage`` every few seconds and at shutdown, so answering a request never
waits for a write.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from limits import RateLimitItem, parse
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from web.api_v1 import store

log = logging.getLogger("market_pulse.web")

DEFAULT_RATE_LIMIT = "600/minute"


class RateLimits:
    """One moving window per key id: the times of the key's requests within the last period, in
    this process's memory. (The ``limits`` library's memory storage, used before, starts a timer
    thread every 10 ms to expire its entries: 4-6% of the API server's CPU under load. Here the
    window drops its old entries as it is checked; ``limits`` still reads the setting.)

    Called from the event loop only, so without a lock."""

    SWEEP_EVERY = 10_000
    """Every this many checks, keys idle for a whole period are forgotten (memory stays bounded)."""

    def __init__(self, limit: str = DEFAULT_RATE_LIMIT, clock: Callable[[], float] = time.monotonic) -> None:
        self.item: RateLimitItem = parse(limit)
        self._amount, self._period = self.item.amount, float(self.item.get_expiry())
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._checks = 0

    def retry_after(self, key_id: int) -> int | None:
        """None when the request may go ahead (and counts it); else whole seconds to wait."""
        now = self._clock()
        hits = self._hits.get(key_id)
        if hits is None:
            hits = self._hits[key_id] = deque()
        while hits and hits[0] <= now - self._period:
            hits.popleft()
        if len(hits) >= self._amount:
            return max(1, math.ceil(hits[0] + self._period - now))
        hits.append(now)
        self._checks += 1
        if self._checks % self.SWEEP_EVERY == 0:
            self._hits = {k: h for k, h in self._hits.items() if h and h[-1] > now - self._period}
        return None


@dataclass
class Counts:
    requests: int = 0
    searches: int = 0
    pages: int = 0
    seconds: float = 0.0


@dataclass
class UsageMeter:
    """Counts use in memory; :meth:`flush` adds it to the table (the write engine's)."""

    engine: Engine
    interval_seconds: float = 5.0
    _counts: dict[tuple[int, dt.date], Counts] = field(default_factory=lambda: defaultdict(Counts))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, key_id: int, *, requests: int = 0, searches: int = 0, pages: int = 0, seconds: float = 0.0) -> None:
        day = dt.datetime.now(dt.UTC).date()
        with self._lock:
            counts = self._counts[(key_id, day)]
            counts.requests += requests
            counts.searches += searches
            counts.pages += pages
            counts.seconds += seconds

    def flush(self) -> int:
        """Write what was counted since the last flush; returns the rows written. On a database
        error the counts are kept for the next flush."""
        with self._lock:
            taken, self._counts = self._counts, defaultdict(Counts)
        if not taken:
            return 0
        rows = [{"api_key_id": key_id, "usage_date": day, "requests": c.requests, "searches": c.searches,
                 "pages": c.pages, "compute_units": Decimal(str(round(c.seconds / 60, 4)))}
                for (key_id, day), c in taken.items()]
        try:
            with self.engine.begin() as conn:
                store.record_usage(conn, rows)
        except Exception as exc:  # the database is away: count again next time
            log.warning("API usage not recorded yet (%s): will retry", type(exc).__name__)
            with self._lock:
                for (key_id, day), c in taken.items():
                    mine = self._counts[(key_id, day)]
                    mine.requests += c.requests
                    mine.searches += c.searches
                    mine.pages += c.pages
                    mine.seconds += c.seconds
            return 0
        return len(rows)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="api-usage", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            self.flush()


class UsageTiming:
    """ASGI middleware: once an API request has been answered, its key (set on the request's state
    by the ``caller`` dependency) is counted one request and the time it took."""

    def __init__(self, app: ASGIApp, meter: UsageMeter) -> None:
        self.app, self.meter = app, meter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            key_id = (scope.get("state") or {}).get("api_key_id")
            if key_id is not None:
                self.meter.add(key_id, requests=1, seconds=time.perf_counter() - started)
