"""Per-host politeness: requests per second and requests in flight (`RateLimit`, `HostLimiter`).

The vendor file's ``rate_limit:`` block is the person's word on how hard a shop may be hit;
`pipelines.scraping.fetching` turns it into this `RateLimit`, the only one the fetchers know.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

from aiolimiter import AsyncLimiter


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
