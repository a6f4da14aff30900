"""Vendor sessions through the real pipeline: the demo's login wall, both fetchers, and no leaks.

The demo shop answers only requests carrying the session cookie; everything else is redirected
to ``/<shop>/login`` (a page with ``form#login``). With ``valid_for`` the cookie stops working
mid-crawl, like a session that expires while we scrape.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dagster import DagsterInstance
from sqlalchemy import text

from demo.server import running_demo
from infra.secrets import SecretBox, generate_key
from pipelines.scraping.resources import HttpFetcherResource
from pipelines.scraping.sessions import Cookie, import_session
from pipelines.shared.resources import SecretBoxResource
from pipelines.vendors.store import vendor_id_for
from tests.support.pipeline import ScrapingPipeline, failure_message, metadata
from tests.support.vendor_files import vendor_dir

DAY = dt.date(2026, 10, 8)
SECRET = "Zx9-session-cookie-value-7781"
KEY = generate_key()
SESSION_RULES = {"login_redirect_pattern": "/login(\\?|$)", "login_marker": {"css": "form#login"}}
PATCHES = {
    "toko": {"session": SESSION_RULES, "rate_limit": {"requests_per_second": 50, "concurrency": 2}},
    "mercado": {"session": SESSION_RULES, "rate_limit": {"requests_per_second": 20, "concurrency": 2}},
}


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as url:
        yield url


@pytest.fixture(scope="module")
def pipeline(database_url: str, demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> ScrapingPipeline:
    folder = vendor_dir(tmp_path_factory.mktemp("vendors"), PATCHES)
    pipeline = ScrapingPipeline(database_url, demo_url, vendors_dir=str(folder), instance=DagsterInstance.ephemeral())
    pipeline.resources["vendor_secrets"] = SecretBoxResource(secret_key=KEY)
    pipeline.resources["http_fetcher"] = HttpFetcherResource(backoff_initial_s=0.02, backoff_max_s=0.05)
    assert pipeline.sync_vendors().success
    return pipeline


def demo(url: str, shop: str, **wall: Any) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10)
    client.delete("/_faults")
    client.post("/_stats/reset")
    spec = {"mode": "login_wall", "cookie": "demo_session", "value": SECRET, **wall}
    assert client.post("/_faults", json={"shop": shop, "faults": [spec]}).status_code == 200
    return client


def store_session(pipeline: ScrapingPipeline, shop: str) -> int:
    with pipeline.warehouse.begin() as conn:
        return import_session(conn, SecretBox(secret_key=KEY), vendor=pipeline.registry.get(shop),
                              vendor_id=vendor_id_for(conn, shop), source="test",
                              cookies=[Cookie(name="demo_session", value=SECRET, domain="127.0.0.1", path="/",
                                              expires=dt.datetime.now(dt.UTC).timestamp() + 3600)])


def session_row(pipeline: ScrapingPipeline, session_id: int) -> Any:
    with pipeline.warehouse.connect() as conn:
        return conn.execute(text("SELECT is_valid, invalid_reason, last_used_at FROM vendor_sessions WHERE id = :id"),
                            {"id": session_id}).one()


def everything_recorded(pipeline: ScrapingPipeline, result: Any, caplog: pytest.LogCaptureFixture) -> str:
    """Logs (Python and Dagster), every metadata value and failure, and the warehouse's text columns."""
    parts = [r.getMessage() for r in caplog.records]
    parts += [e.user_message for e in pipeline.instance.all_logs(result.run_id)]
    for event in result.all_events:
        parts.append(str(event.message))
        data = event.event_specific_data
        parts.append(repr(data))
    with pipeline.warehouse.connect() as conn:
        for query in ("SELECT headers::text, url, final_url, error FROM raw_captures",
                      "SELECT query, error FROM searches", "SELECT data::text FROM search_events",
                      "SELECT label, source, invalid_reason FROM vendor_sessions"):
            parts += [json.dumps(list(row), default=str) for row in conn.execute(text(query))]
    return "\n".join(p or "" for p in parts)


def test_without_a_session_the_vendor_fails_before_any_request(pipeline: ScrapingPipeline, demo_url: str) -> None:
    client = demo(demo_url, "toko")
    result = pipeline.run(DAY, "toko")
    assert not result.success
    message = failure_message(result)
    assert "toko: no valid session" in message and "market-pulse sessions import toko FILE" in message
    assert client.get("/_stats").json()["shops"]["toko"] == {}, "not scraped logged out"


