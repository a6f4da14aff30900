"""A rollup backfill launched the way the UI's "Materialize → Launch backfill" launches one.

The backfill is recorded on the Dagster instance (so it is listed under Overview → Backfills,
with its run and per-partition status) and carried out by the daemon's backfill loop; the rollups'
``BackfillPolicy.single_run()`` makes any range of days one run. Dagster has no public Python
call for this yet, so the record is built exactly as its GraphQL ``launchPartitionBackfill``
resolver builds it (``PartitionBackfill.from_asset_partitions`` + ``add_backfill``).

While the backfill is in progress the rollups' automation leaves its days alone (``eager()``
waits while a partition is ``in_progress``, run or backfill); rollup runs already in flight are
waited for before it is requested, so no two writes of one rollup day overlap.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dagster import AssetKey, DagsterInstance, DagsterRunStatus, Definitions, RunsFilter
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.utils import make_new_backfill_id
from dagster._time import get_current_timestamp

IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
             DagsterRunStatus.STARTED]
FINISHED = {BulkActionStatus.COMPLETED, BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED_FAILED,
            BulkActionStatus.FAILED, BulkActionStatus.CANCELED}
BACKFILL_DAEMON = "BACKFILL"


def days_between(first: dt.date, last: dt.date) -> list[str]:
    """Daily partition keys from ``first`` to ``last``, both included."""
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


IN_PROCESS_RUN_CONFIG: Mapping[str, Any] = {"execution": {"config": {"in_process": {}}}}
"""Run config choosing in-process execution under Dagster's default executor (multi_or_in_process).
A rollup step is a few SQL statements; as a subprocess of its run each step first imports Dagster
and loads the definitions again (~2-5 s of CPU each, seven steps in a rollups run), several times
what its SQL costs on a demo history."""


def steps_in_process(definitions: Definitions) -> Mapping[str, Any] | None:
    """``IN_PROCESS_RUN_CONFIG`` when the code location keeps Dagster's default executor (it is the
    only one that takes it); ``None`` (the deployment's choice) with ``in_process`` or ``celery``."""
    return IN_PROCESS_RUN_CONFIG if definitions.executor is None else None


def launch_backfill(instance: DagsterInstance, definitions: Definitions, assets: Sequence[AssetKey],
                    first: dt.date, last: dt.date, *, title: str, tags: dict[str, str] | None = None,
                    run_config: Mapping[str, Any] | None = None) -> str:
    """Request one backfill of ``assets`` (daily partitions) over ``first``..``last``; its id.
    ``run_config`` is given to each of its runs."""
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=definitions.resolve_asset_graph(),
        partition_names=days_between(first, last),
        asset_selection=list(assets),
        backfill_timestamp=get_current_timestamp(),
        tags=dict(tags or {}),
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=title,
        description=f"{first}..{last}: {', '.join(a.to_user_string() for a in assets)}",
        run_config=run_config,
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id


def runs_in_flight(instance: DagsterInstance, assets: Sequence[AssetKey]) -> int:
    """Queued or running runs that materialise any of ``assets`` (e.g. launched by automation)."""
    wanted = set(assets)
    runs = instance.get_runs(RunsFilter(statuses=IN_FLIGHT))
    return sum(1 for run in runs if wanted & set(run.asset_selection or ()))


def daemon_is_running(instance: DagsterInstance) -> bool:
    """True when the daemon's backfill loop is heartbeating (``market-pulse dev`` runs one)."""
    try:
        status = instance.get_daemon_statuses([BACKFILL_DAEMON]).get(BACKFILL_DAEMON)
    except Exception:  # no heartbeats table yet, or storage without daemon support
        return False
    return bool(status and status.healthy)


def wait_until(done: Callable[[], bool], timeout: float, poll: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def wait_for_backfill(instance: DagsterInstance, backfill_id: str, timeout: float,
                      poll: float = 2.0) -> BulkActionStatus | None:
    """The backfill's status once it has finished; None when it has not within ``timeout`` seconds."""
    def finished() -> bool:
        backfill = instance.get_backfill(backfill_id)
        return backfill is not None and backfill.status in FINISHED

    if not wait_until(finished, timeout, poll):
        return None
    backfill = instance.get_backfill(backfill_id)
    return backfill.status if backfill else None
