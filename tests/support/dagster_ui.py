"""Driving a running `market-pulse dev` the way the UI does: through Dagster's GraphQL API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from infra.settings import PROJECT_ROOT
from tests.support.frontdoor import first_login, one_time_password

LAUNCH = """
mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on PipelineNotFoundError { message } } }
"""
RUN_STATUS = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"""
ASSET_NODES = """
{ assetNodes { assetKey { path } groupName isPartitioned
  backfillPolicy { policyType } partitionDefinition { type dimensionTypes { name type } }
  dependencyKeys { path } assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }
"""
PARTITION_KEYS = """
query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { partitionKeysByDimension { name partitionKeys } } } }
"""
INSTIGATORS = """
query($repo: RepositorySelector!) {
  schedulesOrError(repositorySelector: $repo) { ... on Schedules { results { name scheduleState { status } } } }
  sensorsOrError(repositorySelector: $repo) { ... on Sensors { results { name sensorType sensorState { status } } } }
}
"""
BACKFILL = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { id status numPartitions runs(limit: 100) { id status } }
  ... on PythonError { message } } }
"""
WORKSPACE = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""
LOCATION = "market_pulse"
REPOSITORY = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DevServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    admin_password: str = ""
    """The first admin's own password, chosen at first login (the one-time password is spent)."""
    client: httpx.Client | None = None
    """Logged in as the first admin (who may do what an operator does)."""

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self.client is not None, "not logged in"
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}})
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def asset_keys(self) -> set[str]:
        data = self.graphql("{ assetNodes { assetKey { path } } }")
        return {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}

    def wait_until_loaded(self, timeout: float = 120) -> None:
        """Until the code location has loaded (``/server_info`` answers before it has)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.graphql(WORKSPACE)["workspaceOrError"]["locationEntries"]
            entry = next((e for e in entries if e["name"] == LOCATION), None)
            if entry and entry["loadStatus"] == "LOADED":
                location = entry["locationOrLoadError"] or {}
                assert location.get("__typename") == "RepositoryLocation", f"code location failed: {location}"
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"code location {LOCATION} not loaded after {timeout}s: {entries}")
            time.sleep(1)

    def asset_nodes(self) -> dict[str, dict[str, Any]]:
        """Every asset node by key ("a/b"), with partitioning, backfill policy, dependencies and checks."""
        return {"/".join(node["assetKey"]["path"]): node for node in self.graphql(ASSET_NODES)["assetNodes"]}

    def daily_single_run_assets(self) -> list[str]:
        """Assets partitioned by day alone whose backfills run as one run (the rollups)."""
        return sorted(key for key, node in self.asset_nodes().items()
                      if (node["partitionDefinition"] or {}).get("type") == "TIME_WINDOW"
                      and (node["backfillPolicy"] or {}).get("policyType") == "SINGLE_RUN")

    def partition_keys(self, asset: str) -> dict[str, list[str]]:
        """Partition keys of ``asset`` per dimension ("default" for a single-dimension asset)."""
        data = self.graphql(PARTITION_KEYS, {"key": {"path": asset.split("/")}})["assetNodeOrError"]
        return {d["name"]: d["partitionKeys"] for d in data["partitionKeysByDimension"]}

    def instigator_states(self) -> dict[str, str]:
        """Every schedule and sensor of the code location: name → RUNNING / STOPPED."""
        data = self.graphql(INSTIGATORS, {"repo": REPOSITORY})
        states = {s["name"]: s["scheduleState"]["status"] for s in data["schedulesOrError"]["results"]}
        states.update({s["name"]: s["sensorState"]["status"] for s in data["sensorsOrError"]["results"]})
        return states

    def backfill(self, backfill_id: str) -> dict[str, Any]:
        result = self.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        assert result["__typename"] == "PartitionBackfill", result
        return result

    def wait_for_backfill(self, backfill_id: str, timeout: float = 300) -> dict[str, Any]:
        """The backfill once it has finished (no longer REQUESTED, CANCELING or FAILING)."""
        deadline = time.monotonic() + timeout
        while True:
            backfill = self.backfill(backfill_id)
            if backfill["status"] not in {"REQUESTED", "CANCELING", "FAILING"}:
                return backfill
            if time.monotonic() > deadline:
                raise TimeoutError(f"backfill {backfill_id} not finished after {timeout}s: {backfill}")
            time.sleep(2)

    def materialize(self, asset: str, partition: str | None = None) -> str:
        params: dict[str, Any] = {
            "selector": {**REPOSITORY, "pipelineName": "__ASSET_JOB", "assetSelection": [{"path": asset.split("/")}]},
            "mode": "default",
        }
        if partition:
            params["executionMetadata"] = {"tags": [{"key": "dagster/partition", "value": partition}]}
        result = self.graphql(LAUNCH, {"p": params})["launchPipelineExecution"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def wait_for_run(self, run_id: str, timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.graphql(RUN_STATUS, {"id": run_id})["runOrError"]["status"]
            if status in {"SUCCESS", "FAILURE", "CANCELED"}:
                return str(status)
            time.sleep(1)
        raise TimeoutError(f"run {run_id} not finished after {timeout}s")


def _default_sigint() -> None:
    """A pytest started in the background (`pytest &` in a script) ignores SIGINT, and children
    inherit that: Python then installs no KeyboardInterrupt handler and our Ctrl-C would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def running_dev_server(env: dict[str, str], log: Path, timeout: float = 180,
                       seed_days: int | None = None) -> Iterator[DevServer]:
    """`market-pulse dev` in its own process group; stopped with SIGINT like a user's Ctrl-C.

    ``seed_days`` is passed as ``--seed-days`` (0: no background history scrape on first start).
    Once the login page answers, the first admin logs in with the one-time password from the log
    and chooses a new one, as a newcomer does; the server's ``client`` is that admin's session.
    """
    port = free_port()
    command = [sys.executable, "-m", "cli", "dev", "--port", str(port)]
    if seed_days is not None:
        command += ["--seed-days", str(seed_days)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command,
                                   cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=_default_sigint)
    server = DevServer(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"market-pulse dev exited early:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{server.url}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"UI not up after {timeout}s:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        server.client, server.admin_password = first_login(server.url, "admin", one_time_password(log.read_text()))
        yield server
    finally:
        if server.client is not None:
            server.client.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
