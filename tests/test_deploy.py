"""The deployment files in ``deploy/``, checked with what works without a container engine or a
Kubernetes cluster (the docs say the same: nothing here builds an image or starts a container):

* the compose file is parsed and normalised by Docker Compose itself (``docker compose config``,
  or ``docker-compose config``), and every service's command is a valid ``market-pulse`` command;
* the Dockerfile passes hadolint, is multi-stage, builds with uv from the lock, compiles bytecode
  and runs as a numeric non-root user;
* the Helm values validate against the Dagster chart's own ``values.schema.json``;
* the production instance and workspace files load in Dagster as they are.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from psycopg import sql as psycopg_sql
from sqlalchemy.engine import make_url

from cli.main import app
from infra.connections import connect
from infra.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
CHART_SCHEMA = DEPLOY / "helm" / "dagster-chart-values.schema.json"
OUR_SERVICES = {"roles", "migrate", "code-server", "webserver", "daemon", "worker-fetch", "worker-compute"}
RUNNING = OUR_SERVICES - {"roles", "migrate"}


def parse_cli(argv: list[str]) -> None:
    """Parse ``market-pulse ARGV`` with the real command line (nothing runs)."""
    assert argv[0] == "market-pulse", argv
    group = typer.main.get_command(app)
    args, path = list(argv[1:]), []
    while hasattr(group, "commands") and args and args[0] in group.commands:
        path.append(args[0])
        group = group.commands[args.pop(0)]
    assert path and not hasattr(group, "commands"), f"not a market-pulse command: {argv}"
    with group.make_context(" ".join(["market-pulse", *path]), args):
        pass


def compose_command() -> list[str]:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                 check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("no Docker Compose to parse deploy/compose/compose.yaml: install the compose plugin or "
                "`apt-get install docker-compose`", pytrace=False)


@pytest.fixture(scope="module")
def compose_config() -> dict[str, Any]:
    done = subprocess.run([*compose_command(), "-f", str(COMPOSE), "config"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return dict(yaml.safe_load(done.stdout))


def test_compose_file_is_valid_and_runs_every_role(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert {"postgres", "rabbitmq", *OUR_SERVICES} <= set(services)
    for name in OUR_SERVICES:
        service = services[name]
        parse_cli(service["command"])
        environment = service.get("environment") or {}
        # Secrets only as files: no password, key or URL with a password in the environment.
        for key, value in environment.items():
            assert not key.endswith(("_KEY", "_PASSWORD")), f"{name}: {key} given in plain text"
            if "://" in str(value):
                assert make_url(str(value)).password is None, f"{name}: {key} carries a password"
            if key.endswith("_FILE"):
                assert str(value).startswith("/run/secrets/"), f"{name}: {key} is not a mounted secret"
        # Least privilege: the superuser's URL reaches the one-shot role setup only, the owner's
        # password the role setup and the migration only; everything that keeps running is the app role.
        secrets = {str(s["source"] if isinstance(s, dict) else s) for s in service.get("secrets", [])}
        assert ("superuser_url" in secrets) == (name == "roles"), name
        assert ("owner_password" in secrets) == (name in {"roles", "migrate"}), name
        assert "postgres_password" not in secrets, name
        assert make_url(environment["MARKET_PULSE_DATABASE_URL"]).username == "market_pulse_app", name
    roles = {name: services[name]["command"] for name in OUR_SERVICES}
    assert roles["code-server"][1:4] == ["serve", "--role", "code-server"]
    assert roles["roles"][1:] == ["db", "roles", "--apply"] and roles["migrate"][1:] == ["db", "up"]
    webserver = services["webserver"]["environment"]
    assert webserver["MARKET_PULSE_PUBLIC_URL"] and webserver["MARKET_PULSE_ADMIN_PASSWORD_FILE"]
    assert {tuple(roles[w][roles[w].index("--queue") + 1:][:1]) for w in ("worker-fetch", "worker-compute")} \
        == {("fetch",), ("compute",)}
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published and all(str(port.get("host_ip", "") if isinstance(port, dict) else port).startswith("127.0.0.1")
                             for port in published), f"a port is published beyond this host: {published}"


def test_the_compose_secrets_script_writes_what_compose_reads(tmp_path: Path) -> None:
    folder = tmp_path / "compose"
    shutil.copytree(DEPLOY / "compose", folder, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run([str(folder / "make-secrets.sh")], check=True, capture_output=True, timeout=30)
    declared = yaml.safe_load(COMPOSE.read_text())["secrets"]
    for secret in declared.values():
        path = folder / secret["file"]
        assert path.is_file() and path.read_text().strip(), path
    url = (folder / "secrets" / "superuser_url").read_text().strip()
    password = (folder / "secrets" / "postgres_password").read_text().strip()
    assert url == f"postgresql://postgres:{password}@postgres:5432/postgres"
    passwords = {(folder / "secrets" / f"{role}_password").read_text() for role in
                 ("postgres", "owner", "app", "readonly", "dagster", "rabbitmq", "admin")}
    assert len(passwords) == 7, "each role has a password of its own"
    from cryptography.fernet import Fernet

    Fernet((folder / "secrets" / "secret_key").read_text().strip())  # a valid key
    assert (folder / "secrets").stat().st_mode & 0o077 == 0, "the secrets folder is readable by others"


def _as_processes(environment: dict[str, Any], secrets: Path, host: str, prefix: str) -> dict[str, str]:
    """A compose service's environment for a process on this machine: the mounted secrets are the
    files make-secrets.sh wrote, the `postgres` host is the test server and the role and database
    names get a prefix of the test's own (roles are server-wide)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    for key, value in environment.items():
        value = str(value).replace("/run/secrets/", f"{secrets}/")
        if "://" in value and key.endswith("DATABASE_URL"):
            url = make_url(value)
            value = url.set(host=host.split(":")[0], port=int(host.split(":")[1]),
                            username=str(url.username).replace("market_pulse", prefix),
                            database=str(url.database).replace("market_pulse", prefix)
                            ).render_as_string(hide_password=False)
        env[key] = value
    return env


