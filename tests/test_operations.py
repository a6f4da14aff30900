"""Operating Market Pulse: backup and restore round trip, jobs listing, readiness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from demo.server import running_demo
from infra.settings import PROJECT_ROOT, with_database
from pipelines.listings.checks import AUDITS
from tests.conftest import _create_database, drop_database
from tests.support.pipeline import ScrapingPipeline

TABLES = ("vendors", "searches", "raw_captures", "capture_bodies", "listings", "listing_sightings",
          "listing_attributes", "listing_images", "price_observations", "search_results")


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every row, per table."""
    engine = create_engine(url)
    with engine.connect() as conn:
        result = {table: tuple(conn.execute(text(
            f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM {table} t"
        )).one()) for table in TABLES}
    engine.dispose()
    return result  # type: ignore[return-value]


@pytest.fixture
def stack_env(tmp_path: Path, pg_server_url: str, migrated_template: str) -> Iterator[dict[str, str]]:
    name = f"mpt_ops_{uuid.uuid4().hex[:10]}"
    url = _create_database(pg_server_url, name, template=migrated_template)
    dagster_url = _create_database(pg_server_url, name + "_dagster")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env.update(MARKET_PULSE_HOME=str(tmp_path / "home"), MARKET_PULSE_DATABASE_URL=url,
               MARKET_PULSE_DAGSTER_DATABASE_URL=dagster_url)
    yield env
    drop_database(pg_server_url, url)
    drop_database(pg_server_url, dagster_url)


def test_backup_and_restore_round_trip(stack_env: dict[str, str], tmp_path: Path) -> None:
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

    engine = create_engine(url)
    with engine.begin() as conn:  # damage: what a bad deploy or a wrong command might do
        conn.execute(text("DELETE FROM price_observations"))
        conn.execute(text("UPDATE listings SET price = price + 1 WHERE price IS NOT NULL"))
    engine.dispose()
    assert fingerprint(url) != before

    restored = _cli(["restore", str(dump), "--yes"], stack_env)
    assert restored.returncode == 0, restored.stderr
    assert fingerprint(url) == before
    assert _cli(["health"], stack_env).returncode == 0  # migrations at head again


def test_restore_refuses_a_file_that_is_not_a_backup(stack_env: dict[str, str], tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a dump")
    before = fingerprint(stack_env["MARKET_PULSE_DATABASE_URL"])
    result = _cli(["restore", str(bogus), "--yes"], stack_env)
    assert result.returncode == 1 and "not a pg_dump archive" in result.stderr
    assert fingerprint(stack_env["MARKET_PULSE_DATABASE_URL"]) == before  # nothing was dropped


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
    """What `make run` does on first start, on a small scale: N past days, every partition a run."""
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
