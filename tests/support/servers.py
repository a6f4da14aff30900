"""Real HTTP servers for the front door's tests: `market-pulse web` as a process, or an ASGI app
on uvicorn in a thread, each on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from infra.settings import PROJECT_ROOT
from tests.support.dagster_ui import free_port


@contextmanager
def app_in_thread(app: object) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def web_process(env: dict[str, str], workspace: Path, log: Path, timeout: float = 120) -> Iterator[str]:
    """`market-pulse web` with Dagster's UI on ``workspace``; yields its base URL once it answers."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "cli", "web", "--port", str(port), "-w", str(workspace)],
                                   cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, f"market-pulse web exited:\n{log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{url}/-/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"market-pulse web not up:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
