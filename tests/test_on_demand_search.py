"""On-demand search end to end: the demo marketplace, the scheduled scrape's own code, a real
Dagster instance, the HTTP API on a real server and its event stream read by a real client."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dagster import AssetKey, DagsterInstance
from sqlalchemy import text

from demo.server import running_demo
from infra.settings import PROJECT_ROOT, READONLY
from pipelines.on_demand import store
from pipelines.on_demand.launcher import BackgroundSearches
from pipelines.on_demand.query import query_key
from pipelines.on_demand.search import SearchResources, run_search
from pipelines.scraping.schedule_rules import vendor_today
from pipelines.shared.partitions import day_vendor_key
from pipelines.vendors.resources import VendorRegistry
from tests.support.alert_data import add_search, add_user
from tests.support.alert_receivers import webhook_receiver
from tests.support.api_server import add_users_and_keys
from tests.support.databases import SessionRoles, warehouse_name
from tests.support.pipeline import ScrapingPipeline
from tests.support.servers import app_in_thread
from web.app import create_front_door
from web.config import load_config


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as url:
        yield url


@pytest.fixture(scope="module")
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as made:
        yield made


@pytest.fixture(scope="module")
def pipeline(database_url: str, demo_url: str, instance: DagsterInstance) -> ScrapingPipeline:
    pipeline = ScrapingPipeline(database_url, demo_url, instance=instance)
    assert pipeline.sync_vendors().success
    return pipeline


@pytest.fixture(scope="module")
def resources(pipeline: ScrapingPipeline, instance: DagsterInstance) -> SearchResources:
    return SearchResources.of(pipeline.resources, instance)


def _request(pipeline: ScrapingPipeline, query: str, vendors: list[str]) -> int:
    with pipeline.warehouse.begin() as conn:
        return store.create_request(conn, query=query, query_key=query_key(query), vendors=sorted(vendors))


def _events(pipeline: ScrapingPipeline, request_id: int) -> list[Any]:
    with pipeline.warehouse.connect() as conn:
        return store.events_after(conn, request_id, 0, limit=10_000)


def _today(pipeline: ScrapingPipeline, vendor: str) -> dt.date:
    return vendor_today(pipeline.registry.get(vendor))


def _search_positions(pipeline: ScrapingPipeline, vendor: str, day: dt.date, query: str) -> list[int]:
    with pipeline.warehouse.connect() as conn:
        return list(conn.execute(text(
            "SELECT r.listing_id FROM searches s JOIN search_results r ON r.search_id = s.id "
            "JOIN vendors v ON v.id = s.vendor_id WHERE v.name = :vendor AND s.partition_date = :day "
            "AND s.query = :query ORDER BY r.position"), {"vendor": vendor, "day": day, "query": query}).scalars())


def test_a_search_is_archived_and_published_as_the_day_scrape_would(pipeline: ScrapingPipeline,
                                                                    resources: SearchResources,
                                                                    instance: DagsterInstance) -> None:
    heard: list[tuple[str, str | None]] = []
    request_id = _request(pipeline, "Samsung  Galaxy", ["toko"])
    summary = run_search(resources, request_id, listener=lambda kind, vendor, _data: heard.append((kind, vendor)))
    events = _events(pipeline, request_id)
    kinds = [e.event_type for e in events]
    assert summary.status == "done" and summary.errors == []
    assert kinds[0] == "started" and kinds[-1] == "done" and "results" in kinds
    assert kinds.count("page") == summary.pages >= 2  # the query's pages, each as it came
    assert heard == [(e.event_type, e.vendor) for e in events]
    results = next(e.data for e in events if e.event_type == "results")
    day = _today(pipeline, "toko")
    assert results["count"] == summary.results > 0
    with pipeline.warehouse.connect() as conn:
        marked = conn.execute(text("SELECT count(*) FROM searches WHERE request_id = :id"), {"id": request_id}).scalar()
    assert marked == 1
    # What the search found is what the day's scrape of the same query publishes, in the same order.
    on_demand = [item["id"] for item in results["listings"]]
    assert pipeline.run(day, "toko").success
    assert _search_positions(pipeline, "toko", day, "Samsung Galaxy")[:len(on_demand)] == on_demand \
        or _search_positions(pipeline, "toko", day, "samsung galaxy")[:len(on_demand)] == on_demand
    partition = str(day_vendor_key(day, "toko"))
    for asset in ("raw_captures", "listings"):
        assert partition in instance.get_materialized_partitions(AssetKey(asset))


def test_the_day_scrape_keeps_what_an_on_demand_search_of_another_query_archived(
        pipeline: ScrapingPipeline, resources: SearchResources) -> None:
    day = _today(pipeline, "chapin")
    assert pipeline.run(day, "chapin").success
    request_id = _request(pipeline, "canon", ["chapin"])  # chapin does not track "canon"
    summary = run_search(resources, request_id)
    assert summary.status == "done", summary.errors
    found = _search_positions(pipeline, "chapin", day, "canon")
    assert found
    assert pipeline.run(day, "chapin").success  # re-run: its own queries replaced, the on-demand one kept
    assert _search_positions(pipeline, "chapin", day, "canon") == found
    with pipeline.warehouse.connect() as conn:
        tracked = set(conn.execute(text(
            "SELECT s.query FROM searches s JOIN vendors v ON v.id = s.vendor_id WHERE v.name = 'chapin' "
            "AND s.partition_date = :day AND s.request_id IS NULL"), {"day": day}).scalars())
    assert tracked == {"iphone", "samsung galaxy", "nintendo switch"}


def test_a_vendor_that_fails_fails_alone(pipeline: ScrapingPipeline, resources: SearchResources) -> None:
    request_id = _request(pipeline, "iphone", ["toko", "nowhere"])
    summary = run_search(resources, request_id)
    events = _events(pipeline, request_id)
    errors = [e for e in events if e.event_type == "error"]
    assert [e.vendor for e in errors] == ["nowhere"]
    assert "no vendor named 'nowhere'" in errors[0].data["message"]
    assert any(e.event_type == "results" and e.vendor == "toko" for e in events)
    assert summary.status == "done" and len(summary.errors) == 1
    with pipeline.warehouse.connect() as conn:
        row = store.request(conn, request_id)
    assert row is not None and row.status == "done" and "nowhere" in row.error


# -- over HTTP -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(database_url: str, test_roles: SessionRoles,
        resources: SearchResources) -> Iterator[tuple[str, dict[str, str]]]:
    keys = add_users_and_keys(database_url)
    door = create_front_door(load_config({}), database_url,
                             readonly_url=test_roles.url(warehouse_name(database_url), READONLY),
                             searches=BackgroundSearches(resources=lambda: resources))
    door.pages.state.meter.interval_seconds = 0.2
    with app_in_thread(door) as url:
        yield url, keys


def _stream(url: str, key: str, search_id: int) -> list[tuple[str, dict[str, Any]]]:
    out = []
    with httpx.stream("GET", f"{url}/api/v1/searches/{search_id}/events", timeout=60,
                      headers={"Authorization": f"Bearer {key}"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event is not None:
                out.append((event, json.loads(line.split(":", 1)[1])))
    return out


def test_post_a_search_stream_its_events_then_answer_from_it(api: tuple[str, dict[str, str]]) -> None:
    url, keys = api
    headers = {"Authorization": f"Bearer {keys['ana_write']}"}
    body = {"query": "playstation", "vendors": ["toko", "mercado"], "max_age_minutes": 30}
    started = httpx.post(f"{url}/api/v1/searches", json=body, headers=headers, timeout=30)
    assert started.status_code == 202, started.text
    search = started.json()
    assert search["cache_hit"] is False and search["status"] == "running"
    events = _stream(url, keys["ana_read"], search["id"])
    assert events[-1][0] == "done" and events[-1][1]["status"] == "done"
    results = {data["vendor"]: data for kind, data in events if kind == "results"}
    assert set(results) == {"toko", "mercado"}
    assert all(data["count"] > 0 and data["listings"][0]["title"] for data in results.values())
    final = httpx.get(f"{url}/api/v1/searches/{search['id']}", headers=headers, timeout=30).json()
    assert final["status"] == "done" and final["results"] == sum(d["count"] for d in results.values())
    assert {r["vendor"]: r["status"] for r in final["vendor_results"]} == {"toko": "results", "mercado": "results"}

    clock = time.perf_counter()
    again = httpx.post(f"{url}/api/v1/searches", headers=headers, timeout=30,
                       json={**body, "query": "  PlayStation ", "vendors": ["mercado", "toko"]})
    assert again.status_code == 200 and again.json()["cache_hit"] is True and again.json()["id"] == search["id"]
    assert time.perf_counter() - clock < 30
    fresh = httpx.post(f"{url}/api/v1/searches", headers=headers, json={**body, "max_age_minutes": 0}, timeout=30)
    assert fresh.status_code == 202 and fresh.json()["id"] != search["id"]
    _stream(url, keys["ana_read"], fresh.json()["id"])

    # Another user's search does not exist for bob; a read key cannot start one; unknown vendors are named.
    bob = {"Authorization": f"Bearer {keys['bob_read']}"}
    assert httpx.get(f"{url}/api/v1/searches/{search['id']}", headers=bob, timeout=30).status_code == 404
    assert httpx.get(f"{url}/api/v1/searches/{search['id']}/events", headers=bob, timeout=30).status_code == 404
    read_only = httpx.post(f"{url}/api/v1/searches", json=body, timeout=30,
                           headers={"Authorization": f"Bearer {keys['ana_read']}"})
    assert read_only.status_code == 403
    unknown = httpx.post(f"{url}/api/v1/searches", json={**body, "vendors": ["nowhere"]}, headers=headers, timeout=30)
    assert unknown.status_code == 422 and "nowhere" in unknown.json()["detail"]
    assert httpx.post(f"{url}/api/v1/searches", json=body, timeout=30, headers={"Origin": url}).status_code == 401


def test_usage_counts_searches_and_pages(api: tuple[str, dict[str, str]], database_url: str) -> None:
    url, keys = api
    headers = {"Authorization": f"Bearer {keys['bob_write']}"}
    started = httpx.post(f"{url}/api/v1/searches", headers=headers, timeout=30,
                         json={"query": "iphone", "vendors": ["chapin"], "max_age_minutes": 0})
    assert started.status_code == 202
    events = _stream(url, keys["bob_read"], started.json()["id"])
    pages = sum(1 for kind, _ in events if kind == "page")
    assert pages > 0
    deadline = time.monotonic() + 10
    from infra.database import engine_for

    while time.monotonic() < deadline:
        with engine_for(database_url).connect() as conn:
            row = conn.execute(text(
                "SELECT sum(u.searches) AS searches, sum(u.pages) AS pages FROM api_key_usage u "
                "JOIN api_keys k ON k.id = u.api_key_id JOIN users s ON s.id = k.user_id "
                "WHERE s.username = 'bob'")).one()
        if row.pages == pages:
            break
        time.sleep(0.2)
    assert (row.searches, row.pages) == (1, pages)


def test_without_a_launcher_a_search_is_refused_plainly(database_url: str, test_roles: SessionRoles,
                                                         api: tuple[str, dict[str, str]]) -> None:
    _url, keys = api
    door = create_front_door(load_config({}), database_url,
                             readonly_url=test_roles.url(warehouse_name(database_url), READONLY))
    with app_in_thread(door) as url:
        answer = httpx.post(f"{url}/api/v1/searches", json={"query": "iphone", "max_age_minutes": 0},
                            headers={"Authorization": f"Bearer {keys['ana_write']}"}, timeout=30)
    assert answer.status_code == 503 and "market-pulse web" in answer.json()["detail"]


def test_saved_searches_are_alerted_of_what_an_on_demand_search_published(
        pipeline: ScrapingPipeline, resources: SearchResources, secret_key: str) -> None:
    """As the listings step does: matched and sent right after the search's results, each once."""
    with webhook_receiver() as hook:
        with pipeline.warehouse.begin() as conn:
            add_search(conn, add_user(conn, "olga"), "pink iPhones", "iphone pink", vendors=["toko"],
                       urls=[hook.apprise_url("/single")])
        request_id = _request(pipeline, "iphone pink", ["toko"])
        assert run_search(resources, request_id).status == "done"
        results = next(e.data for e in _events(pipeline, request_id) if e.event_type == "results")
        pink = {item["id"] for item in results["listings"]
                if {"iphone", "pink"} <= set(item["title"].lower().split()) and not item["sold"]}
        assert pink
        sent = Counter(message.json["market_pulse"]["listing_id"] for message in hook.for_path("/single"))
        assert pink <= set(sent) and set(sent.values()) == {1}
        # The alert sensor would find nothing left to send for that partition: the rows say sent.
        with pipeline.warehouse.connect() as conn:
            statuses = set(conn.execute(text("SELECT status FROM notifications")).scalars())
        assert statuses == {"sent"}