def test_the_compose_services_set_up_least_privilege_on_a_real_server(
        compose_config: dict[str, Any], pg_server_url: str, tmp_path: Path) -> None:
    """The `roles`, `migrate` and webserver services' own environments, run as processes against a
    real server: the superuser makes the roles, the owner migrates, and what keeps running is the
    app role, which `health` reports healthy (it flags a superuser or schema owner)."""
    folder = tmp_path / "compose"
    shutil.copytree(DEPLOY / "compose", folder, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run([str(folder / "make-secrets.sh")], check=True, capture_output=True, timeout=30)
    secrets = folder / "secrets"
    server = make_url(pg_server_url)
    host = f"{server.host}:{server.port}"
    superuser = server.set(database="postgres").render_as_string(hide_password=False)
    (secrets / "superuser_url").write_text(superuser + "\n")
    prefix = f"mpt_{os.getpid()}_compose"
    services = compose_config["services"]
    cli = [sys.executable, "-m", "cli"]

    def run(service: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = _as_processes(services[service]["environment"], secrets, host, prefix)
        env["MARKET_PULSE_HOME"] = str(tmp_path / "home" / service)
        command = list(args) or services[service]["command"][1:]
        return subprocess.run([*cli, *command], env=env, capture_output=True, text=True, timeout=300,
                              cwd=PROJECT_ROOT)

    try:
        for service in ("roles", "roles", "migrate"):  # the role setup is idempotent
            done = run(service)
            assert done.returncode == 0, f"{service}: {done.stderr}"
        ready = run("webserver", "health")
        assert ready.returncode == 0, ready.stdout + ready.stderr
        report = json.loads(ready.stdout)
        assert report["roles"]["ok"] is True, report["roles"]
        assert f"{prefix}_app" in json.dumps(report["roles"]), report["roles"]
        for secret_file in secrets.iterdir():
            if secret_file.name.endswith("_password"):
                assert secret_file.read_text().strip() not in ready.stdout + ready.stderr
    finally:
        with connect(pg_server_url, autocommit=True) as conn:
            for database in (prefix, f"{prefix}_dagster"):
                conn.execute(psycopg_sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    psycopg_sql.Identifier(database)))
            for purpose in ("owner", "app", "readonly", "dagster"):
                conn.execute(psycopg_sql.SQL("DROP ROLE IF EXISTS {}").format(
                    psycopg_sql.Identifier(f"{prefix}_{purpose}")))


def test_dockerfile_passes_hadolint_and_builds_a_lean_non_root_image() -> None:
    beside = Path(sys.executable).with_name("hadolint")  # the venv's, installed by `make install`
    hadolint = str(beside) if beside.is_file() else shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint is missing (a dev dependency: `make install`)", pytrace=False)
    done = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    text = DOCKERFILE.read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) >= 2, "not a multi-stage build"
    assert "uv sync --frozen --no-dev" in text and "UV_COMPILE_BYTECODE=1" in text
    user = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")][-1]
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0", f"runs as {user}"
    for line in text.splitlines():  # every file copied from the build context exists
        if line.startswith("COPY ") and "--from" not in line:
            for source in shlex.split(line)[1:-1]:
                assert source == "." or (PROJECT_ROOT / source).exists(), line
    cmd = json.loads(next(line for line in text.splitlines() if line.startswith("CMD "))[4:])
    parse_cli(cmd)


