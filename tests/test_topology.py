"""The production topology: code server, webserver, daemon and a worker as separate processes.

Each is started as a deployment starts it, ``market-pulse serve --role R``, on Postgres storage
and the production instance and workspace files (``deploy/``), with ``MARKET_PULSE_EXECUTOR=celery``.
Runs are launched through the webserver's GraphQL API, queued, dequeued by the daemon, started by
the code server and executed step by step on the worker; each must succeed and leave its data.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from infra.settings import PROJECT_ROOT
from tests.conftest import _create_database, drop_database, outside_basetemp
from tests.support.celery_cluster import rabbitmq_vhost
from tests.support.dagster_ui import LAUNCH, REPOSITORY, DevServer, free_port
from tests.support.frontdoor import first_login, one_time_password
from tests.support.vendor_files import vendor_dir

pytestmark = pytest.mark.slow

DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=9)
RUN_EVENTS = """
query($id: ID!) { runOrError(runId: $id) { ... on Run { status tags { key value }
  eventConnection { events { __typename ... on MessageEvent { message stepKey } } } } } }
"""


@contextmanager
def service(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own session, stopped like a supervisor stops it (SIGTERM, then SIGKILL)."""
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        # whatever the role left in its session (the code server's gRPC child) goes with it
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def serve(role: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "cli", "serve", "--role", role, *args]


def launch(server: DevServer, job: str, tags: dict[str, str] | None = None) -> str:
    params: dict[str, Any] = {"selector": {**REPOSITORY, "pipelineName": job}, "mode": "default"}
    if tags:
        params["executionMetadata"] = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
    result = server.graphql(LAUNCH, {"p": params})["launchPipelineExecution"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return str(result["run"]["runId"])


def test_code_server_webserver_daemon_and_worker_run_jobs_as_separate_processes(
        pg_server_url: str, migrated_template: str) -> None:
    from demo.server import running_demo

    root = outside_basetemp("market-pulse-topology-")
    suffix = f"{os.getpid()}_{int(time.time()) % 100000}"
    warehouse = _create_database(pg_server_url, f"mpt_topology_{suffix}", template=migrated_template)
    storage = _create_database(pg_server_url, f"mpt_topology_dagster_{suffix}")
    logs = {role: root / f"{role}.log" for role in ("code-server", "webserver", "daemon", "worker")}
    try:
        with running_demo() as demo_url, rabbitmq_vhost() as broker:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
            env.update({
                "MARKET_PULSE_HOME": str(root / "home"),
                "DAGSTER_HOME": str(root / "dagster"),
                "MARKET_PULSE_DATABASE_URL": warehouse,
                "MARKET_PULSE_DAGSTER_DATABASE_URL": storage,
                "MARKET_PULSE_VENDORS_DIR": str(vendor_dir(root / "vendors", only=["toko", "chapin"])),
                "MARKET_PULSE_DEMO_URL": demo_url,
                "MARKET_PULSE_EXECUTOR": "celery",
                "MARKET_PULSE_CELERY_BROKER_URL": broker,
                "MARKET_PULSE_CODE_SERVER_PORT": str(free_port()),
            })
            # The broker URL reaches the code server as a secret file, as in a container.
            secret = root / "broker-url"
            secret.write_text(broker + "\n")
            secret.chmod(0o600)
            code_server_env = {k: v for k, v in env.items() if k != "MARKET_PULSE_CELERY_BROKER_URL"}
            code_server_env["MARKET_PULSE_CELERY_BROKER_URL_FILE"] = str(secret)
            port = free_port()
            with service(serve("code-server"), code_server_env, logs["code-server"]) as code_server:
                # As a supervisor would (compose: depends_on service_healthy), start the others
                # once the code server answers its health check.
                _wait_for_code_server(code_server, int(env["MARKET_PULSE_CODE_SERVER_PORT"]), logs)
                run = _run_through(env, port, logs)
        engine = create_engine(warehouse)
        with engine.connect() as conn:
            listings = conn.execute(text(
                "SELECT count(*) FROM listing_sightings s JOIN vendors v ON v.id = s.vendor_id "
                "WHERE v.name = 'toko' AND s.partition_date = :day"), {"day": DAY}).scalar()
        engine.dispose()
    finally:
        for url in (warehouse, storage):
            drop_database(pg_server_url, url)
        shutil.rmtree(root, ignore_errors=True)

    messages = [event.get("message", "") for event in run["eventConnection"]["events"]]
    assert any(e["__typename"] == "RunEnqueuedEvent" for e in run["eventConnection"]["events"]), \
        "the run did not go through the daemon's queue"
    assert any("Executing steps raw_captures in celery worker" in m for m in messages), messages[:40]
    assert {t["key"]: t["value"] for t in run["tags"]}.get("dagster/partition/vendor") == "toko"
    assert listings and listings > 0, "the scrape run left no listings"


def _run_through(env: dict[str, str], port: int, logs: dict[str, Path]) -> dict[str, Any]:
    """Start the webserver, daemon and worker; launch the catalogue and one scrape through GraphQL."""
    with service(serve("webserver", "--port", str(port)), env, logs["webserver"]) as webserver, \
            service(serve("daemon"), env, logs["daemon"]), \
            service(serve("worker", "--queue", "fetch", "--queue", "compute", "--name", "solo@topology",
                          "--concurrency", "2"), env, logs["worker"]):
        server = DevServer(url=f"http://127.0.0.1:{port}", process=webserver, log=logs["webserver"])
        _wait_for_webserver(server, logs)
        # The webserver role is the front door: nothing answers without a login, so log in as the first
        # admin (its one-time password is in the role's log) and change the password, as a newcomer does.
        server.client, server.admin_password = first_login(server.url, "admin", one_time_password(
            logs["webserver"].read_text()))
        server.wait_until_loaded(timeout=180)

        catalogue = launch(server, "sync_vendors")
        assert server.wait_for_run(catalogue, timeout=300) == "SUCCESS", _tails(logs)
        # The tags the UI's launch dialog sets for a (date, vendor) partition
        scrape = launch(server, "scrape", {"dagster/partition": f"{DAY}|toko", "dagster/partition/date": str(DAY),
                                           "dagster/partition/vendor": "toko"})
        assert server.wait_for_run(scrape, timeout=300) == "SUCCESS", _tails(logs)
        return dict(server.graphql(RUN_EVENTS, {"id": scrape})["runOrError"])


def _wait_for_code_server(process: subprocess.Popen[bytes], port: int, logs: dict[str, Path],
                          timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    check = [str(Path(sys.executable).with_name("dagster")), "api", "grpc-health-check", "--port", str(port)]
    while subprocess.run(check, capture_output=True, timeout=60, check=False).returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"code server not healthy:\n{_tails(logs)}")
        time.sleep(1)


def _wait_for_webserver(server: DevServer, logs: dict[str, Path], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"webserver exited:\n{_tails(logs)}")
        try:
            if httpx.get(f"{server.url}/login", timeout=2).status_code == 200:  # the front door's own page
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"webserver not up after {timeout}s:\n{_tails(logs)}")
        time.sleep(1)


def _tails(logs: dict[str, Path]) -> str:
    return "\n".join(f"--- {role}\n{path.read_text(errors='replace')[-2500:]}" for role, path in logs.items()
                     if path.exists())
