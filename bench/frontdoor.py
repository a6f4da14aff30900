"""What the front door costs per request: Dagster's webserver app served bare vs through the front
door (Host and Origin checks, session lookup in PostgreSQL, GraphQL parse and role gate), in the
same run, on the same Dagster app object, both on uvicorn on 127.0.0.1.

    uv run python bench/frontdoor.py [--requests 300] [--rounds 3] [--concurrency 8]

Requests: ``GET /server_info`` (tiny JSON), ``GET /favicon.png`` (a static file), ``POST /graphql``
with ``{ version }`` (a GraphQL round trip). Latency is measured sequentially (median, p95 over all
rounds, the two servers alternating round by round); throughput with ``--concurrency`` threads.
Also: the time of a login (argon2id verification plus the session row).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from bench.rollups import bench_database
from infra.database import engine_for
from web import accounts
from web.app import create_front_door
from web.config import load_config

DEFS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "frontdoor" / "defs.py"
PASSWORD = "bench-password-123"
REQUESTS: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    "GET /server_info": lambda c: c.get("/server_info"),
    "GET /favicon.png": lambda c: c.get("/favicon.png"),
    "POST /graphql { version }": lambda c: c.post("/graphql", json={"query": "{ version }"}),
}


@contextmanager
def served(app: object, lifespan: str = "off") -> Iterator[str]:
    """``app`` on uvicorn in a thread of this process, on a free port, until the block ends."""
    sock_port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=sock_port, log_level="warning",
                                           lifespan=lifespan))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_for(url: str, login: bool) -> httpx.Client:
    client = httpx.Client(base_url=url, headers={"Origin": url}, timeout=30)
    if login:
        response = client.post("/login", data={"username": "bench", "password": PASSWORD})
        assert response.status_code == 303, response.text
    return client


def latencies(url: str, login: bool, name: str, count: int) -> list[float]:
    client = client_for(url, login)
    try:
        call = REQUESTS[name]
        assert call(client).status_code == 200
        out = []
        for _ in range(count):
            started = time.perf_counter()
            response = call(client)
            out.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        return out
    finally:
        client.close()


def throughput(url: str, login: bool, name: str, count: int, threads: int) -> float:
    clients = [client_for(url, login) for _ in range(threads)]
    call = REQUESTS[name]

    def work(client: httpx.Client) -> None:
        for _ in range(count // threads):
            assert call(client).status_code == 200

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, clients))
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return (count // threads) * threads / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home, bench_database("mp_bench_frontdoor") as url:
        os.environ["DAGSTER_HOME"] = home  # a fresh instance with default (local) storage
        workspace = Path(home) / "workspace.yaml"
        workspace.write_text(f"load_from:\n  - python_file:\n      relative_path: {DEFS}\n"
                             "      location_name: bench\n")
        with engine_for(url).begin() as conn:
            accounts.add_user(conn, "bench", "bench@example.com", role="operator", password=PASSWORD)
        from web.dagster_ui import dagster_webserver_app

        with dagster_webserver_app([str(workspace)]) as dagster_app:
            front = create_front_door(load_config({}), url)
            front.dagster = dagster_app
            with served(dagster_app) as bare_url, served(front) as front_url:
                rows = []
                for name in REQUESTS:
                    bare: list[float] = []
                    door: list[float] = []
                    for _ in range(args.rounds):
                        bare += latencies(bare_url, False, name, args.requests)
                        door += latencies(front_url, True, name, args.requests)
                    bare_rps = throughput(bare_url, False, name, args.requests, args.concurrency)
                    door_rps = throughput(front_url, True, name, args.requests, args.concurrency)
                    rows.append((name, bare, door, bare_rps, door_rps))
                logins = []
                for _ in range(10):
                    started = time.perf_counter()
                    client_for(front_url, True).close()
                    logins.append(time.perf_counter() - started)

    def ms(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if q != 50 else statistics.median(values) * 1000

    print(f"front door overhead, {args.rounds} rounds x {args.requests} requests, "
          f"concurrency {args.concurrency}, load {os.getloadavg()[0]:.1f}")
    print("| request | bare p50 ms | front door p50 ms | bare p95 ms | front door p95 ms | p50 ratio | "
          "bare req/s | front door req/s | throughput ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, bare, door, bare_rps, door_rps in rows:
        print(f"| `{name}` | {ms(bare, 50):.2f} | {ms(door, 50):.2f} | {ms(bare, 95):.2f} | {ms(door, 95):.2f} | "
              f"{ms(door, 50) / ms(bare, 50):.2f}x | {bare_rps:.0f} | {door_rps:.0f} | {door_rps / bare_rps:.2f}x |")
    print(f"login (argon2id verify + session row), median of 10: {statistics.median(logins) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
