"""``market-pulse``: the command line for running, inspecting and operating Market Pulse."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from cli.accounts import keys_app, users_app
from cli.alerts import alerts_app, install_demo_alerts, notifications
from cli.products import products_app
from cli.roles import db_roles
from cli.secrets import secrets_app
from cli.serve import serve, worker
from cli.sessions import sessions_app
from cli.vendors import vendors_app
from infra import migrate
from infra.database import DatabaseUnavailable, resolve_urls
from infra.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError
from infra.settings import PROJECT_ROOT, ROLE_PURPOSES, Settings, load_settings, redact, with_database
from pipelines.platform.bootstrap import prepare, prepare_databases, upgrade_as_owner
from pipelines.platform.health import check_health

app = typer.Typer(help="Market Pulse: price intelligence for online marketplaces.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="The warehouse database: start, stop, migrate.", no_args_is_help=True)


app.add_typer(db_app, name="db")
db_app.command("roles")(db_roles)
app.add_typer(secrets_app, name="secrets")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


EXPECTED_ERRORS = (DatabaseUnavailable, EmbeddedPostgresError, ValueError)


@app.callback()
def check_settings() -> None:
    """Market Pulse: price intelligence for online marketplaces."""
    try:
        load_settings()  # a malformed setting (e.g. NAME and NAME_FILE both set) is one line, for every command
    except ValueError as exc:
        raise fail(str(exc)) from None


@db_app.command("up")
def db_up() -> None:
    """Start the embedded server if no URL is configured, create the databases, migrate; print the
    pipeline's URL (password masked: `db url --show-password` prints it)."""
    settings = load_settings()
    try:
        started = time.monotonic()
        urls = prepare_databases(settings)
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    where = "embedded" if urls.embedded else "configured"
    typer.echo(f"warehouse ({where}) ready in {time.monotonic() - started:.2f}s at migration "
               f"{migrate.head_revision()}", err=True)
    typer.echo(redact(urls.app))


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded server (a configured server is never touched)."""
    settings = load_settings()
    if not settings.embedded:
        typer.echo("MARKET_PULSE_DATABASE_URL is set: that server is not ours to stop.", err=True)
        return
    try:
        stopped = EmbeddedPostgres(settings.postgres_dir).stop()
    except EmbeddedPostgresError as exc:
        raise fail(str(exc)) from None
    typer.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


@db_app.command("url")
def db_url(
    dagster: Annotated[bool, typer.Option(help="Dagster's storage database (same as --role dagster).")] = False,
    role: Annotated[str, typer.Option(help="Whose URL: app (the pipeline), owner (migrations), readonly or "
                                      "dagster.")] = "app",
    show_password: Annotated[bool, typer.Option("--show-password", help="Print the password instead of "
                                                "***.")] = False,
) -> None:
    """Print a database URL, password masked unless asked (starts the embedded server if needed)."""
    purpose = "dagster" if dagster else role
    if purpose not in ROLE_PURPOSES:
        raise fail(f"--role {role!r}: use one of {', '.join(ROLE_PURPOSES)}")
    try:
        urls = resolve_urls(load_settings())
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    url = urls.of(purpose)
    typer.echo(url if show_password else redact(url))


@db_app.command("migrate")
def db_migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Upgrade the warehouse schema (to the latest revision by default), as the owner role."""
    try:
        urls = resolve_urls(load_settings())
        upgrade_as_owner(urls, revision)
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{redact(urls.owner)} at {migrate.current_revision(urls.owner)}")


