"""``market-pulse db``: the warehouse database (start, stop, URLs, migrations, roles)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from cli.errors import EXPECTED_ERRORS, fail
from cli.roles import db_roles
from infra import migrate
from infra.database import resolve_urls
from infra.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError
from infra.settings import ROLE_PURPOSES, load_settings, redact
from pipelines.platform.bootstrap import prepare_databases, upgrade_as_owner

db_app = typer.Typer(help="The warehouse database: start, stop, migrate.", no_args_is_help=True)
db_app.command("roles")(db_roles)


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
