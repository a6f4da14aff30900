"""Write, audit, publish, through the real pipeline on the demo marketplace.

A listings partition is staged, audited and published only when its blocking audits pass. A
vendor file whose listing or price selector no longer matches leaves everything the day had
published as it was (listings, sightings, attributes, images, price history, search positions),
fails the run with one line naming the search, the selector and the field, and tells the admins
once per vendor and day; an optional field gone missing is published with a warning; the run
after the vendor file is fixed publishes normally.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetCheckSeverity
from sqlalchemy import text

from demo.server import running_demo
from infra.settings import load_settings
from pipelines.alerts.admin import ADMIN_NOTICE_KIND, AdminTargets
from pipelines.alerts.delivery import deliver_due
from pipelines.alerts.notifier import Notifier
from pipelines.shared.warehouse import Warehouse
from tests.support.alert_receivers import WebhookReceiver, webhook_receiver
from tests.support.pipeline import ScrapingPipeline, failure_message, metadata
from tests.support.vendor_files import vendor_dir

VENDOR = "cardvault"  # server-rendered HTML: 3 searches, 30 listings a page, location/condition/images
DAY = dt.date(2026, 9, 10)
PUBLISHED = {  # what a listings partition publishes, each table limited to the vendor's rows
    "listings": "SELECT t::text FROM listings t WHERE t.vendor_id = :v",
    "listing_sightings": "SELECT t::text FROM listing_sightings t WHERE t.vendor_id = :v",
    "listing_attributes": "SELECT t::text FROM listing_attributes t JOIN listings l ON l.id = t.listing_id "
                          "WHERE l.vendor_id = :v",
    "listing_images": "SELECT t::text FROM listing_images t JOIN listings l ON l.id = t.listing_id "
                      "WHERE l.vendor_id = :v",
    "price_observations": "SELECT t::text FROM price_observations t JOIN listings l ON l.id = t.listing_id "
                          "WHERE l.vendor_id = :v",
    "search_results": "SELECT t::text FROM search_results t JOIN listings l ON l.id = t.listing_id "
                      "WHERE l.vendor_id = :v",
}

Make = Callable[..., ScrapingPipeline]


def published_state(warehouse: Warehouse) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every published row (ids and timestamps
    included, so a row deleted and written again counts as changed)."""
    with warehouse.connect() as conn:
        vendor_id = conn.execute(text("SELECT id FROM vendors WHERE name = :n"), {"n": VENDOR}).scalar_one()
        state = {}
        for table, rows in PUBLISHED.items():
            state[table] = tuple(conn.execute(text(
                f"SELECT count(*), coalesce(md5(string_agg(md5(r.t), '' ORDER BY md5(r.t))), '') "
                f"FROM ({rows}) r"), {"v": vendor_id}).one())
    return state  # type: ignore[return-value]


def checks(result: Any) -> dict[str, Any]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def make(fresh_database: str, demo_url: str, tmp_path: Path, dagster_instance: Any,
         receiver: WebhookReceiver, secret_key: str) -> Make:
    """A pipeline on the vendor file with ``patch`` merged in (same warehouse, same instance)."""
    made = 0

    def build(patch: dict[str, Any] | None = None) -> ScrapingPipeline:
        nonlocal made
        made += 1
        folder = vendor_dir(tmp_path / f"vendors-{made}", {VENDOR: patch or {}}, only=[VENDOR])
        return ScrapingPipeline(fresh_database, demo_url, vendors_dir=str(folder), instance=dagster_instance,
                                admin_targets=[receiver.apprise_url("/admin")])

    good = build()
    assert good.sync_vendors().success
    return build


def test_a_listing_selector_matching_nothing_keeps_the_day_and_names_the_selector(make: Make) -> None:
    good = make()
    assert good.run(DAY, VENDOR).success
    before = published_state(good.warehouse)
    assert before["listings"][0] > 50 and before["search_results"][0] > 50

    bad = make({"extract": {"items": {"css": "table#listings tr.offer"}}})
    result = bad.run(DAY, VENDOR)
    assert not result.success
    message = failure_message(result)
    assert "\n" not in message
    assert "listing selector css 'table#listings tr.offer' (extract.items) matched nothing" in message
    assert "'pikachu'" in message and "'charizard'" in message and "'base set'" in message
    assert "not published" in message
    assert published_state(good.warehouse) == before  # the day as it was, search positions included
    assert not result.asset_materializations_for_node("listings")
    evaluations = checks(result)
    assert not evaluations["listings_layout_unchanged"].passed
    assert evaluations["listings_layout_unchanged"].blocking
    assert evaluations["listings_layout_unchanged"].severity == AssetCheckSeverity.ERROR

    fixed = make()  # the vendor file fixed: the same day publishes normally
    again = fixed.run(DAY, VENDOR)
    assert again.success, failure_message(again)
    assert all(e.passed for e in checks(again).values())
    assert published_state(fixed.warehouse)["listings"][0] == before["listings"][0]


def test_a_price_selector_matching_nothing_keeps_the_day_and_names_the_field(make: Make) -> None:
    good = make()
    for day in (DAY - dt.timedelta(days=1), DAY):
        assert good.run(day, VENDOR).success
    before = published_state(good.warehouse)

    result = make({"extract": {"fields": {"price": {"css": "td.cost"}}}}).run(DAY, VENDOR)
    assert not result.success
    message = failure_message(result)
    assert "\n" not in message
    assert "field price went missing: css 'td.cost' (extract.fields.price)" in message
    assert "'pikachu'" in message
    assert published_state(good.warehouse) == before
    evaluations = checks(result)
    assert not evaluations["listings_fields_present"].passed
    assert not evaluations["listings_parse_failures_low"].passed
    assert evaluations["listings_layout_unchanged"].passed  # the listing selector itself still matches


