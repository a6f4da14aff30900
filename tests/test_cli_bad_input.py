"""`market-pulse run` with bad input, as a user meets it: a broken vendor file and a vendor whose
listing selector stopped matching. The other vendors still run; each problem is one line naming
the file and field, or the search, selector and field; nothing published is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from demo.server import running_demo
from infra.settings import PROJECT_ROOT
from tests.conftest import _create_database, drop_database
from tests.support.vendor_files import vendor_dir

DAY = "2026-08-03"


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def env(tmp_path: Path, pg_server_url: str, migrated_template: str) -> Iterator[dict[str, str]]:
    name = f"mpt_cli_{uuid.uuid4().hex[:10]}"
    url = _create_database(pg_server_url, name, template=migrated_template)
    dagster_url = _create_database(pg_server_url, name + "_dagster")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env.update(MARKET_PULSE_HOME=str(tmp_path / "home"), MARKET_PULSE_DATABASE_URL=url,
               MARKET_PULSE_DAGSTER_DATABASE_URL=dagster_url)
    yield env
    drop_database(pg_server_url, url)
    drop_database(pg_server_url, dagster_url)


def test_run_names_a_bad_vendor_file_and_a_failed_audit_in_one_line_each(env: dict[str, str], tmp_path: Path) -> None:
    good = vendor_dir(tmp_path / "good", only=["cardvault", "chapin"])
    bad = vendor_dir(tmp_path / "bad", {"chapin": {"colour": "blue"},
                                        "cardvault": {"extract": {"items": {"css": "table#listings tr.offer"}}}},
                     only=["cardvault", "chapin"])
    with running_demo() as demo:
        env["MARKET_PULSE_DEMO_URL"] = demo
        first = _cli(["run", "--date", DAY], {**env, "MARKET_PULSE_VENDORS_DIR": str(good)})
        assert first.returncode == 0, first.stderr
        engine = create_engine(env["MARKET_PULSE_DATABASE_URL"])
        with engine.connect() as conn:
            before = conn.execute(text("SELECT count(*), max(updated_at) FROM listings")).one()

        broken = _cli(["run", "--date", DAY], {**env, "MARKET_PULSE_VENDORS_DIR": str(bad)})
        refused = _cli(["run", "--date", DAY, "--vendor", "chapin"], {**env, "MARKET_PULSE_VENDORS_DIR": str(bad)})

    assert broken.returncode == 1
    lines = broken.stderr.splitlines()
    allowed = ("allowed_hosts, base_url, cache, country, currency, decimal_separator, display_name, enabled, "
               "extract, fetch, history, locale, name, pagination, queries, rate_limit, removed_after_missing, "
               "schedule, search, session, timezone")
    assert any(line.startswith("error: ") and line.endswith(f"chapin.yaml: colour: unknown field; allowed: {allowed}")
               for line in lines), broken.stderr
    failed = [line for line in lines if f"{DAY} cardvault: failed" in line]
    assert len(failed) == 1, broken.stderr
    assert (f"listings: cardvault {DAY} not published, nothing changed: layout changed: listing selector css "
            "'table#listings tr.offer' (extract.items) matched nothing on the ") in failed[0]
    assert "'pikachu', 'charizard', 'base set'" in failed[0]
    assert "Traceback" not in broken.stderr + broken.stdout

    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1].startswith("error: chapin: its vendor file is invalid (")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), max(updated_at) FROM listings")).one() == before
    engine.dispose()
