"""The listing cache: detail pages of listings kept with their HTTP validators and a TTL.

One row per (vendor, URL) in ``listing_cache``: the page's status, content type, ETag and
Last-Modified, its body (content-addressed in ``capture_bodies``, like the archive, so a page
that did not change costs nothing more), when it was downloaded and last confirmed by the
server, and ``expires_at`` (last confirmation + the vendor's ``cache.listing_ttl``). The
``ConditionalCache`` fetch hook reads and writes it through ``PostgresCacheStore``; the
scheduled ``prune_listing_cache`` job deletes expired rows (``prune_expired``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable

from sqlalchemy import Engine

from downloader.cache import CachedPage, ConditionalCache
from pipelines.scraping import store
from pipelines.scraping.archive import BODY_ENCODING, compress, stored_body
from pipelines.vendors.config.vendor import VendorConfig

DEFAULT_TTL = dt.timedelta(days=7)

class PostgresCacheStore:
    """`CacheStore` on ``listing_cache``; blocking SQL runs in a worker thread."""

    def __init__(self, engine: Engine, vendor_id: int, *, ttl: dt.timedelta | None = DEFAULT_TTL,
                 external_id: Callable[[str], str | None] | None = None) -> None:
        self.engine = engine
        self.vendor_id = vendor_id
        self.ttl = ttl or DEFAULT_TTL
        self._external_id = external_id or (lambda url: None)

    async def get(self, url: str) -> CachedPage | None:
        return await asyncio.to_thread(self._get, url)

    async def put(self, page: CachedPage) -> None:
        await asyncio.to_thread(self._put, page)

    async def touch(self, url: str, validated_at: dt.datetime) -> None:
        await asyncio.to_thread(self._touch, url, validated_at)

    def _get(self, url: str) -> CachedPage | None:
        with self.engine.connect() as conn:
            row = store.cached_listing(conn, vendor_id=self.vendor_id, url=url)
        if row is None:
            return None
        return CachedPage(url=row.url, status=row.status, headers=dict(row.headers), content_type=row.content_type,
                          body=stored_body(row), etag=row.etag, last_modified=row.last_modified,
                          fetched_at=row.fetched_at, validated_at=row.validated_at)

    def _put(self, page: CachedPage) -> None:
        sha = hashlib.sha256(page.body).hexdigest()
        with self.engine.begin() as conn:
            store.insert_bodies(conn, [{"sha256": sha, "encoding": BODY_ENCODING, "size": len(page.body),
                                        "body": compress(page.body)}])
            store.upsert_cached_listing(conn, {
                "vendor_id": self.vendor_id, "url": page.url, "external_id": self._external_id(page.url),
                "status": page.status, "etag": page.etag, "last_modified": page.last_modified,
                "content_type": page.content_type, "headers": json.dumps(page.headers), "sha256": sha,
                "fetched_at": page.fetched_at, "validated_at": page.validated_at,
                "expires_at": page.validated_at + self.ttl})

    def _touch(self, url: str, validated_at: dt.datetime) -> None:
        with self.engine.begin() as conn:
            store.touch_cached_listing(conn, vendor_id=self.vendor_id, url=url, validated_at=validated_at,
                                       expires_at=validated_at + self.ttl)


def prune_expired(engine: Engine, now: dt.datetime | None = None) -> int:
    """Delete the cache rows past their ``expires_at``; returns how many."""
    with engine.begin() as conn:
        return store.delete_expired_listing_cache(conn, now or dt.datetime.now(dt.UTC))


def detail_url_matcher(vendor: VendorConfig) -> Callable[[str], bool]:
    """Which URLs of `vendor` are detail pages: ``cache.detail_url_pattern``, else every URL
    that is not a search page (not under the search URL's path)."""
    if vendor.cache.detail_url_pattern:
        pattern = re.compile(vendor.cache.detail_url_pattern)
        return lambda url: pattern.search(url) is not None
    search_prefix = vendor.search_url_template.split("?", 1)[0].split("{", 1)[0]
    return lambda url: not url.split("?", 1)[0].startswith(search_prefix)


def listing_cache_hook(engine: Engine, vendor_id: int, vendor: VendorConfig) -> ConditionalCache:
    """The conditional-request hook for `vendor`'s detail pages, backed by ``listing_cache``."""
    store = PostgresCacheStore(engine, vendor_id, ttl=vendor.cache.listing_ttl)
    fresh = vendor.cache.detail_max_age.total_seconds() if vendor.cache.detail_max_age else 0.0
    return ConditionalCache(store, applies_to=detail_url_matcher(vendor), fresh_for_s=fresh)

