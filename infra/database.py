"""Where the databases are: the embedded server or a given URL, and creating what is missing.

One server holds two databases: the app warehouse (owned by Alembic) and Dagster's storage
(owned by Dagster). Keeping them apart stops both from fighting over ``alembic_version``.

Each component connects as its own role (:mod:`infra.roles`): migrations as the schema owner,
the pipeline as the app role, read-only pages and the API as the read-only role, Dagster as its
storage role. On the embedded server these are the roles it was provisioned with; on a real
server they are the URLs of the settings (without an owner URL, migrations use the pipeline's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from infra.connections import DatabaseUnavailable, connect, libpq_conninfo
from infra.embedded_postgres import ROLES, EmbeddedPostgres
from infra.settings import (
    APP_DATABASE,
    DAGSTER_DATABASE,
    Settings,
    redact,
    with_database,
    with_driver,
)

__all__ = ["DatabaseUnavailable", "DatabaseUrls", "connect", "engine_for", "ensure_database", "libpq_conninfo",
           "resolve_urls", "server_version"]


@dataclass(frozen=True)
class DatabaseUrls:
    """Every URL carries its role's password: print them only through :func:`infra.settings.redact`."""

    app: str = field(repr=False)
    """The warehouse as the pipeline's app role (DML only), for SQLAlchemy with psycopg 3."""
    dagster: str = field(repr=False)
    """Dagster's storage as its own role, for dagster-postgres with psycopg2."""
    embedded: bool
    owner: str = field(default="", repr=False)
    """The warehouse as the schema owner: migrations only."""
    readonly: str = field(default="", repr=False)
    """The warehouse as the read-only role (read-only pages, the HTTP API)."""
    admin: str | None = field(default=None, repr=False)
    """The embedded server's superuser (its maintenance database): provisioning and restores only.
    None for a configured server, which is its DBA's."""

    def __post_init__(self) -> None:
        if not self.owner:
            object.__setattr__(self, "owner", self.app)
        if not self.readonly:
            object.__setattr__(self, "readonly", self.app)

    def of(self, purpose: str) -> str:
        """The URL of a purpose of :data:`infra.settings.ROLE_PURPOSES`."""
        return str(getattr(self, purpose))


def resolve_urls(settings: Settings, *, start: bool = True) -> DatabaseUrls:
    """The URLs to use; starts the embedded server first when no URL was given and ``start``."""
    if settings.database_url:
        app = with_driver(settings.database_url, "psycopg")
        dagster = settings.dagster_database_url or with_database(app, DAGSTER_DATABASE)
        return DatabaseUrls(
            app=app, dagster=with_driver(dagster, "psycopg2"), embedded=False,
            owner=with_driver(settings.owner_database_url or app, "psycopg"),
            readonly=with_driver(settings.readonly_database_url or app, "psycopg"))
    server = EmbeddedPostgres(settings.postgres_dir)
    running = server.ensure_running() if start else server.status()
    if running is None:
        raise DatabaseUnavailable(
            f"the embedded PostgreSQL under {settings.postgres_dir} is not running: run `market-pulse db up`")
    return DatabaseUrls(
        app=running.url(APP_DATABASE, ROLES.app),
        dagster=with_driver(running.url(DAGSTER_DATABASE, ROLES.dagster), "psycopg2"),
        embedded=True, owner=running.url(APP_DATABASE, ROLES.owner),
        readonly=running.url(APP_DATABASE, ROLES.readonly), admin=running.url("postgres"))


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` when it does not exist yet; True if it was created."""
    name = make_url(url).database
    if not name:
        raise ValueError(f"no database name in {redact(url)}")
    try:
        with connect(url, timeout=3):
            return False
    except DatabaseUnavailable as missing:
        if "does not exist" not in str(missing):
            raise
    with connect(with_database(url, "postgres"), autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False
    return True


def server_version(url: str) -> str:
    with connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        if row is None:
            raise RuntimeError(f"{redact(url)} did not report its version")
        return str(row[0])


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One pooled engine per URL per process (engines are thread-safe and costly to build)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = create_engine(with_driver(url, "psycopg"), pool_pre_ping=True, pool_size=5,
                               max_overflow=5)
        _ENGINES[url] = engine
    return engine
