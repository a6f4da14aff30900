"""Delivering the outbox: claim due notifications, send each through the notifier, record the outcome.

Semantics (at-least-once, with an idempotency key so an idempotent target sees exactly one):

1. **Claim** (one short transaction): due rows — ``pending`` with ``next_attempt_at <= now()``,
   or ``sending`` whose lease lapsed — are locked ``FOR UPDATE SKIP LOCKED`` (concurrent delivery
   runs never take the same row), set to ``sending``, ``attempts + 1``, a fresh claim token in
   ``data.claim`` and ``next_attempt_at = now() + lease``. Committed before anything is sent.
2. **Send** outside any transaction, with the notification's idempotency key in the message
   (header ``X-Idempotency-Key``, JSON field ``idempotency_key``, ``ref:`` line in the text).
3. **Record** (one transaction per message), fenced by the claim token: ``sent`` (+ ``sent_at``,
   ``alert_matches.notified_at``), or back to ``pending`` with ``next_attempt_at`` pushed by an
   exponential backoff and ``last_error``; after ``max_attempts`` it stays ``failed``, visible in
   ``market-pulse notifications``. A stale worker whose lease was taken over cannot overwrite the
   newer claim's outcome.

A crash between 2 and 3 leaves the row ``sending``; once the lease lapses the next run sends it
again with the **same** idempotency key. So a message is never lost; a target that deduplicates
on the key (the demo inbox, any webhook that honours ``X-Idempotency-Key``) shows it once; a target
that cannot (plain e-mail, chat) may show it twice in that one crash window. When the lapsed row
has no attempts left it is marked ``failed`` with "outcome unknown" rather than sent again.

Targets are independent: each runs in its own worker with its own timeout, and when one target
fails, its remaining messages in the batch are deferred with the same backoff instead of being
tried one after the other against a target known to be down.

A caller with a time budget (the alert sensor's tick) passes a ``deadline``: messages not yet
started when it passes are released — back to ``pending``, due now, the attempt not counted — for
the next delivery run, so a slow target cannot hold a sensor tick.

Targets are stored sealed (:mod:`pipelines.alerts.vault`): each claimed row's target is opened
(decrypted, ``${VAR}`` references expanded from this process's environment) just before it is
sent and never logged; logs, errors and Dagster metadata show the stored masked label. A target
that cannot be opened (no key, a key since removed, a variable not set here) is a failed attempt
with that reason, retried like any other (the fix is configuration, not the message).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from infra.secrets import SecretBox, SecretKeyError
from pipelines.alerts import store
from pipelines.alerts.notifier import Notifier, SendOutcome
from pipelines.alerts.targets import InvalidTarget
from pipelines.alerts.vault import open_url

CRASH_AFTER_SEND_ENV = "MARKET_PULSE_ALERTS_CRASH_AFTER_SEND"
"""Test-only fault injection: when set to 1, a delivery run dies right after its first send,
before recording it (what a power cut or OOM kill at the worst moment would do)."""


class InjectedCrash(RuntimeError):
    """Raised by the crash-after-send fault injection."""


@dataclass(frozen=True)
class Claimed:
    id: int
    dedupe_key: str
    target: str
    """Sealed: open it only to send."""
    label: str
    """The target masked: what logs and errors show."""
    title: str
    body: str
    data: dict[str, Any]
    attempt: int

    @property
    def idempotency_key(self) -> str:
        return str(self.data.get("idempotency_key") or self.dedupe_key)


@dataclass
class DeliverySummary:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0
    lost_claims: int = 0
    expired: int = 0
    released: int = 0
    """Claimed but not started before the deadline: pending again, for the next delivery run."""
    errors_by_target: dict[str, str] = field(default_factory=dict)
    """Masked target → last error (safe to log and to show in Dagster)."""

    def describe(self) -> str:
        text_ = (f"claimed {self.claimed}: sent {self.sent}, retry later {self.retrying} "
                 f"(of which {self.deferred} deferred behind a failing target), failed for good {self.failed}")
        if self.expired:
            text_ += f", {self.expired} lapsed with no attempts left"
        if self.lost_claims:
            text_ += f", {self.lost_claims} outcomes not recorded (lease taken over)"
        if self.released:
            text_ += f", {self.released} left for a delivery run (time budget)"
        return text_


def claim_batch(engine: Engine, notifier: Notifier, claim: str, limit: int) -> tuple[list[Claimed], int]:
    with engine.begin() as conn:
        expired = store.expire_exhausted(conn, notifier.max_attempts)
        rows = store.claim_due(conn, claim=claim, limit=limit, lease_seconds=notifier.lease_seconds,
                               max_attempts=notifier.max_attempts)
    claimed = [Claimed(r.id, r.dedupe_key, r.target, r.target_label, r.title, r.body, dict(r.data or {}), r.attempts)
               for r in sorted(rows, key=lambda r: r.id)]
    return claimed, expired


def record(engine: Engine, notifier: Notifier, item: Claimed, claim: str, outcome: SendOutcome) -> str | None:
    """Write a send's outcome; returns the new status, or None when the claim was lost."""
    with engine.begin() as conn:
        if outcome.ok:
            return "sent" if store.mark_sent(conn, item.id, claim) else None
        return store.mark_failed(conn, item.id, claim, error=(outcome.error or "delivery failed")[:2000],
                                 permanent=outcome.permanent, backoff_seconds=notifier.backoff_seconds(item.attempt),
                                 max_attempts=notifier.max_attempts)


