"""``market-pulse``: the command line for running, inspecting and operating Market Pulse."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from pipelines.platform.bootstrap import prepare, prepare_databases
from pipelines.platform.health import check_health
from resources import migrate
from resources.database import DatabaseUnavailable, resolve_urls
from resources.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError
from resources.settings import PROJECT_ROOT, load_settings, redact

app = typer.Typer(help="Market Pulse: price intelligence for online marketplaces.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="The warehouse database: start, stop, migrate.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


EXPECTED_ERRORS = (DatabaseUnavailable, EmbeddedPostgresError, ValueError)


@db_app.command("up")
def db_up() -> None:
    """Start the embedded server if no URL is configured, create the databases, migrate; print the URL."""
    settings = load_settings()
    try:
        started = time.monotonic()
        urls = prepare_databases(settings)
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    where = "embedded" if urls.embedded else "configured"
    typer.echo(f"warehouse ({where}) ready in {time.monotonic() - started:.2f}s at migration "
               f"{migrate.head_revision()}", err=True)
    typer.echo(urls.app)


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
def db_url(dagster: Annotated[bool, typer.Option(help="Dagster's storage database instead.")] = False) -> None:
    """Print the database URL (starts the embedded server if needed)."""
    try:
        urls = resolve_urls(load_settings())
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    typer.echo(urls.dagster if dagster else urls.app)


@db_app.command("migrate")
def db_migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Upgrade the warehouse schema (to the latest revision by default)."""
    try:
        urls = resolve_urls(load_settings())
        migrate.upgrade(urls.app, revision)
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{redact(urls.app)} at {migrate.current_revision(urls.app)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Roll the warehouse schema back to REVISION."""
    try:
        urls = resolve_urls(load_settings())
        migrate.downgrade(urls.app, revision)
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{redact(urls.app)} at {migrate.current_revision(urls.app) or 'base'}")


@app.command()
def health() -> None:
    """Check the database, migrations and Dagster storage; print JSON, exit 0 only when all are fine."""
    report = check_health(load_settings())
    typer.echo(json.dumps(report, indent=2))
    if not report["healthy"]:
        raise fail(report.get("error", "unhealthy"))


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Address of the Dagster UI.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Prepare everything and start the Dagster UI with its daemon (what `make run` calls)."""
    settings = load_settings()
    try:
        env = prepare(settings)
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    typer.echo(f"warehouse: {redact(env.urls.app)}", err=True)
    typer.echo(f"Dagster UI: http://{host}:{port}", err=True)
    children = _start_services(host, port, settings.dagster_home)
    _wait_and_stop(children)


def _start_services(host: str, port: int, dagster_home: Path) -> list[subprocess.Popen[bytes]]:
    """The long-running processes of a local install, each in its own process group."""
    # Started inside DAGSTER_HOME: from the project root Dagster would also see the template
    # dagster.yaml there and warn that it is ignored.
    dagster = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", host, "-p", str(port), "-w",
         str(PROJECT_ROOT / "workspace.yaml")],
        cwd=dagster_home, env=os.environ.copy(), start_new_session=True)
    return [dagster]


def _wait_and_stop(children: list[subprocess.Popen[bytes]]) -> None:
    """Run until a child exits or we are interrupted, then stop every child cleanly."""
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
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
