"""Fault injection through the real pipeline: demo marketplace faults → raw_captures → listings.

Each test switches a fault on for one shop over HTTP (``POST /_faults``), re-runs the same
partition and checks, at the server (``/_stats``), that exactly the expected retries happened,
that ``searches`` / ``raw_captures`` say what went wrong, that nothing is duplicated or
half-written, and that the other shops are untouched.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dagster import DagsterInstance
from sqlalchemy import text

from demo.catalogue import get_catalogue
from demo.server import create_app, running_demo
from demo.shops import TRACKED_QUERIES
from pipelines.scraping.resources import BrowserFetcherResource, HttpFetcherResource
from tests.support.pipeline import ScrapingPipeline, failure_message, metadata
from tests.support.vendor_files import vendor_dir

DAY = dt.date(2026, 10, 5)
FAST_TOKO = {"rate_limit": {"requests_per_second": 50, "concurrency": 2}}


class Demo:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def faults(self, shop: str, *specs: dict[str, Any]) -> None:
        response = self.http.post("/_faults", json={"shop": shop, "faults": list(specs)})
        assert response.status_code == 200, response.text

    def robots(self, body: str | None, status: int = 200) -> None:
        assert self.http.post("/_faults", json={"robots_txt": body, "robots_status": status}).status_code == 200

    def clear(self) -> None:
        self.http.delete("/_faults")

    def reset_stats(self) -> None:
        self.http.post("/_stats/reset")

    def hits(self, shop: str, kind: str = "search") -> int:
        return self.http.get("/_stats").json()["shops"][shop].get(kind, 0)

    def injected(self, shop: str) -> int:
        return sum(f["injected"] for f in self.http.get("/_faults").json()["shops"].get(shop, []))


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    with running_demo() as url:
        yield Demo(url)


@pytest.fixture
def clean(demo: Demo) -> Iterator[Demo]:
    demo.clear()
    demo.reset_stats()
    yield demo
    demo.clear()


def build(database_url: str, demo: Demo, folder: Path, patches: dict[str, dict[str, Any]] | None = None,
          **fetcher: Any) -> ScrapingPipeline:
    merged = {"toko": FAST_TOKO, **(patches or {})}
    pipeline = ScrapingPipeline(database_url, demo.url, vendors_dir=str(vendor_dir(folder, merged)))
    pipeline.resources["http_fetcher"] = HttpFetcherResource(**{"backoff_initial_s": 0.02, "backoff_max_s": 0.1,
                                                        "retry_after_max_s": 2.0, **fetcher})
    assert pipeline.sync_vendors().success
    return pipeline


def searches(pipeline: ScrapingPipeline, shop: str, day: dt.date = DAY) -> list[Any]:
    with pipeline.warehouse.connect() as conn:
        return conn.execute(text("""
            SELECT s.query, s.status, s.pages, s.items, s.requests, s.error, s.cache_hit,
                   (SELECT count(*) FROM raw_captures c WHERE c.search_id = s.id) AS captures,
                   (SELECT coalesce(sum(c.attempts), 0) FROM raw_captures c WHERE c.search_id = s.id) AS attempts
            FROM searches s JOIN vendors v ON v.id = s.vendor_id
            WHERE v.name = :shop AND s.partition_date = :day ORDER BY s.query""", ), {"shop": shop, "day": day}).all()


def orphans(pipeline: ScrapingPipeline) -> int:
    with pipeline.warehouse.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM raw_captures WHERE search_id IS NULL")).scalar_one()


def truth_count(shop: str, day: dt.date = DAY) -> int:
    catalogue = get_catalogue(42)
    return len({s.id for q in TRACKED_QUERIES[shop] for s in catalogue.search(shop, q, day)})


@pytest.fixture(scope="module")
def baseline(database_url: str, demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A fault-free run of toko on DAY: how many search requests and items it takes."""
    demo.clear()
    pipeline = build(database_url, demo, tmp_path_factory.mktemp("base"))
    demo.reset_stats()
    result = pipeline.run(DAY, "toko")
    assert result.success, failure_message(result)
    rows = searches(pipeline, "toko")
    assert [r.status for r in rows] == ["success"] * 3
    return {"requests": demo.hits("toko"), "pages": sum(r.pages for r in rows),
            "items": {r.query: r.items for r in rows}, "listings": metadata(result, "listings")["listings_seen"]}


