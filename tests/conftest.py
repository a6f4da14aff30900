"""Shared fixtures: a real PostgreSQL server for the session, a fresh database per test module.

The server is the embedded one (started under a temporary folder), or the server named by
``MARKET_PULSE_TEST_DATABASE_URL`` (CI runs the suite a second time against PostgreSQL 15).
Databases are cloned from a migrated template, so each module starts from an empty, current
schema in a few milliseconds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from infra import migrate
from infra.database import connect, ensure_database
from infra.embedded_postgres import EmbeddedPostgres
from infra.settings import with_database, with_driver
from pipelines.shared.warehouse import Warehouse

TEMPLATE = f"mpt_template_{os.getpid()}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Browser tests fail, never skip, without a Chromium: the suite is meant to run whole."""
    if item.get_closest_marker("browser") is None:
        return
    from downloader.browser import CHROMIUM_ENV_VAR, default_chromium_path

    path = default_chromium_path()
    if not path or not Path(path).is_file():
        pytest.fail(f"no Chromium for this browser test: install it (`apt-get install chromium`) or set "
                    f"{CHROMIUM_ENV_VAR} to a Chromium/Chrome executable", pytrace=False)


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server we may create databases on (its ``postgres`` database)."""
    given = os.environ.get("MARKET_PULSE_TEST_DATABASE_URL")
    if given:
        yield with_database(with_driver(given, "psycopg"), "postgres")
        return
    root = outside_basetemp("market-pulse-test-pg-")
    server = EmbeddedPostgres(root / "postgres")
    running = server.ensure_running()
    yield running.url("postgres")
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def outside_basetemp(prefix: str) -> Path:
    """A new temporary folder outside pytest's basetemp.

    Every new pytest session on the machine resets ``/tmp/pytest-of-<user>`` to mode 0700, which
    would lock an embedded server's service user (when we run as root) out of its data folder.
    """
    return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture
def market_pulse_home() -> Iterator[Path]:
    """A fresh ``MARKET_PULSE_HOME`` for a command that starts its own embedded server."""
    root = outside_basetemp("market-pulse-home-")
    yield root / "home"
    shutil.rmtree(root, ignore_errors=True)


def _create_database(server_url: str, name: str, template: str | None = None) -> str:
    with connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template))
        conn.execute(statement)
    return with_database(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    from infra.database import _ENGINES

    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()
    name = url.rsplit("/", 1)[-1]
    with connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def migrated_template(pg_server_url: str) -> Iterator[str]:
    url = _create_database(pg_server_url, TEMPLATE)
    migrate.upgrade(url)
    drop_engine(url)
    yield TEMPLATE
    drop_database(pg_server_url, url)


def drop_engine(url: str) -> None:
    """Close pooled connections so the database can serve as a template or be dropped."""
    from infra.database import _ENGINES

    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def fresh_database(pg_server_url: str, migrated_template: str) -> Iterator[str]:
    """A new, migrated, empty warehouse for one test."""
    url = _create_database(pg_server_url, f"mpt_{uuid.uuid4().hex[:12]}", template=migrated_template)
    yield url
    drop_database(pg_server_url, url)


@pytest.fixture(scope="module")
def database_url(pg_server_url: str, migrated_template: str) -> Iterator[str]:
    """A migrated, empty warehouse shared by the tests of one module."""
    url = _create_database(pg_server_url, f"mpt_{uuid.uuid4().hex[:12]}", template=migrated_template)
    yield url
    drop_database(pg_server_url, url)


@pytest.fixture(scope="module")
def warehouse(database_url: str) -> Warehouse:
    return Warehouse(database_url=database_url)


@pytest.fixture(scope="session")
def dagster_storage_url(pg_server_url: str) -> Iterator[str]:
    """Dagster's own database for this session (kept apart from every warehouse)."""
    url = _create_database(pg_server_url, f"mpt_dagster_{os.getpid()}")
    yield with_driver(url, "psycopg2")
    drop_database(pg_server_url, url)


@pytest.fixture
def dagster_instance(dagster_storage_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real Dagster instance on Postgres storage, as ``dagster dev`` uses."""
    from dagster import instance_for_test

    with instance_for_test(temp_dir=str(tmp_path), overrides={
        "storage": {"postgres": {"postgres_url": dagster_storage_url}},
    }) as instance:
        yield instance


@pytest.fixture
def empty_database_url(pg_server_url: str) -> Iterator[str]:
    """A new database without any schema, for migration tests."""
    url = _create_database(pg_server_url, f"mpt_empty_{uuid.uuid4().hex[:12]}")
    ensure_database(url)
    yield url
    drop_database(pg_server_url, url)
