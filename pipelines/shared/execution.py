"""Where steps run: the executor a deployment chooses, and the Celery queues steps are sent to.

``MARKET_PULSE_EXECUTOR`` picks Dagster's executor for every job of the code location:
``multiprocess`` (Dagster's default: each step a subprocess of the run), ``in_process`` (the
run's own process) or ``celery`` (dagster-celery: each step a task on RabbitMQ, run by
``market-pulse worker`` processes anywhere that reaches the broker and the databases).

Steps go to one of two queues so that workers can be sized for the work they do:

* ``fetch``: network-bound scraping (``raw_captures``) — many slots per machine, few CPUs;
* ``compute``: everything else (parsing listings, rollups, checks) — about one slot per core.

(Alert delivery keeps its own in-process executor: it runs in its run's process whatever this says.)

The Celery settings are built here once and used by both sides (the run that submits steps and
the worker that executes them), so they always agree on queues, acknowledgement and retries.
"""

from __future__ import annotations

from typing import Any

from dagster import ExecutorDefinition, in_process_executor

from infra.settings import ExecutionSettings

FETCH_QUEUE = "fetch"
COMPUTE_QUEUE = "compute"
QUEUES = (FETCH_QUEUE, COMPUTE_QUEUE)

CELERY_QUEUE_TAG = "dagster-celery/queue"
"""The op tag dagster-celery reads to pick a step's queue (``dagster_celery.tags``; not imported
from there so that defining an asset does not import Celery)."""

FETCH_STEP_TAGS = {CELERY_QUEUE_TAG: FETCH_QUEUE}
"""``op_tags`` of a step that fetches from the network; untagged steps go to ``compute``."""

FETCH_POOL = "fetch"
"""Dagster concurrency pool of the network-bound steps: ``dagster instance concurrency set fetch N``
caps how many scrapes run at once across the whole deployment (no limit unless one is set)."""


def celery_app_config() -> dict[str, Any]:
    """Celery settings shared by the submitting run and the workers (``config_source``).

    * A step is acknowledged only once it has finished (``task_acks_late``), and given back to
      the broker when its worker dies (``task_reject_on_worker_lost``): a worker killed mid-step
      loses nothing, another worker runs the step again. That is safe because every step
      replaces its partition in one transaction (a killed step's transaction is rolled back).
    * A worker reserves one task per slot at a time (prefetch 1), so a long scrape never holds
      back steps another worker could take.
    """
    return {
        "task_default_queue": COMPUTE_QUEUE,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
    }


def celery_executor_config(settings: ExecutionSettings) -> dict[str, Any]:
    """The ``celery_executor`` configuration (broker, result backend, shared settings)."""
    if not settings.broker_url:
        raise ValueError("the Celery executor needs MARKET_PULSE_CELERY_BROKER_URL")
    return {"broker": settings.broker_url, "backend": settings.backend_url, "config_source": celery_app_config()}


def build_executor(settings: ExecutionSettings) -> ExecutorDefinition | None:
    """The executor of every job in the code location (``None``: Dagster's default, multiprocess)."""
    if settings.executor == "in_process":
        return in_process_executor
    if settings.executor == "celery":
        from dagster_celery import celery_executor

        # ``configured`` keeps the broker URL (it may hold a password) out of run configuration,
        # so it is neither stored with runs nor shown in the UI.
        return celery_executor.configured(celery_executor_config(settings), name="celery")
    if settings.executor == "multiprocess":
        return None
    raise ValueError(f"unknown executor {settings.executor!r}")

