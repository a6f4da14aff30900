"""`make run` as a newcomer uses it: the UI comes up with the code location and materialising
`vendor_catalog` from it fills the warehouse; on first start the demo history is seeded and its
rollups backfilled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from infra.settings import PROJECT_ROOT
from tests.conftest import drop_database
from tests.support.dagster_ui import DevServer, free_port, running_dev_server
from tests.support.databases import SessionRoles
from tests.support.vendor_files import vendor_dir

pytestmark = pytest.mark.slow


def test_dev_server_materialises_vendor_catalog(tmp_path: Path, market_pulse_home: Path, pg_server_url: str,
                                                test_roles: SessionRoles) -> None:
    """On a configured server with one role per component: `dev` migrates the empty warehouse as the
    owner, and the run materialises as the app role."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env["MARKET_PULSE_HOME"] = str(market_pulse_home)
    env.update(test_roles.stack(f"mpt_dev_{os.getpid()}"))
    warehouse_url = env["MARKET_PULSE_DATABASE_URL"]
    try:
        with running_dev_server(env, tmp_path / "dev.log", seed_days=0) as server:
            assert "vendor_catalog" in server.asset_keys()
            run_id = server.materialize("vendor_catalog")
            assert server.wait_for_run(run_id) == "SUCCESS", server.log.read_text()[-3000:]
            _search_now_through_the_api(server, env)
        engine = create_engine(warehouse_url)
        with engine.connect() as conn:
            names = set(conn.execute(text("SELECT name FROM vendors")).scalars())
        engine.dispose()
    finally:
        for url in (warehouse_url, env["MARKET_PULSE_DAGSTER_DATABASE_URL"]):
            drop_database(pg_server_url, url)
    assert names == {"toko", "chapin", "mercado", "cardvault", "fynda"}


LATEST_LISTINGS = """{ assetOrError(assetKey: {path: ["listings"]}) { ... on Asset {
  assetMaterializations(limit: 1) { partition metadataEntries { label ... on TextMetadataEntry { text } } } } } }"""


def _search_now_through_the_api(server: DevServer, env: dict[str, str]) -> None:
    """`POST /api/v1/searches` on the front door `dev` started: the search runs in its process with the
    pipeline's code, its events stream, and the listings partition it published is in Dagster."""
    key = subprocess.run([sys.executable, "-m", "cli", "keys", "create", "--user", "admin", "--scope", "write"],
                         cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    started = httpx.post(f"{server.url}/api/v1/searches", headers=headers, timeout=60,
                         json={"query": "iphone", "vendors": ["toko"], "max_age_minutes": 0})
    assert started.status_code == 202, started.text
    kinds = []
    with httpx.stream("GET", f"{server.url}/api/v1/searches/{started.json()['id']}/events", headers=headers,
                      timeout=180) as events:
        for line in events.iter_lines():
            if line.startswith("event:"):
                kinds.append(line.split(":", 1)[1].strip())
    assert kinds[0] == "started" and kinds[-1] == "done" and "results" in kinds, (kinds, server.log.read_text()[-3000:])
    found = httpx.get(f"{server.url}/api/v1/searches/{started.json()['id']}", headers=headers, timeout=30).json()
    assert found["status"] == "done" and found["vendor_results"][0]["count"] > 0
    latest = server.graphql(LATEST_LISTINGS)["assetOrError"]["assetMaterializations"][0]
    assert latest["partition"].endswith("|toko")
    assert {"label": "trigger", "text": "on-demand search"} in latest["metadataEntries"]
    # The same from the command line, beside the running UI, with its progress printed as it comes.
    printed = subprocess.run([sys.executable, "-m", "cli", "search", "samsung galaxy", "--vendor", "chapin"],
                             cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert printed.returncode == 0, printed.stderr[-3000:]
    lines = printed.stdout.splitlines()
    assert lines[0].startswith("chapin: searching") and lines[1].startswith("chapin: page 1,")
    assert any(" results from " in line for line in lines) and lines[-1].startswith("done (done):")


BACKFILLS = """{ partitionBackfillsOrError(limit: 10) { ... on PartitionBackfills { results {
  id status title numPartitions assetSelection { path } runs(limit: 10) { id status } } } } }"""


def test_first_start_seed_ends_with_one_rollup_backfill_of_the_whole_history(
        tmp_path: Path, market_pulse_home: Path, pg_server_url: str, test_roles: SessionRoles) -> None:
    """`make run`'s first start: the background seed scrapes N days, then every rollup gets all N
    days in one backfill (one run) that the UI lists, not only the two days automation keeps fresh."""
    days = 3
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env["MARKET_PULSE_HOME"] = str(market_pulse_home)
    env["MARKET_PULSE_DEMO_URL"] = f"http://127.0.0.1:{free_port()}"
    env["MARKET_PULSE_VENDORS_DIR"] = str(vendor_dir(tmp_path / "vendors", only=["chapin", "cardvault"]))
    env.update(test_roles.stack(f"mpt_seed_{os.getpid()}"))
    warehouse_url = env["MARKET_PULSE_DATABASE_URL"]
    seed_log = market_pulse_home / "demo-seed.log"
    try:
        with running_dev_server(env, tmp_path / "dev.log", seed_days=days) as server:
            deadline = time.monotonic() + 600
            while "rollups: backfill" not in (seed_log.read_text() if seed_log.exists() else ""):
                assert time.monotonic() < deadline, (seed_log.read_text() if seed_log.exists() else "no seed log")
                time.sleep(2)
            log = seed_log.read_text()
            assert f"seeded {days * 2} of {days * 2} partitions" in log, log
            assert log.rstrip().endswith("(one run) done"), log
            backfills = server.graphql(BACKFILLS)["partitionBackfillsOrError"]["results"]
        engine = create_engine(warehouse_url)
        with engine.connect() as conn:
            rolled_up = {table: conn.execute(text(f"SELECT count(DISTINCT {column}) FROM {table}")).scalar_one()
                         for table, column in (("price_snapshots", "snapshot_date"), ("vendor_performance", "date"),
                                               ("search_query_stats", "stats_date"))}
        engine.dispose()
    finally:
        for url in (warehouse_url, env["MARKET_PULSE_DAGSTER_DATABASE_URL"]):
            drop_database(pg_server_url, url)
    assert rolled_up == dict.fromkeys(rolled_up, days), rolled_up  # every seeded day, not only the last two
    (backfill,) = [b for b in backfills if b["title"] == "Demo history: every rollup"]
    assert backfill["status"] == "COMPLETED_SUCCESS" and backfill["numPartitions"] == days
    assert {"/".join(a["path"]) for a in backfill["assetSelection"]} == {
        "product_matches", "price_snapshots", "vendor_performance", "search_analytics", "api_usage"}
    assert [r["status"] for r in backfill["runs"]] == ["SUCCESS"]  # the whole history in a single run
