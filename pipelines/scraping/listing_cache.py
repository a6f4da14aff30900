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

from sqlalchemy import Engine, text

from downloader.cache import CachedPage, ConditionalCache
from pipelines.scraping.archive import BODY_ENCODING, compress, decompress
from pipelines.vendors.config.vendor import VendorConfig

DEFAULT_TTL = dt.timedelta(days=7)

_SELECT = text("""
    SELECT c.url, c.status, c.headers, c.content_type, c.etag, c.last_modified, c.fetched_at, c.validated_at,
           b.body, b.encoding
    FROM listing_cache c JOIN capture_bodies b ON b.sha256 = c.body_sha256
    WHERE c.vendor_id = :vendor_id AND c.url = :url AND c.expires_at > now()
""")
_INSERT_BODY = text("""
    INSERT INTO capture_bodies (sha256, encoding, size, body) VALUES (:sha256, :encoding, :size, :body)
    ON CONFLICT (sha256) DO NOTHING
""")
_UPSERT = text("""
    INSERT INTO listing_cache (vendor_id, url, external_id, status, etag, last_modified, content_type, headers,
                               body_sha256, fetched_at, validated_at, expires_at)
    VALUES (:vendor_id, :url, :external_id, :status, :etag, :last_modified, :content_type, CAST(:headers AS jsonb),
            :sha256, :fetched_at, :validated_at, :expires_at)
    ON CONFLICT (vendor_id, url) DO UPDATE SET
        external_id = coalesce(EXCLUDED.external_id, listing_cache.external_id), status = EXCLUDED.status,
        etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, content_type = EXCLUDED.content_type,
        headers = EXCLUDED.headers, body_sha256 = EXCLUDED.body_sha256, fetched_at = EXCLUDED.fetched_at,
        validated_at = EXCLUDED.validated_at, expires_at = EXCLUDED.expires_at
""")
_TOUCH = text("""
    UPDATE listing_cache SET validated_at = :validated_at, expires_at = :expires_at, hits = hits + 1
    WHERE vendor_id = :vendor_id AND url = :url
""")
_PRUNE = text("DELETE FROM listing_cache WHERE expires_at <= :now")


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
            row = conn.execute(_SELECT, {"vendor_id": self.vendor_id, "url": url}).first()
        if row is None:
            return None
        return CachedPage(url=row.url, status=row.status, headers=dict(row.headers), content_type=row.content_type,
                          body=decompress(row.body, row.encoding), etag=row.etag, last_modified=row.last_modified,
                          fetched_at=row.fetched_at, validated_at=row.validated_at)

    def _put(self, page: CachedPage) -> None:
        sha = hashlib.sha256(page.body).hexdigest()
        with self.engine.begin() as conn:
            conn.execute(_INSERT_BODY, {"sha256": sha, "encoding": BODY_ENCODING, "size": len(page.body),
                                        "body": compress(page.body)})
            conn.execute(_UPSERT, {
                "vendor_id": self.vendor_id, "url": page.url, "external_id": self._external_id(page.url),
                "status": page.status, "etag": page.etag, "last_modified": page.last_modified,
                "content_type": page.content_type, "headers": json.dumps(page.headers), "sha256": sha,
                "fetched_at": page.fetched_at, "validated_at": page.validated_at,
                "expires_at": page.validated_at + self.ttl})

    def _touch(self, url: str, validated_at: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(_TOUCH, {"vendor_id": self.vendor_id, "url": url, "validated_at": validated_at,
                                  "expires_at": validated_at + self.ttl})


def prune_expired(engine: Engine, now: dt.datetime | None = None) -> int:
    """Delete the cache rows past their ``expires_at``; returns how many."""
    with engine.begin() as conn:
        return conn.execute(_PRUNE, {"now": now or dt.datetime.now(dt.UTC)}).rowcount


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