KUBERNETES_SCHEMAS = "https://kubernetesjsonschema.dev/"


def _offline(schema: Any) -> Any:
    """The chart's schema, made checkable offline: without its ``required`` lists (Helm validates
    values merged over the chart's defaults, which supply what we leave out) and without its
    references to Kubernetes' published object schemas (online only; the type stated beside each
    reference, e.g. an object for a pod security context, is still checked). Unknown keys, types
    and enumerations of the chart's own settings are checked as Helm checks them."""
    if isinstance(schema, dict):
        return {k: _offline(v) for k, v in schema.items()
                if k != "required" and not (k == "$ref" and str(v).startswith(KUBERNETES_SCHEMAS))}
    if isinstance(schema, list):
        return [_offline(v) for v in schema]
    return schema


def _chart_validator() -> Any:
    from jsonschema import Draft7Validator

    schema = _offline(json.loads(CHART_SCHEMA.read_text()))
    assert KUBERNETES_SCHEMAS not in json.dumps(schema)
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def test_helm_values_validate_against_the_charts_schema() -> None:
    values = yaml.safe_load(HELM_VALUES.read_text())
    errors = sorted(_chart_validator().iter_errors(values), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    limits = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    assert {"key": "dagster/partition/vendor", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    assert "password" not in json.dumps(values["dagster-user-deployments"]).lower()


@pytest.mark.parametrize("mistake", ["unknown key", "wrong enum", "wrong type"])
def test_the_chart_schema_check_catches_mistakes(mistake: str) -> None:
    values = copy.deepcopy(yaml.safe_load(HELM_VALUES.read_text()))
    if mistake == "unknown key":
        values["dagsterWebserver"]["servce"] = {"type": "ClusterIP"}
    elif mistake == "wrong enum":
        values["runLauncher"]["type"] = "KubernetesRunLauncher"
    else:
        values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] = "ten"
    assert list(_chart_validator().iter_errors(values)), f"{mistake} went unnoticed"


def test_production_instance_and_workspace_files_load_in_dagster(dagster_storage_url: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import DagsterInstance
    from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    monkeypatch.setenv("MARKET_PULSE_DAGSTER_STORAGE_URL", dagster_storage_url)
    shutil.copyfile(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None and queue.max_concurrent_runs == 10
        assert {"key": "dagster/partition/vendor", "value": {"applyLimitPerUniqueValue": True},
                "limit": 1} in queue.tag_concurrency_limits
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"

    monkeypatch.setenv("MARKET_PULSE_CODE_SERVER_HOST", "code-server.internal")
    monkeypatch.setenv("MARKET_PULSE_CODE_SERVER_PORT", "4266")
    [origin] = location_origins_from_yaml_paths([str(DEPLOY / "workspace.yaml")])
    assert isinstance(origin, GrpcServerCodeLocationOrigin)
    assert (origin.host, origin.port, origin.location_name) == ("code-server.internal", 4266, "market_pulse")