def assert_complete(pipeline: ScrapingPipeline, result: Any, baseline: dict[str, Any]) -> None:
    assert result.success, failure_message(result)
    rows = searches(pipeline, "toko")
    assert [r.status for r in rows] == ["success"] * 3, [(r.query, r.error) for r in rows]
    assert {r.query: r.items for r in rows} == baseline["items"]
    assert sum(r.captures for r in rows) == baseline["pages"], "one capture per page: nothing duplicated"
    assert metadata(result, "listings")["listings_seen"] == baseline["listings"] == truth_count("toko")
    assert orphans(pipeline) == 0


@pytest.mark.parametrize(("spec", "extra"), [
    ({"mode": "rate_limit", "times": 2, "retry_after": 1}, 2),
    ({"mode": "rate_limit", "times": 1, "retry_after": 1, "retry_after_format": "http-date"}, 1),
    ({"mode": "unavailable", "times": 2}, 2),
    ({"mode": "reset", "times": 2}, 2),
    ({"mode": "truncate", "times": 1}, 1),
    ({"mode": "truncate_html", "times": 1}, 1),
], ids=["429", "429-http-date", "503-burst", "reset", "truncate", "truncate-html"])
def test_transient_faults_are_retried_to_a_complete_partition(
        database_url: str, clean: Demo, tmp_path: Path, baseline: dict[str, Any], spec: dict[str, Any],
        extra: int) -> None:
    pipeline = build(database_url, clean, tmp_path)
    clean.faults("toko", {**spec, "kinds": ["search"]})
    started = time.monotonic()
    result = pipeline.run(DAY, "toko")
    assert_complete(pipeline, result, baseline)
    assert clean.injected("toko") == extra
    assert clean.hits("toko") == baseline["requests"] + extra, "exactly one retry per injected fault"
    rows = searches(pipeline, "toko")
    assert sum(r.attempts for r in rows) == baseline["pages"] + extra, "raw_captures.attempts count the retries"
    assert sum(r.requests for r in rows) == baseline["pages"] + extra
    if spec["mode"] == "rate_limit":
        assert time.monotonic() - started >= 0.9, "Retry-After was honoured"


def test_a_slow_page_times_out_and_is_recorded(database_url: str, clean: Demo, tmp_path: Path,
                                               baseline: dict[str, Any]) -> None:
    pipeline = build(database_url, clean, tmp_path, {"toko": {**FAST_TOKO, "fetch": {"timeout_seconds": 0.5}}})
    clean.faults("toko", {"mode": "slow", "delay": 1.5, "times": 1, "kinds": ["search"]})
    result = pipeline.run(DAY, "toko")
    assert result.success, "one bad search does not fail the vendor"
    rows = searches(pipeline, "toko")
    bad = [r for r in rows if r.status != "success"]
    assert len(bad) == 1 and bad[0].status == "failed"
    assert bad[0].error == "page 1: timeout after 0.5s (total)"
    assert clean.hits("toko") == baseline["requests"] - (baseline["pages"] - sum(r.pages for r in rows)), \
        "a timeout is not retried"
    assert metadata(result, "raw_captures")["searches_by_status"] == {"success": 2, "partial": 0, "failed": 1}


def test_a_hung_scrape_is_stopped_at_its_maximum_run_time(database_url: str, clean: Demo, tmp_path: Path) -> None:
    """Every page hangs (well within the per-page timeout): the run's dagster/max_runtime bounds
    the whole crawl, which stops itself with a message naming the vendor; nothing is archived."""
    from pipelines.scraping.schedules import SCRAPE_JOB

    assert SCRAPE_JOB.run_tags["dagster/max_runtime"] == "3600", "scheduled runs carry it"
    pipeline = build(database_url, clean, tmp_path, {"toko": {**FAST_TOKO, "fetch": {"timeout_seconds": 60}}})
    before = searches(pipeline, "toko")  # what earlier runs of this partition left
    clean.faults("toko", {"mode": "slow", "delay": 30, "kinds": ["search"]})
    started = time.monotonic()
    result = pipeline.run(DAY, "toko", tags={"dagster/max_runtime": "3"})
    assert time.monotonic() - started < 20
    assert not result.success
    message = failure_message(result)
    assert "toko: the crawl of 3 search(es) did not finish within its maximum run time of 2.7 s and was stopped" \
        in message and "dagster/max_runtime" in message
    assert searches(pipeline, "toko") == before, "nothing half-written: the partition is as it was"


