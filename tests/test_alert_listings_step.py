"""Alerts from the ``listings`` step itself, with the alert sensor as the catch-up path.

Real listings materialisations of the demo marketplace, a real Dagster instance, a real webhook
receiver: the step matches and sends as soon as it has published; the sensor and a delivery run
on the same partition afterwards add nothing at the receiver (each listing's message arrives
exactly once); a target that is down, or a database failure while matching, never fails the step,
and the sensor then sends what the step could not, once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from dagster import Definitions, build_sensor_context

from demo.server import running_demo
from infra.connections import connect
from infra.settings import OWNER, AlertSettings, env_flag
from pipelines.alerts import defs as alert_defs
from pipelines.alerts.jobs import deliver_notifications
from pipelines.alerts.notifier import Notifier
from pipelines.alerts.sensors import build_alert_sensors
from tests.support.alert_data import add_search, add_user, rows
from tests.support.alert_receivers import Received, WebhookReceiver, webhook_receiver
from tests.support.databases import SessionRoles
from tests.support.pipeline import ScrapingPipeline, failure_message

pytestmark = pytest.mark.usefixtures("secret_key")

DAY = dt.date(2025, 3, 3)
alert_matching_sensor, notification_retry_sensor = build_alert_sensors(AlertSettings())


QUERY = "iphone pink"
"""Narrow enough that the step sends the burst itself (at most ``sensor_send_limit`` due)."""


def expected_iphones(pipeline: ScrapingPipeline) -> set[int]:
    with pipeline.warehouse.connect() as conn:
        found = {r.id for r in rows(conn, """
            SELECT l.id FROM listings l JOIN vendors v ON v.id = l.vendor_id
            WHERE v.name = 'toko' AND lower(l.title) LIKE '%iphone%' AND lower(l.title) LIKE '%pink%'
              AND NOT l.is_sold AND NOT l.is_removed""")}
    assert 0 < len(found) < 20, f"the demo should list a few pink iPhones on toko, not {len(found)}"
    return found


def per_listing(messages: list[Received]) -> Counter[int]:
    """How many messages arrived about each listing (single alerts and digests alike)."""
    counts: Counter[int] = Counter()
    for message in messages:
        data = message.json["market_pulse"]
        counts.update(data["listing_ids"] if data.get("digest") else [data["listing_id"]])
    return counts


def run_logs(instance: Any, run_id: str) -> str:
    return "\n".join(entry.user_message for entry in instance.all_logs(run_id))


class SensorPath:
    """The catch-up path on the same instance: the matching sensor's tick, and a delivery run."""

    def __init__(self, pipeline: ScrapingPipeline, instance: Any, notifier: Notifier) -> None:
        self.instance = instance
        self.resources = {"warehouse": pipeline.warehouse, "notifier": notifier}
        self.defs = Definitions(assets=[pipeline.raw_captures, pipeline.listings], jobs=[deliver_notifications],
                                sensors=[alert_matching_sensor, notification_retry_sensor],
                                resources={**pipeline.resources, **self.resources})

    def tick(self, cursor: str | None = None) -> Any:
        return alert_matching_sensor.evaluate_tick(build_sensor_context(
            instance=self.instance, cursor=cursor, definitions=self.defs, resources=self.resources))

    def deliver(self) -> None:
        assert deliver_notifications.execute_in_process(instance=self.instance, resources=self.resources).success


def assert_each_once(hook: WebhookReceiver, expected: set[int]) -> None:
    singles, digests = hook.for_path("/single"), hook.for_path("/digest")
    assert per_listing(singles) == Counter({listing: 1 for listing in expected})
    assert len(digests) == 1 and per_listing(digests) == Counter({listing: 1 for listing in expected})
    keys = [m.headers["X-Idempotency-Key"] for m in singles + digests]
    assert len(keys) == len(set(keys)) == len(expected) + 1