_COUNTING = threading.Lock()
AfterSend = Callable[[Claimed, SendOutcome], None]


def crash_hook_from_env() -> AfterSend | None:
    if os.environ.get(CRASH_AFTER_SEND_ENV) != "1":
        return None

    def crash(item: Claimed, outcome: SendOutcome) -> None:
        raise InjectedCrash(f"{CRASH_AFTER_SEND_ENV}=1: stopping after sending notification {item.id}, "
                            "before recording it")

    return crash


def deliver_due(engine: Engine, notifier: Notifier, *, after_send: AfterSend | None = None,
                max_batches: int = 50, log: Callable[[str], None] | None = None,
                deadline: float | None = None, secrets: SecretBox | None = None) -> DeliverySummary:
    """Send everything due now, batch by batch, until nothing is due (or ``max_batches``).

    ``deadline`` (``time.monotonic()``): no new batch and no new send after it; what was claimed
    and not sent is released for the next run. ``secrets`` opens the targets (default: the key
    ring of this process's environment, :mod:`infra.secrets`).
    """
    box = secrets or SecretBox()
    summary = DeliverySummary()
    claim = uuid.uuid4().hex
    for _ in range(max_batches):
        if deadline is not None and time.monotonic() >= deadline:
            break
        batch, expired = claim_batch(engine, notifier, claim, notifier.batch_size)
        summary.expired += expired
        if not batch:
            break
        summary.claimed += len(batch)
        by_target: dict[str, list[Claimed]] = {}
        unopened: dict[int, str] = {}
        for item in batch:
            try:
                url = open_url(box, item.target)
            except (SecretKeyError, InvalidTarget) as exc:
                url, unopened[item.id] = f"unopened:{item.id}", f"cannot open the target: {exc}"
            by_target.setdefault(url, []).append(item)
        with ThreadPoolExecutor(max_workers=min(notifier.concurrency, len(by_target)),
                                thread_name_prefix="deliver") as pool:
            futures = [pool.submit(_deliver_target, engine, notifier, claim, url, items, after_send, summary, log,
                                   deadline, unopened) for url, items in by_target.items()]
            for future in futures:
                future.result()  # re-raise (e.g. an injected crash) after the other targets finished
    return summary


def _deliver_target(engine: Engine, notifier: Notifier, claim: str, url: str, items: list[Claimed],
                    after_send: AfterSend | None, summary: DeliverySummary,
                    log: Callable[[str], None] | None, deadline: float | None = None,
                    unopened: dict[int, str] | None = None) -> None:
    """Send ``items`` (all to ``url``, opened) one after the other; ``unopened`` holds, by id, why
    a target could not be opened (such an item is a failed attempt, nothing is sent)."""
    masked = items[0].label
    down: SendOutcome | None = None
    for item in items:
        if deadline is not None and time.monotonic() >= deadline:
            with engine.begin() as conn:
                released = store.release(conn, item.id, claim)
            with _COUNTING:
                summary.released += released
            continue
        if unopened and item.id in unopened:
            outcome = SendOutcome(False, unopened[item.id])
        elif down is None:
            outcome = notifier.send(url, item.title, item.body, idempotency_key=item.idempotency_key,
                                    data=_payload(item))
            if after_send is not None:
                after_send(item, outcome)
        else:
            outcome = SendOutcome(False, f"deferred: {masked} failed earlier in this run ({down.error})")
        status = record(engine, notifier, item, claim, outcome)
        with _COUNTING:
            summary.deferred += down is not None
            if status == "sent":
                summary.sent += 1
            elif status == "pending":
                summary.retrying += 1
            elif status == "failed":
                summary.failed += 1
            else:
                summary.lost_claims += 1
            if not outcome.ok:
                summary.errors_by_target[masked] = outcome.error or "failed"
        if not outcome.ok and down is None and not outcome.permanent:
            down = outcome
        if log is not None:
            log(f"notification {item.id} attempt {item.attempt} to {masked}: {status or 'claim lost'}"
                + ("" if outcome.ok else f" ({outcome.error})"))


def _payload(item: Claimed) -> dict[str, Any]:
    """Structured data for JSON targets: the notification's facts without delivery bookkeeping."""
    return {k: v for k, v in item.data.items() if k not in ("claim", "claimed_at")}
