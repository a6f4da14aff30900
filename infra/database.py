"""Where the databases are: the embedded server or a given URL, and creating what is missing.

One server holds two databases: the app warehouse (owned by Alembic) and Dagster's storage
(owned by Dagster). Keeping them apart stops both from fighting over ``alembic_version``.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from infra.embedded_postgres import EmbeddedPostgres
from infra.settings import (
    APP_DATABASE,
    DAGSTER_DATABASE,
    Settings,
    redact,
    with_database,
    with_driver,
)


class DatabaseUnavailable(RuntimeError):
    """A database URL does not answer; the message is one line, fit to print."""


@dataclass(frozen=True)
class DatabaseUrls:
    app: str
    """The warehouse, for SQLAlchemy with psycopg 3."""
    dagster: str
    """Dagster's storage, for dagster-postgres with psycopg2."""
    embedded: bool


def resolve_urls(settings: Settings, *, start: bool = True) -> DatabaseUrls:
    """The two URLs to use; starts the embedded server first when no URL was given and ``start``."""
    if settings.database_url:
        app = with_driver(settings.database_url, "psycopg")
        embedded = False
    else:
        server = EmbeddedPostgres(settings.postgres_dir)
        running = server.ensure_running() if start else server.status()
        if running is None:
            raise DatabaseUnavailable(
                f"the embedded PostgreSQL under {settings.postgres_dir} is not running: "
                "run `market-pulse db up`")
        app = running.url(APP_DATABASE)
        embedded = True
    dagster = settings.dagster_database_url or with_database(app, DAGSTER_DATABASE)
    return DatabaseUrls(app=app, dagster=with_driver(dagster, "psycopg2"), embedded=embedded)


def libpq_conninfo(url: str) -> str:
    """A psycopg connection string for a SQLAlchemy URL (drivers differ, servers do not)."""
    parsed = make_url(url)
    parts = {
        "host": parsed.host or "127.0.0.1",
        "port": str(parsed.port or 5432),
        "user": parsed.username or "",
        "password": parsed.password or "",
        "dbname": parsed.database or "postgres",
        **{k: str(v) for k, v in parsed.query.items()},
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


def connect(url: str, *, timeout: float = 5, autocommit: bool = False) -> psycopg.Connection:
    """A psycopg connection, or :class:`DatabaseUnavailable` with a one-line reason."""
    try:
        return psycopg.connect(libpq_conninfo(url), connect_timeout=max(1, int(timeout)),
                               autocommit=autocommit)
    except psycopg.OperationalError as exc:
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        reason = lines[0] if lines else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to {redact(url)}: {reason}") from exc


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
        return str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One pooled engine per URL per process (engines are thread-safe and costly to build)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = create_engine(with_driver(url, "psycopg"), pool_pre_ping=True, pool_size=5,
                               max_overflow=5)
        _ENGINES[url] = engine
    return engine