@db_app.command("downgrade", context_settings={"ignore_unknown_options": True})
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Roll the warehouse schema back to REVISION, as the owner role."""
    try:
        urls = resolve_urls(load_settings())
        migrate.downgrade(urls.owner, revision)
    except (*EXPECTED_ERRORS, RuntimeError) as exc:
        raise fail(" ".join(str(exc).split())) from None
    typer.echo(f"{redact(urls.owner)} at {migrate.current_revision(urls.owner) or 'base'}")


@app.command()
def health(
    ready: Annotated[bool, typer.Option("--ready", help="Readiness: also the Dagster daemon heartbeat and "
                                        "each vendor's last successful scrape.")] = False,
    max_scrape_age: Annotated[float | None, typer.Option(help="With --ready: fail when a vendor's last "
                                                         "successful scrape is older (hours).")] = None,
) -> None:
    """Check the database, migrations and Dagster storage; print JSON, exit 0 only when all are fine."""
    settings = load_settings()
    if ready:
        from pipelines.platform.bootstrap import write_dagster_home
        from pipelines.platform.health import check_readiness

        _export_dagster_env(settings)
        write_dagster_home(settings)
        report = check_readiness(settings, max_scrape_age_hours=max_scrape_age)
        ok = report["ready"]
    else:
        report = check_health(settings)
        ok = report["healthy"]
    typer.echo(json.dumps(report, indent=2, default=str))
    if not ok:
        raise fail(report.get("error", "unhealthy"))


def _export_dagster_env(settings: Settings) -> None:
    """Point this process at the Dagster instance without starting or migrating anything."""
    try:
        urls = resolve_urls(settings, start=False)
    except EXPECTED_ERRORS:
        return
    os.environ.setdefault("MARKET_PULSE_DAGSTER_STORAGE_URL", urls.dagster)
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))


@app.command()
def backup(file: Annotated[Path, typer.Argument(help="Where to write the dump (pg_dump custom format).")]) -> None:
    """Dump the warehouse to FILE with pg_dump (the embedded server's own binaries when embedded)."""
    from pipelines.platform.backup import BackupError
    from pipelines.platform.backup import backup as dump

    try:
        urls = resolve_urls(load_settings())
        tool = dump(urls.owner, file)
    except (BackupError, *EXPECTED_ERRORS) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"backed up {redact(urls.owner)} to {file} ({file.stat().st_size} bytes, pg_dump {tool.major}, "
               "readable by you only)")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `market-pulse backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask: replace the warehouse.")] = False,
) -> None:
    """Replace the warehouse with the contents of FILE (everything since the backup is lost).

    FILE is restored into a new database and checked there; only then is it swapped in, so a
    truncated, damaged or foreign file leaves the warehouse untouched. On the embedded server this
    runs as its superuser (the roles' rights are put back afterwards); on a configured server as
    MARKET_PULSE_OWNER_DATABASE_URL's role, which must be allowed to create databases."""
    from pipelines.platform.backup import BackupError, deployment_roles
    from pipelines.platform.backup import restore as load

    settings = load_settings()
    try:
        urls = resolve_urls(settings)
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    if not yes and not typer.confirm(f"Replace {redact(urls.app)} with {file}?"):
        raise typer.Exit(1)
    target = with_database(urls.admin, _database_of(urls.app)) if urls.admin else urls.owner
    try:
        tool = load(target, file, roles=None if urls.embedded else deployment_roles(urls))
        if urls.embedded:
            server = EmbeddedPostgres(settings.postgres_dir)
            server.provision(server.ensure_running())
    except (BackupError, *EXPECTED_ERRORS) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"restored {redact(urls.app)} from {file} (pg_restore {tool.major}); "
               f"schema at {migrate.current_revision(urls.app)}")


def _database_of(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database or ""


@app.command()
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
    _export_dagster_env(settings)
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


def jobs_table(rows: list[Any]) -> Any:
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


demo_app = typer.Typer(help="The bundled demo marketplace.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(sessions_app, name="sessions")  # pipelines/sessions/cli.py
app.add_typer(vendors_app, name="vendors")  # cli/vendors.py: vendors check
# Saved searches and alerts (pipelines/alerts/cli.py)
app.add_typer(users_app, name="users")  # people and their UI logins (cli/accounts.py)
app.add_typer(keys_app, name="keys")
app.add_typer(alerts_app, name="alerts")
app.add_typer(products_app, name="products")
app.command("notifications")(notifications)
# The processes of a deployment past one laptop (cli/serve.py)
app.command("serve")(serve)
app.command("worker")(worker)


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
    runner = _headless_runner()
    vendors = _pick_vendors(runner, vendor)
    settings = load_settings()
    with demo_available(settings.demo_url):
        outcomes = _run_with_progress(runner, [(d, v) for d in day_list for v in vendors], workers=workers,
                                      seed=not runs)
    failed = [o for o in outcomes if not o.success]
    typer.echo(f"seeded {len(outcomes) - len(failed)} of {len(outcomes)} partitions "
               f"({day_list[0]} to {day_list[-1]}, {len(vendors)} vendors)")
    if failed:
        raise fail("failed: " + "; ".join(f"{o.vendor} {o.day}: {o.error}" for o in failed[:5]))
    (settings.home / SEEDED_MARKER).write_text(f"{day_list[0]}..{day_list[-1]}\n")
    _backfill_rollups(runner, day_list[0], day_list[-1], wait_seconds=rollups_timeout)


def _backfill_rollups(runner, first: dt.date, last: dt.date, wait_seconds: float) -> None:  # type: ignore[no-untyped-def]
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


@app.command()
def run(
    date: Annotated[str, typer.Option("--date", help="Day to scrape, YYYY-MM-DD (default: each vendor's own "
                                      "today, in its time zone).")] = "",
    vendor: Annotated[list[str] | None, typer.Option("--vendor", help="Only this vendor (repeatable).")] = None,
) -> None:
    """Scrape one day headless (raw_captures → listings per vendor) on the UI's Dagster instance."""
    from pipelines.platform.demo_service import demo_available
    from pipelines.shared.partitions import DayOutsidePartitions

    day = _parse_day(date) if date else None
    runner = _headless_runner()
    vendors = _pick_vendors(runner, vendor)
    try:
        tasks = runner.plan(vendors, day)
    except DayOutsidePartitions as exc:
        raise fail(f"--date {exc}") from None
    settings = load_settings()
    demo_needed = _selects_demo_vendor(settings, vendors)
    with demo_available(settings.demo_url) if demo_needed else contextlib.nullcontext(False) as started:
        if started:
            typer.echo(f"started the demo marketplace at {settings.demo_url} for this run", err=True)
        outcomes = _run_with_progress(runner, tasks)
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


def _headless_runner():  # type: ignore[no-untyped-def]
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


def _pick_vendors(runner, wanted: list[str] | None) -> list[str]:  # type: ignore[no-untyped-def]
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


def _run_with_progress(runner, tasks: list[tuple[dt.date, str]], workers: int = 1,  # type: ignore[no-untyped-def]
                       seed: bool = False):
    """Run ``tasks`` with a progress bar: a Dagster run each, or with ``seed`` all at once (`seed_history`)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("scraping", total=len(tasks))

        def done(outcome) -> None:  # type: ignore[no-untyped-def]
            mark = "[green]ok[/green]" if outcome.success else "[red]failed[/red]"
            detail = (f"{outcome.captures.get('pages', 0)} pages, {outcome.listings.get('listings_seen', 0)} listings"
                      if outcome.success else escape(outcome.error or ""))  # selectors hold [brackets]
            if outcome.success and outcome.listings.get("audit_warnings", "none") != "none":
                detail += f" [yellow](warning: {escape(outcome.listings['audit_warnings'])})[/yellow]"
            progress.console.print(f"{outcome.day} {outcome.vendor}: {mark} {detail}", soft_wrap=True)  # one line
            progress.advance(task)

        progress.update(task, description="scraping")
        if seed:
            days = sorted({day for day, _ in tasks})
            vendors = list(dict.fromkeys(vendor for _, vendor in tasks))
            from dagster import build_resources

            from pipelines.platform.history_seed import seed_history

            with build_resources(dict(runner.definitions.resources or {}), instance=runner.instance) as built:
                resources = {name: getattr(built, name) for name in built._asdict()}
                return seed_history(resources, runner.instance, days, vendors, workers=workers, on_done=done)
        return runner.run_tasks(tasks, workers, on_done=done)


def _print_summary(outcomes) -> None:  # type: ignore[no-untyped-def]
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


def _front_door_config():  # type: ignore[no-untyped-def]
    from web.config import FrontDoorConfigError, load_config

    try:
        return load_config()
    except FrontDoorConfigError as exc:
        raise fail(str(exc)) from None


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Address of the UI (loopback unless MARKET_PULSE_PUBLIC_URL or "
                                      "MARKET_PULSE_ALLOWED_HOSTS is set).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the UI.")] = 3000,
    seed_days: Annotated[int, typer.Option(help="Days of demo history to scrape on first start (0: none).")] = 30,
) -> None:
    """Prepare everything and start the UI behind its login, with Dagster's daemon (what `make run` calls)."""
    from pipelines.platform.code_servers import shared_code_servers
    from web.config import FrontDoorConfigError
    from web.server import announce_first_admin, ensure_first_admin

    settings = load_settings()
    config = _front_door_config()
    try:
        config.check_bind(host)
        env = prepare(settings)
        created = ensure_first_admin(config, env.urls.app)
    except (*EXPECTED_ERRORS, FrontDoorConfigError) as exc:
        raise fail(str(exc)) from None
    url = config.public_url or f"http://{host}:{port}"
    typer.echo(f"warehouse: {redact(env.urls.app)}", err=True)
    typer.echo(f"example saved search: {install_demo_alerts(env.urls.app, settings.demo_url)}", err=True)
    # From here on, files and sockets (code servers, logs) are private to this user: on a shared host
    # nobody else can talk to a code server around the front door.
    os.umask(0o077)
    with shared_code_servers(PROJECT_ROOT / "workspace.yaml") as workspace:
        services = _start_services(host, port, settings, workspace)
        typer.echo(f"Market Pulse UI: {url} (log in first)", err=True)
        announce_first_admin(created, url)
        background = []
        if not (settings.home / SEEDED_MARKER).exists() and seed_days > 0:
            background.append(_seed_in_background(settings, seed_days))
        _wait_and_stop(services, background)


@app.command("web")
def web_serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless MARKET_PULSE_PUBLIC_URL or "
                                      "MARKET_PULSE_ALLOWED_HOSTS is set).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    workspace: Annotated[list[Path] | None, typer.Option("--workspace", "-w", help="Dagster workspace file(s) "
                                                         "(default: the project's workspace.yaml).")] = None,
) -> None:
    """Serve the front door (login, roles, API keys) with the Dagster UI inside; the warehouse must be
    migrated (`market-pulse db up`). `dev` starts it; on a server run it behind TLS (docs/security.md)."""
    from pipelines.platform.bootstrap import write_dagster_home
    from web.config import FrontDoorConfigError
    from web.server import announce_first_admin, ensure_first_admin, serve

    settings = load_settings()
    config = _front_door_config()
    try:
        config.check_bind(host)
        urls = resolve_urls(settings, start=False)
        created = ensure_first_admin(config, urls.app)
    except (*EXPECTED_ERRORS, FrontDoorConfigError) as exc:
        raise fail(str(exc)) from None
    _export_dagster_env(settings)
    write_dagster_home(settings)
    announce_first_admin(created, config.public_url or f"http://{host}:{port}")
    files = [str(path) for path in workspace] if workspace else [str(PROJECT_ROOT / "workspace.yaml")]
    serve(config, urls.app, host, port, files)


def _start_services(host: str, port: int, settings: Settings, workspace: Path) -> list[subprocess.Popen[bytes]]:
    """The long-running processes of a local install, each in its own process group: the demo
    marketplace, Dagster's daemon and the front door (which serves Dagster's UI), the last two on
    the shared code servers of ``workspace``."""
    from pipelines.platform.demo_service import demo_is_up

    children = []
    demo = urlsplit(settings.demo_url)
    if demo.hostname in {"127.0.0.1", "localhost"} and demo.port and not demo_is_up(settings.demo_url):
        children.append(subprocess.Popen(
            [sys.executable, "-m", "demo.server", "--host", demo.hostname, "--port", str(demo.port)],
            cwd=PROJECT_ROOT, start_new_session=True, stdout=subprocess.DEVNULL))
        typer.echo(f"demo marketplace: {settings.demo_url}", err=True)
    # Started inside DAGSTER_HOME: from the project root Dagster would also see the template
    # dagster.yaml there and warn that it is ignored.
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "--log-level", "warning", "-w", str(workspace)],
        cwd=settings.dagster_home, env=os.environ.copy(), start_new_session=True)
    front_door = subprocess.Popen(
        [sys.executable, "-m", "cli", "web", "--host", host, "--port", str(port), "-w", str(workspace)],
        cwd=settings.dagster_home, env=os.environ.copy(), start_new_session=True)
    return [*children, daemon, front_door]


def _seed_in_background(settings: Settings, days: int) -> subprocess.Popen[bytes]:
    """First start: fill the demo's history while the UI comes up (runs appear in the UI)."""
    log = settings.home / "demo-seed.log"
    typer.echo(f"first start: scraping {days} days of demo history in the background (log: {log})", err=True)
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "cli", "demo", "seed", "--days", str(days)],
                                cwd=PROJECT_ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait_and_stop(services: list[subprocess.Popen[bytes]], background: list[subprocess.Popen[bytes]]) -> None:
    """Run until a service exits or we are interrupted, then stop every child cleanly.

    Background jobs (the first-start seed) may finish on their own without stopping anything.
    """
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    children = [*services, *background]
    try:
        while all(child.poll() is None for child in services):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)


if __name__ == "__main__":
    app()
