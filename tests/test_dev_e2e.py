"""`make run` as a newcomer uses it: the UI comes up with the code location and materialising
`vendor_catalog` from it fills the warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import drop_database
from tests.support.dagster_ui import running_dev_server
from tests.support.databases import SessionRoles

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
        engine = create_engine(warehouse_url)
        with engine.connect() as conn:
            names = set(conn.execute(text("SELECT name FROM vendors")).scalars())
        engine.dispose()
    finally:
        for url in (warehouse_url, env["MARKET_PULSE_DAGSTER_DATABASE_URL"]):
            drop_database(pg_server_url, url)
    assert names == {"toko", "chapin", "mercado", "cardvault", "fynda"}
