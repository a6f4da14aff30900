"""Headless runs of the scraping jobs on the same Dagster instance the UI uses.

``market-pulse run`` (and ``demo seed``) execute the code location's own ``sync_vendors`` and
``scrape`` jobs in this process, with the resources the code location binds; each run is recorded
in Dagster's Postgres storage under its job's name, so it shows up in the UI exactly like a run
launched there (with the blocking checks of ``listings`` evaluated in the same run).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dagster import (
    BetaWarning,
    DagsterInstance,
    DagsterUnknownPartitionError,
    Definitions,
    MultiPartitionsDefinition,
    PreviewWarning,
    SupersessionWarning,
    build_resources,
)
from dagster._core.execution.backfill import BulkActionStatus

from pipelines.platform.backfills import (
    daemon_is_running,
    launch_backfill,
    runs_in_flight,
    steps_in_process,
    wait_for_backfill,
    wait_until,
)
from pipelines.scraping.schedule_rules import scrape_days
from pipelines.scraping.schedules import SCRAPE_JOB
from pipelines.shared.partitions import check_partition_day, day_vendor_key
from pipelines.vendors.config.loading import VendorFileProblem
from pipelines.vendors.defs import SYNC_VENDORS_JOB
from pipelines.vendors.resources import VendorRegistry


@dataclass
class PartitionOutcome:
    day: dt.date
    vendor: str
    success: bool
    run_id: str
    error: str | None = None
    captures: dict[str, Any] = field(default_factory=dict)
    listings: dict[str, Any] = field(default_factory=dict)


def _metadata(result: Any, node: str) -> dict[str, Any]:
    events = result.asset_materializations_for_node(node)
    if not events:
        return {}
    return {k: v.value for k, v in events[-1].metadata.items() if k not in {"preview", "searches_table"}}


def failure_summary(result: Any) -> str | None:
    """One readable line: the step and the innermost error message."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            while error is not None and error.cause is not None and "Failure" not in error.cls_name:
                error = error.cause
            if error is None:
                return event.step_key
            message = " ".join(error.message.split())
            prefix = f"{error.cls_name}: "
            message = message.split(prefix, 1)[-1] if prefix in message else message
            return f"{event.step_key}: {message}"
    return None


@dataclass(frozen=True)
class RollupBackfill:
    backfill_id: str
    first: dt.date
    last: dt.date
    daemon_running: bool
    status: BulkActionStatus | None
    """How it finished; None when no daemon ran it yet or it had not finished in time."""


QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
"""The CLI prints its own progress; the full event log is in the UI."""
CLI_TAGS = {"market_pulse/launched_by": "cli"}


@contextlib.contextmanager
def quiet_dagster_notices() -> Iterator[None]:
    """Dagster's notices about its own beta and superseded APIs, raised while the code location
    resolves, would bury a command's output; the UI and the run logs still show them."""
    with warnings.catch_warnings():
        for category in (BetaWarning, PreviewWarning, SupersessionWarning):
            warnings.filterwarnings("ignore", category=category)
        yield


def code_location() -> Definitions:
    """The code location's definitions, loaded late (they read the environment the CLI prepared)."""
    from pipelines.definitions import defs

    with quiet_dagster_notices():
        return defs()


@contextlib.contextmanager
def built_resources(definitions: Definitions, instance: DagsterInstance) -> Iterator[dict[str, Any]]:
    """The code location's resources built as a run has them, by name, for work done outside a run
    (the demo seed, on-demand searches); torn down when the block ends."""
    with build_resources(dict(definitions.resources or {}), instance=instance) as built:
        yield {name: getattr(built, name) for name in built._asdict()}


