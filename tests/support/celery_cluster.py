"""A small Market Pulse cluster for tests: RabbitMQ, Celery workers as separate processes (each on
its own test host when the machine allows network namespaces), and runs launched from their own
processes — the shape of a deployment with ``MARKET_PULSE_EXECUTOR=celery``.

The broker is the machine's RabbitMQ (127.0.0.1:5672, guest/guest, or
``$MARKET_PULSE_TEST_BROKER_URL``); each test module gets its own virtual host, so queues of
concurrent test sessions never mix, and removes it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from infra.settings import PROJECT_ROOT

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"


def _broker_root() -> str:
    return os.environ.get("MARKET_PULSE_TEST_BROKER_URL", DEFAULT_BROKER)


def broker_port() -> int:
    return urlsplit(_broker_root()).port or 5672


def _rabbitmqctl(*args: str) -> None:
    done = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A broker URL on a fresh virtual host of the machine's RabbitMQ (deleted afterwards).

    Fails (never skips) when no broker answers: the Celery tests are part of the suite.
    """
    root = urlsplit(_broker_root())
    try:
        socket.create_connection((root.hostname or "127.0.0.1", root.port or 5672), timeout=3).close()
    except OSError as exc:
        raise RuntimeError(f"no RabbitMQ at {root.hostname}:{root.port or 5672} ({exc}): start it with "
                           "`rabbitmq-server -detached`, or set MARKET_PULSE_TEST_BROKER_URL") from None
    if shutil.which("rabbitmqctl") is None:
        yield _broker_root()  # cannot make a vhost: share the given one
        return
    vhost = f"mpt_{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, root.username or "guest", ".*", ".*", ".*")
        yield urlunsplit((root.scheme, root.netloc, f"/{vhost}", "", ""))
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=120, check=False)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while f"{self.name} ready." not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker {self.name} not ready after {timeout}s:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.5)

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a lost machine would."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass


def start_worker(command_prefix: list[str], env: dict[str, str], name: str, queues: list[str], log: Path,
                 concurrency: int = 2) -> Worker:
    """``market-pulse worker`` for ``queues`` as its own process group (under ``command_prefix``)."""
    argv = [*command_prefix, sys.executable, "-m", "cli", "worker", "--name", name, "--concurrency", str(concurrency)]
    for queue in queues:
        argv += ["--queue", queue]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Worker(name=name, process=process, log=log)


@dataclass
class Launch:
    """A run launched from its own process (``tests.support.dagster_runs``)."""

    process: subprocess.Popen[bytes]
    log: Path
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def printed(self) -> list[dict[str, Any]]:
        text = self.log.read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith('{"run_id"')]

    def wait(self, timeout: float = 300) -> list[dict[str, Any]]:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TimeoutError(f"run not finished after {timeout}s:\n{self.log.read_text()[-3000:]}") from None
        self.outcomes = self.printed()
        assert self.process.returncode == 0 and self.outcomes, f"launch failed:\n{self.log.read_text()[-4000:]}"
        return self.outcomes


def launch(env: dict[str, str], log: Path, *args: str) -> Launch:
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "tests.support.dagster_runs", *args], cwd=PROJECT_ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Launch(process=process, log=log)


def worker_of_steps(instance: Any, run_id: str) -> list[tuple[str, str]]:
    """(step key, Celery worker) for every step a worker started, from the run's event log."""
    from dagster import DagsterEventType

    out = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        metadata = getattr(event.event_specific_data, "metadata", None) or {}
        worker = metadata.get("Celery worker")
        if worker is not None:
            out.append((event.step_key, worker.value))
    return out


def step_windows(instance: Any, run_id: str, step_key: str) -> list[tuple[float, float]]:
    """(start, end) timestamps of every execution of ``step_key`` that finished, in the run's log."""
    from dagster import DagsterEventType

    starts = [r.timestamp for r in instance.all_logs(run_id, of_type=DagsterEventType.STEP_START)
              if r.step_key == step_key]
    ends = [r.timestamp for r in instance.all_logs(run_id, of_type={DagsterEventType.STEP_SUCCESS,
                                                                     DagsterEventType.STEP_FAILURE})
            if r.step_key == step_key]
    return list(zip(starts[-len(ends):] if ends else [], ends, strict=False))


def log_messages(instance: Any, run_id: str) -> list[str]:
    return [record.user_message for record in instance.all_logs(run_id)]
