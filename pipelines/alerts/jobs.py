"""``deliver_notifications``: the job that empties the outbox (side effects live here, not in assets)."""

from dagster import Failure, OpExecutionContext, in_process_executor, job, op

from pipelines.alerts.delivery import crash_hook_from_env, deliver_due
from pipelines.alerts.notifier import Notifier
from pipelines.shared.warehouse import Warehouse

DELIVERY_JOB = "deliver_notifications"


@op(description="Claim due notifications (FOR UPDATE SKIP LOCKED), send each through "
    "Apprise with its idempotency key, record sent / retry-with-backoff / failed.")
def send_due_notifications(context: OpExecutionContext, warehouse: Warehouse, notifier: Notifier) -> None:
    summary = deliver_due(warehouse.engine, notifier, after_send=crash_hook_from_env(), log=context.log.info)
    context.log.info(f"delivery: {summary.describe()}")
    for target, error in summary.errors_by_target.items():  # masked targets, redacted errors
        context.log.warning(f"{target}: {error}")
    if summary.claimed and not summary.sent and (summary.failed or summary.retrying):
        # Visible in the runs list; the rows themselves are retried by the next run after their backoff.
        raise Failure(description=f"no notification could be delivered: {summary.describe()}", allow_retries=False,
                      metadata={"claimed": summary.claimed, "failed": summary.failed, "retry_later": summary.retrying,
                                "targets_failing": len(summary.errors_by_target)})


@job(name=DELIVERY_JOB, executor_def=in_process_executor,
     # Ahead of queued scrape runs: a message waiting behind a backfill is a late message.
     tags={"market_pulse/kind": "alerts", "dagster/priority": "10"},
     description="Send due notifications from the outbox (requested by the alert sensors).")
def deliver_notifications() -> None:
    send_due_notifications()