def add_searches(pipeline: ScrapingPipeline, hook: WebhookReceiver) -> None:
    with pipeline.warehouse.begin() as conn:
        uid = add_user(conn)
        add_search(conn, uid, "toko iPhones", QUERY, urls=[hook.apprise_url("/single")], vendors=["toko"])
        add_search(conn, uid, "digest", QUERY, urls=[hook.apprise_url("/digest")], digest=True, vendors=["toko"])


@pytest.mark.slow
def test_the_step_sends_and_the_sensor_path_then_adds_nothing(fresh_database: str,
                                                              dagster_instance) -> None:  # type: ignore[no-untyped-def]
    with running_demo() as demo_url, webhook_receiver() as hook:
        pipeline = ScrapingPipeline(fresh_database, demo_url, instance=dagster_instance)
        assert pipeline.sync_vendors().success
        add_searches(pipeline, hook)
        result = pipeline.run(DAY, "toko")
        assert result.success, failure_message(result)
        expected = expected_iphones(pipeline)
        # Sent by the step: at the receiver when the run returns, without a sensor tick or a delivery run.
        assert_each_once(hook, expected)
        with pipeline.warehouse.connect() as conn:
            assert {r.status for r in rows(conn, "SELECT status FROM notifications")} == {"sent"}
        logged = run_logs(dagster_instance, result.run_id)
        assert f"sent now: claimed {len(expected) + 1}: sent {len(expected) + 1}" in logged

        # The sensor path on the same partition (its tick sends in the tick; then a delivery run).
        sensor = SensorPath(pipeline, dagster_instance, Notifier(timeout_seconds=5))
        tick = sensor.tick()
        assert not tick.run_requests
        assert "0 notifications queued, 0 due for delivery" in (tick.skip_message or "")
        sensor.deliver()
        # Every delivery through a run instead (sensor_send_limit=0), replayed from the start.
        assert not SensorPath(pipeline, dagster_instance, Notifier(timeout_seconds=5, sensor_send_limit=0)).tick() \
            .run_requests
        # The step again (the partition re-materialised), and the sensor once more.
        assert pipeline.run(DAY, "toko", assets=[pipeline.listings]).success
        assert not sensor.tick().run_requests
        sensor.deliver()
        assert_each_once(hook, expected)


@pytest.mark.slow
def test_a_target_that_is_down_does_not_fail_the_step(fresh_database: str,
                                                      dagster_instance) -> None:  # type: ignore[no-untyped-def]
    with running_demo() as demo_url, webhook_receiver() as hook:
        pipeline = ScrapingPipeline(fresh_database, demo_url, instance=dagster_instance,
                                    notifier=Notifier(timeout_seconds=5, backoff_initial_seconds=600))
        assert pipeline.sync_vendors().success
        with pipeline.warehouse.begin() as conn:
            uid = add_user(conn)
            add_search(conn, uid, "down", QUERY, urls=["json://127.0.0.1:9/down"], digest=True, vendors=["toko"])
            add_search(conn, uid, "digest", QUERY, urls=[hook.apprise_url("/digest")], digest=True, vendors=["toko"])
        result = pipeline.run(DAY, "toko")
        assert result.success, failure_message(result)
        assert len(hook.for_path("/digest")) == 1
        with pipeline.warehouse.connect() as conn:
            outbox = {r.target_label: (r.status, r.attempts, bool(r.last_error)) for r in rows(
                conn, "SELECT target_label, status, attempts, last_error FROM notifications")}
        # The failed one waits for its backoff; the retry sensor and a delivery run take it from there.
        assert outbox == {hook.apprise_url("/digest"): ("sent", 1, False),
                          "json://127.0.0.1:9/down": ("pending", 1, True)}
        assert "alerts: json://127.0.0.1:9/down:" in run_logs(dagster_instance, result.run_id)