def test_a_stored_session_is_used_and_never_leaks(pipeline: ScrapingPipeline, demo_url: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = demo(demo_url, "toko")
    session_id = store_session(pipeline, "toko")
    result = pipeline.run(DAY, "toko")
    assert result.success, failure_message(result)
    faults = client.get("/_faults").json()["shops"]["toko"][0]
    assert faults["injected"] == 0 and faults["seen"] > 3, "every request carried the cookie"
    captured = metadata(result, "raw_captures")
    assert captured["session"] == "in use" and captured["searches_by_status"]["success"] == 3
    assert session_row(pipeline, session_id).is_valid and session_row(pipeline, session_id).last_used_at
    recorded = everything_recorded(pipeline, result, caplog)
    assert "demo_session" not in recorded or SECRET not in recorded
    assert SECRET not in recorded and KEY not in recorded


def test_a_session_dying_mid_crawl_fails_the_vendor_and_is_marked_invalid(
        pipeline: ScrapingPipeline, demo_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = demo(demo_url, "toko", valid_for=4)
    session_id = store_session(pipeline, "toko")
    result = pipeline.run(DAY, "toko")
    assert not result.success
    message = failure_message(result)
    assert "toko: session expired: import a fresh one (`market-pulse sessions import toko FILE`); " \
           "redirected to the login page /toko/login" in message
    row = session_row(pipeline, session_id)
    assert not row.is_valid and row.invalid_reason.startswith("session expired: import a fresh one")
    with pipeline.warehouse.connect() as conn:
        searches = conn.execute(text("""
            SELECT s.status, s.error FROM searches s JOIN vendors v ON v.id = s.vendor_id
            WHERE v.name = 'toko' AND s.partition_date = :day"""), {"day": DAY}).all()
        login_pages = conn.execute(text("""
            SELECT count(*) FROM raw_captures WHERE final_url LIKE '%/toko/login%' AND body_sha256 IS NOT NULL""")
                                   ).scalar_one()
    assert len(searches) == 3 and all("session expired" in (s.error or "") for s in searches if s.status != "success")
    assert any(s.status != "success" for s in searches)
    assert login_pages == 0, "the login page is never archived as data"
    walled = client.get("/_faults").json()["shops"]["toko"][0]["injected"]
    assert walled <= 2, "at most the requests already in flight met the wall"
    recorded = everything_recorded(pipeline, result, caplog)
    assert SECRET not in recorded and KEY not in recorded
    # the next run does not try again with the dead session
    client.post("/_stats/reset")
    again = pipeline.run(DAY, "toko")
    assert not again.success and "no valid session" in failure_message(again)
    assert client.get("/_stats").json()["shops"]["toko"] == {}


def test_login_marker_alone_is_enough(pipeline: ScrapingPipeline, demo_url: str, tmp_path: Path) -> None:
    folder = vendor_dir(tmp_path, {"toko": {**PATCHES["toko"], "session": {"login_marker": {"css": "form#login"}}}},
                        only=["toko"])
    marker_only = ScrapingPipeline(pipeline.warehouse.database_url, demo_url, vendors_dir=str(folder))
    marker_only.resources["vendor_secrets"] = SecretBoxResource(secret_key=KEY)
    demo(demo_url, "toko", valid_for=0)
    store_session(pipeline, "toko")
    result = marker_only.run(DAY, "toko")
    assert not result.success
    assert "login marker 'form#login' on /toko/login" in failure_message(result)


@pytest.mark.browser
@pytest.mark.slow
def test_the_browser_fetcher_uses_the_session_too(pipeline: ScrapingPipeline, demo_url: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    client = demo(demo_url, "mercado", kinds=["search", "data"])
    store_session(pipeline, "mercado")
    result = pipeline.run(DAY, "mercado")
    assert result.success, failure_message(result)
    wall = client.get("/_faults").json()["shops"]["mercado"][0]
    assert wall["injected"] == 0 and wall["seen"] >= 6, "navigations and the page's own data requests had the cookie"
    recorded = everything_recorded(pipeline, result, caplog)
    assert SECRET not in recorded
