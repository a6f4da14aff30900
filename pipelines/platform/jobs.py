"""``market-pulse jobs``: recent runs from Dagster's run storage (the persistent job queue)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dagster import AssetKey, DagsterEventType, DagsterInstance, RunsFilter


@dataclass(frozen=True)
class JobRow:
    run_id: str
    job: str
    status: str
    partition: str
    assets: str
    started: dt.datetime | None
    duration_s: float | None
    steps_done: int
    steps_total: int

    @property
    def progress(self) -> str:
        return f"{self.steps_done}/{self.steps_total}" if self.steps_total else "-"


def recent_jobs(instance: DagsterInstance, limit: int = 20, status: str | None = None) -> list[JobRow]:
    from dagster import DagsterRunStatus

    filters = RunsFilter(statuses=[DagsterRunStatus(status.upper())]) if status else None
    rows = []
    for record in instance.get_run_records(filters=filters, limit=limit):
        run = record.dagster_run
        started = dt.datetime.fromtimestamp(record.start_time, dt.UTC) if record.start_time else None
        ended = record.end_time or (dt.datetime.now(dt.UTC).timestamp() if record.start_time else None)
        stats = instance.get_run_stats(run.run_id)
        steps_total = len(run.step_keys_to_execute or []) or (stats.steps_succeeded + stats.steps_failed)
        partition = run.tags.get("dagster/partition") or _range(run.tags) or ""
        assets = ", ".join(_assets_of(instance, run.run_id, run.asset_selection))
        rows.append(JobRow(
            run_id=run.run_id, job=run.job_name, status=run.status.value, partition=partition, assets=assets,
            started=started, duration_s=(ended - record.start_time) if record.start_time and ended else None,
            steps_done=stats.steps_succeeded, steps_total=steps_total,
        ))
    return rows


def _range(tags: Mapping[str, str]) -> str | None:
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    return f"{start}...{end}" if start and end else None


def _assets_of(instance: DagsterInstance, run_id: str, selection: Iterable[AssetKey] | None) -> list[str]:
    """The assets a run materialises, sorted: a job run (``scrape``) has no asset selection of its
    own, but it records one planned materialisation per asset."""
    planned = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
    keys = [r.event_log_entry.dagster_event.asset_key for r in planned if r.event_log_entry.dagster_event]
    names = [key.to_user_string() for key in keys if key is not None]
    return sorted(set(names)) or sorted(key.to_user_string() for key in (selection or ()))