@pytest.mark.slow
def test_a_step_that_cannot_match_leaves_it_to_the_sensor_which_sends_once(
        fresh_database: str, dagster_instance, test_roles: SessionRoles) -> None:  # type: ignore[no-untyped-def]
    owner_url = test_roles.url(fresh_database.rsplit("/", 1)[-1], OWNER)

    def owner_sql(statement: str) -> None:
        with connect(owner_url, autocommit=True) as conn:
            conn.execute(statement)

    with running_demo() as demo_url, webhook_receiver() as hook:
        pipeline = ScrapingPipeline(fresh_database, demo_url, instance=dagster_instance)
        assert pipeline.sync_vendors().success
        add_searches(pipeline, hook)
        owner_sql("ALTER TABLE notifications RENAME TO notifications_away")  # the outbox is gone mid-flight
        try:
            result = pipeline.run(DAY, "toko")
        finally:
            owner_sql("ALTER TABLE notifications_away RENAME TO notifications")
        assert result.success, failure_message(result)
        assert "alerts not evaluated in this step" in run_logs(dagster_instance, result.run_id)
        assert not hook.for_path(None)
        with pipeline.warehouse.connect() as conn:  # nothing half-written: the matches rolled back too
            assert rows(conn, "SELECT count(*) FROM alert_matches")[0][0] == 0
        expected = expected_iphones(pipeline)

        sensor = SensorPath(pipeline, dagster_instance, Notifier(timeout_seconds=5))
        tick = sensor.tick()
        assert not tick.run_requests
        assert f"sent in this tick: claimed {len(expected) + 1}: sent {len(expected) + 1}" in (tick.skip_message or "")
        assert_each_once(hook, expected)
        assert pipeline.run(DAY, "toko", assets=[pipeline.listings]).success  # the step, now working
        assert not sensor.tick(tick.cursor).run_requests
        sensor.deliver()
        assert_each_once(hook, expected)


def test_the_setting_switches_the_step_off() -> None:
    assert env_flag("MARKET_PULSE_ALERTS_IN_LISTINGS_STEP", True, env={}) is True
    assert env_flag("MARKET_PULSE_ALERTS_IN_LISTINGS_STEP", True, env={"MARKET_PULSE_ALERTS_IN_LISTINGS_STEP": "off"}) \
        is False
    with pytest.raises(ValueError, match="MARKET_PULSE_ALERTS_IN_LISTINGS_STEP='maybe': expected 1 or 0"):
        env_flag("MARKET_PULSE_ALERTS_IN_LISTINGS_STEP", True, env={"MARKET_PULSE_ALERTS_IN_LISTINGS_STEP": "maybe"})
    on = alert_defs.build_defs(AlertSettings()).resources["notifier"]
    off = alert_defs.build_defs(AlertSettings(listings_step=False)).resources["notifier"]
    assert on.listings_step_alerts and not off.listings_step_alerts


@pytest.mark.slow
def test_switched_off_the_step_queues_nothing_and_the_sensor_sends(fresh_database: str,
                                                                   dagster_instance) -> None:  # type: ignore[no-untyped-def]
    with running_demo() as demo_url, webhook_receiver() as hook:
        pipeline = ScrapingPipeline(fresh_database, demo_url, instance=dagster_instance,
                                    notifier=Notifier(timeout_seconds=5, listings_step_alerts=False))
        assert pipeline.sync_vendors().success
        add_searches(pipeline, hook)
        result = pipeline.run(DAY, "toko")
        assert result.success, failure_message(result)
        assert "left to the alert sensor (listings_step_alerts is off)" in run_logs(dagster_instance, result.run_id)
        with pipeline.warehouse.connect() as conn:
            assert rows(conn, "SELECT count(*) FROM notifications")[0][0] == 0
        assert not hook.for_path(None)
        assert not SensorPath(pipeline, dagster_instance, Notifier(timeout_seconds=5)).tick().run_requests
        assert_each_once(hook, expected_iphones(pipeline))

