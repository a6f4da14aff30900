"""``market-pulse jobs``: recent runs from Dagster's run storage."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import fail
from cli.instance import export_dagster_env
from infra.settings import load_settings

if TYPE_CHECKING:
    from rich.table import Table

    from pipelines.platform.jobs import JobRow


def jobs(
    limit: Annotated[int, typer.Option(help="How many recent runs.")] = 20,
    status: Annotated[str | None, typer.Option(help="Only runs in this status (e.g. FAILURE, STARTED).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Recent runs (jobs) with status, partition, duration and progress, from Dagster's run storage."""
    from dagster import DagsterInstance
    from rich.console import Console

    from pipelines.platform.bootstrap import write_dagster_home
    from pipelines.platform.jobs import recent_jobs

    settings = load_settings()
    export_dagster_env(settings)
    write_dagster_home(settings)
    try:
        with DagsterInstance.get() as instance:
            rows = recent_jobs(instance, limit=limit, status=status)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([{**row.__dict__, "progress": row.progress} for row in rows], default=str, indent=2))
        return
    Console().print(jobs_table(rows))


def jobs_table(rows: list[JobRow]) -> Table:
    """Recent runs as a table that stays readable in an 80-column terminal: fixed narrow columns,
    and the assets column (the only long one) takes one line per asset instead of squeezing the rest."""
    from rich import box
    from rich.table import Table

    table = Table(title="Recent runs", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("run", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("partition", no_wrap=True)
    table.add_column("assets", overflow="fold", ratio=1)
    table.add_column("started", no_wrap=True)
    table.add_column("took", no_wrap=True, justify="right")
    table.add_column("steps", no_wrap=True, justify="right")
    for row in rows:
        table.add_row(row.run_id[:8], row.status, row.partition or "-", (row.assets or row.job).replace(", ", "\n"),
                      row.started.strftime("%m-%d %H:%M") if row.started else "",
                      f"{row.duration_s:.0f}s" if row.duration_s is not None else "", row.progress)
    return table
