"""``market-pulse demo``: the bundled demo marketplace (serve it, seed history from it)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import fail
from cli.run import headless_runner, pick_vendors, run_with_progress
from infra.settings import load_settings

if TYPE_CHECKING:
    from pipelines.platform.runner import HeadlessRunner

demo_app = typer.Typer(help="The bundled demo marketplace.", no_args_is_help=True)


@demo_app.command("serve")
def demo_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8765,
    seed: Annotated[int, typer.Option(help="Catalogue seed: same seed, same shops.")] = 42,
) -> None:
    """Serve the demo marketplace (five shops) until interrupted."""
    from demo.server import serve

    serve(host=host, port=port, seed=seed)


@demo_app.command("seed")
def demo_seed(
    days: Annotated[int, typer.Option(help="How many days of history, ending today (UTC).", min=1, max=730)] = 30,
    vendor: Annotated[list[str] | None, typer.Option("--vendor", help="Only this vendor (repeatable).")] = None,
    workers: Annotated[int, typer.Option(help="Processes publishing listings (with --runs: partitions at once, "
                                         "each in its own process).", min=1)] = 2,
    runs: Annotated[bool, typer.Option("--runs", help="A Dagster run per partition (slower; the default crawls "
                                       "each vendor's days through one session and reports each partition's "
                                       "materialisations without a run).")] = False,
    rollups_timeout: Annotated[float, typer.Option(help="Seconds to wait for the rollups' backfill when a "
                                                   "Dagster daemon runs it.", min=0)] = 900,
) -> None:
    """Fill N days of history by scraping the demo marketplace as of each past day, then backfill every
    rollup over those days in one run (listed under Overview > Backfills)."""
    from pipelines.platform.demo_service import demo_available

    today = dt.datetime.now(dt.UTC).date()
    day_list = [today - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    runner = headless_runner()
    vendors = pick_vendors(runner, vendor)
    settings = load_settings()
    with demo_available(settings.demo_url):
        outcomes = run_with_progress(runner, [(d, v) for d in day_list for v in vendors], workers=workers,
                                     seed=not runs)
    failed = [o for o in outcomes if not o.success]
    typer.echo(f"seeded {len(outcomes) - len(failed)} of {len(outcomes)} partitions "
               f"({day_list[0]} to {day_list[-1]}, {len(vendors)} vendors)")
    if failed:
        raise fail("failed: " + "; ".join(f"{o.vendor} {o.day}: {o.error}" for o in failed[:5]))
    (settings.home / SEEDED_MARKER).write_text(f"{day_list[0]}..{day_list[-1]}\n")
    _backfill_rollups(runner, day_list[0], day_list[-1], wait_seconds=rollups_timeout)


def _backfill_rollups(runner: HeadlessRunner, first: dt.date, last: dt.date, wait_seconds: float) -> None:
    """The seeded history's rollups, every day of it, as one backfill listed under Overview → Backfills."""
    from dagster._core.execution.backfill import BulkActionStatus

    done = runner.backfill_rollups(first, last, wait_seconds=wait_seconds)
    what = f"rollups: backfill {done.backfill_id} of {first} to {last} (one run)"
    if not done.daemon_running:
        typer.echo(f"{what} requested; it runs when the Dagster daemon runs (market-pulse dev)")
    elif done.status is None:
        typer.echo(f"{what} still running after {wait_seconds:.0f}s; follow it under Overview > Backfills")
    elif done.status != BulkActionStatus.COMPLETED_SUCCESS:
        raise fail(f"{what} ended {done.status.value}; see Overview > Backfills in the UI")
    else:
        typer.echo(f"{what} done")


SEEDED_MARKER = "demo-seeded"
"""Written under MARKET_PULSE_HOME once `demo seed` succeeded, so `dev` seeds only on first start."""
