"""Scraper throughput: our fetch + parse + store path vs Scrapy vs a bare concurrent GET loop.

All three crawl the same pages of the demo marketplace's ``toko`` shop (server-rendered HTML,
page-number pagination) with the same concurrency, against one demo server running in its own
process:

- **bare GET**: ``httpx.AsyncClient`` GETs of the exact URL list our crawl fetched; no parsing,
  no storage: the issue's limit, with httpx's default transport (httpcore).
- **bare GET, aiohttp transport**: the same loop on the transport our fetcher uses
  (:mod:`downloader.transport`): the tighter limit for our own fetching.
- **Scrapy**: a spider starting from the same first pages, following ``a.next`` links, parsing
  the same fields with its selectors and writing them to a JSON-lines feed.
- **ours**: for each day, the real ``crawl_vendor`` (HTTP session, a page probe for pagination)
  and ``replace_captures_partition`` (hash, compress and archive every body in Postgres, one
  transaction), then the whole listings step for that day in a worker process (read the archive,
  parse every listing, stage with COPY, audit the staged rows against the vendor's recent days,
  derive listings, sightings, price history, positions: ``write_audit_publish``, one
  transaction) — as Dagster runs them: separate steps, partitions as separate runs, so the
  parse of day N overlaps the fetch of day N+1. The clock stops when the last day's listings
  are committed. Dagster's per-run overhead is not included (constant per partition).

Run: ``uv run python bench/scrape.py [--days 12] [--concurrency 16] [--rounds 2]``.
Prints pages/s for each and the ratios. Uses an embedded PostgreSQL under a temp folder (or
``MARKET_PULSE_BENCH_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import yaml

from demo.server import running_demo
from downloader.http import HttpFetcher
from downloader.limits import RateLimit
from downloader.transport import make_transport
from infra import migrate
from infra.database import engine_for, ensure_database
from infra.embedded_postgres import EmbeddedPostgres
from infra.settings import PROJECT_ROOT, with_database
from pipelines.listings.publish import write_audit_publish
from pipelines.scraping.archive import read_captures_partition, replace_captures_partition
from pipelines.scraping.crawl import crawl_vendor
from pipelines.scraping.fetching import fence_for
from pipelines.vendors.config.vendor import VendorConfig, parse_vendor

QUERIES = ["iphone", "samsung galaxy", "playstation", "apple", "samsung", "sony", "nintendo", "xiaomi",
           "canon", "pixel", "galaxy", "pro", "128gb", "256gb", "switch", "ps5"]
FIRST_DAY = dt.date(2026, 6, 1)


def bench_vendor(base_url: str) -> VendorConfig:
    data = yaml.safe_load((PROJECT_ROOT / "vendors" / "toko.yaml").read_text())
    data["base_url"] = f"{base_url}/toko"
    data["queries"] = QUERIES
    return parse_vendor(data, source="bench toko")


def listings_step(vendor: VendorConfig, day: dt.date, database_url: str, vendor_id: int) -> int:
    """The listings asset's work for one day (runs in a worker process, as a separate run would):
    read the archive, parse, stage, audit, publish."""
    with engine_for(database_url).begin() as conn:
        archived = read_captures_partition(conn, vendor_id=vendor_id, partition_date=day)
        outcome = write_audit_publish(conn, vendor=vendor, vendor_id=vendor_id, day=day, pages=archived)
    assert outcome.published, outcome.failure
    return len(outcome.parsed.items)


async def ours(vendor: VendorConfig, days: list[dt.date], concurrency: int, database_url: str,
               vendor_id: int, workers: ProcessPoolExecutor) -> tuple[int, float, list[str]]:
    """raw_captures for each day in this process; each day's listings step in a worker process
    as soon as its captures are committed (Dagster runs the two assets as separate steps and
    partitions as separate runs, so parsing overlaps with the next day's fetching)."""
    fetcher = HttpFetcher(max_connections=concurrency)
    engine = engine_for(database_url)
    pages = 0
    urls: list[str] = []
    pending = []
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    async with fetcher.session(rate_limit=RateLimit(max_concurrency=concurrency), fence=fence_for(vendor)) as session:
        for day in days:
            runs = await crawl_vendor(vendor, session.fetch, asof=day)
            with engine.begin() as conn:
                replace_captures_partition(conn, vendor_id=vendor_id, partition_date=day, runs=runs)
            pending.append(loop.run_in_executor(workers, listings_step, vendor, day, database_url, vendor_id))
            for run in runs:
                assert run.status == "success", run.error
                pages += len(run.pages)
                urls.extend(p.response.requested_url for p in run.pages)
    listed = await asyncio.gather(*pending)
    assert all(listed)
    return pages, time.perf_counter() - started, urls


async def bare_get(urls: list[str], concurrency: int, transport: str = "httpcore") -> tuple[int, float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30,
                                 transport=make_transport(transport, max_connections=concurrency)) as client:
        async def worker() -> int:
            done = 0
            while not queue.empty():
                url = queue.get_nowait()
                response = await client.get(url)
                response.read()
                done += 1
            return done
        started = time.perf_counter()
        done = sum(await asyncio.gather(*(worker() for _ in range(concurrency))))
        return done, time.perf_counter() - started


SPIDER = textwrap.dedent('''
    import json, sys, time
    import scrapy
    from scrapy.crawler import CrawlerProcess

    start_urls, concurrency, feed = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

    class Toko(scrapy.Spider):
        name = "toko"
        custom_settings = {
            "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
            "HTTPCACHE_ENABLED": False, "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False,
            "FEEDS": {feed: {"format": "jsonlines"}}, "COOKIES_ENABLED": False, "RETRY_ENABLED": False,
        }

        async def start(self):
            self.t0 = time.perf_counter()
            for url in start_urls:
                yield scrapy.Request(url)

        def parse(self, response):
            for node in response.css("ul.results > li.listing"):
                yield {
                    "external_id": node.attrib.get("data-id"),
                    "title": node.css("a.title::text").get(),
                    "url": response.urljoin(node.css("a.title::attr(href)").get() or ""),
                    "price": node.css("span.price::text").get(),
                    "condition": node.css("span.condition::text").get(),
                    "location": node.css("span.location::text").get(),
                    "seller": node.css("span.seller::text").get(),
                    "images": [response.urljoin(u) for u in node.css("img.photo::attr(src)").getall()],
                    "attributes": dict(zip(node.css("dl.specs > dt::text").getall(),
                                           node.css("dl.specs > dd::text").getall())),
                    "sold": bool(node.css("span.badge.sold")),
                }
            next_page = response.css("a.next::attr(href)").get()
            if next_page:
                yield response.follow(next_page)

        def closed(self, reason):
            pages = self.crawler.stats.get_value("response_received_count")
            print(json.dumps({"pages": pages, "seconds": time.perf_counter() - self.t0}))

    process = CrawlerProcess()
    process.crawl(Toko)
    process.start()
''')


def scrapy_run(start_urls: list[str], concurrency: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "spider.py"
        script.write_text(SPIDER)
        out = subprocess.run([sys.executable, str(script), json.dumps(start_urls), str(concurrency),
                              str(Path(tmp) / "items.jsonl")], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        return int(result["pages"]), float(result["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(args.days)]

    with tempfile.TemporaryDirectory() as tmp:
        given = os.environ.get("MARKET_PULSE_BENCH_DATABASE_URL")
        server = None if given else EmbeddedPostgres(Path(tmp) / "pg")
        base = given or server.ensure_running().url("postgres")  # type: ignore[union-attr]
        database_url = with_database(base, "bench_scrape")
        ensure_database(database_url)
        migrate.downgrade(database_url, "base")
        migrate.upgrade(database_url)
        with engine_for(database_url).begin() as conn:
            from sqlalchemy import text
            vendor_id = conn.execute(text(
                "INSERT INTO vendors (name, display_name, base_url, currency) VALUES ('toko', 'Toko', 'x', 'IDR') "
                "RETURNING id")).scalar_one()
        try:
            with running_demo(subprocess_mode=True) as demo_url:
                vendor = bench_vendor(demo_url)
                start_urls = [vendor.search_url_template.format(query=q, page=1, asof=d)
                              .replace(" ", "+") for d in days for q in QUERIES]
                # warm the demo's render caches so every contender sees the same server
                workers = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
                _, _, urls = asyncio.run(ours(vendor, days, args.concurrency, database_url, vendor_id, workers))
                asyncio.run(bare_get(urls, args.concurrency))
                results: dict[str, list[float]] = {"bare GET": [], "bare aiohttp": [], "Scrapy": [], "ours": []}
                pages_seen: dict[str, int] = {}
                for _ in range(args.rounds):
                    n, secs = asyncio.run(bare_get(urls, args.concurrency))
                    results["bare GET"].append(n / secs)
                    pages_seen["bare GET"] = n
                    n, secs = asyncio.run(bare_get(urls, args.concurrency, transport="aiohttp"))
                    results["bare aiohttp"].append(n / secs)
                    pages_seen["bare aiohttp"] = n
                    n, secs = scrapy_run(start_urls, args.concurrency)
                    results["Scrapy"].append(n / secs)
                    pages_seen["Scrapy"] = n
                    n, secs, _ = asyncio.run(ours(vendor, days, args.concurrency, database_url, vendor_id, workers))
                    results["ours"].append(n / secs)
                    pages_seen["ours"] = n
        finally:
            if "workers" in locals():
                workers.shutdown(wait=True)
            engine_for(database_url).dispose()
            if server is not None:
                server.stop()

    rate = {name: statistics.median(values) for name, values in results.items()}
    print(f"toko, {args.days} days x {len(QUERIES)} queries, concurrency {args.concurrency}, "
          f"median of {args.rounds} rounds")
    for name in ("bare GET", "bare aiohttp", "Scrapy", "ours"):
        print(f"  {name:12s} {pages_seen[name]:5d} pages  {rate[name]:8.1f} pages/s")
    print(f"  ours / Scrapy   = {rate['ours'] / rate['Scrapy']:.2f}x (target >= 1.0)")
    print(f"  ours / bare GET = {rate['ours'] / rate['bare GET']:.2f}x (target >= 0.60)")
    print(f"  ours / bare GET on our transport = {rate['ours'] / rate['bare aiohttp']:.2f}x")


if __name__ == "__main__":
    main()
