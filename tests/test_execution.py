"""Choosing where steps run: the executor setting, the Celery queues, secrets from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetKey

from infra.settings import ExecutionSettings, load_settings, secret
from pipelines.definitions import build_definitions
from pipelines.shared.execution import (
    CELERY_QUEUE_TAG,
    COMPUTE_QUEUE,
    FETCH_QUEUE,
    build_executor,
    celery_app_config,
)
from tests.support.vendor_files import vendor_dir

BROKER = "amqp://market_pulse:s3cret@rabbitmq.internal:5672/market_pulse"


def settings_env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"MARKET_PULSE_HOME": str(tmp_path / "home"),
            "MARKET_PULSE_VENDORS_DIR": str(vendor_dir(tmp_path / "vendors", only=["toko", "chapin"])),
            **values}


def test_the_default_is_dagsters_multiprocess_executor(tmp_path: Path) -> None:
    settings = load_settings(settings_env(tmp_path))
    assert settings.execution.executor == "multiprocess" and not settings.execution.celery
    assert build_executor(settings.execution) is None
    job = build_definitions(settings).resolve_job_def("scrape")
    assert job.executor_def.name == "multi_or_in_process_executor"


def test_celery_needs_a_broker_and_says_which_variable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MARKET_PULSE_CELERY_BROKER_URL"):
        load_settings(settings_env(tmp_path, MARKET_PULSE_EXECUTOR="celery"))
    with pytest.raises(ValueError, match="MARKET_PULSE_EXECUTOR='kubernetes': expected one of"):
        load_settings(settings_env(tmp_path, MARKET_PULSE_EXECUTOR="kubernetes"))


def test_celery_executor_routes_scraping_to_fetch_and_the_rest_to_compute(tmp_path: Path) -> None:
    settings = load_settings(settings_env(tmp_path, MARKET_PULSE_EXECUTOR="celery",
                                          MARKET_PULSE_CELERY_BROKER_URL=BROKER))
    definitions = build_definitions(settings)
    scrape = definitions.resolve_job_def("scrape")
    assert scrape.executor_def.name == "celery"
    nodes = {node.name: node for node in scrape.graph.nodes}
    assert nodes["raw_captures"].definition.tags[CELERY_QUEUE_TAG] == FETCH_QUEUE
    assert CELERY_QUEUE_TAG not in nodes["listings"].definition.tags
    assert celery_app_config()["task_default_queue"] == COMPUTE_QUEUE
    raw_captures = definitions.resolve_assets_def(AssetKey("raw_captures"))
    assert raw_captures.op.pool == "fetch"
    # The broker URL (a secret) is baked into the executor: not part of the job's snapshot, which
    # Dagster stores with every run and shows in the UI.
    from dagster._serdes import serialize_value

    assert "s3cret" not in serialize_value(scrape.get_job_snapshot())


def test_our_queue_tag_is_the_one_dagster_celery_reads() -> None:
    from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

    assert CELERY_QUEUE_TAG == DAGSTER_CELERY_QUEUE_TAG


def test_celery_settings_make_a_lost_worker_lose_nothing() -> None:
    config = celery_app_config()
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1


def test_in_process_executor(tmp_path: Path) -> None:
    settings = load_settings(settings_env(tmp_path, MARKET_PULSE_EXECUTOR="in-process"))
    assert settings.execution == ExecutionSettings(executor="in_process")
    assert build_definitions(settings).resolve_job_def("scrape").executor_def.name == "in_process"


def test_secrets_come_from_the_variable_or_from_a_file(tmp_path: Path) -> None:
    broker_file = tmp_path / "broker"
    broker_file.write_text(BROKER + "\n")
    assert secret("MARKET_PULSE_CELERY_BROKER_URL", {"MARKET_PULSE_CELERY_BROKER_URL": BROKER}) == BROKER
    assert secret("MARKET_PULSE_CELERY_BROKER_URL", {"MARKET_PULSE_CELERY_BROKER_URL_FILE": str(broker_file)}) == BROKER
    assert secret("MARKET_PULSE_CELERY_BROKER_URL", {}) is None
    with pytest.raises(ValueError, match="both MARKET_PULSE_CELERY_BROKER_URL and MARKET_PULSE_CELERY_BROKER_URL_FILE"):
        secret("MARKET_PULSE_CELERY_BROKER_URL", {"MARKET_PULSE_CELERY_BROKER_URL": BROKER,
                                                      "MARKET_PULSE_CELERY_BROKER_URL_FILE": str(broker_file)})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        secret("X", {"X_FILE": str(tmp_path / "empty")})
    with pytest.raises(ValueError, match="cannot read it") as missing:
        secret("X", {"X_FILE": str(tmp_path / "nowhere")})
    assert "s3cret" not in str(missing.value)


def test_database_urls_may_come_from_files(tmp_path: Path) -> None:
    url = "postgresql://market_pulse:pw@db.internal:5432/market_pulse"
    (tmp_path / "db").write_text(url)
    settings = load_settings(settings_env(tmp_path, MARKET_PULSE_DATABASE_URL_FILE=str(tmp_path / "db")))
    assert settings.database_url == url and not settings.embedded
    assert "pw" not in repr(ExecutionSettings(executor="celery", broker_url=BROKER))


def test_serve_settings_say_where_the_processes_find_each_other(tmp_path: Path) -> None:
    defaults = load_settings(settings_env(tmp_path)).serve
    assert (defaults.code_server_host, defaults.code_server_port) == ("127.0.0.1", 4266)
    assert defaults.instance_config.name == "dagster.yaml" and defaults.instance_config.parent.name == "deploy"
    given = load_settings(settings_env(tmp_path, MARKET_PULSE_CODE_SERVER_HOST="code-server",
                                       MARKET_PULSE_CODE_SERVER_PORT="4000"))
    assert (given.serve.code_server_host, given.serve.code_server_port) == ("code-server", 4000)
    with pytest.raises(ValueError, match="MARKET_PULSE_CODE_SERVER_PORT='x'"):
        load_settings(settings_env(tmp_path, MARKET_PULSE_CODE_SERVER_PORT="x"))
