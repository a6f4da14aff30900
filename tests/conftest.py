"""Shared fixtures: a real PostgreSQL server for the session, a fresh database per test module.

The server is the embedded one (started under a temporary folder), or the server named by
``MARKET_PULSE_TEST_DATABASE_URL`` (CI runs the suite a second time against PostgreSQL 15).
Databases are cloned from a migrated template, so each module starts from an empty, current
schema in a few milliseconds.

Every test runs with the rights of a real install (:mod:`tests.support.databases`): warehouse
URLs handed to tests are the app role's (DML only, like the pipeline), migrations run as the
owner role and Dagster's storage belongs to its own role. ``MARKET_PULSE_HOME`` points at a
temporary folder, so nothing a developer's own home holds (its secret key) leaks into a test.
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
from infra.database import connect
from infra.embedded_postgres import EmbeddedPostgres
from infra.secrets import SECRET_KEY_ENV
from infra.settings import OWNER, with_database, with_driver
from pipelines.shared.warehouse import Warehouse
from tests.support.alert_data import TEST_SECRET_KEY
from tests.support.databases import SessionRoles

TEMPLATE = f"mpt_template_{os.getpid()}"


_HOME = tempfile.mkdtemp(prefix="market-pulse-test-home-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["MARKET_PULSE_HOME"] = _HOME


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


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


@pytest.fixture(scope="session")
def test_roles(pg_server_url: str) -> Iterator[SessionRoles]:
    """This session's owner, app, read-only and Dagster roles on the test server."""
    roles = SessionRoles.create(pg_server_url, f"mpt_{os.getpid()}")
    yield roles
    roles.drop()


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The key ring of this test (``MARKET_PULSE_SECRET_KEY``): notification targets are stored
    encrypted, and the test data of :mod:`tests.support.alert_data` is sealed with this key."""
    monkeypatch.setenv(SECRET_KEY_ENV, TEST_SECRET_KEY)
    return TEST_SECRET_KEY


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
def migrated_template(pg_server_url: str, test_roles: SessionRoles) -> Iterator[str]:
    """A warehouse migrated by the owner role: clones get its tables, grants and default privileges."""
    test_roles.create_warehouse(TEMPLATE)
    owner = test_roles.url(TEMPLATE, OWNER)
    migrate.upgrade(owner)
    drop_engine(owner)
    yield TEMPLATE
    drop_database(pg_server_url, owner)


def drop_engine(url: str) -> None:
    """Close pooled connections so the database can serve as a template or be dropped."""
    from infra.database import _ENGINES

    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def fresh_database(pg_server_url: str, test_roles: SessionRoles, migrated_template: str) -> Iterator[str]:
    """A new, migrated, empty warehouse for one test, as the app role."""
    url = test_roles.create_warehouse(f"mpt_{uuid.uuid4().hex[:12]}", template=migrated_template)
    yield url
    drop_database(pg_server_url, url)


@pytest.fixture(scope="module")
def database_url(pg_server_url: str, test_roles: SessionRoles, migrated_template: str) -> Iterator[str]:
    """A migrated, empty warehouse shared by the tests of one module, as the app role."""
    url = test_roles.create_warehouse(f"mpt_{uuid.uuid4().hex[:12]}", template=migrated_template)
    yield url
    drop_database(pg_server_url, url)


@pytest.fixture(scope="module")
def warehouse(database_url: str) -> Warehouse:
    return Warehouse(database_url=database_url)


@pytest.fixture(scope="session")
def dagster_storage_url(pg_server_url: str, test_roles: SessionRoles) -> Iterator[str]:
    """Dagster's own database for this session (kept apart from every warehouse), as its role."""
    url = test_roles.create_dagster_storage(f"mpt_dagster_{os.getpid()}")
    yield url
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
def empty_database_url(pg_server_url: str, test_roles: SessionRoles) -> Iterator[str]:
    """A new warehouse database without any schema, as the owner role (migrations run as it)."""
    name = f"mpt_empty_{uuid.uuid4().hex[:12]}"
    test_roles.create_warehouse(name)
    url = test_roles.url(name, OWNER)
    yield url
    drop_database(pg_server_url, url)
