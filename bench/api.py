"""The HTTP API under load: 50 (then 10) concurrent clients, each with its own key, on a mix of a
product's price history, ``listings?q=`` and ``comps?q=``, against the same queries run as bare
SQL in the same run.

    uv run python bench/api.py [--listings 200000] [--observations 1000000] [--clients 50,10]
                               [--seconds 20] [--rounds 2] [--rate 0 | --rate 60,150,250]

The warehouse (embedded server, or MARKET_PULSE_BENCH_DATABASE_URL) gets ``--listings`` listings
titled "<brand> <line> <n>GB", ``--observations`` price observations and 30 days of snapshots for
2,000 products (bench/sql/seed_api.sql). The front door serves in its own process (uvicorn, as
``market-pulse web`` runs it) so the clients do not share its interpreter; clients are asyncio
tasks with aiohttp. Bare SQL runs as the API's routes run their SQL, minus HTTP, keys and JSON: the
same number of asyncio tasks, each query in a worker thread through the API's read pool
(:class:`web.api_v1.reading.ReadPool`: same pool, same limiter, same concurrency). Reported per
client count: requests per second, p50 / p95 / p99 latency per kind and overall, and API p50 /
bare SQL p50. The clients send in a closed loop (each waits for its answer, then sends again:
the machine is always saturated and latency is mostly queueing); ``--rate`` adds open-loop
runs, the first client count sending that many requests per second in all on a fixed schedule
(see :class:`Pace`), one run per rate: where p95 stays under a target as the rate grows. Each round also runs the same
clients against an HTTP floor (uvicorn answering a constant 6 KB, nothing behind it): what HTTP alone
adds to a request here, to read API p50 minus bare SQL p50 against.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import Connection

from bench.rollups import bench_database
from infra.database import engine_for
from pipelines.shared.sql import SqlFiles
from web import accounts
from web.api_keys import create_key
from web.api_v1 import store
from web.api_v1.reading import ReadPool, read_engine_for

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
        return kind, f"/api/v1/products/{rng.randint(1, PRODUCTS)}/price-history", {"days": "30"}
    if kind == "listings?q=":
        return kind, "/api/v1/listings", {"q": words, "limit": "20"}
    return kind, "/api/v1/comps", {"q": words, "days": "30", "limit": "20"}


def bare_sql(kind: str, params: dict[str, Any], path: str, conn: Connection) -> None:
    """What the route runs, minus HTTP, authentication and JSON."""
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


FLOOR_APP = """
import sys, uvicorn
BODY = b'{"items": [' + b'{"title": "' + b'x' * 280 + b'"},' * 19 + b'{}]}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", server_header=False)
"""
"""The HTTP floor: the same server and client with nothing behind them, a constant answer of about a
listings page's size (6 KB). What HTTP alone adds to a request on this machine."""


def serve_command(url: str, port: int) -> list[str]:
    code = ("import sys, uvicorn; from web.app import create_front_door; from web.config import load_config; "
            "door = create_front_door(load_config({'MARKET_PULSE_API_RATE_LIMIT': '1000000/minute'}), sys.argv[1]); "
            "uvicorn.run(door, host='127.0.0.1', port=int(sys.argv[2]), log_level='warning', server_header=False)")
    return [sys.executable, "-c", code, url, str(port)]


class Pace:
    """When each client sends. Closed loop (``rate`` 0): the next request as soon as the last is
    answered, so the clients always keep the server busy and latency is mostly queueing. Open loop
    (``rate`` requests/s in all): each client sends on a fixed schedule, and a latency counts from
    when the request was due, so a server that falls behind is charged for it."""

    def __init__(self, rate: float, clients: int, n: int, seconds: float) -> None:
        self.period = clients / rate if rate else 0.0
        now = time.perf_counter()
        self.stop = now + seconds
        self.next_at = now + self.period * n / clients

    async def due(self) -> float | None:
        """The time the next request counts from; None once the phase is over."""
        if not self.period:
            now = time.perf_counter()
            return now if now < self.stop else None
        due, self.next_at = self.next_at, self.next_at + self.period
        if due >= self.stop:
            return None
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        return due


async def api_phase(base: str, keys: list[str], seconds: float, seed_value: int,
                    rate: float = 0) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors = 0
    # Sessions are made before the clock starts. aiohttp rather than httpx: httpx spent 2-3 ms of
    # CPU per request in this process, on the cores the server and PostgreSQL share with it.
    sessions = [aiohttp.ClientSession(base_url=base, headers={"Authorization": f"Bearer {key}"},
                                      timeout=aiohttp.ClientTimeout(total=30)) for key in keys]

    async def client(session: aiohttp.ClientSession, n: int) -> None:
        nonlocal errors
        rng = random.Random(seed_value * 1000 + n)
        pace = Pace(rate, len(keys), n, seconds)
        while (started := await pace.due()) is not None:
            kind, path, params = request_mix(rng)
            async with session.get(path, params=params) as response:
                await response.read()
            latencies[kind].append(time.perf_counter() - started)
            if response.status != 200:
                errors += 1

    try:
        await asyncio.gather(*(client(c, n) for n, c in enumerate(sessions)))
    finally:
        for c in sessions:
            await c.close()
    if errors:
        print(f"  {errors} API requests did not answer 200", file=sys.stderr)
    return latencies


