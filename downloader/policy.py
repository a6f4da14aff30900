"""Politeness and resilience policies shared by the HTTP and browser fetchers.

Kept apart from the fetchers so that the next features (adaptive throttle, robots.txt,
circuit breaker, conditional requests, stored-session cookies) can be added as *policies* or
*hooks* without touching the transport code:

* `RateLimit` + `HostLimiter`: per-host requests/second and concurrency.
* `RetryPolicy`: which outcomes are retried and how long to wait (tenacity).
* `FetchHook`: before/after callbacks around each fetch; a hook can rewrite the request,
  short-circuit it with a ready-made response, or inspect/replace the response.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from aiolimiter import AsyncLimiter
from dagster import ConfigurableResource
from pydantic import Field
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
)

from downloader.types import FetchedResponse, FetchRequest

# --------------------------------------------------------------------------------------------
# Rate limiting
# --------------------------------------------------------------------------------------------

# RateLimit, a mapping from a vendor file, or any pydantic model with those fields.
RateLimitLike = Any

_RPS_KEYS = ("requests_per_second", "rps")
_CONCURRENCY_KEYS = ("max_concurrency", "concurrency")
# Keys of the vendor file's rate_limit block read by the adaptive throttle, not by RateLimit.
ADAPTIVE_KEYS = ("adaptive", "target_concurrency", "max_delay_seconds")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """How hard we may hit one host. `None` means "no limit" for that dimension.

    Requests are spaced evenly (1/rps apart, no initial burst) because vendors notice bursts,
    not averages.
    """

    requests_per_second: float | None = None
    max_concurrency: int | None = None

    def __post_init__(self) -> None:
        if self.requests_per_second is not None and self.requests_per_second <= 0:
            raise ValueError("requests_per_second must be > 0 (or None for unlimited)")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1 (or None for unlimited)")

    @property
    def unlimited(self) -> bool:
        return self.requests_per_second is None and self.max_concurrency is None

    @classmethod
    def coerce(cls, value: RateLimitLike) -> RateLimit | None:
        """Accept a RateLimit, the vendor config's rate_limit (pydantic model or mapping) or None.

        Keys: `requests_per_second` (or `rps`) and `max_concurrency` (or `concurrency`).
        Unknown keys are rejected so a typo cannot silently switch politeness off.
        """
        if value is None or isinstance(value, RateLimit):
            return value
        if not isinstance(value, Mapping):
            dump = getattr(value, "model_dump", None)
            if dump is None:
                raise TypeError(f"cannot use {type(value).__name__} as a rate limit")
            value = dump()
        unknown = set(value) - set(_RPS_KEYS) - set(_CONCURRENCY_KEYS) - set(ADAPTIVE_KEYS)
        if unknown:
            raise ValueError(f"unknown rate_limit keys: {sorted(unknown)}")
        rps = next((value[k] for k in _RPS_KEYS if value.get(k) is not None), None)
        conc = next((value[k] for k in _CONCURRENCY_KEYS if value.get(k) is not None), None)
        return cls(
            requests_per_second=None if rps is None else float(rps),
            max_concurrency=None if conc is None else int(conc),
        )


def host_key(url: str) -> str:
    """Bucket key for per-host limits: scheme://host:port (lower-cased)."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


class _Bucket:
    __slots__ = ("limiter", "semaphore")

    def __init__(self, limit: RateLimit) -> None:
        # capacity 1 + leak every 1/rps seconds = evenly spaced requests without a burst
        rps = limit.requests_per_second
        self.limiter = AsyncLimiter(1, 1.0 / rps) if rps else None
        self.semaphore = asyncio.Semaphore(limit.max_concurrency) if limit.max_concurrency else None


class _Slot:
    """Async context manager holding one host slot (concurrency) after taking a rate token."""

    __slots__ = ("_bucket",)

    def __init__(self, bucket: _Bucket | None) -> None:
        self._bucket = bucket

    async def __aenter__(self) -> None:
        bucket = self._bucket
        if bucket is None:
            return
        # Take the concurrency slot first so tasks queued behind it do not burn rate tokens.
        if bucket.semaphore is not None:
            await bucket.semaphore.acquire()
        if bucket.limiter is not None:
            try:
                await bucket.limiter.acquire()
            except BaseException:
                if bucket.semaphore is not None:
                    bucket.semaphore.release()
                raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bucket is not None and self._bucket.semaphore is not None:
            self._bucket.semaphore.release()


class HostLimiter:
    """Per-host token buckets and semaphores, one registry per fetch session.

    "Host" is `host_key(url)`: scheme, host name and port, so two shops on different hosts
    never share a budget, and one vendor reaching two hosts (www + api) gets the limit on each.
    A redirect hop to another host is charged to the host that was asked (the slot is held for
    the whole attempt). Calls that share a host *and* the same RateLimit share a bucket; asking
    for a different limit for the same host creates a separate bucket (keep one limit per vendor).
    """

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, RateLimit], _Bucket] = {}

    def slot(self, url: str, limit: RateLimit | None) -> _Slot:
        if limit is None or limit.unlimited:
            return _Slot(None)
        key = (host_key(url), limit)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(limit)
        return _Slot(bucket)


