"""HTTP caching with conditional requests (ETag / Last-Modified), as a `FetchHook`.

For URLs it applies to (detail pages, typically):

* a cached page still *fresh* (within `fresh_for_s` of its last validation) is answered from
  the cache without any request (`cache_status="fresh"`, `attempts=0`);
* otherwise the request carries `If-None-Match` / `If-Modified-Since` from the cached copy; a
  `304 Not Modified` is turned back into the cached page (`cache_status="revalidated"`; the
  status is the cached one, `bytes_received` what the 304 really cost) and the entry is touched;
* a complete 2xx answer carrying an `ETag` or `Last-Modified` is stored for next time.

Where entries live is the `CacheStore`'s business: `MemoryCacheStore` for one process, the
Postgres-backed listing cache (`pipelines.scraping.listing_cache`) for the pipeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from downloader.hooks import FetchHook
from downloader.types import FetchedResponse, FetchRequest

# Response headers worth replaying with a cached body (the rest describe the 304 itself).
_KEPT_HEADERS = ("content-type", "etag", "last-modified", "cache-control", "content-language")


@dataclass(frozen=True)
class CachedPage:
    url: str
    status: int
    headers: dict[str, str]
    content_type: str | None
    body: bytes
    etag: str | None
    last_modified: str | None
    fetched_at: dt.datetime  # when the body was last downloaded
    validated_at: dt.datetime  # when the server last confirmed it (200 or 304)

    def is_fresh(self, fresh_for_s: float, now: dt.datetime) -> bool:
        return fresh_for_s > 0 and (now - self.validated_at).total_seconds() < fresh_for_s


class CacheStore(Protocol):
    async def get(self, url: str) -> CachedPage | None: ...

    async def put(self, page: CachedPage) -> None: ...

    async def touch(self, url: str, validated_at: dt.datetime) -> None: ...


class MemoryCacheStore:
    """A dict: for tests and one-off scripts."""

    def __init__(self) -> None:
        self.pages: dict[str, CachedPage] = {}

    async def get(self, url: str) -> CachedPage | None:
        return self.pages.get(url)

    async def put(self, page: CachedPage) -> None:
        self.pages[page.url] = page

    async def touch(self, url: str, validated_at: dt.datetime) -> None:
        page = self.pages.get(url)
        if page is not None:
            self.pages[url] = replace(page, validated_at=validated_at)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ConditionalCache(FetchHook):
    def __init__(self, store: CacheStore, *, applies_to: Callable[[str], bool] | None = None,
                 fresh_for_s: float = 0.0, clock: Callable[[], dt.datetime] = _now) -> None:
        self.store = store
        self._applies_to = applies_to or (lambda url: True)
        self.fresh_for_s = fresh_for_s
        self._clock = clock
        self._pending: dict[int, CachedPage] = {}
        self.fresh_hits = 0
        self.revalidated = 0
        self.stored = 0

    async def before_fetch(self, request: FetchRequest) -> FetchRequest | FetchedResponse:
        if not self._applies_to(request.url):
            return request
        cached = await self.store.get(request.url)
        if cached is None:
            return request
        now = self._clock()
        if cached.is_fresh(self.fresh_for_s, now):
            self.fresh_hits += 1
            return _from_cache(request, cached, "fresh", now)
        if cached.etag:
            request.headers["If-None-Match"] = cached.etag
        if cached.last_modified:
            request.headers["If-Modified-Since"] = cached.last_modified
        self._pending[id(request)] = cached
        return request

    async def after_fetch(self, request: FetchRequest, response: FetchedResponse) -> FetchedResponse:
        cached = self._pending.pop(id(request), None)
        if not self._applies_to(request.url):
            return response
        now = self._clock()
        if cached is not None and response.error is None and response.status == 304:
            self.revalidated += 1
            await self.store.touch(request.url, now)
            page = _from_cache(request, cached, "revalidated", now)
            page.attempts, page.bytes_received = response.attempts, response.bytes_received
            page.elapsed_ms, page.started_at = response.elapsed_ms, response.started_at
            return page
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        if response.ok and (etag or last_modified) and "no-store" not in response.headers.get("cache-control", ""):
            headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
            await self.store.put(CachedPage(
                url=request.url, status=response.status or 200, headers=headers,
                content_type=response.content_type, body=response.body, etag=etag,
                last_modified=last_modified, fetched_at=now, validated_at=now))
            self.stored += 1
        return response


def _from_cache(request: FetchRequest, cached: CachedPage, how: str, now: dt.datetime) -> FetchedResponse:
    return FetchedResponse(
        requested_url=request.url, final_url=cached.url, status=cached.status, headers=dict(cached.headers),
        body=cached.body, content_type=cached.content_type, elapsed_ms=0.0, started_at=now,
        fetch_mode="http", attempts=0, bytes_received=0,
        cache_status="fresh" if how == "fresh" else "revalidated",
    )