async def sql_phase(url: str, clients: int, seconds: float, seed_value: int,
                    rate: float = 0) -> dict[str, list[float]]:
    """``clients`` tasks as the API's clients, each query run as a route runs it (a worker thread
    from the read pool's limiter, a connection of the same pool)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    reads = ReadPool(read_engine_for(url))

    async def client(n: int) -> None:
        rng = random.Random(seed_value * 1000 + n)
        pace = Pace(rate, clients, n, seconds)
        while (started := await pace.due()) is not None:
            kind, path, params = request_mix(rng)
            await reads.run(partial(bare_sql, kind, params, path))
            latencies[kind].append(time.perf_counter() - started)

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(label: str, latencies: dict[str, list[float]], seconds: float, per_kind: bool = True) -> float:
    everything = [v for vs in latencies.values() for v in vs]
    print(f"| {label} | all | {len(everything) / seconds:.0f} | {percentile(everything, .5):.1f} | "
          f"{percentile(everything, .95):.1f} | {percentile(everything, .99):.1f} |")
    for kind in KINDS if per_kind else ():
        vs = latencies[kind]
        print(f"| {label} | {kind} | {len(vs) / seconds:.0f} | {percentile(vs, .5):.1f} | {percentile(vs, .95):.1f} | "
              f"{percentile(vs, .99):.1f} |")
    return statistics.median(everything) * 1000


def compare(base: str, url: str, server_pid: int, keys: list[str], seconds: float, rounds: int,
            rate: float = 0, floor: str | None = None) -> None:
    """Rounds of API then bare SQL (then the HTTP floor, a constant answer, when ``floor`` is its
    base URL) with ``len(keys)`` clients; also the Python CPU each spends per request (the server's
    process, the clients' and bare SQL's: this process)."""
    clients = len(keys)
    loop = f"open loop, {rate:g} requests/s in all" if rate else "closed loop"
    print(f"\n{clients} clients ({loop}), {seconds:.0f} s per phase, load {os.getloadavg()[0]:.2f}\n")
    print("| round / side | kind | req/s | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|---|")
    ratios, cpu, overheads = [], [], []
    for r in range(1, rounds + 1):
        server_before, own_before = _cpu_seconds(server_pid), time.process_time()
        api = asyncio.run(api_phase(base, keys, seconds, r, rate))
        answered = sum(map(len, api.values()))
        server_ms = _per_request(_cpu_seconds(server_pid) - server_before, answered)
        client_ms = _per_request(time.process_time() - own_before, answered)
        api_p50 = report(f"{r} API", api, seconds)
        own_before = time.process_time()
        bare = asyncio.run(sql_phase(url, clients, seconds, r, rate))
        bare_ms = _per_request(time.process_time() - own_before, sum(map(len, bare.values())))
        bare_p50 = report(f"{r} bare SQL", bare, seconds)
        ratios.append(api_p50 / bare_p50)
        if floor:
            floor_p50 = report(f"{r} HTTP floor", asyncio.run(api_phase(floor, keys, seconds, r, rate)), seconds,
                               per_kind=False)
            overheads.append(f"{api_p50 - bare_p50:.1f} ms (floor {floor_p50:.1f})")
        cpu.append(f"round {r}: API server {server_ms}, its clients {client_ms}, bare SQL {bare_ms}")
    print(f"\n{clients} clients: API p50 / bare SQL p50 per round: {', '.join(f'{x:.2f}x' for x in ratios)}; "
          f"load after: {os.getloadavg()[0]:.2f}")
    if overheads:
        print("API p50 - bare SQL p50 per round, and the HTTP floor's p50: " + "; ".join(overheads))
    print("Python CPU per request, ms: " + "; ".join(cpu))


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
    parser.add_argument("--clients", default="50,10", help="concurrent clients, one run per number")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", default="0",
                        help="also open-loop runs at these many requests/s in all, comma-separated, e.g. 60,150 "
                             "(0: closed loop only)")
    args = parser.parse_args()
    counts_of_clients = [int(n) for n in str(args.clients).split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with bench_database("mp_bench_api") as url:
        started = time.perf_counter()
        counts = seed(url, args.listings, args.observations)
        print(f"seeded {counts.listings} listings, {counts.observations} observations, {counts.snapshots} snapshots "
              f"in {time.perf_counter() - started:.0f} s")
        keys = make_keys(url, max(counts_of_clients))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(serve_command(url, port), cwd=Path(__file__).resolve().parent.parent)
        floor_port = _free_port()
        floor = f"http://127.0.0.1:{floor_port}"
        floor_server = subprocess.Popen([sys.executable, "-c", FLOOR_APP, str(floor_port)])
        try:
            wait_up(base, server)
            wait_up(floor, floor_server)
            asyncio.run(api_phase(base, keys[:5], 2, 0))  # warm up pools and caches
            asyncio.run(sql_phase(url, 5, 2, 0))
            for clients in counts_of_clients:
                compare(base, url, server.pid, keys[:clients], args.seconds, args.rounds, floor=floor)
            for rate in (float(r) for r in str(args.rate).split(",") if float(r) > 0):
                compare(base, url, server.pid, keys[:counts_of_clients[0]], args.seconds, args.rounds, rate, floor)
        finally:
            floor_server.terminate()
            floor_server.wait(timeout=15)
            server.terminate()
            server.wait(timeout=15)
            engine_for(url).dispose()
            read_engine_for(url).dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per_request(cpu_seconds: float, requests: int) -> str:
    return f"{1000 * cpu_seconds / max(requests, 1):.2f}"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()


