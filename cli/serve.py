"""``market-pulse serve --role R`` and ``market-pulse worker``: one process of a deployment each.

`make run` keeps everything in one ``dagster dev``. Past one laptop, the same code runs as
separate long-lived services, all on the same Postgres and the same settings:

==============  ==========================================================================
role            what it starts
==============  ==========================================================================
code-server     the code location's gRPC server (``dagster code-server start``); runs are
                launched as its subprocesses
webserver       the front door (login, roles, same-origin checks, API keys) with the Dagster UI
                and GraphQL API inside, loading the code location from the code server
                (``deploy/workspace.yaml``): ``market-pulse web``, never a bare Dagster
                webserver, so no deployment serves the UI without a login
daemon          schedules, sensors, the run queue, run monitoring (``dagster-daemon run``)
worker          a Celery worker for ``MARKET_PULSE_EXECUTOR=celery`` (same as ``market-pulse
                worker``)
==============  ==========================================================================

Every role attaches to existing databases (``market-pulse db up`` / ``db migrate`` create and
migrate them, once, as the owner), exports the resolved settings to its child (secrets given as
``*_FILE`` included) and writes ``deploy/dagster.yaml`` (``MARKET_PULSE_INSTANCE_CONFIG``) into
``$DAGSTER_HOME``; the code server's address is ``MARKET_PULSE_CODE_SERVER_HOST``/``_PORT``. Dagster roles then
replace this process (``exec``), so signals from a supervisor (systemd, Docker, Kubernetes) reach
Dagster directly.

More roles plug in through :data:`ROLES` (a role is a function from the command's options to the
command line it execs).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import EXPECTED_ERRORS, fail
from infra.settings import PROJECT_ROOT, Settings, load_settings
from pipelines.shared.execution import QUEUES

DEPLOY = PROJECT_ROOT / "deploy"
LOCATION_NAME = "market_pulse"
CODE_LOCATION_MODULE = "pipelines.definitions"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int | None
    code_server_port: int
    workspace: Path


def _script(name: str) -> str:
    """A console script of this environment (next to its Python), else from PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise ValueError(f"{name} is not installed in this environment")
    return found


def code_server_command(options: ServeOptions) -> list[str]:
    return [_script("dagster"), "code-server", "start", "--module-name", CODE_LOCATION_MODULE,
            "--location-name", LOCATION_NAME, "--host", options.host,
            "--port", str(options.port or options.code_server_port)]


def webserver_command(options: ServeOptions) -> list[str]:
    """The front door (``market-pulse web``) on the deployment's workspace: it runs Dagster's webserver
    inside itself, behind its login (see docs/security.md)."""
    return [_script("market-pulse"), "web", "--host", options.host, "--port", str(options.port or 3000),
            "--workspace", str(options.workspace)]


def daemon_command(options: ServeOptions) -> list[str]:
    return [_script("dagster-daemon"), "run", "--workspace", str(options.workspace)]


ROLES: dict[str, Callable[[ServeOptions], list[str]]] = {
    "code-server": code_server_command,
    "webserver": webserver_command,
    "daemon": daemon_command,
}
"""Roles that exec a command line; ``worker`` runs in this process (see :func:`worker`)."""


def _attach(settings: Settings, instance_config: Path | None) -> None:
    from pipelines.platform.bootstrap import attach

    try:
        attach(settings, instance_config)
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None


def serve(
    role: Annotated[str, typer.Option(help=f"What to run: {', '.join([*ROLES, 'worker'])}.")],
    host: Annotated[str, typer.Option(help="Address to listen on (webserver, code-server).")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (webserver: 3000; code-server: the code server "
                                             "port).")] = None,
    workspace: Annotated[Path, typer.Option(help="Workspace of the webserver and daemon.")] = DEPLOY / "workspace.yaml",
    queue: Annotated[list[str] | None, typer.Option("--queue", "-q", help="Worker: queue(s) to serve.")] = None,
    name: Annotated[str | None, typer.Option(help="Worker: node name.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Worker: steps at once.", min=1)] = None,
) -> None:
    """Run one service of a deployment (see the guide's "Scaling out")."""
    if role == "worker":
        worker(queue=queue or [], name=name, concurrency=concurrency)
        return
    build = ROLES.get(role)
    if build is None:
        raise fail(f"unknown role {role!r}: expected one of {', '.join([*ROLES, 'worker'])}")
    try:
        settings = load_settings()
    except ValueError as exc:
        raise fail(str(exc)) from None
    _attach(settings, settings.serve.instance_config)
    # deploy/workspace.yaml reads the code server's address from these two
    os.environ["MARKET_PULSE_CODE_SERVER_HOST"] = settings.serve.code_server_host
    os.environ["MARKET_PULSE_CODE_SERVER_PORT"] = str(settings.serve.code_server_port)
    options = ServeOptions(host=host, port=port, code_server_port=settings.serve.code_server_port,
                           workspace=workspace)
    try:
        command = build(options)
    except ValueError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"market-pulse {role}: {Path(command[0]).name} (DAGSTER_HOME={settings.dagster_home})", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Started in DAGSTER_HOME, like `dagster dev`: Dagster reads no stray dagster.yaml from the cwd.
    os.chdir(settings.dagster_home)
    os.execv(command[0], command)


def worker(
    queue: Annotated[list[str], typer.Option("--queue", "-q", help=f"Queue(s) to serve: {', '.join(QUEUES)}; "
                                             "repeat for several.")],
    name: Annotated[str | None, typer.Option(help="Node name, shown as the step's \"Celery worker\" in the run's "
                                             "log (default: QUEUES-PID@HOST).")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Steps run at once (default: one per CPU).",
                                                    min=1)] = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Start a Celery worker that runs steps of the queue(s) given (MARKET_PULSE_EXECUTOR=celery)."""
    from pipelines.platform.workers import run_worker, worker_argv

    try:
        settings = load_settings()
        if not settings.execution.broker_url:
            raise ValueError("a worker needs MARKET_PULSE_CELERY_BROKER_URL (or MARKET_PULSE_CELERY_BROKER_URL_FILE)")
        node = name or f"{'+'.join(queue)}-{os.getpid()}@{socket.gethostname()}"
        worker_argv(queue, node)  # validates the queue names before anything starts
    except ValueError as exc:
        raise fail(str(exc)) from None
    _attach(settings, None)
    run_worker(settings.execution, queue, node, concurrency=concurrency, loglevel=loglevel)