class HeadlessRunner:
    """Materialises vendor_catalog, then (day, vendor) partitions of raw_captures → listings."""

    def __init__(self, instance: DagsterInstance | None = None, definitions: Definitions | None = None) -> None:
        if definitions is None:
            definitions = code_location()
        with quiet_dagster_notices():
            self.sync_job = definitions.resolve_job_def(SYNC_VENDORS_JOB.name)
            self.scrape_job = definitions.resolve_job_def(SCRAPE_JOB.name)
        self.instance = instance or DagsterInstance.get()
        registry = (definitions.resources or {})["vendor_registry"]
        assert isinstance(registry, VendorRegistry)
        self.vendor_registry = registry
        self.definitions = definitions

    @property
    def vendor_problems(self) -> list[VendorFileProblem]:
        """Vendor files that cannot be used (their vendors are left out; the others run), as the
        ``vendor_files_valid`` check on ``vendor_catalog`` reports them."""
        return list(self.vendor_registry.problems())

    @property
    def vendors(self) -> list[str]:
        partitions = self.scrape_job.partitions_def
        assert isinstance(partitions, MultiPartitionsDefinition)
        return list(partitions.get_partitions_def_for_dimension("vendor").get_partition_keys())

    def plan(self, vendors: list[str], day: dt.date | None = None,
             now: dt.datetime | None = None) -> list[tuple[dt.date, str]]:
        """(day, vendor) partitions to run: ``day`` for each vendor, or else each vendor's own today.

        Raises ``DayOutsidePartitions`` (one line) for a day without a partition."""
        configs = [self.vendor_registry.get(name) for name in vendors]
        tasks = scrape_days(configs, day, now)
        for task_day in {task_day for task_day, _ in tasks}:
            check_partition_day(task_day, now)
        return tasks
    def backfill_rollups(self, first: dt.date, last: dt.date, *, wait_seconds: float) -> RollupBackfill:
        """One backfill of every rollup over ``first``..``last`` (one run, by their backfill policy),
        as the UI would launch it, so it is listed under Overview → Backfills. With a daemon running
        (``market-pulse dev``), rollup runs in flight are let finish first, and the backfill is
        waited for up to ``wait_seconds``; without one it runs when the daemon next runs. Under
        Dagster's default executor its run executes the rollup steps in its own process."""
        from pipelines.definitions import ROLLUPS

        keys = [asset.key for asset in ROLLUPS]
        daemon = daemon_is_running(self.instance)
        if daemon:
            wait_until(lambda: runs_in_flight(self.instance, keys) == 0, timeout=wait_seconds)
        backfill_id = launch_backfill(self.instance, self.definitions, keys, first, last,
                                      title="Demo history: every rollup", tags=CLI_TAGS,
                                      run_config=steps_in_process(self.definitions))
        status = wait_for_backfill(self.instance, backfill_id, timeout=wait_seconds) if daemon else None
        return RollupBackfill(backfill_id, first, last, daemon, status)

    def sync_vendors(self) -> None:
        result = self.sync_job.execute_in_process(instance=self.instance, raise_on_error=False, tags=CLI_TAGS,
                                                  run_config=QUIET)
        if not result.success:
            raise RuntimeError(failure_summary(result) or "vendor_catalog failed")

    def run_partition(self, day: dt.date, vendor: str) -> PartitionOutcome:
        try:
            result = self.scrape_job.execute_in_process(
                instance=self.instance, partition_key=day_vendor_key(day, vendor), raise_on_error=False,
                tags=CLI_TAGS, run_config=QUIET)
        except DagsterUnknownPartitionError:
            # Checked before launching (see check_partition_day); this is the last line of defence
            # when the calendar moves on between the check and the launch.
            return PartitionOutcome(day=day, vendor=vendor, success=False, run_id="",
                                    error=f"{vendor} {day}: no such partition (days run up to today at UTC+14)")
        return PartitionOutcome(day=day, vendor=vendor, success=result.success, run_id=result.run_id,
                                error=failure_summary(result), captures=_metadata(result, "raw_captures"),
                                listings=_metadata(result, "listings"))

    def run_parallel(self, days: Iterable[dt.date], vendors: list[str], workers: int,
                     on_done: Callable[[PartitionOutcome], None] = lambda _: None) -> list[PartitionOutcome]:
        """Like :meth:`run`, with ``workers`` processes (each its own Dagster run, as in a backfill)."""
        return self.run_tasks([(day, vendor) for day in days for vendor in vendors], workers, on_done)

    def run_tasks(self, tasks: list[tuple[dt.date, str]], workers: int = 1,
                  on_done: Callable[[PartitionOutcome], None] = lambda _: None) -> list[PartitionOutcome]:
        """The given (day, vendor) partitions, in order or with ``workers`` processes; one failing
        vendor never stops the others."""
        if workers <= 1 or len(tasks) <= 1:
            outcomes = []
            for day, vendor in tasks:
                outcomes.append(self.run_partition(day, vendor))
                on_done(outcomes[-1])
            return outcomes
        outcomes = []
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker) as pool:
            for outcome in pool.map(_run_in_worker, tasks):
                outcomes.append(outcome)
                on_done(outcome)
        return outcomes

    def run(self, days: Iterable[dt.date], vendors: list[str],
            on_done: Callable[[PartitionOutcome], None] = lambda _: None) -> list[PartitionOutcome]:
        """Every (day, vendor) partition in order; one failing vendor never stops the others."""
        return self.run_tasks([(day, vendor) for day in days for vendor in vendors], 1, on_done)


_worker_runner: HeadlessRunner | None = None


def _start_worker() -> None:
    global _worker_runner
    _worker_runner = HeadlessRunner()


def _run_in_worker(task: tuple[dt.date, str]) -> PartitionOutcome:
    assert _worker_runner is not None
    return _worker_runner.run_partition(*task)
