"""Celery workers for the ``celery`` executor, built from dagster-celery's own app and task.

A worker is dagster-celery's Celery app (``dagster_celery.make_app``) with its ``execute_plan``
task registered, configured with exactly the settings the submitting run uses
(``pipelines.shared.execution``), and started in this process on the queues it should serve.
Each task loads the code location (``pipelines.definitions``) and executes one step against the
run's Dagster instance, writing its events to Dagster's Postgres storage like any other step.

We build the app here instead of calling ``dagster-celery worker start``: that command writes the
broker URL (a secret) into a generated config module on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.settings import ExecutionSettings
from pipelines.shared.execution import QUEUES, celery_executor_config


def worker_app(settings: ExecutionSettings) -> Any:
    """dagster-celery's app with the ``execute_plan`` task, on our broker and settings."""
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    app = make_app(CeleryExecutor.for_cli(**celery_executor_config(settings)).app_args())
    create_task(app)
    return app


def worker_argv(queues: Sequence[str], name: str, *, concurrency: int | None = None,
                loglevel: str = "INFO") -> list[str]:
    """``celery worker`` arguments: the queues, a node name (shown in the run's event log as the
    step's "Celery worker"), one reserved task per slot."""
    unknown = [q for q in queues if q not in QUEUES]
    if not queues or unknown:
        raise ValueError(f"unknown queue(s) {', '.join(unknown) or '(none)'}: expected {' and/or '.join(QUEUES)}")
    argv = ["worker", "--queues", ",".join(dict.fromkeys(queues)), "--hostname", name,
            "--loglevel", loglevel, "--prefetch-multiplier", "1"]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    return argv


def run_worker(settings: ExecutionSettings, queues: Sequence[str], name: str, *, concurrency: int | None = None,
               loglevel: str = "INFO") -> None:
    """Serve ``queues`` until stopped (SIGTERM: finish the running steps first; SIGQUIT: at once)."""
    worker_app(settings).worker_main(worker_argv(queues, name, concurrency=concurrency, loglevel=loglevel))
