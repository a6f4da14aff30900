"""Matching and a first delivery as soon as a listings partition is published.

Two callers share :func:`match_and_send`:

- the ``listings`` step, through :func:`alert_published_partition`, right after its
  materialisation is recorded, in the step's own process. This takes Dagster's sensor daemon
  (which loops every 5 s at best) and the tick out of the path from a published listing to the
  message;
- the ``alert_matching_sensor``'s tick, which stays on as the catch-up path: it re-evaluates every
  materialised partition, so whatever a step did not finish (it crashed, the database was away, the
  setting is off) is matched and sent on the next tick.

Running both is harmless by construction: evaluations are serialised by a transaction-level
advisory lock and decided from the match rows' current state, outbox rows are inserted
``ON CONFLICT DO NOTHING`` on deterministic ``dedupe_key``s, and delivery claims rows
``FOR UPDATE SKIP LOCKED`` with a claim token and a lease, so a message is claimed by one sender
and sent with its idempotency key once, whoever gets there first.

A step's alerts never fail the step: the listings are published and recorded before this runs,
and a failure here is a log line (the sensor, the delivery job and the retry sensor take it from
there).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipelines.alerts import store
from pipelines.alerts.delivery import DeliverySummary, deliver_due
from pipelines.alerts.evaluate import DayOrPartition, EvaluationSummary, evaluate_partitions
from pipelines.alerts.notifier import Notifier
from pipelines.shared.warehouse import Warehouse


@dataclass(frozen=True)
class MatchAndSend:
    evaluation: EvaluationSummary
    delivery: DeliverySummary | None
    """What was sent right away; None when nothing was due or more than ``sensor_send_limit`` was."""
    still_due: int
    """Due in the outbox afterwards: left to a ``deliver_notifications`` run."""

    def describe(self) -> str:
        text = self.evaluation.describe()
        if self.delivery is not None:
            text += f"; sent now: {self.delivery.describe()}"
        return text


def match_and_send(warehouse: Warehouse, notifier: Notifier, partitions: Sequence[DayOrPartition]) -> MatchAndSend:
    """Evaluate the partitions (matches and outbox in one transaction), then send what is due
    when it is a small burst (at most ``notifier.sensor_send_limit``), within
    ``notifier.sensor_send_seconds``: anything not started by then is released, due now, for a
    delivery run. Raises what the database raises."""
    with warehouse.begin() as conn:
        evaluation = evaluate_partitions(conn, partitions)
    still_due, delivery = evaluation.pending_due, None
    if 0 < still_due <= notifier.sensor_send_limit:
        delivery = deliver_due(warehouse.engine, notifier, max_batches=1,
                               deadline=time.monotonic() + notifier.sensor_send_seconds)
        with warehouse.connect() as conn:
            still_due = store.pending_due(conn)
    return MatchAndSend(evaluation, delivery, still_due)


@dataclass(frozen=True)
class StepAlerts:
    """What the ``listings`` step's alerts did, as log lines (no URLs, errors redacted)."""

    info: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outcome: MatchAndSend | None = None
    """None when switched off or when it failed."""


def alert_published_partition(warehouse: Warehouse, notifier: Notifier, *, day: dt.date, vendor: str) -> StepAlerts:
    """Match the saved searches against the (day, vendor) partition the ``listings`` step has just
    published and send the first messages now; never raises (the step must not fail for alerts)."""
    if not notifier.listings_step_alerts:
        return StepAlerts(info=["alerts: left to the alert sensor (listings_step_alerts is off)"])
    try:
        outcome = match_and_send(warehouse, notifier, [(day, vendor)])
    except Exception as exc:  # any failure here is the sensor's to catch up on
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        return StepAlerts(warnings=[f"alerts not evaluated in this step ({type(exc).__name__}: {first_line}); "
                                    "the alert sensor will match and send them on its next tick"])
    info = [f"alerts: {outcome.describe()}"]
    if outcome.still_due:
        info.append(f"alerts: {outcome.still_due} notification(s) due, left to the alert sensor's delivery run")
    warnings = list(outcome.evaluation.problems)
    if outcome.delivery is not None:  # masked targets, redacted errors
        warnings += [f"alerts: {target}: {error}" for target, error in outcome.delivery.errors_by_target.items()]
    return StepAlerts(info=info, warnings=warnings, outcome=outcome)
