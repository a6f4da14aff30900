"""Delivering the outbox to real receivers on 127.0.0.1: webhook (aiohttp) and SMTP (aiosmtpd).

Covers what was sent and what arrived, a crash between sending and recording (no loss, no
duplicate at an idempotent receiver), a target that is down (others unaffected, backoff, then
`failed`), concurrent delivery runs (each message once) and secrets never leaving masked.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest
from sqlalchemy import text

from pipelines.alerts.delivery import InjectedCrash, deliver_due
from pipelines.alerts.evaluate import evaluate_partitions
from pipelines.alerts.notifier import Notifier
from pipelines.alerts.vault import open_url
from pipelines.shared.warehouse import Warehouse
from tests.support.alert_data import add_search, add_user, add_vendor, rows, sealing_box, see
from tests.support.alert_receivers import WebhookReceiver, free_port, smtp_receiver, webhook_receiver

pytestmark = pytest.mark.usefixtures("secret_key")

DAY = dt.date(2026, 3, 1)
SECRET = "s3cr3t-Pa55word"


@pytest.fixture
def wh(fresh_database: str) -> Warehouse:
    return Warehouse(database_url=fresh_database)


@pytest.fixture
def hook():  # type: ignore[no-untyped-def]
    with webhook_receiver() as receiver:
        yield receiver


def notifier(**kw) -> Notifier:  # type: ignore[no-untyped-def]
    kw.setdefault("timeout_seconds", 5)
    kw.setdefault("backoff_initial_seconds", 60)
    return Notifier(**kw)


def queue(wh: Warehouse, urls: list[str], titles: list[str], digest: bool = False) -> None:
    with wh.begin() as conn:
        v = add_vendor(conn, "mercado")
        add_search(conn, add_user(conn), "consoles", "console", urls=urls, digest=digest)
        for i, title in enumerate(titles):
            see(conn, v, f"MC-{i}", DAY, title=title, price=100 + i)
        evaluate_partitions(conn, [(DAY, "mercado")])


def outbox(wh: Warehouse) -> list:  # type: ignore[type-arg]
    with wh.connect() as conn:
        return rows(conn, "SELECT * FROM notifications ORDER BY id")


def test_webhook_and_email_receive_real_messages(wh: Warehouse, hook: WebhookReceiver) -> None:
    with smtp_receiver() as smtp:
        queue(wh, [hook.apprise_url("/hook", user="bob", password=SECRET), smtp.apprise_url()],
              ["Xbox Series X console"])
        summary = deliver_due(wh.engine, notifier())
        assert (summary.claimed, summary.sent, summary.failed) == (2, 2, 0)
        (posted,) = hook.wait_for(1, "/hook")
        (mail,) = smtp.wait_for(1)
    sent = outbox(wh)
    json_row = next(n for n in sent if n.target_label.startswith("json://"))
    mail_row = next(n for n in sent if n.target_label.startswith("mailto://"))
    assert SECRET not in json_row.target_label and SECRET not in json_row.target  # masked, and sealed
    key = json_row.data["idempotency_key"]
    assert posted.json["title"] == "New match: Xbox Series X console"
    assert "100 EUR at mercado" in posted.json["message"] and f"ref: {key}" in posted.json["message"]
    assert posted.headers["X-Idempotency-Key"] == key and posted.json["idempotency_key"] == key
    assert posted.json["market_pulse"]["listing_id"] == json_row.data["listing_id"]
    assert "claim" not in posted.json["market_pulse"]
    assert posted.headers["Authorization"].startswith("Basic ")  # the URL's credentials were used...
    assert mail["Subject"] == "New match: Xbox Series X console" and mail["To"] == "alice@example.com"
    assert mail["X-Idempotency-Key"] == mail_row.data["idempotency_key"] != key
    assert "Saved search: consoles" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert [(n.status, n.attempts, n.sent_at is not None) for n in sent] == [("sent", 1, True)] * 2
    with wh.connect() as conn:
        assert rows(conn, "SELECT notified_at FROM alert_matches")[0][0] is not None
    assert deliver_due(wh.engine, notifier()).claimed == 0  # nothing left: never sent twice


def test_crash_between_send_and_record_neither_loses_nor_duplicates(wh: Warehouse, hook: WebhookReceiver) -> None:
    queue(wh, [hook.apprise_url("/idempotent")], ["PlayStation 5 console"])
    fast_lease = notifier(lease_seconds=1.0)

    def crash(item, outcome):  # type: ignore[no-untyped-def]
        raise InjectedCrash("power cut after send")

    with pytest.raises(InjectedCrash):
        deliver_due(wh.engine, fast_lease, after_send=crash)
    hook.wait_for(1, "/idempotent")
    (row,) = outbox(wh)
    assert (row.status, row.attempts, row.sent_at) == ("sending", 1, None)  # sent, but not recorded
    assert deliver_due(wh.engine, fast_lease).claimed == 0  # the lease still holds it
    time.sleep(1.2)
    summary = deliver_due(wh.engine, fast_lease)  # the next run retries the lapsed claim
    assert (summary.claimed, summary.sent) == (1, 1)
    deliveries = hook.wait_for(2, "/idempotent")
    assert len(deliveries) == 2  # at-least-once on the wire...
    assert len(hook.unique("/idempotent")) == 1  # ...exactly one for a receiver that honours the key
    assert deliveries[0].headers["X-Idempotency-Key"] == deliveries[1].headers["X-Idempotency-Key"]
    (row,) = outbox(wh)
    assert (row.status, row.attempts) == ("sent", 2)


def test_lapsed_claim_without_attempts_left_stays_visible_as_failed(wh: Warehouse, hook: WebhookReceiver) -> None:
    queue(wh, [hook.apprise_url("/once")], ["Switch console"])
    one_try = notifier(lease_seconds=0.5, max_attempts=1)
    with pytest.raises(InjectedCrash):
        deliver_due(wh.engine, one_try, after_send=lambda item, outcome: (_ for _ in ()).throw(InjectedCrash("x")))
    time.sleep(0.7)
    summary = deliver_due(wh.engine, one_try)
    assert (summary.claimed, summary.expired) == (0, 1)
    (row,) = outbox(wh)
    assert row.status == "failed" and "outcome unknown" in row.last_error


def test_a_target_that_is_down_does_not_block_the_others(wh: Warehouse, hook: WebhookReceiver,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    refused = f"json://bob:{SECRET}@127.0.0.1:{free_port()}/nobody-listens"
    queue(wh, [hook.apprise_url("/down/hook"), refused, hook.apprise_url("/ok")],
          ["Xbox console", "PS5 console", "Wii console"])
    quick = notifier(backoff_initial_seconds=0, max_attempts=2, timeout_seconds=3)
    started = time.monotonic()
    summary = deliver_due(wh.engine, quick)  # one attempt per row per run, even with no backoff
    assert time.monotonic() - started < 10
    assert (summary.claimed, summary.sent, summary.retrying, summary.deferred) == (9, 3, 6, 4)
    assert len(hook.wait_for(3, "/ok")) == 3
    by_target: dict[str, list] = {}  # type: ignore[type-arg]
    for n in outbox(wh):
        by_target.setdefault(n.target_label.rsplit("/", 1)[-1], []).append(n)
    assert {n.status for n in by_target["ok"]} == {"sent"}
    down = by_target["hook"] + by_target["nobody-listens"]
    assert {(n.status, n.attempts) for n in down} == {("pending", 1)}
    assert any("503" in n.last_error for n in by_target["hook"])
    assert sum("deferred" in n.last_error for n in down) == 4
    assert all(SECRET not in (n.last_error or "") for n in down)
    assert caplog.records and not [r for r in caplog.records if SECRET in r.getMessage()]  # Apprise's own logs
    # Second and last attempt (backoff 0 here): they stay visible as failed.
    summary = deliver_due(wh.engine, quick)
    assert summary.failed == 6 and {n.status for n in outbox(wh) if "/ok" not in n.target_label} == {"failed"}
    assert deliver_due(wh.engine, quick).claimed == 0


def test_retry_uses_exponential_backoff(wh: Warehouse, hook: WebhookReceiver) -> None:
    queue(wh, [hook.apprise_url("/flaky")], ["Xbox console"])
    n = notifier(backoff_initial_seconds=30, backoff_max_seconds=100, max_attempts=5)
    assert [n.backoff_seconds(a) for a in (1, 2, 3, 4)] == [30, 60, 100, 100]
    hook.fail_next = 1
    assert deliver_due(wh.engine, n).retrying == 1
    (row,) = outbox(wh)
    with wh.connect() as conn:
        wait = conn.execute(text("SELECT extract(epoch FROM next_attempt_at - now()) FROM notifications")).scalar()
    assert row.status == "pending" and "500" in row.last_error and 25 < float(wait) <= 30
    assert deliver_due(wh.engine, n).claimed == 0  # not due yet
    with wh.begin() as conn:
        conn.execute(text("UPDATE notifications SET next_attempt_at = now()"))
    assert deliver_due(wh.engine, n).sent == 1
    (row,) = outbox(wh)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_messages_not_started_by_the_deadline_are_released_for_a_run(wh: Warehouse, hook: WebhookReceiver) -> None:
    """The alert sensor sends with a time budget: what it could not start goes back to the outbox,
    due now and without spending an attempt, and the next delivery run sends it once."""
    queue(wh, [hook.apprise_url("/late")], ["Xbox console", "PS5 console", "Switch console"])
    deadline = time.monotonic() + 0.2

    def slow_target(item, outcome) -> None:  # type: ignore[no-untyped-def]
        time.sleep(max(0.0, deadline - time.monotonic()) + 0.05)  # the first send uses up the budget

    tick = deliver_due(wh.engine, notifier(), after_send=slow_target, deadline=deadline)
    assert (tick.claimed, tick.sent, tick.released, tick.retrying) == (3, 1, 2, 0)
    assert "2 left for a delivery run (time budget)" in tick.describe()
    assert sorted((r.status, r.attempts) for r in outbox(wh)) == [("pending", 0), ("pending", 0), ("sent", 1)]
    run = deliver_due(wh.engine, notifier())
    assert (run.claimed, run.sent) == (2, 2)
    assert {(r.status, r.attempts) for r in outbox(wh)} == {("sent", 1)}
    assert len(hook.for_path("/late")) == 3 and len(hook.unique()) == 3
    assert deliver_due(wh.engine, notifier(), deadline=time.monotonic()).claimed == 0  # spent: claims nothing


def test_concurrent_delivery_runs_send_each_message_once(wh: Warehouse, hook: WebhookReceiver) -> None:
    queue(wh, [hook.apprise_url(f"/t{i}") for i in range(4)], [f"Console {i}" for i in range(10)])
    totals = []

    def run() -> None:
        totals.append(deliver_due(wh.engine, notifier(batch_size=5, concurrency=2)).sent)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(totals) == 40
    assert len(hook.received) == 40 and len(hook.unique()) == 40


def test_demo_inbox_receives_and_dedupes(wh: Warehouse) -> None:
    import httpx

    from cli.alerts import inbox_target
    from demo.server import running_demo

    with running_demo() as demo_url:
        queue(wh, [inbox_target(demo_url)], ["Xbox console", "PS5 console"], digest=True)
        assert deliver_due(wh.engine, notifier()).sent == 1
        (row,) = outbox(wh)
        again = notifier().send(open_url(sealing_box(), row.target), row.title, row.body,
                                idempotency_key=row.data["idempotency_key"])
        assert again.ok  # a retried delivery is acknowledged...
        inbox = httpx.get(f"{demo_url}/alerts-inbox.json").json()
        assert (inbox["received"], inbox["duplicates"]) == (1, 1)  # ...but shown once
        assert inbox["alerts"][0]["title"] == "consoles: 2 alerts (2 new match)"
        page = httpx.get(f"{demo_url}/alerts-inbox").text
        assert "consoles: 2 alerts" in page and "Xbox console" in page


def test_delivery_job_crash_injection_and_recovery(wh: Warehouse, hook: WebhookReceiver,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.alerts.delivery import CRASH_AFTER_SEND_ENV
    from pipelines.alerts.jobs import deliver_notifications

    queue(wh, [hook.apprise_url("/job")], ["Xbox console"])
    resources = {"warehouse": wh, "notifier": notifier(lease_seconds=1.0)}
    monkeypatch.setenv(CRASH_AFTER_SEND_ENV, "1")
    crashed = deliver_notifications.execute_in_process(resources=resources, raise_on_error=False)
    assert not crashed.success and hook.wait_for(1, "/job")
    assert [(n.status, n.attempts) for n in outbox(wh)] == [("sending", 1)]
    monkeypatch.delenv(CRASH_AFTER_SEND_ENV)
    time.sleep(1.2)
    assert deliver_notifications.execute_in_process(resources=resources).success
    assert [(n.status, n.attempts) for n in outbox(wh)] == [("sent", 2)]
    assert len(hook.unique("/job")) == 1 and len(hook.for_path("/job")) == 2
