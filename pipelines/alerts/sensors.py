"""Alert sensors: match on new ``listings`` materialisations, and keep the outbox moving.

- ``alert_matching_sensor`` (a multi-asset sensor on ``listings``): each tick takes the
  materialisations it has not consumed yet, derives their (day, vendor) partitions, evaluates every
  active saved search against the listings new or changed there, and writes ``alert_matches`` and
  ``notifications`` in one transaction. It then requests ``deliver_notifications`` with a run key
  derived from the consumed event ids, so a tick re-evaluated after a crash asks for the same run
  (Dagster drops a run request whose key it has already launched). The tick's text (skip reason,
  log line, run tags) says how many listings were evaluated and how many matches were made.
  A small burst (at most ``Notifier.sensor_send_limit`` due, the usual real-time case) is sent
  by the tick itself through the same ``deliver_due`` (claims, idempotency keys, backoff): a run
  would first spend 3-5 s starting a process that imports the code location, which is most of
  the latency budget (sensor interval + 5 s). A run is requested only for what is still due.
  With ``Notifier.listings_step_alerts`` on (the default) the ``listings`` step has usually matched
  and sent its partition already (:mod:`pipelines.alerts.immediate`); the tick then finds nothing
  new and is the catch-up path for what a step did not finish.
  It also watches ``price_snapshots``: a new snapshot day re-evaluates that day of every vendor,
  because below-market prices can only be judged once products and market values exist.
- ``notification_retry_sensor``: when notifications are due again (backoff elapsed, or a lapsed
  ``sending`` lease) and no delivery run is in flight, requests one.
"""

import datetime as dt
import hashlib
import time
import warnings

from dagster import (
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    MultiAssetSensorEvaluationContext,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    SupersessionWarning,
    multi_asset_sensor,
    sensor,
)

from infra.settings import AlertSettings
from pipelines.alerts import store
from pipelines.alerts.immediate import match_and_send
from pipelines.alerts.jobs import DELIVERY_JOB, deliver_notifications
from pipelines.alerts.notifier import Notifier
from pipelines.shared.warehouse import Warehouse

LISTINGS = AssetKey("listings")
PRICE_SNAPSHOTS = AssetKey("price_snapshots")
"""Daily market values (rollups): a new day re-evaluates that day's listings for below-market prices,
since product identity and snapshots are computed after the listings they describe."""
MONITORED = [LISTINGS, PRICE_SNAPSHOTS]
MAX_EVENTS_PER_TICK = 100
RETRY_BUCKET_SECONDS = 300
IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
             DagsterRunStatus.STARTED]


def partition_of(partition_key: str | None) -> tuple[dt.date, str | None] | None:
    """(day, vendor) of a ``listings`` partition key such as ``2026-11-01|toko``; (day, None) of a
    daily key such as ``2026-11-01`` (every vendor's partition of that day)."""
    if not partition_key:
        return None
    day, vendor = None, None
    for part in partition_key.split("|"):
        try:
            day = dt.date.fromisoformat(part)
        except ValueError:
            vendor = part
    return (day, vendor) if day is not None else None


def match_new_listings(context: MultiAssetSensorEvaluationContext, warehouse: Warehouse,
                       notifier: Notifier) -> SensorResult | SkipReason:
    """One tick of ``alert_matching_sensor``."""
    records = {key: list(context.materialization_records_for_key(key, limit=MAX_EVENTS_PER_TICK))
               for key in MONITORED}
    consumed = [record for batch in records.values() for record in batch]
    if not consumed:
        return SkipReason("no new listings or price_snapshots materialisations since the last tick")
    partitions = [p for p in (partition_of(r.partition_key) for r in consumed) if p is not None]
    result = match_and_send(warehouse, notifier, partitions)
    for key, batch in records.items():
        for record in batch:
            context.advance_cursor({key: record})
    summary = result.evaluation
    message = summary.describe()
    context.log.info(message)
    for problem in summary.problems:
        context.log.warning(problem)
    if result.delivery is not None:
        message += f"; sent in this tick: {result.delivery.describe()}"
        context.log.info(f"delivery in the sensor tick: {result.delivery.describe()}")
        for target, error in result.delivery.errors_by_target.items():  # masked targets, redacted errors
            context.log.warning(f"{target}: {error}")
    still_due = result.still_due
    if still_due:
        ids = sorted(r.storage_id for r in consumed)
        run_key = f"alerts-{ids[0]}-{ids[-1]}-{len(ids)}"
        return SensorResult(run_requests=[RunRequest(run_key=run_key, tags=summary.tags())])
    return SkipReason(message)


def request_due_retries(context: SensorEvaluationContext, warehouse: Warehouse) -> RunRequest | SkipReason:
    """One tick of ``notification_retry_sensor``."""
    with warehouse.connect() as conn:
        due = store.due_notifications(conn)
        counts = ", ".join(f"{status} {n}" for status, n in store.notification_counts(conn).items()) or "empty"
    if not due.due:
        return SkipReason(f"nothing due (outbox: {counts})")
    in_flight = context.instance.get_runs_count(RunsFilter(job_name=DELIVERY_JOB, statuses=IN_FLIGHT))
    if in_flight:
        return SkipReason(f"{due.due} due, but a delivery run is in flight (outbox: {counts})")
    digest = hashlib.sha256(due.fingerprint.encode()).hexdigest()[:16]
    bucket = int(time.time() // RETRY_BUCKET_SECONDS)
    return RunRequest(run_key=f"retry-{digest}-{bucket}", tags={"market_pulse/alerts_due": str(due.due)})


def build_alert_sensors(settings: AlertSettings) -> list[SensorDefinition]:
    """The two alert sensors, ticking at the configured intervals."""
    # Dagster marks multi-asset sensors "superseded" by Declarative Automation *for launching asset
    # materialisations*; for side effects and targeting a specific job (our case) it names them as
    # the tool to use. `@asset_sensor` would hand us only the latest of several materialisations per tick.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SupersessionWarning, message=".*MultiAssetSensorDefinition.*")

        @multi_asset_sensor(
            monitored_assets=MONITORED,
            job=deliver_notifications,
            name="alert_matching_sensor",
            minimum_interval_seconds=settings.sensor_interval_seconds,
            default_status=DefaultSensorStatus.RUNNING,
            description="On new `listings` materialisations (and new `price_snapshots` days, for below-market "
            "prices): evaluate active saved searches against the listings new or changed in those partitions, "
            "write alert_matches + notifications (one transaction), request delivery.",
        )
        def alert_matching_sensor(context: MultiAssetSensorEvaluationContext, warehouse: Warehouse,
                                  notifier: Notifier) -> SensorResult | SkipReason:
            return match_new_listings(context, warehouse, notifier)

    @sensor(
        job=deliver_notifications,
        name="notification_retry_sensor",
        minimum_interval_seconds=settings.retry_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Requests a delivery run when notifications are due again (retry backoff elapsed, or a "
        "crashed run's lease lapsed) and no delivery run is in flight.",
    )
    def notification_retry_sensor(context: SensorEvaluationContext, warehouse: Warehouse) -> RunRequest | SkipReason:
        return request_due_retries(context, warehouse)

    return [alert_matching_sensor, notification_retry_sensor]
