"""``market-pulse health``, ``backup`` and ``restore``: keeping a deployment healthy and its data safe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import EXPECTED_ERRORS, fail
from cli.instance import export_dagster_env
from infra import migrate
from infra.database import resolve_urls
from infra.embedded_postgres import EmbeddedPostgres
from infra.settings import load_settings, redact, with_database
from pipelines.platform.health import check_health


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

        export_dagster_env(settings)
        write_dagster_home(settings)
        report = check_readiness(settings, max_scrape_age_hours=max_scrape_age)
        ok = report["ready"]
    else:
        report = check_health(settings)
        ok = report["healthy"]
    typer.echo(json.dumps(report, indent=2, default=str))
    if not ok:
        raise fail(report.get("error", "unhealthy"))




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
