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

Steady state: with ``--days 26`` or more (≥ 1,500 pages), start-up is kept out of every figure:
ours runs once before the timed rounds (worker process spawned, imports done, demo caches warm);
Scrapy's process start and imports are reported apart, and its steady rate is taken from its
10th-percentile response to its last (the reactor's ramp-up left out), beside the rate from its
``start()``.

CPU per page, end to end (process CPU seconds, repeatable on a loaded machine): ours is this
process's crawl and archive + the worker's listings step + the PostgreSQL backends serving both
(each backend's own CPU, read by its pid), split by phase; the demo server's CPU is reported apart
(it is the shop, not the scraper). Scrapy's is its process's CPU (with and without start-up; no
storage).

Run: ``uv run python bench/scrape.py [--days 12] [--concurrency 16] [--rounds 2]``.
Prints pages/s for each, the ratios and the CPU split. Uses an embedded PostgreSQL under a temp folder (or
``MARKET_PULSE_BENCH_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import psutil
import yaml
from sqlalchemy import Connection, text

from demo.server import running_demo
from downloader.http import HttpFetcher
from downloader.limits import RateLimit
from downloader.transport import make_transport
from infra import migrate
from infra.database import engine_for, ensure_database
from infra.embedded_postgres import EmbeddedPostgres
from infra.settings import PROJECT_ROOT, with_database
from pipelines.listings import publish
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


def backend_cpu(conn: Connection) -> float:
    """CPU seconds so far of the PostgreSQL backend serving ``conn`` (same machine)."""
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def listings_step(vendor: VendorConfig, day: dt.date, database_url: str, vendor_id: int) -> dict[str, float]:
    """The listings asset's work for one day (runs in a worker process, as a separate run would):
    read the archive, parse, stage, audit, publish. Returns items and CPU seconds by phase."""
    parse_cpu = [0.0]
    parse = publish.parse_partition

    def timed_parse(*args: object, **kwargs: object) -> object:
        t = time.process_time()
        try:
            return parse(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            parse_cpu[0] += time.process_time() - t

    publish.parse_partition = timed_parse  # type: ignore[assignment]
    try:
        t0 = time.process_time()
        with engine_for(database_url).begin() as conn:
            pg0 = backend_cpu(conn)
            archived = read_captures_partition(conn, vendor_id=vendor_id, partition_date=day)
            t1 = time.process_time()
            outcome = write_audit_publish(conn, vendor=vendor, vendor_id=vendor_id, day=day, pages=archived)
            pg1 = backend_cpu(conn)
        t2 = time.process_time()
    finally:
        publish.parse_partition = parse
    assert outcome.published, outcome.failure
    return {"items": len(outcome.parsed.items), "read": t1 - t0, "parse": parse_cpu[0],
            "stage+audit+publish (client)": t2 - t1 - parse_cpu[0], "postgres (listings)": pg1 - pg0}


async def ours(vendor: VendorConfig, days: list[dt.date], concurrency: int, database_url: str,
               vendor_id: int, workers: ProcessPoolExecutor) -> tuple[int, float, list[str], dict[str, float]]:
    """raw_captures for each day in this process; each day's listings step in a worker process
    as soon as its captures are committed (Dagster runs the two assets as separate steps and
    partitions as separate runs, so parsing overlaps with the next day's fetching).
    Also returns CPU seconds by phase (this process, the worker, their PostgreSQL backends)."""
    fetcher = HttpFetcher(max_connections=concurrency)
    engine = engine_for(database_url)
    pages = 0
    urls: list[str] = []
    pending = []
    cpu: dict[str, float] = {"crawl (fetch + probe)": 0.0, "archive (client)": 0.0, "postgres (archive)": 0.0}
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    process0 = time.process_time()
    async with fetcher.session(rate_limit=RateLimit(max_concurrency=concurrency), fence=fence_for(vendor)) as session:
        for day in days:
            t0 = time.process_time()
            runs = await crawl_vendor(vendor, session.fetch, asof=day)
            t1 = time.process_time()
            with engine.begin() as conn:
                pg0 = backend_cpu(conn)
                replace_captures_partition(conn, vendor_id=vendor_id, partition_date=day, runs=runs)
                pg1 = backend_cpu(conn)
            cpu["crawl (fetch + probe)"] += t1 - t0
            cpu["archive (client)"] += time.process_time() - t1
            cpu["postgres (archive)"] += pg1 - pg0
            pending.append(loop.run_in_executor(workers, listings_step, vendor, day, database_url, vendor_id))
            for run in runs:
                assert run.status == "success", run.error
                pages += len(run.pages)
                urls.extend(p.response.requested_url for p in run.pages)
    steps = await asyncio.gather(*pending)
    seconds = time.perf_counter() - started
    cpu["this process, other (loop, pool)"] = (time.process_time() - process0 - cpu["crawl (fetch + probe)"]
                                             - cpu["archive (client)"])
    assert all(step["items"] for step in steps)
    for step in steps:
        for key, value in step.items():
            if key != "items":
                cpu[key] = cpu.get(key, 0.0) + value
    return pages, seconds, urls, cpu
async def bare_get(urls: list[str], concurrency: int, transport: str = "httpcore") -> tuple[int, float]:
    """GET every URL, ``concurrency`` at a time; (pages, seconds). ``BARE_CPU`` gets the CPU seconds."""
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
        started, cpu = time.perf_counter(), time.process_time()
        done = sum(await asyncio.gather(*(worker() for _ in range(concurrency))))
        BARE_CPU[transport] = time.process_time() - cpu
        return done, time.perf_counter() - started


BARE_CPU: dict[str, float] = {}
"""CPU seconds of the last bare GET loop, by transport."""


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

        stamps = []

        async def start(self):
            self.t0 = time.perf_counter()
            self.cpu0 = time.process_time()
            for url in start_urls:
                yield scrapy.Request(url)

        def parse(self, response):
            self.stamps.append((time.perf_counter(), time.process_time()))
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
            k = len(self.stamps) // 10
            (tk, ck), (tn, cn) = self.stamps[k], self.stamps[-1]
            print(json.dumps({"pages": pages, "seconds": time.perf_counter() - self.t0,
                              "cpu_from_start": time.process_time() - self.cpu0,
                              "steady_pages": len(self.stamps) - 1 - k, "steady_seconds": tn - tk,
                              "steady_cpu": cn - ck}))

    process = CrawlerProcess()
    process.crawl(Toko)
    process.start()
''')


def scrapy_run(start_urls: list[str], concurrency: int) -> dict[str, float]:
    """Scrapy in its own process: pages, seconds from ``start()``, the steady window, CPU seconds
    (whole process with start-up, from ``start()``, steady window) and the process's wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "spider.py"
        script.write_text(SPIDER)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, str(script), json.dumps(start_urls), str(concurrency),
                              str(Path(tmp) / "items.jsonl")], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = {k: float(v) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}
        result["process_wall"] = wall
        result["process_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return result


def process_cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


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
                _, _, urls, _ = asyncio.run(ours(vendor, days, args.concurrency, database_url, vendor_id, workers))
                asyncio.run(bare_get(urls, args.concurrency))
                demo_pid = next(p.pid for p in psutil.Process().children() if "demo.server" in " ".join(p.cmdline()))
                results: dict[str, list[float]] = {"bare GET": [], "bare aiohttp": [], "Scrapy": [],
                                                   "Scrapy steady": [], "ours": []}
                pages_seen: dict[str, int] = {}
                cpu_rounds: list[dict[str, float]] = []
                scrapy_rounds: list[dict[str, float]] = []
                for _ in range(args.rounds):
                    n, secs = asyncio.run(bare_get(urls, args.concurrency))
                    results["bare GET"].append(n / secs)
                    pages_seen["bare GET"] = n
                    n, secs = asyncio.run(bare_get(urls, args.concurrency, transport="aiohttp"))
                    results["bare aiohttp"].append(n / secs)
                    pages_seen["bare aiohttp"] = n
                    bare_cpu = {k: v / n * 1000 for k, v in BARE_CPU.items()}
                    spider = scrapy_run(start_urls, args.concurrency)
                    results["Scrapy"].append(spider["pages"] / spider["seconds"])
                    results["Scrapy steady"].append(spider["steady_pages"] / spider["steady_seconds"])
                    pages_seen["Scrapy"] = int(spider["pages"])
                    pages_seen["Scrapy steady"] = int(spider["steady_pages"])
                    scrapy_rounds.append(spider)
                    demo0 = process_cpu(demo_pid)
                    n, secs, _, cpu = asyncio.run(ours(vendor, days, args.concurrency, database_url, vendor_id,
                                                       workers))
                    cpu["demo server (not ours)"] = process_cpu(demo_pid) - demo0
                    cpu_rounds.append({k: v / n * 1000 for k, v in cpu.items()})
                    results["ours"].append(n / secs)
                    pages_seen["ours"] = n
        finally:
            if "workers" in locals():
                workers.shutdown(wait=True)
            engine_for(database_url).dispose()
            if server is not None:
                server.stop()

    rate = {name: statistics.median(values) for name, values in results.items()}
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"toko, {args.days} days x {len(QUERIES)} queries, concurrency {args.concurrency}, "
          f"median of {args.rounds} rounds; load average {load}")
    for name in ("bare GET", "bare aiohttp", "Scrapy", "Scrapy steady", "ours"):
        print(f"  {name:13s} {pages_seen[name]:5d} pages  {rate[name]:8.1f} pages/s")
    spider = scrapy_rounds[-1]
    print(f"  Scrapy start-up (process start to start(), apart): {spider['process_wall'] - spider['seconds']:.2f} s")
    print(f"  ours / Scrapy             = {rate['ours'] / rate['Scrapy']:.2f}x (Scrapy from start())")
    print(f"  ours / Scrapy steady      = {rate['ours'] / rate['Scrapy steady']:.2f}x (target >= 2)")
    print(f"  ours / bare GET (httpcore) = {rate['ours'] / rate['bare GET']:.2f}x")
    print(f"  ours / bare GET on our transport = {rate['ours'] / rate['bare aiohttp']:.2f}x (target >= 0.35)")
    per_page = {k: statistics.median(r[k] for r in cpu_rounds) for k in cpu_rounds[0]}
    print("  CPU per page, ms (median of rounds):")
    for key, value in per_page.items():
        print(f"    {key:34s} {value:6.3f}")
    ours_total = sum(v for k, v in per_page.items() if k != "demo server (not ours)")
    python_only = sum(v for k, v in per_page.items() if not k.startswith(("postgres", "demo")))
    print(f"    {'ours end to end (with PostgreSQL)':34s} {ours_total:6.3f}  (target <= 1.5)")
    print(f"    {'ours, Python processes only':34s} {python_only:6.3f}")
    print(f"    {'bare GET loop, httpcore':34s} {bare_cpu['httpcore']:6.3f}")
    print(f"    {'bare GET loop, our transport':34s} {bare_cpu['aiohttp']:6.3f}  (ours end to end is "
          f"{ours_total / bare_cpu['aiohttp']:.1f}x its CPU: {bare_cpu['aiohttp'] / ours_total:.2f}x its pages "
          "per CPU second)")
    pages = spider["pages"]
    print(f"    {'Scrapy, whole process':34s} {spider['process_cpu'] / pages * 1000:6.3f}  "
          f"(from start(): {spider['cpu_from_start'] / pages * 1000:.3f}, steady: "
          f"{spider['steady_cpu'] / spider['steady_pages'] * 1000:.3f}; no storage)")

if __name__ == "__main__":
    main()
