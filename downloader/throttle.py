"""Adaptive throttling (like Scrapy's AutoThrottle): slow down when a host slows down or refuses.

The fixed `RateLimit` is a ceiling set by a person. `AdaptiveThrottle` keeps a per-host delay
between request *starts* that follows the server:

* every answer pulls the delay towards `latency / target_concurrency` (the pace at which about
  `target_concurrency` requests are in flight at the server), never below the vendor's floor
  (1 / requests_per_second);
* an error answer (non-2xx/3xx/404, timeouts, dropped connections) may raise the delay but never
  lower it;
* a 429 or 503 doubles the delay, and a Retry-After pauses the whole host (every request of the
  crawl, not only the refused one) for that long, capped by `max_delay_s`.

It is a `FetchHook` acting on every attempt (retries included), just before the request is
sent (inside the host's slot, like the fixed rate limit, so queued requests wait in order).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from downloader.hooks import FetchHook
from downloader.limits import host_key
from downloader.retry import parse_retry_after
from downloader.types import FetchedResponse, FetchRequest

_SLOWDOWN_STATUSES = frozenset({429, 503})
_SLOWDOWN_KINDS = frozenset({"timeout", "connect", "disconnected"})


@dataclass
class _HostState:
    delay: float
    next_start: float = 0.0
    paused_until: float = 0.0


class AdaptiveThrottle(FetchHook):
    """Per-host delay between request starts, adjusted from every answer (see module doc)."""

    def __init__(
        self,
        *,
        min_delay_s: float = 0.0,
        start_delay_s: float | None = None,
        max_delay_s: float = 30.0,
        target_concurrency: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if target_concurrency <= 0:
            raise ValueError("target_concurrency must be > 0")
        if max_delay_s < min_delay_s:
            raise ValueError("max_delay_s must be >= min_delay_s")
        self.min_delay_s = min_delay_s
        self.start_delay_s = min_delay_s if start_delay_s is None else max(min_delay_s, start_delay_s)
        self.max_delay_s = max_delay_s
        self.target_concurrency = target_concurrency
        self._clock = clock
        self._hosts: dict[str, _HostState] = {}
        self._lock = asyncio.Lock()
        self.slowdowns = 0  # 429/503 answers seen (for reports)
        self.peak_delay_s = self.start_delay_s

    def delay_for(self, url: str) -> float:
        """The current delay for the host of `url` (seconds between request starts)."""
        state = self._hosts.get(host_key(url))
        return self.start_delay_s if state is None else state.delay

    def _state(self, url: str) -> _HostState:
        key = host_key(url)
        state = self._hosts.get(key)
        if state is None:
            state = self._hosts[key] = _HostState(delay=self.start_delay_s)
        return state

    async def before_attempt(self, request: FetchRequest) -> None:
        async with self._lock:  # reserve a start time: concurrent callers queue up evenly
            state = self._state(request.url)
            now = self._clock()
            start = max(now, state.next_start, state.paused_until)
            state.next_start = start + state.delay
        wait = start - now
        if wait > 0:
            await asyncio.sleep(wait)

    async def after_attempt(self, request: FetchRequest, response: FetchedResponse, latency_s: float) -> None:
        state = self._state(request.url)
        status = response.status
        if status in _SLOWDOWN_STATUSES:
            self.slowdowns += 1
            state.delay = min(self.max_delay_s, max(state.delay * 2, self.min_delay_s, 0.05))
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after:
                pause = min(retry_after, self.max_delay_s)
                state.paused_until = max(state.paused_until, self._clock() + pause)
        else:
            target = latency_s / self.target_concurrency
            new = max(target, (state.delay + target) / 2.0)
            new = min(max(self.min_delay_s, new), self.max_delay_s)
            healthy = response.error_kind not in _SLOWDOWN_KINDS and status is not None and (
                200 <= status < 400 or status == 404
            )
            if healthy or new > state.delay:
                state.delay = new
        self.peak_delay_s = max(self.peak_delay_s, state.delay)
