"""Caches: the smart search cache (through the pipeline) and the listing cache of detail pages
(conditional requests against the demo, TTL, the scheduled prune job). Requests are counted at
the demo server."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from demo.server import running_demo
from downloader.http import HttpFetcher
from pipelines.scraping.cache_jobs import prune_listing_cache
from pipelines.scraping.listing_cache import detail_url_matcher, listing_cache_hook
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import vendor_id_for
from tests.support.pipeline import ScrapingPipeline, failure_message, metadata
from tests.support.vendor_files import vendor_dir

DAY = dt.date(2026, 10, 12)
FAST = {"requests_per_second": 50, "concurrency": 2}


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as url:
        yield url


@pytest.fixture(scope="module")
def pipeline(database_url: str, demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> ScrapingPipeline:
    folder = vendor_dir(tmp_path_factory.mktemp("vendors"), {
        "toko": {"rate_limit": FAST, "cache": {"search_max_age": "30m", "detail_max_age": "off"}},
        "cardvault": {"rate_limit": FAST}})
    pipeline = ScrapingPipeline(database_url, demo_url, vendors_dir=str(folder))
    assert pipeline.sync_vendors().success
    return pipeline


def stats(demo_url: str, reset: bool = False) -> dict[str, Any]:
    with httpx.Client(base_url=demo_url) as client:
        return client.post("/_stats/reset").json() if reset else client.get("/_stats").json()


def search_rows(pipeline: ScrapingPipeline, shop: str, day: dt.date) -> list[Any]:
    with pipeline.warehouse.connect() as conn:
        return conn.execute(text("""
            SELECT s.id, s.query, s.status, s.cache_hit, s.items, s.pages, s.requests,
                   (SELECT count(*) FROM raw_captures c WHERE c.search_id = s.id) AS captures
            FROM searches s JOIN vendors v ON v.id = s.vendor_id
            WHERE v.name = :shop AND s.partition_date = :day ORDER BY s.query"""), {"shop": shop, "day": day}).all()


def test_a_fresh_search_is_reused_and_parsed_as_usual(pipeline: ScrapingPipeline, demo_url: str) -> None:
    stats(demo_url, reset=True)
    first = pipeline.run(DAY, "toko")
    assert first.success, failure_message(first)
    fetched = stats(demo_url, reset=True)["shops"]["toko"]["search"]
    before = search_rows(pipeline, "toko", DAY)
    assert not any(r.cache_hit for r in before)

    again = pipeline.run(DAY, "toko")  # same partition, minutes later: nothing is fetched
    assert again.success, failure_message(again)
    assert stats(demo_url)["shops"]["toko"].get("search", 0) == 0
    after = search_rows(pipeline, "toko", DAY)
    assert all(r.cache_hit for r in after) and [r.status for r in after] == ["success"] * 3
    assert [(r.query, r.items, r.pages, r.captures) for r in after] == \
           [(r.query, r.items, r.pages, r.captures) for r in before]
    assert all(r.requests == 0 for r in after), "no request was made for a cache hit"
    captured = metadata(again, "raw_captures")
    assert captured["cache_hits"] == 3 and captured["new_bodies"] == 0, "bodies are shared, not copied"
    assert metadata(again, "listings")["listings_seen"] == metadata(first, "listings")["listings_seen"]
    with pipeline.warehouse.connect() as conn:
        events = conn.execute(text("""
            SELECT e.data FROM search_events e JOIN searches s ON s.id = e.search_id
            WHERE e.event_type = 'cache_hit' AND s.partition_date = :day"""), {"day": DAY}).scalars().all()
        fetched_at = conn.execute(text("""
            SELECT DISTINCT date_trunc('second', min(c.fetched_at)) FROM raw_captures c
            JOIN searches s ON s.id = c.search_id WHERE s.partition_date = :day GROUP BY s.query"""),
            {"day": DAY}).scalars().all()
    assert len(events) == 3 and all(e["age_s"] < 600 and e["max_age_s"] == 1800 for e in events)
    assert fetched_at, "captures keep the time they were really fetched"
    assert fetched > 0


def test_another_day_or_an_old_result_is_fetched_again(pipeline: ScrapingPipeline, demo_url: str) -> None:
    stats(demo_url, reset=True)
    other_day = pipeline.run(DAY - dt.timedelta(days=1), "toko")  # asof differs: another request
    assert other_day.success
    assert stats(demo_url, reset=True)["shops"]["toko"]["search"] > 0
    assert not any(r.cache_hit for r in search_rows(pipeline, "toko", DAY - dt.timedelta(days=1)))
    with pipeline.warehouse.begin() as conn:  # age the archive past search_max_age
        conn.execute(text("UPDATE raw_captures SET fetched_at = fetched_at - interval '31 minutes'"))
    stale = pipeline.run(DAY, "toko")
    assert stale.success
    assert stats(demo_url)["shops"]["toko"]["search"] > 0
    assert not any(r.cache_hit for r in search_rows(pipeline, "toko", DAY))


def test_vendors_without_search_max_age_always_fetch(pipeline: ScrapingPipeline, demo_url: str) -> None:
    assert pipeline.run(DAY, "cardvault").success
    stats(demo_url, reset=True)
    assert pipeline.run(DAY, "cardvault").success
    assert stats(demo_url)["shops"]["cardvault"]["search"] > 0
    assert not any(r.cache_hit for r in search_rows(pipeline, "cardvault", DAY))


def test_detail_pages_are_revalidated_with_etags_and_pruned_after_their_ttl(
        pipeline: ScrapingPipeline, demo_url: str) -> None:
    vendor = pipeline.registry.get("toko")
    with httpx.Client(base_url=demo_url) as client:
        ids = re.findall(r'data-id="([^"]+)"', client.get(f"/toko/search?q=iphone&asof={DAY}").text)[:5]
    urls = [f"{demo_url}/toko/item/{i}?asof={DAY}" for i in ids]
    matches = detail_url_matcher(vendor)
    assert all(matches(u) for u in urls) and not matches(f"{demo_url}/toko/search?q=x&page=1")
    with pipeline.warehouse.connect() as conn:
        vendor_id = vendor_id_for(conn, "toko")

    async def fetch_all() -> list[Any]:
        hook = listing_cache_hook(pipeline.warehouse.engine, vendor_id, vendor)
        async with HttpFetcher().session(hooks=[hook]) as session:
            return list(await asyncio.gather(*(session.fetch(u) for u in urls)))

    stats(demo_url, reset=True)
    first = asyncio.run(fetch_all())
    second = asyncio.run(fetch_all())
    assert all(p.ok and p.cache_status is None for p in first)
    assert all(p.ok and p.cache_status == "revalidated" for p in second)
    assert [p.body for p in first] == [p.body for p in second]
    assert stats(demo_url)["shops"]["toko"]["item"] == 10, "every revalidation is one small request"
    with pipeline.warehouse.connect() as conn:
        rows = conn.execute(text("SELECT etag, last_modified, hits, expires_at - validated_at AS ttl "
                                 "FROM listing_cache WHERE vendor_id = :v"), {"v": vendor_id}).all()
    assert len(rows) == 5 and all(r.etag and r.last_modified and r.hits == 1 for r in rows)
    assert all(r.ttl == dt.timedelta(days=7) for r in rows), "cache.listing_ttl default"

    with pipeline.warehouse.begin() as conn:
        conn.execute(text("UPDATE listing_cache SET expires_at = now() - interval '1 minute' WHERE url = :u"),
                     {"u": urls[0]})
    result = prune_listing_cache.execute_in_process(resources={"warehouse": pipeline.warehouse})
    assert result.success and result.output_for_node("prune_expired_listing_cache") == 1
    with pipeline.warehouse.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM listing_cache")).scalar_one() == 4


def test_fresh_detail_pages_need_no_request(database_url: str, demo_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = vendor_dir(tmp_path, {"toko": {"cache": {"detail_max_age": "10m", "listing_ttl": "1d"}}}, only=["toko"])
    vendor = VendorRegistry(directory=str(folder), demo_url=demo_url).get("toko")
    assert vendor.cache.detail_max_age == dt.timedelta(minutes=10)
    pipeline = ScrapingPipeline(database_url, demo_url, vendors_dir=str(folder))
    with pipeline.warehouse.connect() as conn:
        vendor_id = vendor_id_for(conn, "toko")
    with httpx.Client(base_url=demo_url) as client:
        item = re.findall(r'data-id="([^"]+)"', client.get(f"/toko/search?q=samsung&asof={DAY}").text)[0]
    url = f"{demo_url}/toko/item/{item}?asof={DAY}"

    async def fetch() -> Any:
        async with HttpFetcher().session(hooks=[listing_cache_hook(pipeline.warehouse.engine, vendor_id, vendor)]) as s:
            return await s.fetch(url)

    stats(demo_url, reset=True)
    asyncio.run(fetch())
    cached = asyncio.run(fetch())
    assert cached.cache_status == "fresh" and cached.attempts == 0
    assert stats(demo_url)["shops"]["toko"]["item"] == 1
