"""Benchmark: pages/s served by the demo marketplace on one core.

The demo server must never be the bottleneck of scraper benchmarks, so this measures it alone:
the server runs in a subprocess (pinned to one CPU when the machine has two or more), and an
aiohttp client in this process keeps `--concurrency` requests in flight over distinct pages
(every shop, tracked query, page/cursor and a sample of detail pages, over `--days` as-of
days), loopback only, with a bounded request count. Three phases are reported:

- warm-up: first page of every (shop, query, day); builds the catalogue days (cold path);
- distinct: every other page once, so each response is rendered (catalogue already warm);
- cached: the last 800 of those pages five times over (rendered-bytes cache hits).

Wall-clock pages/s depends on what else runs on the machine; "pages per server CPU-second"
(the server's own user+system time from /proc) is the robust one-core capacity figure.

Usage: uv run python bench/demo_server.py [--days 40] [--concurrency 16] [--max-requests 6000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.catalogue import Catalogue  # noqa: E402
from demo.render import encode_cursor  # noqa: E402
from demo.shops import SHOPS, TRACKED_QUERIES  # noqa: E402


def page_urls(catalogue: Catalogue, shop: str, q: str, day: date) -> list[str]:
    """Every result page of one query on one day, in crawl order (page 1 first)."""
    results = catalogue.search(shop, q, day)
    size = SHOPS[shop].page_size
    pages = max(1, -(-len(results) // size))
    qq, asof = quote_plus(q), day.isoformat()
    if shop == "toko":
        return [f"/toko/search?q={qq}&page={n}&asof={asof}" for n in range(1, pages + 1)]
    if shop == "mercado":
        return [f"/mercado/data?q={qq}&page={n}&asof={asof}" for n in range(1, pages + 1)]
    if shop == "chapin":
        urls = [f"/chapin/api/search?q={qq}&asof={asof}"]
        return urls + [f"/chapin/api/search?q={qq}&cursor={encode_cursor(n * size)}&asof={asof}"
                       for n in range(1, pages)]
    urls = [f"/cardvault/search?q={qq}&asof={asof}"]
    return urls + [f"/cardvault/search?q={qq}&after={results[n * size - 1].id}&asof={asof}"
                   for n in range(1, pages)]


def detail_url(shop: str, listing_id: str, day: date) -> str:
    path = {"toko": "/toko/item/", "chapin": "/chapin/api/item/", "mercado": "/mercado/data/producto/",
            "cardvault": "/cardvault/card/"}[shop]
    return f"{path}{listing_id}?asof={day.isoformat()}"


def plan(days: int, start: date, details_per_query: int) -> tuple[list[str], list[str]]:
    catalogue = Catalogue(42)
    warm, rest = [], []
    for i in range(days):
        day = start + timedelta(days=i)
        for shop, queries in TRACKED_QUERIES.items():
            for q in queries:
                urls = page_urls(catalogue, shop, q, day)
                warm.append(urls[0])
                rest += urls[1:]
                rest += [detail_url(shop, s.id, day) for s in catalogue.search(shop, q, day)[:details_per_query]]
    return warm, rest


async def fetch_all(base: str, urls: list[str], concurrency: int) -> tuple[float, int, int]:
    """GET every URL once over `concurrency` keep-alive connections; (seconds, bytes, non-2xx).

    A deliberately minimal HTTP/1.1 client (asyncio streams, Content-Length framing): a full
    client library costs more CPU per request than the server does, and would measure itself.
    """
    host, port = base.removeprefix("http://").split(":")
    total_bytes = 0
    errors = 0
    it = iter(urls)

    async def worker() -> None:
        nonlocal total_bytes, errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for url in it:
                writer.write(f"GET {url} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                        break
                body = await reader.readexactly(length)
                total_bytes += len(body)
                if status >= 300:
                    errors += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0, total_bytes, errors


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (Linux /proc), to measure the server alone."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, count: int, seconds: float, server_cpu: float, nbytes: int, errors: int) -> None:
    per_cpu = f"{count / server_cpu:8.0f}" if server_cpu > 0 else "     n/a"
    print(f"{name:9s} {count:6d} pages in {seconds:6.2f}s = {count / seconds:7.0f} pages/s wall, "
          f"{per_cpu} pages per server CPU-second ({nbytes / seconds / 1e6:5.1f} MB/s, {errors} non-2xx)")


@contextlib.contextmanager
def server_process(cpu: int | None) -> Iterator[tuple[str, int]]:
    """Start `python -m demo.server --port 0` (pinned to `cpu` if given); yield (base URL, pid)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    proc = subprocess.Popen([sys.executable, "-m", "demo.server", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True, preexec_fn=pin)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://\S+", line)
        if match is None:
            raise SystemExit(f"demo server did not start: {line!r}")
        yield match.group(0), proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--start", default="2026-10-01")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=8_000)
    parser.add_argument("--details-per-query", type=int, default=5)
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and client to separate CPUs")
    args = parser.parse_args()

    warm, rest = plan(args.days, date.fromisoformat(args.start), args.details_per_query)
    rest = rest[: args.max_requests]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu = cpus[0] if len(cpus) >= 2 and not args.no_pin else None
    if server_cpu is not None:
        os.sched_setaffinity(0, set(cpus[1:]))
    with server_process(server_cpu) as (base, pid):
        where = f"server pinned to CPU {server_cpu}, client on {cpus[1:]}" if server_cpu is not None else "unpinned"
        print(f"demo server at {base} ({where}); concurrency {args.concurrency}")
        hot = rest[-800:] * 5  # recently rendered pages: all still in the server's caches
        for name, urls in (("warm-up", warm), ("distinct", rest), ("cached", hot)):
            cpu0, me0 = cpu_seconds(pid), time.process_time()
            seconds, nbytes, errors = asyncio.run(fetch_all(base, urls, args.concurrency))
            report(name, len(urls), seconds, cpu_seconds(pid) - cpu0, nbytes, errors)
            print(f"          client CPU {time.process_time() - me0:.2f}s")


if __name__ == "__main__":
    main()
