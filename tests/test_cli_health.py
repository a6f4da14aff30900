"""The CLI as a user runs it: `db up`, `health`, `db url`, `db down`, and a dead URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.settings import PROJECT_ROOT

CLI = [sys.executable, "-m", "cli"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CLI + args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def clean_env(market_pulse_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env["MARKET_PULSE_HOME"] = str(market_pulse_home)
    return env


def test_health_after_db_up_with_the_embedded_server(clean_env: dict[str, str]) -> None:
    before = _run(["health"], clean_env)
    assert before.returncode == 1
    assert "not running" in before.stderr and "market-pulse db up" in before.stderr

    up = _run(["db", "up"], clean_env)
    try:
        assert up.returncode == 0, up.stderr
        # the pipeline's role, password masked (`db url --show-password` prints it)
        assert up.stdout.strip().startswith("postgresql+psycopg://market_pulse_app:***@127.0.0.1:")
        shown = _run(["db", "url", "--show-password"], clean_env).stdout.strip()
        password = shown.split(":")[2].split("@")[0]
        assert len(password) >= 32 and password not in up.stdout + up.stderr

        health = _run(["health"], clean_env)
        assert health.returncode == 0, health.stderr
        report = json.loads(health.stdout)
        assert report["healthy"] is True
        assert report["database"]["server_version"].startswith("18")
        assert report["migrations"]["current"] == report["migrations"]["head"]
        assert report["dagster_storage"]["ok"] is True
        roles = report["roles"]  # each component as its own role; the pipeline's may do DML only
        assert roles["ok"] is True and roles["pipeline"]["role"] == "market_pulse_app"
        assert roles["pipeline"]["superuser"] is False and roles["pipeline"]["problems"] == []
        assert roles["migrations"]["role"] == "market_pulse_owner"
        assert roles["Dagster storage"]["role"] == "market_pulse_dagster"

        # A second `db up` reuses the running server: same URL.
        assert _run(["db", "up"], clean_env).stdout == up.stdout
        assert _run(["db", "url"], clean_env).stdout == up.stdout
        dagster_url = _run(["db", "url", "--dagster"], clean_env).stdout
        assert dagster_url.strip().endswith("/market_pulse_dagster")
        assert dagster_url.startswith("postgresql+psycopg2://")

        downgraded = _run(["db", "downgrade", "base"], clean_env)
        assert downgraded.returncode == 0, downgraded.stderr
        behind = _run(["health"], clean_env)
        assert behind.returncode == 1
        assert "market-pulse db migrate" in behind.stderr
        assert _run(["db", "migrate"], clean_env).returncode == 0
        assert _run(["health"], clean_env).returncode == 0
    finally:
        down = _run(["db", "down"], clean_env)
    assert down.returncode == 0 and "stopped" in down.stdout, down.stdout + down.stderr
    assert _run(["health"], clean_env).returncode == 1


def test_health_reports_a_dead_url_clearly(clean_env: dict[str, str]) -> None:
    clean_env["MARKET_PULSE_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/market_pulse"
    result = _run(["health"], clean_env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["healthy"] is False and report["database"]["ok"] is False
    assert "127.0.0.1:1" in result.stderr and "Connection refused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_up_with_an_unreachable_url_is_one_clear_line(clean_env: dict[str, str]) -> None:
    clean_env["MARKET_PULSE_DATABASE_URL"] = "postgresql://nobody:s3cret@127.0.0.1:1/market_pulse"
    result = _run(["db", "up"], clean_env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot connect to postgresql+psycopg://nobody:***@127.0.0.1:1/")
    assert "s3cret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("vendors", ["bundled", "one bad file each way"])
def test_dagster_definitions_validate(clean_env: dict[str, str], dagster_storage_url: str, vendors: str,
                                      tmp_path: Path) -> None:
    # Run from the project root, `dagster` reads the project's dagster.yaml (Postgres storage).
    clean_env["MARKET_PULSE_DAGSTER_STORAGE_URL"] = dagster_storage_url
    if vendors != "bundled":  # broken vendor files take out their own vendors, never the code location
        from tests.test_definitions import broken_vendor_folder

        clean_env["MARKET_PULSE_VENDORS_DIR"] = str(broken_vendor_folder(tmp_path / "vendors"))
    result = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-w",
                             str(PROJECT_ROOT / "workspace.yaml")], env=clean_env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_a_malformed_numeric_setting_names_the_variable(clean_env: dict[str, str], dagster_storage_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.settings import env_int

    monkeypatch.setenv("MARKET_PULSE_X", " 7 ")
    assert env_int("MARKET_PULSE_X", 3) == 7
    monkeypatch.setenv("MARKET_PULSE_X", "")
    assert env_int("MARKET_PULSE_X", 3) == 3
    monkeypatch.setenv("MARKET_PULSE_X", "0")
    with pytest.raises(ValueError, match=r"MARKET_PULSE_X=0: must be at least 1"):
        env_int("MARKET_PULSE_X", 3, minimum=1)

    # what a user sees when the code location cannot load
    clean_env.update(MARKET_PULSE_DAGSTER_STORAGE_URL=dagster_storage_url, MARKET_PULSE_ALERT_SENSOR_SEND_LIMIT="lots")
    result = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-w",
                             str(PROJECT_ROOT / "workspace.yaml")], env=clean_env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode != 0
    assert "MARKET_PULSE_ALERT_SENSOR_SEND_LIMIT='lots': expected a whole number" in result.stdout + result.stderr
