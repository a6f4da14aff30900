"""A per-vendor circuit breaker: stop hammering a vendor that keeps failing.

One `CircuitBreaker` guards one crawl session (one vendor). Each fetch that still fails after
its retries (connection refused or dropped, timeout, 429/5xx, a browser navigation error, or a
403 "go away") counts as one consecutive failure; any healthy answer resets the count. After
`max_failures` in a row the circuit opens: every later request of the crawl comes back at once
as `error_kind="blocked"` with a readable message, so the crawl records it instead of spending
retries and timeouts on a vendor that is down. `reset_after_s` (optional) lets one trial
request through after a pause ("half-open"); a success closes the circuit again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from downloader.hooks import FetchHook, blocked_response
from downloader.types import FetchedResponse, FetchRequest

logger = logging.getLogger(__name__)

FAILURE_KINDS = frozenset({"connect", "disconnected", "timeout", "http_status", "navigation", "protocol"})
FAILURE_STATUSES = frozenset({403})


def counts_as_failure(response: FetchedResponse) -> bool:
    if response.error_kind is not None:
        return response.error_kind in FAILURE_KINDS
    return response.status in FAILURE_STATUSES


class CircuitBreaker(FetchHook):
    def __init__(self, name: str, max_failures: int = 5, *, reset_after_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_failures < 1:
            raise ValueError("max_failures must be >= 1")
        self.name = name
        self.max_failures = max_failures
        self.reset_after_s = reset_after_s
        self._clock = clock
        self.consecutive_failures = 0
        self.opened_at: float | None = None
        self.last_error: str | None = None
        self.times_opened = 0
        self.refused = 0  # requests answered "blocked" while open
        self._trial_in_flight = False

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    @property
    def message(self) -> str | None:
        """Why the circuit is open (None while closed)."""
        if not self.is_open:
            return None
        return (f"circuit open: {self.name} failed {self.consecutive_failures} times in a row "
                f"(last: {self.last_error}); not sending more requests in this run")

    async def before_fetch(self, request: FetchRequest) -> FetchRequest | FetchedResponse:
        if self.opened_at is None:
            return request
        if (self.reset_after_s is not None and not self._trial_in_flight
                and self._clock() - self.opened_at >= self.reset_after_s):
            self._trial_in_flight = True  # half-open: let exactly one request test the vendor
            return request
        self.refused += 1
        return blocked_response(request, self.message or "circuit open")

    async def before_attempt(self, request: FetchRequest) -> FetchedResponse | None:
        """A retry pending when the circuit opened is not sent either."""
        if self.opened_at is None or self._trial_in_flight:
            return None
        self.refused += 1
        return blocked_response(request, self.message or "circuit open")

    async def after_fetch(self, request: FetchRequest, response: FetchedResponse) -> FetchedResponse:
        if response.error_kind == "blocked":
            return response  # refused by us or robots.txt: says nothing about the vendor's health
        trial, self._trial_in_flight = self._trial_in_flight, False
        if counts_as_failure(response):
            self.consecutive_failures += 1
            self.last_error = response.error or f"HTTP {response.status}"
            if self.opened_at is None and self.consecutive_failures >= self.max_failures:
                self.opened_at = self._clock()
                self.times_opened += 1
                logger.warning("%s", self.message)
            elif trial:
                self.opened_at = self._clock()
        else:
            if self.opened_at is not None:
                logger.info("circuit for %s closed again after a successful trial request", self.name)
            self.consecutive_failures = 0
            self.opened_at = None
        return response