def test_a_search_left_running_by_a_stopped_process_ends_failed(pipeline: ScrapingPipeline) -> None:
    with pipeline.warehouse.begin() as conn:
        stale, live = (store.create_request(conn, query="lamp", query_key="lamp", vendors=[vendor])
                       for vendor in ("toko", "chapin"))
        conn.execute(text("UPDATE search_requests SET created_at = now() - interval '20 minutes' WHERE id = :id"),
                     {"id": stale})
        assert store.fresh_request(conn, query_key="lamp", vendors=["toko"], max_age_minutes=60, user_id=None) is None
        assert store.fresh_request(conn, query_key="lamp", vendors=["chapin"], max_age_minutes=60,
                                   user_id=None) == live
        assert store.fail_abandoned(conn) == 1
        ended, running = store.request(conn, stale), store.request(conn, live)
    assert ended is not None and ended.status == "failed" and "stopped" in ended.error
    assert running is not None and running.status == "running"
    assert [e.event_type for e in _events(pipeline, stale)] == ["done"]


def test_a_vendor_switched_off_is_not_searched(pipeline: ScrapingPipeline, resources: SearchResources,
                                               demo_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "vendors"
    shutil.copytree(PROJECT_ROOT / "vendors", folder)
    chapin = folder / "chapin.yaml"
    chapin.write_text(chapin.read_text() + "\nenabled: false\n")
    switched_off = dataclasses.replace(resources, registry=VendorRegistry(directory=str(folder), demo_url=demo_url))
    request_id = _request(pipeline, "iphone", ["chapin"])
    summary = run_search(switched_off, request_id)
    assert summary.status == "failed" and summary.pages == 0
    first = _events(pipeline, request_id)[0]
    assert (first.event_type, first.data["message"]) == ("error", "chapin is switched off in its vendor file "
                                                                  "(enabled: false)")
