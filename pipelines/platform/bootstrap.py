"""Getting an environment ready: databases up and migrated, Dagster's home written.

Every command that runs pipelines (``dev``, ``run``, ``demo seed``) goes through
:func:`prepare`, so the UI and headless runs always share one Dagster instance and one warehouse.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from infra import migrate
from infra.database import DatabaseUnavailable, DatabaseUrls, ensure_database, resolve_urls
from infra.embedded_postgres import EmbeddedPostgres
from infra.secrets import ensure_home_key
from infra.settings import OWNER, PASSWORD_SETTINGS, PROJECT_ROOT, URL_SETTINGS, Settings, redact, user_of

EVENT_BATCH_SIZE = 1000
"""Dagster's ``DAGSTER_EVENT_BATCH_SIZE`` for our processes unless the environment sets another."""


@dataclass(frozen=True)
class Environment:
    urls: DatabaseUrls
    settings: Settings

    def variables(self) -> dict[str, str]:
        """What child processes (dagster dev, runs) need in their environment: the pipeline's,
        the read-only and Dagster's URLs, never the owner's (children do not migrate)."""
        return {
            "MARKET_PULSE_HOME": str(self.settings.home),
            "MARKET_PULSE_DATABASE_URL": self.urls.app,
            "MARKET_PULSE_READONLY_DATABASE_URL": self.urls.readonly,
            "MARKET_PULSE_DAGSTER_DATABASE_URL": self.urls.dagster,
            "MARKET_PULSE_DAGSTER_STORAGE_URL": self.urls.dagster,
            "MARKET_PULSE_VENDORS_DIR": str(self.settings.vendors_dir),
            "MARKET_PULSE_DEMO_URL": self.settings.demo_url,
            "DAGSTER_HOME": str(self.settings.dagster_home),
            # Dagster writes the events of one step's many partitions (a single-run backfill's
            # materialisations) in batches of this size instead of one insert and one connection
            # each; every partition keeps its own event and status (bench/backfill.py).
            "DAGSTER_EVENT_BATCH_SIZE": os.environ.get("DAGSTER_EVENT_BATCH_SIZE") or str(EVENT_BATCH_SIZE),
        }


def prepare_databases(settings: Settings) -> DatabaseUrls:
    """Start the embedded server if needed, create both databases, migrate the warehouse.

    The embedded server is (re)provisioned every time (roles, rights, ownership: cheap and
    idempotent; it repairs a database restored as the superuser) and gets its secret key file.
    Migrations run as the owner role, and only when the warehouse is behind: a process with the
    pipeline's URL alone (a Dagster run, `demo seed` started by `dev`) never needs the owner's.
    """
    if settings.embedded:
        ensure_home_key()
    urls = resolve_urls(settings)
    if urls.embedded:
        server = EmbeddedPostgres(settings.postgres_dir)
        running = server.status()
        if running is not None:
            server.provision(running)
    else:
        ensure_database(urls.app)
        ensure_database(urls.dagster)
    if migrate.current_revision(urls.app) != migrate.head_revision():
        upgrade_as_owner(urls)  # default privileges give the new tables to the app and read-only roles
    return urls


def upgrade_as_owner(urls: DatabaseUrls, revision: str = "head") -> None:
    """Migrate as the owner role, with a one-line error when that role may not run DDL."""
    from sqlalchemy.exc import ProgrammingError

    try:
        migrate.upgrade(urls.owner, revision)
    except ProgrammingError as exc:
        if "permission denied" not in str(exc) and "must be owner" not in str(exc):
            raise
        raise DatabaseUnavailable(
            f"cannot migrate {redact(urls.owner)}: role {user_of(urls.owner)} may not change the schema; set "
            "MARKET_PULSE_OWNER_DATABASE_URL to the owner role's URL (see `market-pulse db roles`)") from None


def write_dagster_home(settings: Settings) -> None:
    """Copy the project's ``dagster.yaml`` into ``$DAGSTER_HOME`` (Dagster only reads it there)."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", settings.dagster_home / "dagster.yaml")


def prepare(settings: Settings) -> Environment:
    """Make the databases and Dagster's home ready and export the variables to this process (and
    so to its children). A URL given as a file (``NAME_FILE``) is exported resolved, as ``NAME``:
    Dagster's instance reads its storage URL from the environment only. The owner's settings are
    taken out: migrations are done, and no Dagster process should hold the owner's password."""
    env = Environment(urls=prepare_databases(settings), settings=settings)
    write_dagster_home(settings)
    export(env.variables())
    return env


def export(variables: dict[str, str]) -> None:
    """Put ``variables`` in this process's environment (children inherit it). A value resolved from
    a ``NAME_FILE`` secret replaces that variable, so children read one source, not two; the schema
    owner's settings are never passed on (only migrations use them, in this process)."""
    for name in [*(f"{v}_FILE" for v in variables), *OWNER_SETTINGS]:
        os.environ.pop(name, None)
    os.environ.update(variables)


def attach(settings: Settings, instance_config: Path | None = None) -> Environment:
    """Point this process (and its children) at existing databases without creating or migrating
    anything: what a long-running service of a deployment does (`market-pulse serve`, workers).

    ``instance_config`` is written to ``$DAGSTER_HOME/dagster.yaml`` (atomically: services of one
    host may share the folder) when given.
    """
    env = Environment(urls=resolve_urls(settings, start=False), settings=settings)
    if instance_config is not None:
        settings.dagster_home.mkdir(parents=True, exist_ok=True)
        target = settings.dagster_home / "dagster.yaml"
        staged = target.with_name(f".dagster.yaml.{os.getpid()}")
        shutil.copyfile(instance_config, staged)
        os.replace(staged, target)
    export(env.variables())
    return env


OWNER_SETTINGS = [f"{name}{suffix}" for name in (URL_SETTINGS[OWNER], PASSWORD_SETTINGS[OWNER])
                  for suffix in ("", "_FILE")]
