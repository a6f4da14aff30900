"""Operating Market Pulse: backup and restore round trip, jobs listing, readiness."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from demo.server import running_demo
from infra.settings import PROJECT_ROOT, with_database
from pipelines.listings.checks import AUDITS
from tests.conftest import _create_database, drop_database, drop_engine
from tests.support.databases import SessionRoles
from tests.support.pipeline import ScrapingPipeline

TABLES = ("vendors", "searches", "raw_captures", "capture_bodies", "listings", "listing_sightings",
          "listing_attributes", "listing_images", "price_observations", "search_results")


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


def fingerprint(url: str, tables: tuple[str, ...] = TABLES) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every row, per table."""
    engine = create_engine(url)
    with engine.connect() as conn:
        result = {table: tuple(conn.execute(text(
            f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM {table} t"
        )).one()) for table in tables}
    engine.dispose()
    return result  # type: ignore[return-value]


def every_table(url: str) -> dict[str, tuple[int, str]]:
    """The fingerprint of every table of the database (the schema's own list, not ours)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = tuple(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                         "ORDER BY tablename")).scalars())
    engine.dispose()
    assert len(tables) > 20
    return fingerprint(url, tables)


def databases(server_url: str) -> set[str]:
    engine = create_engine(server_url)
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    engine.dispose()
    return names


@pytest.fixture
def populated(stack_env: dict[str, str], tmp_path: Path) -> Path:
    """The stack's warehouse with a scraped partition, and a good backup of it."""
    url = stack_env["MARKET_PULSE_DATABASE_URL"]
    with running_demo() as demo:
        pipeline = ScrapingPipeline(url, demo)
        pipeline.sync_vendors()
        assert pipeline.run("2026-08-01", "toko").success
    pipeline.warehouse.engine.dispose()
    dump = tmp_path / "backups" / "warehouse.dump"
    made = _cli(["backup", str(dump)], stack_env)
    assert made.returncode == 0, made.stderr
    return dump


@pytest.fixture
def stack_env(tmp_path: Path, pg_server_url: str, test_roles: SessionRoles,
              migrated_template: str) -> Iterator[dict[str, str]]:
    """A deployment on a configured server: one URL per role (pipeline, owner, read-only, Dagster)."""
    name = f"mpt_ops_{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env.update(MARKET_PULSE_HOME=str(tmp_path / "home"), **test_roles.stack(name, template=migrated_template))
    yield env
    drop_database(pg_server_url, env["MARKET_PULSE_DATABASE_URL"])
    drop_database(pg_server_url, env["MARKET_PULSE_DAGSTER_DATABASE_URL"])


def _restore(file: Path, stack_env: dict[str, str], pg_server_url: str) -> subprocess.CompletedProcess[str]:
    """``market-pulse restore FILE`` as a DBA runs it on a configured server: replacing a database is
    theirs, so the owner URL names a role that may create databases."""
    admin = with_database(pg_server_url, make_url(stack_env["MARKET_PULSE_DATABASE_URL"]).database or "")
    return _cli(["restore", str(file), "--yes"], {**stack_env, "MARKET_PULSE_OWNER_DATABASE_URL": admin})


def test_backup_and_restore_round_trip(stack_env: dict[str, str], tmp_path: Path, pg_server_url: str) -> None:
    url = stack_env["MARKET_PULSE_DATABASE_URL"]
    with running_demo() as demo:
        pipeline = ScrapingPipeline(url, demo)
        pipeline.sync_vendors()
        assert pipeline.run("2026-08-01", "toko").success
    pipeline.warehouse.engine.dispose()
    before = fingerprint(url)
    assert before["listings"][0] > 0 and before["capture_bodies"][0] > 0

    dump = tmp_path / "backups" / "warehouse.dump"
    made = _cli(["backup", str(dump)], stack_env)
    assert made.returncode == 0, made.stderr
    assert dump.stat().st_size > 1000 and not dump.with_name(dump.name + ".partial").exists()
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600, "a backup holds everything: readable by its owner only"

    engine = create_engine(url)
    with engine.begin() as conn:  # damage: what a bad deploy or a wrong command might do
        conn.execute(text("DELETE FROM price_observations"))
        conn.execute(text("UPDATE listings SET price = price + 1 WHERE price IS NOT NULL"))
    engine.dispose()
    assert fingerprint(url) != before

    restored = _restore(dump, stack_env, pg_server_url)
    assert restored.returncode == 0, restored.stderr
    assert fingerprint(url) == before
    assert _cli(["health"], stack_env).returncode == 0  # migrations at head again
    assert not {d for d in databases(with_database(url, "postgres")) if d.endswith(("_restoring", "_replaced"))}