def test_malformed_and_huge_pages_are_errors_not_data(database_url: str, clean: Demo, tmp_path: Path,
                                                      baseline: dict[str, Any]) -> None:
    pipeline = build(database_url, clean, tmp_path)
    clean.faults("toko", {"mode": "malformed", "times": 1, "kinds": ["search"]},
                 {"mode": "huge", "after": 3, "times": 1, "kinds": ["search"]})
    result = pipeline.run(DAY, "toko")
    assert result.success
    rows = searches(pipeline, "toko")
    errors = sorted(r.error.split(": ", 1)[1] for r in rows if r.error)
    assert errors == ["binary body, not HTML", "body larger than 10485760 bytes (Content-Length 20971520)"]
    assert {r.status for r in rows if r.error} <= {"failed", "partial"}
    assert clean.injected("toko") == 2 and clean.hits("toko") < baseline["requests"], "neither is retried"
    with pipeline.warehouse.connect() as conn:
        big = conn.execute(text("SELECT bytes, body_sha256, error FROM raw_captures WHERE error LIKE 'body larger%'")
                           ).one()
    assert big.body_sha256 is None and big.bytes < 1024 * 1024, "the 20 MB body was never read"
    assert orphans(pipeline) == 0


def test_a_changed_layout_fails_every_search_loudly(database_url: str, clean: Demo, tmp_path: Path,
                                                    baseline: dict[str, Any]) -> None:
    pipeline = build(database_url, clean, tmp_path)
    assert pipeline.run(DAY, "toko").success
    with pipeline.warehouse.connect() as conn:
        listings_before = conn.execute(text("SELECT count(*) FROM listing_sightings")).scalar_one()
    clean.faults("toko", {"mode": "layout", "kinds": ["search"]})
    result = pipeline.run(DAY, "toko")
    assert not result.success
    assert "toko: every search failed" in failure_message(result)
    rows = searches(pipeline, "toko")
    assert [r.status for r in rows] == ["failed"] * 3
    assert all("page marker 'ul.results' not found" in r.error for r in rows)
    with pipeline.warehouse.connect() as conn:
        kept = conn.execute(text("SELECT count(*) FROM raw_captures WHERE body_sha256 IS NOT NULL "
                                 "AND error IS NULL AND partition_date = :day"), {"day": DAY}).scalar_one()
        assert kept == 3, "the changed pages are archived for diagnosis"
        assert conn.execute(text("SELECT count(*) FROM listing_sightings")).scalar_one() == listings_before, \
            "listings were not re-derived from broken pages"


def test_redirect_loops_are_capped(database_url: str, clean: Demo, tmp_path: Path) -> None:
    pipeline = build(database_url, clean, tmp_path)
    clean.faults("toko", {"mode": "redirect_loop", "kinds": ["search"]})
    result = pipeline.run(DAY, "toko")
    assert not result.success
    rows = searches(pipeline, "toko")
    assert all(r.error == "page 1: too many redirects (more than 5)" for r in rows)
    assert clean.hits("toko") == 3 * 6, "first request + 5 hops per query, no retries"


def test_circuit_breaker_stops_hammering_and_other_shops_are_untouched(
        database_url: str, clean: Demo, tmp_path: Path) -> None:
    queries = ["iphone", "samsung galaxy", "playstation", "xbox", "nintendo", "sony"]
    pipeline = build(database_url, clean, tmp_path, {"toko": {
        "queries": queries, "rate_limit": {"requests_per_second": 50, "concurrency": 1},
        "fetch": {"max_attempts": 2, "max_consecutive_failures": 2}}})
    clean.faults("toko", {"mode": "unavailable"})
    result = pipeline.run(DAY, "toko")
    assert not result.success
    rows = searches(pipeline, "toko")
    assert len(rows) == 6 and all(r.status == "failed" for r in rows)
    circuit = [r for r in rows if "circuit open" in r.error]
    assert len(circuit) >= 3
    assert "circuit open: toko failed 2 times in a row (last: HTTP 503 Service Unavailable after 2 attempt(s))" \
        in circuit[0].error
    # All six first pages were queued at once (concurrency 1); the first two queries then used their
    # retry and failed, the circuit opened, and the four queued retries were never sent: 8, not 12.
    assert clean.hits("toko") == 6 + 2
    with pipeline.warehouse.connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM search_events WHERE event_type = 'circuit_open'")).scalar_one()
    assert events >= 1
    # a faulty vendor never fails another vendor's partition
    other = pipeline.run(DAY, "chapin")
    assert other.success, failure_message(other)
    assert metadata(other, "listings")["listings_seen"] == truth_count("chapin")
    assert [r.status for r in searches(pipeline, "chapin")] == ["success"] * 3


