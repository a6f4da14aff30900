"""On-demand search over HTTP: how soon the first vendor's results arrive, and a cache hit.

    uv run python bench/on_demand.py [--rounds 6] [--vendors toko,chapin,cardvault,fynda,mercado]

A migrated warehouse (embedded server, or MARKET_PULSE_BENCH_DATABASE_URL), the demo marketplace and
the front door on uvicorn in this process with the pipeline's launcher, as ``market-pulse web`` runs
it (resources built before the first search). Each round POSTs a search not made before in the run
(``max_age_minutes: 0``) and reads its Server-Sent Events with a real client: the time from sending
the POST to the first ``page`` event, the first ``results`` event (target: ≤ 1.5 s) and ``done``.
Then the same search again with ``max_age_minutes: 60``: the whole cache-hit answer (target: ≤ 100 ms).

Baseline in the same run: ``GET /api/v1/me`` (authenticated, one small query) for the request cost,
and, per round, the first vendor's own crawl time (its first to last ``page`` event) so what the
archive and publish steps add after the crawl shows apart.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import httpx
from dagster import DagsterInstance, materialize

from bench.frontdoor import served
from bench.rollups import bench_database
from demo.server import running_demo
from infra.database import engine_for
from infra.settings import PROJECT_ROOT
from pipelines.alerts.admin import AdminTargets
from pipelines.on_demand.launcher import BackgroundSearches
from pipelines.on_demand.search import SearchResources
from pipelines.scraping.resources import BrowserFetcherResource, HttpFetcherResource
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.assets import vendor_catalog
from pipelines.vendors.resources import VendorRegistry
from web import accounts
from web.api_keys import create_key
from web.app import create_front_door
from web.config import load_config

QUERIES = ["iphone", "samsung galaxy", "playstation", "canon", "nintendo switch", "pikachu", "charizard", "base set",
           "pixel", "xbox", "macbook", "airpods"]


def one_round(client: httpx.Client, base: str, key: str, query: str, vendors: list[str]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    body = {"query": query, "vendors": vendors, "max_age_minutes": 0}
    clock = time.perf_counter()
    started = client.post(f"{base}/api/v1/searches", json=body, headers=headers)
    assert started.status_code == 202, started.text
    posted = time.perf_counter() - clock
    marks: dict[str, Any] = {"post": posted, "first_page": None, "first_results": None, "done": None,
                             "first_vendor": None, "crawl": None}
    page_times: dict[str, list[float]] = {}
    with client.stream("GET", f"{base}/api/v1/searches/{started.json()['id']}/events", headers=headers) as events:
        kind = None
        for line in events.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
                continue
            if not line.startswith("data:"):
                continue
            now = time.perf_counter() - clock
            data = json.loads(line.split(":", 1)[1])
            if kind == "page":
                page_times.setdefault(data["vendor"], []).append(now)
                marks["first_page"] = marks["first_page"] or now
            elif kind == "results" and marks["first_results"] is None:
                marks["first_results"], marks["first_vendor"] = now, data["vendor"]
                pages = page_times.get(data["vendor"], [now])
                marks["crawl"] = pages[-1] - pages[0]
                marks["after_crawl"] = now - pages[-1]
            elif kind == "done":
                marks["done"], marks["status"] = now, data["status"]
                break
    clock = time.perf_counter()
    again = client.post(f"{base}/api/v1/searches", json={**body, "max_age_minutes": 60}, headers=headers)
    marks["cache_hit"] = time.perf_counter() - clock
    assert again.status_code == 200 and again.json()["cache_hit"], again.text
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--vendors", default="toko,chapin,cardvault,fynda,mercado")
    args = parser.parse_args()
    vendors = sorted(args.vendors.split(","))
    with bench_database("bench_on_demand") as url, running_demo() as demo_url, \
            DagsterInstance.ephemeral() as instance:
        resources = {"warehouse": Warehouse(database_url=url),
                     "vendor_registry": VendorRegistry(directory=str(PROJECT_ROOT / "vendors"), demo_url=demo_url),
                     "http_fetcher": HttpFetcherResource(), "browser_fetcher": BrowserFetcherResource(),
                     "admin_targets": AdminTargets()}
        materialize([vendor_catalog], resources=resources, instance=instance)
        with engine_for(url).begin() as conn:
            accounts.add_user(conn, "bench", "bench@example.com", role="operator", password="bench-password-123")
            key = create_key(conn, "bench", "write", expires_at=None).key
        searches = BackgroundSearches(resources=lambda: SearchResources.of(resources, instance))
        searches.warm().result()
        app = create_front_door(load_config({}), url, searches=searches)
        with served(app, lifespan="on") as base, httpx.Client(timeout=120) as client:
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(20):  # warm the connection pools
                client.get(f"{base}/api/v1/me", headers=headers)
            me = []
            for _ in range(200):
                clock = time.perf_counter()
                client.get(f"{base}/api/v1/me", headers=headers)
                me.append(time.perf_counter() - clock)
            rounds = [one_round(client, base, key, query, vendors) for query in QUERIES[:args.rounds]]
            searches.close()
    load = os.getloadavg()[0]
    print(f"on-demand search over HTTP: {len(vendors)} vendors ({', '.join(vendors)}), {len(rounds)} rounds, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"{'query':<18}{'POST':>8}{'1st page':>10}{'1st results':>13}{'(vendor)':>11}{'its crawl':>11}"
          f"{'after crawl':>13}{'done':>8}{'cache hit':>11}")
    for query, r in zip(QUERIES, rounds, strict=False):
        print(f"{query:<18}{r['post'] * 1000:>6.0f}ms{r['first_page']:>9.2f}s{r['first_results']:>12.2f}s"
              f"{r['first_vendor']:>11}{r['crawl']:>10.2f}s{r['after_crawl']:>12.2f}s{r['done']:>7.2f}s"
              f"{r['cache_hit'] * 1000:>9.1f}ms")
    first = [r["first_results"] for r in rounds]
    hits = [r["cache_hit"] for r in rounds]
    me_ms = statistics.median(me) * 1000
    print(f"first vendor's results after the POST: median {statistics.median(first):.2f} s, max {max(first):.2f} s "
          f"(target <= 1.5 s)")
    print(f"cache hit answered: median {statistics.median(hits) * 1000:.1f} ms, max {max(hits) * 1000:.1f} ms "
          f"(target <= 100 ms); baseline GET /api/v1/me median {me_ms:.1f} ms -> "
          f"{statistics.median(hits) * 1000 / me_ms:.1f}x")


if __name__ == "__main__":
    main()
