"""``market-pulse run``: scrape one day headless on the UI's Dagster instance."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import EXPECTED_ERRORS, fail
from infra.settings import Settings, load_settings
from pipelines.platform.bootstrap import prepare

if TYPE_CHECKING:
    from pipelines.platform.runner import HeadlessRunner, PartitionOutcome


def run(
    date: Annotated[str, typer.Option("--date", help="Day to scrape, YYYY-MM-DD (default: each vendor's own "
                                      "today, in its time zone).")] = "",
    vendor: Annotated[list[str] | None, typer.Option("--vendor", help="Only this vendor (repeatable).")] = None,
) -> None:
    """Scrape one day headless (raw_captures → listings per vendor) on the UI's Dagster instance."""
    from pipelines.platform.demo_service import demo_available
    from pipelines.shared.partitions import DayOutsidePartitions

    day = _parse_day(date) if date else None
    runner = headless_runner()
    vendors = pick_vendors(runner, vendor)
    try:
        tasks = runner.plan(vendors, day)
    except DayOutsidePartitions as exc:
        raise fail(f"--date {exc}") from None
    settings = load_settings()
    demo_needed = _selects_demo_vendor(settings, vendors)
    with demo_available(settings.demo_url) if demo_needed else contextlib.nullcontext(False) as started:
        if started:
            typer.echo(f"started the demo marketplace at {settings.demo_url} for this run", err=True)
        outcomes = run_with_progress(runner, tasks)
    _print_summary(outcomes)
    failed = [o for o in outcomes if not o.success]
    if failed:
        raise fail(f"{len(failed)} of {len(outcomes)} partitions failed: "
                   + ", ".join(f"{o.vendor} {o.day}" for o in failed))
    if not vendor and runner.vendor_problems:
        raise fail("not scraped, their vendor files are invalid: "
                   + ", ".join(p.path for p in runner.vendor_problems))


def _selects_demo_vendor(settings: Settings, names: list[str]) -> bool:
    """Whether any of the vendors to run is a demo shop (only then is the demo marketplace started)."""
    from pipelines.platform.demo_service import is_demo_vendor
    from pipelines.vendors.resources import VendorRegistry

    registry = VendorRegistry(directory=str(settings.vendors_dir), demo_url=settings.demo_url)
    return any(is_demo_vendor(v, settings.demo_url) for v in registry.load() if v.name in names)


def _parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"--date must be YYYY-MM-DD, got {value!r}") from None


def headless_runner() -> HeadlessRunner:
    """Prepare databases and Dagster's home, then a runner on that instance."""
    from pipelines.platform.runner import HeadlessRunner

    try:
        prepare(load_settings())
        runner = HeadlessRunner()
        runner.sync_vendors()
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    except RuntimeError as exc:
        raise fail(f"vendor catalogue: {exc}") from None
    for problem in runner.vendor_problems:  # the other vendors run; this one is left out
        for line in problem.errors:
            typer.echo(f"error: {line}", err=True)
    return runner


def pick_vendors(runner: HeadlessRunner, wanted: list[str] | None) -> list[str]:
    known = runner.vendors
    if not wanted:
        return known
    broken = [p for p in runner.vendor_problems if p.name in wanted]
    if broken:
        raise fail(f"{broken[0].name}: its vendor file is invalid ({broken[0].errors[0]}); fix it first")
    unknown = [v for v in wanted if v not in known]
    if unknown:
        raise fail(f"unknown vendor(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return wanted


def run_with_progress(runner: HeadlessRunner, tasks: list[tuple[dt.date, str]],
                      workers: int = 1, seed: bool = False) -> list[PartitionOutcome]:
    """Run ``tasks`` with a progress bar: a Dagster run each, or with ``seed`` all at once (`seed_history`)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("scraping", total=len(tasks))

        def done(outcome: PartitionOutcome) -> None:
            mark = "[green]ok[/green]" if outcome.success else "[red]failed[/red]"
            detail = (f"{outcome.captures.get('pages', 0)} pages, {outcome.listings.get('listings_seen', 0)} listings"
                      if outcome.success else escape(outcome.error or ""))  # selectors hold [brackets]
            if outcome.success and outcome.listings.get("audit_warnings", "none") != "none":
                detail += f" [yellow](warning: {escape(outcome.listings['audit_warnings'])})[/yellow]"
            progress.console.print(f"{outcome.day} {outcome.vendor}: {mark} {detail}", soft_wrap=True)  # one line
            progress.advance(task)

        progress.update(task, description="scraping")
        if seed:
            from pipelines.platform.history_seed import seed_history
            from pipelines.platform.runner import built_resources

            days = sorted({day for day, _ in tasks})
            vendors = list(dict.fromkeys(vendor for _, vendor in tasks))
            with built_resources(runner.definitions, runner.instance) as resources:
                return seed_history(resources, runner.instance, days, vendors, workers=workers, on_done=done)
        return runner.run_tasks(tasks, workers, on_done=done)


def _print_summary(outcomes: list[PartitionOutcome]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Market Pulse run")
    for column in ("day", "vendor", "status", "pages", "seen", "new", "repriced", "sold", "removed", "skipped"):
        table.add_column(column)
    for o in outcomes:
        ls = o.listings
        table.add_row(str(o.day), o.vendor, "ok" if o.success else "failed", str(o.captures.get("pages", "")),
                      str(ls.get("listings_seen", "")), str(ls.get("listings_new", "")),
                      str(ls.get("listings_price_changed", "")), str(ls.get("listings_sold", "")),
                      str(ls.get("listings_removed", "")), str(ls.get("parse_failures", "")))
    Console().print(table)
