"""Runs launched the way a run worker launches them, from a separate process, on the executor the
environment chooses (``MARKET_PULSE_EXECUTOR``): ``python -m tests.support.dagster_runs ...``.

* ``sync``: one run of ``sync_vendors`` (the vendor catalogue);
* ``scrape DAY|VENDOR ...``: one run of the ``scrape`` job per partition, in order (start several
  of these processes at once for a backfill's runs — outside Dagster's run queue, so only the
  per-vendor fetch lock keeps two runs of one vendor apart; one process per run, because
  Celery's ``rpc://`` result backend must not be shared by threads);
* ``rollups START END``: one run of the daily rollups over the window (a single-run backfill).

Several commands may follow one another in one process (``sync scrape K1 K2 rollups S E``).
Prints each run as one JSON line: ``{"run_id", "success", "partition"}``. The Dagster instance is
``$DAGSTER_HOME``'s; the code location is loaded by module, exactly as a code server loads it.
"""

from __future__ import annotations

import json
import sys

from dagster import AssetKey, DagsterInstance, execute_job
from dagster._core.definitions.reconstruct import ReconstructableRepository

ROLLUPS = ("product_matches", "price_snapshots", "vendor_performance", "search_analytics")


def _repository() -> ReconstructableRepository:
    return ReconstructableRepository.for_module("pipelines.definitions", "defs")


def scrape(instance: DagsterInstance, partition: str) -> dict[str, object]:
    day, vendor = partition.split("|")
    tags = {"dagster/partition": partition, "dagster/partition/date": day, "dagster/partition/vendor": vendor}
    with execute_job(_repository().get_reconstructable_job("scrape"), instance, tags=tags) as result:
        return {"run_id": result.run_id, "success": result.success, "partition": partition}


def rollups(instance: DagsterInstance, start: str, end: str) -> dict[str, object]:
    tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    job = _repository().get_reconstructable_job("__ASSET_JOB")
    with execute_job(job, instance, tags=tags, asset_selection=[AssetKey(k) for k in ROLLUPS]) as result:
        return {"run_id": result.run_id, "success": result.success, "partition": f"{start}...{end}"}


def sync(instance: DagsterInstance) -> dict[str, object]:
    with execute_job(_repository().get_reconstructable_job("sync_vendors"), instance) as result:
        return {"run_id": result.run_id, "success": result.success, "partition": None}


COMMANDS = ("sync", "scrape", "rollups")


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in COMMANDS:
        raise SystemExit(f"usage: {' | '.join(COMMANDS)} ARGS... [COMMAND ARGS...]")
    commands: list[list[str]] = []
    for token in argv:
        if token in COMMANDS:
            commands.append([token])
        else:
            commands[-1].append(token)
    with DagsterInstance.get() as instance:
        for command, *args in commands:
            if command == "sync":
                outcomes = [sync(instance)]
            elif command == "scrape":
                outcomes = [scrape(instance, key) for key in args]
            else:
                outcomes = [rollups(instance, *args)]
            for outcome in outcomes:
                print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