def test_robots_txt_is_obeyed_unless_the_vendor_says_otherwise(database_url: str, clean: Demo,
                                                               tmp_path: Path) -> None:
    clean.robots("User-agent: *\nDisallow: /toko/\n")
    obeying = build(database_url, clean, tmp_path / "a")
    result = obeying.run(DAY, "toko")
    assert not result.success
    rows = searches(obeying, "toko")
    assert all(r.error.startswith("page 1: disallowed by robots.txt (http://127.0.0.1:") for r in rows)
    assert clean.hits("toko") == 0 and clean.hits("site", "robots") == 1
    assert obeying.run(DAY, "chapin").success, "other paths are still allowed"

    ignoring = build(database_url, clean, tmp_path / "b", {"toko": {**FAST_TOKO, "fetch": {"obey_robots": False}}})
    ignoring.instance = DagsterInstance.ephemeral()
    result = ignoring.run(DAY, "toko")
    assert result.success, failure_message(result)
    logs = [entry.user_message for entry in ignoring.instance.all_logs(result.run_id)]
    assert any("toko: robots.txt is NOT obeyed (fetch.obey_robots: false" in m for m in logs)
    assert metadata(result, "raw_captures")["robots"] == "ignored (obey_robots: false)"


def test_adaptive_throttle_slows_down_under_429s(database_url: str, clean: Demo, tmp_path: Path,
                                                 baseline: dict[str, Any]) -> None:
    pipeline = build(database_url, clean, tmp_path, {"toko": {
        "rate_limit": {"requests_per_second": 50, "concurrency": 2, "adaptive": True, "max_delay_seconds": 2}}})
    clean.faults("toko", {"mode": "rate_limit", "every": 4, "retry_after": 0, "kinds": ["search"]})
    result = pipeline.run(DAY, "toko")
    assert_complete(pipeline, result, baseline)
    captured = metadata(result, "raw_captures")
    assert captured["throttle_slowdowns"] == clean.injected("toko") > 0
    assert captured["throttle_peak_delay_s"] >= 0.04, "delay doubled from its 0.02 s floor"


def test_faults_are_switchable_from_python_too() -> None:
    from demo.faults import RateLimited
    from demo.server import SITE

    app = create_app()
    site = app[SITE]
    site.faults.configure("toko", [{"mode": "unavailable", "times": 1}])
    assert site.faults.describe()["shops"]["toko"][0]["mode"] == "unavailable"
    site.faults.set("chapin", RateLimited(retry_after=3))
    assert [f["mode"] for f in site.faults.describe()["shops"]["chapin"]] == ["rate_limit"]
    site.faults.clear()
    assert site.faults.describe()["shops"] == {}


def test_fault_admin_rejects_bad_specs(clean: Demo) -> None:
    bad = clean.http.post("/_faults", json={"shop": "toko", "faults": [{"mode": "slow", "dealy": 1}]})
    assert bad.status_code == 400 and "unknown option(s) dealy" in bad.json()["error"]
    unknown = clean.http.post("/_faults", json={"shop": "nope", "faults": []})
    assert unknown.status_code == 400 and "unknown shop 'nope'" in unknown.json()["error"]


@pytest.mark.browser
@pytest.mark.slow
def test_browser_vendor_retries_a_503_navigation(database_url: str, clean: Demo, tmp_path: Path) -> None:
    pipeline = build(database_url, clean, tmp_path, {"mercado": {"rate_limit": {"requests_per_second": 20}}})
    pipeline.resources["browser_fetcher"] = BrowserFetcherResource(backoff_initial_s=0.05, backoff_max_s=0.1)
    clean.faults("mercado", {"mode": "unavailable", "times": 1, "kinds": ["search"]})
    result = pipeline.run(DAY, "mercado")
    assert result.success, failure_message(result)
    rows = searches(pipeline, "mercado")
    assert [r.status for r in rows] == ["success"] * 3
    assert sum(r.attempts for r in rows) == sum(r.pages for r in rows) + 1
    assert metadata(result, "listings")["listings_seen"] == truth_count("mercado")