# --------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def is_retryable_status(status: int | None) -> bool:
    """429 and 5xx mean "not now", not "no": worth another try."""
    return status is not None and (status == 429 or 500 <= status <= 599)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry connection failures, truncated pages, 429 and 5xx with exponential backoff + jitter;
    a Retry-After header (seconds or HTTP-date, capped at `retry_after_max_s`) replaces the backoff.

    Read timeouts are not retried by default: a server that is slow once is usually slow
    again, and each retry would cost another full timeout.
    """

    max_attempts: int = 3
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 60.0
    retry_error_kinds: frozenset[str] = frozenset({"connect", "disconnected", "truncated"})

    def should_retry(self, response: FetchedResponse) -> bool:
        if response.error_kind == "http_status":  # the browser marks 429/5xx pages itself
            return is_retryable_status(response.status)
        if response.error_kind is not None:
            return response.error_kind in self.retry_error_kinds
        return is_retryable_status(response.status)

    def wait_seconds(self, response: FetchedResponse, state: RetryCallState) -> float:
        """Retry-After (capped) wins over our own backoff: the server knows best."""
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None and response.status is not None:
            return min(retry_after, self.retry_after_max_s)
        return self.backoff_seconds(state.attempt_number)

    def backoff_seconds(self, attempt_number: int, rand: Callable[[], float] = random.random) -> float:
        """Exponential backoff with "equal jitter": the n-th retry waits between half and all of
        min(backoff_max_s, backoff_initial_s * 2**(n-1)), so clients that failed together do not
        retry together, and no retry comes back instantly."""
        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, attempt_number - 1))
        return ceiling / 2 + rand() * ceiling / 2

    def retrying(self) -> AsyncRetrying:
        """A fresh tenacity controller (they keep per-call state, so never share one)."""

        def wait(state: RetryCallState) -> float:
            assert state.outcome is not None
            return self.wait_seconds(state.outcome.result(), state)

        return AsyncRetrying(
            stop=stop_after_attempt(max(1, self.max_attempts)),
            wait=wait,
            retry=retry_if_result(self.should_retry),
            # Out of attempts: hand back the last response instead of raising RetryError.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            sleep=asyncio.sleep,
        )


# --------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------


class FetchHook:
    """Extension point around each fetch and each attempt of it. Subclass and override.

    * `before_fetch` / `after_fetch` run once per `fetch()` (around all retries): robots.txt and
      the circuit breaker refuse requests here (`error_kind="blocked"`), conditional requests add
      If-None-Match and turn a 304 back into the cached page, the session guard spots a login wall.
    * `before_attempt` / `after_attempt` run around every try, retries included; `before_attempt`
      runs inside the per-host slot, right before sending: the adaptive throttle waits there and
      learns from each answer's latency, 429s and 5xx in `after_attempt` (which must not alter
      the response); the circuit breaker refuses a queued retry in `before_attempt` by returning
      a response.
    """

    async def before_fetch(self, request: FetchRequest) -> FetchRequest | FetchedResponse:
        return request

    async def after_fetch(self, request: FetchRequest, response: FetchedResponse) -> FetchedResponse:
        return response

    async def before_attempt(self, request: FetchRequest) -> FetchedResponse | None:
        """Return a response to stop here (no request sent, no more retries), e.g. an open circuit."""
        return None

    async def after_attempt(self, request: FetchRequest, response: FetchedResponse, latency_s: float) -> None:
        return None


async def run_with_hooks(
    hooks: Sequence[FetchHook],
    request: FetchRequest,
    send: Callable[[FetchRequest], Awaitable[FetchedResponse]],
) -> FetchedResponse:
    """before hooks in order, then send, then after hooks in reverse order (like middleware)."""
    for hook in hooks:
        outcome = await hook.before_fetch(request)
        if isinstance(outcome, FetchedResponse):
            return outcome
        request = outcome
    response = await send(request)
    for hook in reversed(hooks):
        response = await hook.after_fetch(request, response)
    return response


def blocked_response(request: FetchRequest, reason: str, *, fetch_mode: str = "http") -> FetchedResponse:
    """Convenience for hooks that refuse a request (robots.txt, open circuit...)."""
    return FetchedResponse(
        requested_url=request.url,
        final_url=request.url,
        status=None,
        headers={},
        body=b"",
        content_type=None,
        elapsed_ms=0.0,
        started_at=datetime.now(UTC),
        fetch_mode="browser" if fetch_mode == "browser" else "http",
        error=reason,
        attempts=0,
        error_kind="blocked",
    )


class RetryingFetcher(ConfigurableResource):
    """Retry settings shared by the HTTP and browser fetchers (each sets its own ``max_attempts``)."""

    max_attempts: int = Field(default=3, ge=1, description="Tries per page for retryable failures (1 = no retry).")
    backoff_initial_s: float = Field(
        default=0.5, ge=0, description="Ceiling of the first retry wait (jittered to 50-100%); doubles each try."
    )
    backoff_max_s: float = Field(default=30.0, ge=0, description="Upper bound of one backoff wait.")
    retry_after_max_s: float = Field(
        default=60.0, ge=0, description="Cap on how long we honour a server's Retry-After."
    )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff_initial_s=self.backoff_initial_s,
            backoff_max_s=self.backoff_max_s,
            retry_after_max_s=self.retry_after_max_s,
        )