def test_a_truncated_backup_leaves_every_table_as_it_was(stack_env: dict[str, str], populated: Path,
                                                          pg_server_url: str) -> None:
    url = stack_env["MARKET_PULSE_DATABASE_URL"]
    with create_engine(url).begin() as conn:  # written after the backup: a restore would lose it
        conn.execute(text("UPDATE listings SET title = title || ' (edited)' WHERE id = (SELECT min(id) FROM listings)"))
    before, names = every_table(url), databases(pg_server_url)
    data = populated.read_bytes()
    # Cut mid-archive (its table of contents is unreadable) and near the end (the table of contents
    # reads fine, the data does not: the restore into the side database fails and is dropped).
    for keep, stage in ((len(data) // 2, "is not a pg_dump archive, or is truncated or damaged"),
                        (len(data) - 64, "pg_restore of")):
        truncated = populated.with_name(f"cut-{keep}.dump")
        truncated.write_bytes(data[:keep])
        result = _restore(truncated, stack_env, pg_server_url)
        assert result.returncode == 1 and stage in result.stderr and "truncated" in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert every_table(url) == before
        assert databases(pg_server_url) == names  # the half-restored copy was dropped


def test_a_foreign_backup_leaves_every_table_as_it_was(stack_env: dict[str, str], populated: Path,
                                                       pg_server_url: str, tmp_path: Path) -> None:
    from infra import migrate
    from pipelines.platform.backup import backup

    url = stack_env["MARKET_PULSE_DATABASE_URL"]
    before, names = every_table(url), databases(pg_server_url)
    other = _create_database(pg_server_url, f"mpt_other_{uuid.uuid4().hex[:8]}")
    with create_engine(other).begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id int PRIMARY KEY, total numeric)"))
        conn.execute(text("INSERT INTO invoices VALUES (1, 9.99)"))
    backup(other, tmp_path / "other.dump")
    drop_database(pg_server_url, other)
    newer = _create_database(pg_server_url, f"mpt_newer_{uuid.uuid4().hex[:8]}")
    migrate.upgrade(newer)
    drop_engine(newer)
    with create_engine(newer).begin() as conn:  # what a later version's backup looks like to this one
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed0001'"))
    backup(newer, tmp_path / "newer.dump")
    drop_database(pg_server_url, newer)
    cases = {tmp_path / "other.dump": "is not a Market Pulse warehouse backup (no alembic_version table)",
             tmp_path / "newer.dump": "is not a warehouse this version knows: its schema revision is f00dfeed0001"}
    for dump, message in cases.items():
        result = _restore(dump, stack_env, pg_server_url)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
        assert every_table(url) == before
        assert databases(pg_server_url) == names


def test_an_older_backup_is_restored_at_the_current_schema(stack_env: dict[str, str], pg_server_url: str,
                                                           tmp_path: Path) -> None:
    from infra import migrate
    from pipelines.platform.backup import backup

    old = _create_database(pg_server_url, f"mpt_old_{uuid.uuid4().hex[:8]}")
    migrate.upgrade(old, "0004")
    with create_engine(old).begin() as conn:
        vendor = conn.execute(text("INSERT INTO vendors (name, display_name, base_url, currency) "
                                   "VALUES ('kw', 'KW', 'http://127.0.0.1', 'KWD') RETURNING id")).scalar_one()
        conn.execute(text("INSERT INTO listings (vendor_id, external_id, title, price, currency, first_seen_at, "
                          "last_seen_at) VALUES (:v, 'a', 'a', 12.35, 'KWD', now(), now())"), {"v": vendor})
    backup(old, tmp_path / "old.dump")
    drop_database(pg_server_url, old)
    url = stack_env["MARKET_PULSE_DATABASE_URL"]
    held = create_engine(url).connect()  # a session on the warehouse (the UI's, a run's) does not block it
    result = _restore(tmp_path / "old.dump", stack_env, pg_server_url)
    assert result.returncode == 0, result.stderr
    assert f"schema at {migrate.head_revision()}" in result.stdout
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT price FROM listings")).scalar_one() == Decimal("12.350")
    with pytest.raises(Exception):  # noqa: B017 - whichever error the driver reports for a closed session
        held.execute(text("SELECT 1"))


