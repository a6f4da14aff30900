"""The alert sensor and delivery job in Dagster, on real listings materialisations of the demo marketplace.

A real Dagster instance (Postgres storage), the real scraping assets against the demo, a real
webhook receiver: the sensor's tick evaluates exactly the materialised partitions, re-runs and
replays notify nobody twice, and no Apprise secret reaches Dagster's event log.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import Definitions, build_sensor_context
from sqlalchemy import text

from demo.server import running_demo
from infra.settings import AlertSettings
from pipelines.alerts.jobs import deliver_notifications
from pipelines.alerts.notifier import Notifier
from pipelines.alerts.sensors import build_alert_sensors, partition_of
from tests.support.alert_data import add_search, add_user, rows
from tests.support.alert_receivers import webhook_receiver
from tests.support.pipeline import ScrapingPipeline

pytestmark = pytest.mark.usefixtures("secret_key")

DAY = dt.date(2025, 3, 3)
SECRET = "Sup3r-s3cret-t0ken"
ALERT_SENSORS = build_alert_sensors(AlertSettings())
alert_matching_sensor, notification_retry_sensor = ALERT_SENSORS
ALERT_JOBS = [deliver_notifications]
STEP_OFF = Notifier(listings_step_alerts=False)
"""These tests exercise the sensor path alone (the listings step's own path: test_alert_listings_step.py)."""


def test_partition_keys() -> None:
    assert partition_of("2026-11-01|toko") == (dt.date(2026, 11, 1), "toko")
    assert partition_of("toko|2026-11-01") == (dt.date(2026, 11, 1), "toko")
    assert partition_of("2026-11-01") == (dt.date(2026, 11, 1), None)  # price_snapshots: every vendor that day
    assert partition_of(None) is None and partition_of("toko") is None


@pytest.mark.slow
def test_sensor_matches_materialised_partitions_and_job_delivers_once(fresh_database: str,
                                                                      dagster_instance) -> None:  # type: ignore[no-untyped-def]
    with running_demo() as demo_url, webhook_receiver() as hook:
        pipeline = ScrapingPipeline(fresh_database, demo_url, instance=dagster_instance, notifier=STEP_OFF)
        assert pipeline.sync_vendors().success
        wh = pipeline.warehouse
        secret_url = hook.apprise_url("/single", user="bob", password=SECRET)
        with wh.begin() as conn:
            uid = add_user(conn)
            add_search(conn, uid, "toko iPhones", "iphone", urls=[secret_url], vendors=["toko"])
            add_search(conn, uid, "digest", "iphone", urls=[hook.apprise_url("/digest")], digest=True)
        assert pipeline.run(DAY, "toko").success
        with wh.connect() as conn:
            assert rows(conn, "SELECT count(*) FROM notifications")[0][0] == 0, "the step was told to leave it"
        # sensor_send_limit=0: everything goes through a delivery run (the in-tick path is tested below)
        resources = {"warehouse": wh, "notifier": Notifier(timeout_seconds=5, sensor_send_limit=0)}
        defs = Definitions(assets=[pipeline.raw_captures, pipeline.listings], jobs=ALERT_JOBS, sensors=ALERT_SENSORS,
                           resources={**pipeline.resources, **resources})

        def tick(cursor: str | None):  # type: ignore[no-untyped-def]
            context = build_sensor_context(instance=dagster_instance, cursor=cursor, definitions=defs,
                                           resources=resources)
            return alert_matching_sensor.evaluate_tick(context)

        first = tick(None)
        (request,) = first.run_requests
        tags = request.tags
        with wh.connect() as conn:
            expected = rows(conn, """
                SELECT l.id FROM listings l JOIN vendors v ON v.id = l.vendor_id
                WHERE v.name = 'toko' AND lower(l.title) LIKE '%iphone%' AND NOT l.is_sold AND NOT l.is_removed""")
            queued = rows(conn, "SELECT target, target_label, status FROM notifications")
        assert expected, "the demo should list iPhones on toko"
        assert int(tags["market_pulse/alerts_listings_evaluated"]) >= len(expected)
        assert int(tags["market_pulse/alerts_matches"]) == 2 * len(expected)
        assert len(queued) == len(expected) + 1 and {q.status for q in queued} == {"pending"}
        assert request.run_key.startswith("alerts-")

        replay = tick(None)  # a tick replayed before its cursor was stored asks for the same run
        assert [r.run_key for r in replay.run_requests] == [request.run_key]
        with wh.connect() as conn:
            assert rows(conn, "SELECT count(*) FROM notifications")[0][0] == len(queued)

        run = deliver_notifications.execute_in_process(instance=dagster_instance, resources=resources,
                                                       tags=request.tags)
        assert run.success
        singles = hook.wait_for(len(expected), "/single")
        (digest,) = hook.wait_for(1, "/digest")
        assert {m.json["market_pulse"]["listing_id"] for m in singles} == {r.id for r in expected}
        assert digest.json["title"].startswith(f"digest: {len(expected)} alert")

        # Nothing secret in Dagster: the run's event log and the sensor's tick.
        logged = " ".join(str(e.message) + repr(e.dagster_event) for e in dagster_instance.all_logs(run.run_id))
        assert "attempt 1 to json://bob:****@127.0.0.1" in logged and SECRET not in logged
        assert SECRET not in repr(first) and SECRET not in repr(run.all_events)

        # Re-materialising the same partition: a new event, evaluated, and nobody notified twice.
        assert pipeline.run(DAY, "toko", assets=[pipeline.listings]).success
        second = tick(first.cursor)
        assert not second.run_requests and "0 notifications queued" in (second.skip_message or "")
        assert "listings new or changed" in (second.skip_message or "")
        # Replaying everything from the start: still nothing new.
        assert not tick(None).run_requests
        assert deliver_notifications.execute_in_process(instance=dagster_instance, resources=resources).success
        assert len(hook.for_path("/single")) == len(expected) and len(hook.for_path("/digest")) == 1
        # The retry sensor has nothing to do.
        retry = notification_retry_sensor.evaluate_tick(
            build_sensor_context(instance=dagster_instance, definitions=defs, resources={"warehouse": wh}))
        assert not retry.run_requests and "nothing due" in (retry.skip_message or "")


@pytest.mark.slow
def test_a_small_burst_is_sent_by_the_sensor_tick_itself(fresh_database: str,
                                                         dagster_instance) -> None:  # type: ignore[no-untyped-def]
    """At most ``sensor_send_limit`` due: sent in the tick (no run start-up), exactly once; a target
    that is down is retried later by the retry sensor, like a failed delivery run."""
    with running_demo() as demo_url, webhook_receiver() as hook:
        pipeline = ScrapingPipeline(fresh_database, demo_url, instance=dagster_instance, notifier=STEP_OFF)
        assert pipeline.sync_vendors().success
        wh = pipeline.warehouse
        with wh.begin() as conn:
            uid = add_user(conn)
            add_search(conn, uid, "digest", "iphone", urls=[hook.apprise_url("/digest")], digest=True,
                       vendors=["toko"])
            add_search(conn, uid, "down", "iphone", urls=["json://127.0.0.1:9/down"], digest=True, vendors=["toko"])
        assert pipeline.run(DAY, "toko").success
        resources = {"warehouse": wh, "notifier": Notifier(timeout_seconds=5, backoff_initial_seconds=600)}
        defs = Definitions(assets=[pipeline.raw_captures, pipeline.listings], jobs=ALERT_JOBS, sensors=ALERT_SENSORS,
                           resources={**pipeline.resources, **resources})

        def tick(cursor: str | None):  # type: ignore[no-untyped-def]
            return alert_matching_sensor.evaluate_tick(build_sensor_context(
                instance=dagster_instance, cursor=cursor, definitions=defs, resources=resources))

        first = tick(None)
        (digest,) = hook.wait_for(1, "/digest")  # already there when the tick returns
        assert digest.json["title"].startswith("digest: ")
        assert not first.run_requests, "nothing left due: no delivery run"
        assert "sent in this tick: claimed 2: sent 1, retry later 1" in (first.skip_message or "")
        with wh.connect() as conn:
            outbox = {r.target_label: (r.status, r.attempts) for r in conn.execute(text(
                "SELECT target_label, status, attempts FROM notifications"))}
        assert outbox == {hook.apprise_url("/digest"): ("sent", 1), "json://127.0.0.1:9/down": ("pending", 1)}

        again = tick(None)  # a replayed tick: nothing new to match, nothing sent twice
        assert not again.run_requests
        assert len(hook.for_path("/digest")) == 1
        with wh.begin() as conn:  # the backoff elapses: the retry sensor takes over, as for a failed run
            conn.execute(text("UPDATE notifications SET next_attempt_at = now() WHERE status = 'pending'"))
        retry = notification_retry_sensor.evaluate_tick(
            build_sensor_context(instance=dagster_instance, definitions=defs, resources={"warehouse": wh}))
        (request,) = retry.run_requests
        assert request.tags["market_pulse/alerts_due"] == "1"


def test_retry_sensor_requests_a_run_for_due_notifications(fresh_database: str, dagster_instance) -> None:  # type: ignore[no-untyped-def]
    from pipelines.shared.warehouse import Warehouse

    wh = Warehouse(database_url=fresh_database)
    with wh.begin() as conn:
        uid = add_user(conn)
        sid = add_search(conn, uid, "s", "x", urls=["json://127.0.0.1:9/x"])
        conn.execute(text("""
            INSERT INTO notifications (user_id, saved_search_id, dedupe_key, target, title, body, status, attempts,
                                       next_attempt_at)
            VALUES (:u, :s, 'k1', 'json://127.0.0.1:9/x', 't', 'b', 'pending', 1, now() - interval '1 second')
        """), {"u": uid, "s": sid})
    defs = Definitions(jobs=[deliver_notifications], sensors=[notification_retry_sensor],
                       resources={"warehouse": wh, "notifier": Notifier()})
    data = notification_retry_sensor.evaluate_tick(
        build_sensor_context(instance=dagster_instance, definitions=defs, resources={"warehouse": wh}))
    (request,) = data.run_requests
    assert request.run_key.startswith("retry-") and request.tags["market_pulse/alerts_due"] == "1"
    with wh.begin() as conn:
        conn.execute(text("UPDATE notifications SET next_attempt_at = now() + interval '1 hour'"))
    data = notification_retry_sensor.evaluate_tick(
        build_sensor_context(instance=dagster_instance, definitions=defs, resources={"warehouse": wh}))
    assert not data.run_requests and data.skip_message == "nothing due (outbox: pending 1)"