def test_an_optional_field_gone_missing_is_published_with_a_warning(make: Make) -> None:
    assert make().run(DAY - dt.timedelta(days=1), VENDOR).success
    result = make({"extract": {"fields": {"location": {"css": "td.place"}}}}).run(DAY, VENDOR)
    assert result.success, failure_message(result)
    evaluation = checks(result)["listings_optional_fields_present"]
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN and not evaluation.blocking
    assert "field location went missing: css 'td.place' (extract.fields.location)" in evaluation.description
    warnings = metadata(result, "listings")["audit_warnings"]
    assert "location" in warnings and "td.place" in warnings
    pipeline = make()
    logged = [entry.user_message for entry in pipeline.instance.all_logs(result.run_id)
              if entry.level == logging.WARNING]
    assert any(m.startswith("published with a warning: field location went missing") for m in logged)
    with pipeline.warehouse.connect() as conn:
        located = conn.execute(text(
            "SELECT count(*) FILTER (WHERE l.location IS NOT NULL), count(*) FROM listing_sightings s "
            "JOIN listings l ON l.id = s.listing_id WHERE s.partition_date = :d AND l.last_seen_at = s.seen_at"),
            {"d": DAY}).one()
    assert located[1] > 50 and located[0] == 0  # published as found: without a location


def test_far_fewer_listings_than_recent_days_is_a_changed_layout(make: Make) -> None:
    good = make()
    for offset in (3, 2, 1):
        assert good.run(DAY - dt.timedelta(days=offset), VENDOR).success
    before = published_state(good.warehouse)
    # one listing per page instead of thirty: the selector still matches, but hardly anything
    result = make({"extract": {"items": {"css": "table#listings tr.row:nth-child(2)"}}}).run(DAY, VENDOR)
    assert not result.success
    message = failure_message(result)
    assert "listing selector css 'table#listings tr.row:nth-child(2)' (extract.items) matched" in message
    assert "trailing 7-day median" in message and "'pikachu'" in message
    assert published_state(good.warehouse) == before
    with good.warehouse.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM listing_sightings WHERE partition_date = :d"),
                            {"d": DAY}).scalar_one() == 0


def test_a_failed_audit_tells_the_admins_once_per_vendor_and_day(make: Make, receiver: WebhookReceiver) -> None:
    bad = make({"extract": {"items": {"css": "table#listings tr.offer"}}})
    for day in (DAY, DAY, DAY + dt.timedelta(days=1)):  # the same day twice: one message
        assert not bad.run(day, VENDOR).success
    with bad.warehouse.connect() as conn:
        queued = conn.execute(text("SELECT title, data FROM notifications WHERE data ->> 'kind' = :k "
                                   "ORDER BY id"), {"k": ADMIN_NOTICE_KIND}).all()
    assert [row.data["day"] for row in queued] == [str(DAY), str(DAY + dt.timedelta(days=1))]
    summary = deliver_due(bad.warehouse.engine, Notifier(timeout_seconds=5))
    assert summary.sent == 2
    received = receiver.wait_for(2, "/admin")
    assert len(receiver.unique("/admin")) == 2
    first = received[0].json
    assert VENDOR in first["title"] and str(DAY) in first["title"]
    assert "table#listings tr.offer" in first["message"] and "cardvault.yaml and re-run" in first["message"]
    assert deliver_due(bad.warehouse.engine, Notifier(timeout_seconds=5)).claimed == 0


def test_admin_targets_come_from_the_variable_and_a_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "admin-targets"
    secret.write_text("# the on-call channel\nslack://T1/B2/abcdefghijklmnop/#ops\n\njson://127.0.0.1:9/hook\n")
    variable = " json://127.0.0.1:9/hook  mailto://ops:pa55word@example.com "
    settings = load_settings({"MARKET_PULSE_ADMIN_TARGETS": variable, "MARKET_PULSE_ADMIN_TARGETS_FILE": str(secret)})
    assert settings.alerts.admin_targets == ("json://127.0.0.1:9/hook", "mailto://ops:pa55word@example.com",
                                             "slack://T1/B2/abcdefghijklmnop/#ops")
    assert "pa55word" not in repr(settings) and "abcdefghijklmnop" not in repr(settings)
    targets = AdminTargets.from_urls(settings.alerts.admin_targets)
    assert len(targets.urls) == 3 and "pa55word" not in repr(targets)
    with pytest.raises(ValueError, match=r"^MARKET_PULSE_ADMIN_TARGETS: Apprise cannot use the URL nope://\*\*\*"):
        AdminTargets.from_urls(["nope://user:s3cret@host"])
    with pytest.raises(ValueError, match=r"MARKET_PULSE_ADMIN_TARGETS_FILE='/no/such/file': cannot read it"):
        load_settings({"MARKET_PULSE_ADMIN_TARGETS_FILE": "/no/such/file"})


def test_without_a_key_the_audit_failure_still_names_the_selector_and_no_notice_is_stored_in_clear(
        make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = make({"extract": {"items": {"css": "table#listings tr.offer"}}})
    monkeypatch.delenv("MARKET_PULSE_SECRET_KEY")
    monkeypatch.setenv("MARKET_PULSE_HOME", str(Path(bad.registry.directory).parent / "no-key-home"))
    result = bad.run(DAY, VENDOR)
    assert not result.success
    assert "listing selector css 'table#listings tr.offer' (extract.items) matched nothing" in failure_message(result)
    with bad.warehouse.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notifications")).scalar_one() == 0