def test_migrating_to_an_unknown_revision_is_one_line(stack_env: dict[str, str]) -> None:
    result = _cli(["db", "migrate", "deadbeef"], stack_env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: Can't locate revision identified by 'deadbeef' (revisions: 0001, ")
    assert result.stderr.count("\n") == 1, result.stderr
    result = _cli(["db", "downgrade", "cafe"], stack_env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr


def test_a_restore_by_a_role_that_may_not_create_databases_is_one_line(stack_env: dict[str, str],
                                                                       populated: Path) -> None:
    url = stack_env["MARKET_PULSE_DATABASE_URL"]
    before = every_table(url)
    result = _cli(["restore", str(populated), "--yes"], stack_env)  # the owner role: no CREATEDB
    assert result.returncode == 1 and "may not create the database the backup is restored into" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert every_table(url) == before


def test_restore_refuses_a_file_that_is_not_a_backup(stack_env: dict[str, str], tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a dump")
    before = fingerprint(stack_env["MARKET_PULSE_DATABASE_URL"])
    result = _cli(["restore", str(bogus), "--yes"], stack_env)
    assert result.returncode == 1 and "is not a pg_dump archive" in result.stderr
    assert fingerprint(stack_env["MARKET_PULSE_DATABASE_URL"]) == before  # nothing was dropped


@pytest.mark.parametrize(("date", "message"), [
    ("2024-12-31", "error: --date 2024-12-31 is before the first day with data (2025-01-01)"),
    ("2999-01-01", "error: --date 2999-01-01 has not begun anywhere yet: the latest day is "),
])
def test_run_for_a_day_without_a_partition_is_one_line(stack_env: dict[str, str], date: str, message: str) -> None:
    result = _cli(["run", "--date", date, "--vendor", "toko"], stack_env)
    assert result.returncode == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_run_without_a_date_scrapes_each_vendor_s_own_today(stack_env: dict[str, str]) -> None:
    from zoneinfo import ZoneInfo

    def guatemala_today() -> str:
        return str(dt.datetime.now(ZoneInfo("America/Guatemala")).date())  # chapin's time zone

    before = guatemala_today()
    with running_demo() as demo:
        ran = _cli(["run", "--vendor", "chapin"], {**stack_env, "MARKET_PULSE_DEMO_URL": demo})
    assert ran.returncode == 0, ran.stderr
    runs = json.loads(_cli(["jobs", "--json", "--limit", "5"], stack_env).stdout)
    assert {r["partition"] for r in runs if "chapin" in r["partition"]} & {
        f"{day}|chapin" for day in (before, guatemala_today())}, runs


def test_jobs_lists_runs_and_readiness_needs_the_daemon(stack_env: dict[str, str]) -> None:
    with running_demo() as demo:
        env = {**stack_env, "MARKET_PULSE_DEMO_URL": demo}
        ran = _cli(["run", "--date", "2026-08-02", "--vendor", "chapin"], env)
    assert ran.returncode == 0, ran.stderr
    listed = _cli(["jobs", "--json", "--limit", "5"], stack_env)
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    partitioned = [r for r in runs if "2026-08-02" in r["partition"] and "chapin" in r["partition"]]
    # raw_captures, then listings with its audits (checks evaluated in the listings step), as in the UI's scrape job
    assert partitioned and partitioned[0]["status"] == "SUCCESS" and partitioned[0]["progress"] == "2/2"
    assert partitioned[0]["duration_s"] > 0
    assert partitioned[0]["job"] == "scrape" and partitioned[0]["assets"] == "listings, raw_captures"
    table = _cli(["jobs", "--limit", "5"], {**stack_env, "COLUMNS": "80"})
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, table.stdout
    at = next(i for i, line in enumerate(lines) if line.startswith(partitioned[0]["run_id"][:8]))
    assert "2026-08-02|chapin" in lines[at] and "listings" in lines[at] and "2/2" in lines[at]
    assert lines[at + 1].split() == ["raw_captures"]  # one asset per line
    assert "__ephemeral" not in table.stdout
    dagster_db = create_engine(stack_env["MARKET_PULSE_DAGSTER_DATABASE_URL"])
    with dagster_db.connect() as conn:
        checks = dict(conn.execute(text(
            "SELECT check_name, execution_status FROM asset_check_executions WHERE run_id = :run"),
            {"run": partitioned[0]["run_id"]}).all())
    dagster_db.dispose()
    assert checks == dict.fromkeys(AUDITS, "SUCCEEDED")

    ready = _cli(["health", "--ready"], stack_env)
    assert ready.returncode == 1  # no daemon runs in this test
    report = json.loads(ready.stdout)
    assert report["healthy"] is True and report["ready"] is False
    assert "daemon" in ready.stderr
    assert report["vendors"]["chapin"]["age_hours"] is not None
    assert report["vendors"]["toko"]["last_success"] is None


def test_backup_of_an_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env["MARKET_PULSE_DATABASE_URL"] = with_database("postgresql://nobody:pw@127.0.0.1:1/x", "x")
    result = _cli(["backup", str(tmp_path / "x.dump")], env)
    assert result.returncode == 1 and result.stderr.startswith("error: cannot connect")
    assert ":pw@" not in result.stderr and not (tmp_path / "x.dump").exists()


def test_demo_seed_fills_history_and_marks_the_home(stack_env: dict[str, str]) -> None:
    """What `make run` does on first start, on a small scale: N past days, every partition reported
    materialised (without a run each) with its audits, as the UI shows them."""
    with running_demo() as demo:
        env = {**stack_env, "MARKET_PULSE_DEMO_URL": demo}
        seeded = _cli(["demo", "seed", "--days", "2", "--vendor", "chapin", "--workers", "1"], env)
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded 2 of 2 partitions" in seeded.stdout
    # no daemon runs in this test: the rollups' backfill is requested and waits for one
    assert "rollups: backfill " in seeded.stdout and "it runs when the Dagster daemon runs" in seeded.stdout
    assert (Path(stack_env["MARKET_PULSE_HOME"]) / "demo-seeded").exists()
    engine = create_engine(stack_env["MARKET_PULSE_DATABASE_URL"])
    with engine.connect() as conn:
        days = conn.execute(text("SELECT count(DISTINCT partition_date) FROM listing_sightings")).scalar_one()
    engine.dispose()
    assert days == 2
    dagster_db = create_engine(stack_env["MARKET_PULSE_DAGSTER_DATABASE_URL"])
    with dagster_db.connect() as conn:
        materialised = conn.execute(text(
            "SELECT asset_key, partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
            "AND partition LIKE '%|chapin'")).all()
        checks = conn.execute(text(
            "SELECT check_name, partition, execution_status FROM asset_check_executions "
            "WHERE partition LIKE '%|chapin'")).all()
    dagster_db.dispose()
    by_asset: dict[str, set[str]] = {}
    for key, partition in materialised:
        by_asset.setdefault(json.loads(key)[-1], set()).add(partition)
    assert set(by_asset) == {"raw_captures", "listings"}
    assert len(by_asset["raw_captures"]) == 2 and by_asset["listings"] == by_asset["raw_captures"]
    assert {(name, status) for name, _, status in checks} == {(a, "SUCCEEDED") for a in AUDITS}
    assert len({partition for _, partition, _ in checks}) == 2
