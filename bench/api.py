"""The HTTP API under load: 50 concurrent clients, each with its own key, on a mix of a product's
price history, ``listings?q=`` and ``comps?q=``, against the same queries run as bare SQL (the
API's own SQL files through SQLAlchemy, same connection pool size, same concurrency) in the same run.

    uv run python bench/api.py [--listings 200000] [--observations 1000000] [--clients 50]
                               [--seconds 20] [--rounds 2]

The warehouse (embedded server, or MARKET_PULSE_BENCH_DATABASE_URL) gets ``--listings`` listings
titled "<brand> <line> <n>GB", ``--observations`` price observations and 30 days of snapshots for
2,000 products (bench/sql/seed_api.sql). The front door serves in its own process (uvicorn, as
``market-pulse web`` runs it) so the clients do not share its interpreter; clients are asyncio
tasks with httpx. Reported: requests per second, p50 / p95 / p99 latency per kind and overall, and
API p50 / bare SQL p50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.rollups import bench_database
from infra.database import engine_for
from pipelines.shared.sql import SqlFiles
from web import accounts
from web.api_keys import create_key
from web.api_v1 import store

SQL = SqlFiles.beside(__file__)
BRANDS = ["Galaxy", "iPhone", "Pixel", "Switch", "PlayStation", "Xbox", "MacBook", "ThinkPad", "Kindle", "AirPods",
          "Canon", "Nikon", "Sony", "Bose", "Dyson", "Lego", "Pokemon", "Garmin", "Fitbit", "GoPro"]
LINES = ["Pro", "Max", "Mini", "Ultra", "Lite", "Plus", "Air", "Neo", "Edge", "Flip"]
PRODUCTS = 2_000
KINDS = ("price-history", "listings?q=", "comps?q=")


def seed(url: str, listings: int, observations: int) -> Any:
    with engine_for(url).begin() as conn:
        SQL.run(conn, "seed_api", {"vendors": 5, "products": PRODUCTS, "listings": listings,
                                   "observations": observations})
        return SQL.one(conn, "count_api_rows")


def make_keys(url: str, n: int) -> list[str]:
    with engine_for(url).begin() as conn:
        accounts.add_user(conn, "bench", "bench@example.com", role="viewer", password="bench-password-123")
        return [create_key(conn, "bench", "read", expires_at=None).key for _ in range(n)]


def request_mix(rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    kind = rng.choice(KINDS)
    words = f"{rng.choice(BRANDS)} {rng.choice(LINES)}"
    if kind == "price-history":
        return kind, f"/api/v1/products/{rng.randint(1, PRODUCTS)}/price-history", {"days": 30}
    if kind == "listings?q=":
        return kind, "/api/v1/listings", {"q": words, "limit": 20}
    return kind, "/api/v1/comps", {"q": words, "days": 30, "limit": 20}


def bare_sql(url: str, kind: str, params: dict[str, Any], path: str) -> None:
    """What the route runs, minus HTTP, authentication and JSON."""
    with engine_for(url).connect() as conn:
        if kind == "price-history":
            product_id = int(path.split("/")[4])
            store.product(conn, product_id)
            store.product_snapshots(conn, product_id, 30)
        elif kind == "listings?q=":
            store.listings_page(conn, "newest", {"q": params["q"], "vendor": None, "min_price": None,
                                                 "max_price": None, "currency": None, "condition": None,
                                                 "sold": None}, None, 21)
        else:
            store.comps(conn, params["q"], 30, None, 20)


def serve_command(url: str, port: int) -> list[str]:
    code = ("import sys, uvicorn; from web.app import create_front_door; from web.config import load_config; "
            "door = create_front_door(load_config({'MARKET_PULSE_API_RATE_LIMIT': '1000000/minute'}), sys.argv[1]); "
            "uvicorn.run(door, host='127.0.0.1', port=int(sys.argv[2]), log_level='warning', server_header=False)")
    return [sys.executable, "-c", code, url, str(port)]


async def api_phase(base: str, keys: list[str], seconds: float, seed_value: int) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors = 0
    # Clients are made before the clock starts: making one builds an SSL context (CA certificates
    # loaded, ~50 ms of CPU that blocks the event loop), which 50 of them at once turned into
    # seconds of latency charged to the first requests.
    clients = [httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)
               for key in keys]
    stop = time.perf_counter() + seconds

    async def client(c: httpx.AsyncClient, n: int) -> None:
        nonlocal errors
        rng = random.Random(seed_value * 1000 + n)
        while time.perf_counter() < stop:
            kind, path, params = request_mix(rng)
            started = time.perf_counter()
            response = await c.get(path, params=params)
            latencies[kind].append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1

    try:
        await asyncio.gather(*(client(c, n) for n, c in enumerate(clients)))
    finally:
        for c in clients:
            await c.aclose()
    if errors:
        print(f"  {errors} API requests did not answer 200", file=sys.stderr)
    return latencies


def sql_phase(url: str, clients: int, seconds: float, seed_value: int) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        rng = random.Random(seed_value * 1000 + n)
        while time.perf_counter() < stop:
            kind, path, params = request_mix(rng)
            started = time.perf_counter()
            bare_sql(url, kind, params, path)
            elapsed = time.perf_counter() - started
            with lock:
                latencies[kind].append(elapsed)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(label: str, latencies: dict[str, list[float]], seconds: float) -> float:
    everything = [v for vs in latencies.values() for v in vs]
    print(f"| {label} | all | {len(everything) / seconds:.0f} | {percentile(everything, .5):.1f} | "
          f"{percentile(everything, .95):.1f} | {percentile(everything, .99):.1f} |")
    for kind in KINDS:
        vs = latencies[kind]
        print(f"| {label} | {kind} | {len(vs) / seconds:.0f} | {percentile(vs, .5):.1f} | {percentile(vs, .95):.1f} | "
              f"{percentile(vs, .99):.1f} |")
    return statistics.median(everything) * 1000


def wait_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 240
    while True:
        assert process.poll() is None, "the API server exited"
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=200_000)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with bench_database("mp_bench_api") as url:
        started = time.perf_counter()
        counts = seed(url, args.listings, args.observations)
        print(f"seeded {counts.listings} listings, {counts.observations} observations, {counts.snapshots} snapshots "
              f"in {time.perf_counter() - started:.0f} s")
        keys = make_keys(url, args.clients)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(serve_command(url, port), cwd=Path(__file__).resolve().parent.parent)
        try:
            wait_up(base, server)
            asyncio.run(api_phase(base, keys[:5], 2, 0))  # warm up pools and caches
            sql_phase(url, 5, 2, 0)
            print(f"\n{args.clients} clients, {args.seconds:.0f} s per phase, load {os.getloadavg()[0]:.2f}\n")
            print("| round / side | kind | req/s | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|---|")
            ratios = []
            for r in range(1, args.rounds + 1):
                api = asyncio.run(api_phase(base, keys, args.seconds, r))
                api_p50 = report(f"{r} API", api, args.seconds)
                bare = sql_phase(url, args.clients, args.seconds, r)
                sql_p50 = report(f"{r} bare SQL", bare, args.seconds)
                ratios.append(api_p50 / sql_p50)
            print(f"\nAPI p50 / bare SQL p50 per round: {', '.join(f'{x:.2f}x' for x in ratios)}; "
                  f"load after: {os.getloadavg()[0]:.2f}")
        finally:
            server.terminate()
            server.wait(timeout=15)
            engine_for(url).dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()


