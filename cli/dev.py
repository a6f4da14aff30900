"""``market-pulse dev`` and ``web``: a local install in one command, and the front door alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from cli.alerts import install_demo_alerts
from cli.demo import SEEDED_MARKER
from cli.errors import EXPECTED_ERRORS, fail
from cli.instance import export_dagster_env
from infra.database import resolve_urls
from infra.settings import PROJECT_ROOT, Settings, load_settings, redact
from pipelines.platform.bootstrap import prepare

if TYPE_CHECKING:
    from web.config import FrontDoorConfig


def _front_door_config() -> FrontDoorConfig:
    from web.config import FrontDoorConfigError, load_config

    try:
        return load_config()
    except FrontDoorConfigError as exc:
        raise fail(str(exc)) from None


def dev(
    host: Annotated[str, typer.Option(help="Address of the UI (loopback unless MARKET_PULSE_PUBLIC_URL or "
                                      "MARKET_PULSE_ALLOWED_HOSTS is set).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the UI.")] = 3000,
    seed_days: Annotated[int, typer.Option(help="Days of demo history to scrape on first start (0: none).")] = 30,
) -> None:
    """Prepare everything and start the UI behind its login, with Dagster's daemon (what `make run` calls)."""
    from pipelines.platform.code_servers import shared_code_servers
    from web.config import FrontDoorConfigError
    from web.server import announce_first_admin, ensure_first_admin

    settings = load_settings()
    config = _front_door_config()
    try:
        config.check_bind(host)
        env = prepare(settings)
        created = ensure_first_admin(config, env.urls.app)
    except (*EXPECTED_ERRORS, FrontDoorConfigError) as exc:
        raise fail(str(exc)) from None
    url = config.public_url or f"http://{host}:{port}"
    typer.echo(f"warehouse: {redact(env.urls.app)}", err=True)
    typer.echo(f"example saved search: {install_demo_alerts(env.urls.app, settings.demo_url)}", err=True)
    # From here on, files and sockets (code servers, logs) are private to this user: on a shared host
    # nobody else can talk to a code server around the front door.
    os.umask(0o077)
    with shared_code_servers(PROJECT_ROOT / "workspace.yaml") as workspace:
        services = _start_services(host, port, settings, workspace)
        typer.echo(f"Market Pulse UI: {url} (log in first)", err=True)
        announce_first_admin(created, url)
        background = []
        if not (settings.home / SEEDED_MARKER).exists() and seed_days > 0:
            background.append(_seed_in_background(settings, seed_days))
        _wait_and_stop(services, background)


def web_serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless MARKET_PULSE_PUBLIC_URL or "
                                      "MARKET_PULSE_ALLOWED_HOSTS is set).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    workspace: Annotated[list[Path] | None, typer.Option("--workspace", "-w", help="Dagster workspace file(s) "
                                                         "(default: the project's workspace.yaml).")] = None,
) -> None:
    """Serve the front door (login, roles, API keys) with the Dagster UI inside; the warehouse must be
    migrated (`market-pulse db up`). `dev` starts it; on a server run it behind TLS (docs/security.md)."""
    from pipelines.platform.bootstrap import write_dagster_home
    from web.config import FrontDoorConfigError
    from web.server import announce_first_admin, ensure_first_admin, serve

    settings = load_settings()
    config = _front_door_config()
    try:
        config.check_bind(host)
        urls = resolve_urls(settings, start=False)
        created = ensure_first_admin(config, urls.app)
    except (*EXPECTED_ERRORS, FrontDoorConfigError) as exc:
        raise fail(str(exc)) from None
    export_dagster_env(settings)
    write_dagster_home(settings)
    announce_first_admin(created, config.public_url or f"http://{host}:{port}")
    files = [str(path) for path in workspace] if workspace else [str(PROJECT_ROOT / "workspace.yaml")]
    # On-demand searches run in this process with the pipeline's own code (the web package never fetches).
    from pipelines.on_demand.launcher import BackgroundSearches

    serve(config, urls.app, host, port, files, urls.readonly, BackgroundSearches())


def _start_services(host: str, port: int, settings: Settings, workspace: Path) -> list[subprocess.Popen[bytes]]:
    """The long-running processes of a local install, each in its own process group: the demo
    marketplace, Dagster's daemon and the front door (which serves Dagster's UI), the last two on
    the shared code servers of ``workspace``."""
    from pipelines.platform.demo_service import demo_is_up

    children = []
    demo = urlsplit(settings.demo_url)
    if demo.hostname in {"127.0.0.1", "localhost"} and demo.port and not demo_is_up(settings.demo_url):
        children.append(subprocess.Popen(
            [sys.executable, "-m", "demo.server", "--host", demo.hostname, "--port", str(demo.port)],
            cwd=PROJECT_ROOT, start_new_session=True, stdout=subprocess.DEVNULL))
        typer.echo(f"demo marketplace: {settings.demo_url}", err=True)
    # Started inside DAGSTER_HOME: from the project root Dagster would also see the template
    # dagster.yaml there and warn that it is ignored.
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "--log-level", "warning", "-w", str(workspace)],
        cwd=settings.dagster_home, env=os.environ.copy(), start_new_session=True)
    front_door = subprocess.Popen(
        [sys.executable, "-m", "cli", "web", "--host", host, "--port", str(port), "-w", str(workspace)],
        cwd=settings.dagster_home, env=os.environ.copy(), start_new_session=True)
    return [*children, daemon, front_door]


def _seed_in_background(settings: Settings, days: int) -> subprocess.Popen[bytes]:
    """First start: fill the demo's history while the UI comes up (runs appear in the UI)."""
    log = settings.home / "demo-seed.log"
    typer.echo(f"first start: scraping {days} days of demo history in the background (log: {log})", err=True)
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "cli", "demo", "seed", "--days", str(days)],
                                cwd=PROJECT_ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait_and_stop(services: list[subprocess.Popen[bytes]], background: list[subprocess.Popen[bytes]]) -> None:
    """Run until a service exits or we are interrupted, then stop every child cleanly.

    Background jobs (the first-start seed) may finish on their own without stopping anything.
    """
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    children = [*services, *background]
    try:
        while all(child.poll() is None for child in services):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
