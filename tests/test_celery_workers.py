"""Celery workers on RabbitMQ, as separate processes on their own test hosts.

Two ``market-pulse worker`` processes (each in its own network namespace, joined to this machine
by a veth pair, when we may make namespaces) serve the ``fetch`` and ``compute`` queues of a
fresh RabbitMQ virtual host. A multi-vendor, multi-day job runs on them — four scrape runs
launched at once from their own processes, as a backfill's runs are, and one run of the daily
rollups over the window — while ``market-pulse run`` scrapes one of the same vendors in its own
process. Then:

* every step ran on a worker serving its queue, and both workers ran steps (the worker's name is
  in each step's event log);
* the demo marketplace never had more of a vendor's requests in flight, nor more per second,
  than the vendor allows, although runs of the same vendor overlapped (one waited for the other);
* the warehouse is equal to one filled by an in-process run of the same partitions
  (``tests.support.warehouse_dump`` says which columns legitimately differ: ids and clocks);
* a worker killed in the middle of a scrape loses nothing: its step runs again on the other
  worker, the run succeeds, nothing is half-written, and a re-run converges to the same data.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from infra.settings import PROJECT_ROOT, with_driver
from tests.conftest import _create_database, drop_database, outside_basetemp
from tests.support.celery_cluster import (
    Launch,
    Worker,
    broker_port,
    launch,
    log_messages,
    rabbitmq_vhost,
    start_worker,
    worker_of_steps,
)
from tests.support.netns import isolated_host
from tests.support.vendor_files import vendor_dir
from tests.support.warehouse_dump import differences, dump

pytestmark = pytest.mark.slow

VENDORS = ("toko", "cardvault")
RATE = {"requests_per_second": 4, "concurrency": 2}
"""Each vendor's politeness in these tests (the demo shops answer slowly, so crawls overlap)."""
SLOW_SEARCH = [{"mode": "slow", "delay": 0.4, "kinds": ["search"]}]
TODAY = dt.datetime.now(dt.UTC).date()
DAYS = (TODAY - dt.timedelta(days=12), TODAY - dt.timedelta(days=11))
KILL_DAY = TODAY - dt.timedelta(days=10)
# The listings audits are check specs of the listings step itself (write, audit, publish), not steps.
STEPS = {"raw_captures": "fetch", "listings": "compute"}
WORKER_QUEUES = {"alpha": ["fetch", "compute"], "beta": ["fetch", "compute"]}
LOCK_WAIT = "another process is fetching this vendor"


def key(day: dt.date, vendor: str) -> str:
    return f"{day}|{vendor}"


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]
    reference_env: dict[str, str]
    warehouse_url: str
    reference_url: str
    storage_url: str
    demo_url: str
    workers: dict[str, Worker]
    isolated: bool

    def launch(self, *args: str, log: str, env: dict[str, str] | None = None) -> Launch:
        return launch(env or self.env, self.root / log, *args)

    def demo(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.demo_url}{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()


def _env(base: dict[str, str], **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env.update(base)
    env.update(values)
    return env


@pytest.fixture(scope="module")
def cluster(pg_server_url: str, migrated_template: str) -> Iterator[Cluster]:
    from demo.server import running_demo

    root = outside_basetemp("market-pulse-celery-")
    suffix = f"{os.getpid()}_{int(time.time()) % 100000}"
    warehouse = _create_database(pg_server_url, f"mpt_celery_{suffix}", template=migrated_template)
    reference = _create_database(pg_server_url, f"mpt_inproc_{suffix}", template=migrated_template)
    storage = _create_database(pg_server_url, f"mpt_celery_dagster_{suffix}")
    vendors = vendor_dir(root / "vendors", patches={v: {"rate_limit": RATE} for v in VENDORS}, only=list(VENDORS))
    dagster_home = root / "dagster"
    dagster_home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    try:
        with running_demo(subprocess_mode=True) as demo_url, rabbitmq_vhost() as broker:
            common = {
                "MARKET_PULSE_HOME": str(root / "home"),
                "DAGSTER_HOME": str(dagster_home),
                "MARKET_PULSE_DAGSTER_DATABASE_URL": storage,
                "MARKET_PULSE_DAGSTER_STORAGE_URL": with_driver(storage, "psycopg2"),
                "MARKET_PULSE_VENDORS_DIR": str(vendors),
                "MARKET_PULSE_DEMO_URL": demo_url,
                "MARKET_PULSE_CELERY_BROKER_URL": broker,
            }
            env = _env(common, MARKET_PULSE_DATABASE_URL=warehouse, MARKET_PULSE_EXECUTOR="celery")
            reference_env = _env(common, MARKET_PULSE_DATABASE_URL=reference, MARKET_PULSE_EXECUTOR="in_process")
            ports = [make_url(pg_server_url).port or 5432, broker_port(), int(demo_url.rsplit(":", 1)[1])]
            index = (os.getpid() % 120) * 2 + 1
            with isolated_host(f"mpt{os.getpid()}a", index, ports) as host_a, \
                    isolated_host(f"mpt{os.getpid()}b", index + 1, ports) as host_b:
                workers = {}
                for (name, queues), host in zip(WORKER_QUEUES.items(), (host_a, host_b), strict=True):
                    node = f"{name}@{host.name}"
                    workers[node] = start_worker(host.command([]), env, node, queues, root / f"worker-{name}.log")
                try:
                    for worker in workers.values():
                        worker.wait_ready()
                    yield Cluster(root=root, env=env, reference_env=reference_env, warehouse_url=warehouse,
                                  reference_url=reference, storage_url=with_driver(storage, "psycopg2"),
                                  demo_url=demo_url, workers=workers, isolated=host_a.isolated)
                finally:
                    for worker in workers.values():
                        worker.stop()
    finally:
        for url in (warehouse, reference, storage):
            drop_database(pg_server_url, url)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def instance(cluster: Cluster) -> Iterator[Any]:
    """The cluster's Dagster instance, to read run records and event logs."""
    from dagster import instance_for_test

    reader_home = cluster.root / "reader"
    reader_home.mkdir(exist_ok=True)
    with instance_for_test(temp_dir=str(reader_home), overrides={
        "storage": {"postgres": {"postgres_url": cluster.storage_url}},
    }) as reader:
        yield reader


@dataclass
class Scenario:
    celery_runs: list[dict[str, Any]]
    cli_runs: list[str]
    load: dict[str, dict[str, int]]


@pytest.fixture(scope="module")
def scenario(cluster: Cluster, instance: Any) -> Scenario:
    """The multi-vendor, multi-day job on the workers, a CLI scrape alongside, and the reference."""
    import subprocess
    import sys

    sync = cluster.launch("sync", log="sync.log", env={**cluster.env, "MARKET_PULSE_EXECUTOR": "in_process"})
    assert all(o["success"] for o in sync.wait())
    for vendor in VENDORS:
        cluster.demo("POST", "/_faults", json={"shop": vendor, "faults": SLOW_SEARCH})
    cluster.demo("POST", "/_stats/reset")
    before = {r.dagster_run.run_id for r in instance.get_run_records()}
    # A third process holds toko's fetch lock until a scrape says it is waiting for it: on a loaded
    # machine the runs of one vendor may not happen to meet, and the lock must be seen to hold.
    holder = _LockHolder(cluster.warehouse_url, "toko", instance, before)
    holder.start()
    assert holder.locked.wait(60), "the test could not take toko's fetch lock"

    # `market-pulse run` scrapes (first day, toko) in its own process, outside any run queue,
    # while the workers scrape the other partitions.
    cli_log = cluster.root / "cli-run.log"
    with open(cli_log, "wb") as out:
        cli = subprocess.Popen([sys.executable, "-m", "cli", "run", "--date", str(DAYS[0]), "--vendor", "toko"],
                               cwd=PROJECT_ROOT, env={**cluster.env, "MARKET_PULSE_EXECUTOR": "in_process"},
                               stdout=out, stderr=subprocess.STDOUT)
    on_workers = [key(day, vendor) for day in DAYS for vendor in VENDORS if (day, vendor) != (DAYS[0], "toko")]
    launches = [cluster.launch("scrape", partition, log=f"scrape-{partition.replace('|', '-')}.log")
                for partition in on_workers]
    celery_runs = [outcome for launched in launches for outcome in launched.wait()]
    assert cli.wait(300) == 0, cli_log.read_text()[-3000:]
    holder.join(timeout=5)
    assert holder.seen_waiting, "no toko scrape waited for the fetch lock another process held"
    load = cluster.demo("GET", "/_stats")["load"]
    for vendor in VENDORS:
        cluster.demo("POST", "/_faults", json={"shop": vendor, "faults": []})
    cli_runs = [r.dagster_run.run_id for r in instance.get_run_records()
                if r.dagster_run.run_id not in before and r.dagster_run.tags.get("market_pulse/launched_by") == "cli"]

    # The rollups over both days on the workers; meanwhile the reference, all in one process.
    window = (str(DAYS[0]), str(DAYS[-1]))
    rollups = cluster.launch("rollups", *window, log="rollups.log")
    reference = cluster.launch("sync", "scrape", *(key(day, vendor) for day in DAYS for vendor in VENDORS),
                               "rollups", *window, log="reference.log", env=cluster.reference_env)
    celery_runs += rollups.wait()
    reference_runs = reference.wait()
    assert all(o["success"] for o in celery_runs), celery_runs
    assert all(o["success"] for o in reference_runs), reference_runs
    return Scenario(celery_runs=celery_runs, cli_runs=cli_runs, load=load)


class _LockHolder(threading.Thread):
    """Holds a vendor's fetch lock (as another crawl would) until a new run logs that it waits."""

    def __init__(self, warehouse_url: str, vendor: str, instance: Any, before: set[str],
                 timeout: float = 240) -> None:
        super().__init__(daemon=True)
        self.url, self.vendor, self.instance = warehouse_url, vendor, instance
        self.before, self.timeout = before, timeout
        self.seen_waiting = False
        self.locked = threading.Event()

    def run(self) -> None:
        from pipelines.scraping.vendor_lock import vendor_fetch_lock

        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                vendor_id = conn.execute(text("SELECT id FROM vendors WHERE name = :name"),
                                         {"name": self.vendor}).scalar_one()
            with vendor_fetch_lock(engine, vendor_id=vendor_id, vendor=self.vendor, wait_seconds=60):
                self.locked.set()
                deadline = time.monotonic() + self.timeout
                while not self.seen_waiting and time.monotonic() < deadline:
                    time.sleep(1)
                    runs = [r.dagster_run.run_id for r in self.instance.get_run_records()
                            if r.dagster_run.run_id not in self.before]
                    self.seen_waiting = any(LOCK_WAIT in message for run in runs
                                            for message in log_messages(self.instance, run))
        finally:
            engine.dispose()


def test_steps_run_on_both_workers_each_from_its_queue(cluster: Cluster, instance: Any, scenario: Scenario) -> None:
    seen: dict[str, set[str]] = {}
    for run in scenario.celery_runs:
        steps = worker_of_steps(instance, run["run_id"])
        assert steps, f"run {run} has no step executed by a Celery worker"
        for step, worker in steps:
            assert worker in cluster.workers, f"{step} ran on unknown worker {worker}"
            queue = STEPS.get(step, "compute")
            assert queue in WORKER_QUEUES[worker.split("@")[0]], f"{step} ({queue}) ran on {worker}"
            seen.setdefault(worker, set()).add(step)
        if run["partition"] and "..." not in run["partition"]:
            assert {step for step, _ in steps} == set(STEPS), f"{run['partition']}: {steps}"
    assert set(seen) == set(cluster.workers), f"steps by worker: {seen}"
    print(f"workers isolated in network namespaces: {cluster.isolated}; steps by worker: {seen}")


def test_a_vendor_is_never_fetched_by_two_processes_at_once(cluster: Cluster, instance: Any,
                                                            scenario: Scenario) -> None:
    for vendor in VENDORS:
        load = scenario.load[vendor]
        assert load["peak_in_flight"] <= RATE["concurrency"], (vendor, load)
        # A leaky bucket lets one request through at the edge of any one-second window.
        assert load["busiest_second"] <= RATE["requests_per_second"] + 1, (vendor, load)
    waited = [run for run in [r["run_id"] for r in scenario.celery_runs] + scenario.cli_runs
              if any(LOCK_WAIT in message for message in log_messages(instance, run))]
    assert waited, "no scrape ever waited for another: the runs of one vendor did not meet"
    assert scenario.cli_runs, "the market-pulse run scrape is not in Dagster's run storage"


def test_the_warehouse_equals_an_in_process_run(cluster: Cluster, scenario: Scenario) -> None:
    problems = _compare(cluster)
    assert not problems, "\n".join(problems)


def _compare(cluster: Cluster) -> list[str]:
    engines = [create_engine(url) for url in (cluster.warehouse_url, cluster.reference_url)]
    try:
        on_workers, in_process = (dump(engine) for engine in engines)
    finally:
        for engine in engines:
            engine.dispose()
    assert on_workers["listing_sightings"], "nothing was scraped"
    return differences(on_workers, in_process)


def _run_ids(instance: Any, partition: str) -> list[str]:
    from dagster import RunsFilter

    return [r.dagster_run.run_id for r in instance.get_run_records(RunsFilter(tags={"dagster/partition": partition}))]


def test_a_worker_killed_mid_scrape_loses_nothing(cluster: Cluster, instance: Any, scenario: Scenario) -> None:
    partitions = [key(KILL_DAY, vendor) for vendor in VENDORS]
    for vendor in VENDORS:
        cluster.demo("POST", "/_faults", json={"shop": vendor, "faults": SLOW_SEARCH})
    launches = [cluster.launch("scrape", p, log=f"kill-{p.replace('|', '-')}.log") for p in partitions]
    reference = cluster.launch("scrape", *partitions, log="kill-reference.log", env=cluster.reference_env)

    # Once a worker is crawling, kill it (and its pool) outright, as a lost machine.
    victim, vendor = _crawl_started(instance, partitions)
    time.sleep(CRAWLING_FOR)
    cluster.workers[victim].kill()
    engine = create_engine(cluster.warehouse_url)
    try:
        with engine.connect() as conn:
            searches = conn.execute(text(
                "SELECT count(*) FROM searches s JOIN vendors v ON v.id = s.vendor_id "
                "WHERE v.name = :vendor AND s.partition_date = :day"), {"vendor": vendor, "day": KILL_DAY}).scalar()
        assert searches in (0, 3), f"{searches} of 3 searches written: a half-written partition"

        outcomes = [o for launched in launches for o in launched.wait()]
        assert all(o["success"] for o in outcomes), outcomes
        survivor = next(name for name in cluster.workers if name != victim)
        run_id = next(o["run_id"] for o in outcomes if o["partition"] == key(KILL_DAY, vendor))
        crawls = [worker for step, worker in worker_of_steps(instance, run_id) if step == "raw_captures"]
        assert crawls[0] == victim and crawls[-1] == survivor, f"raw_captures ran on {crawls}"
        assert all(o["success"] for o in reference.wait())
        problems = _compare(cluster)
        assert not problems, "\n".join(problems)

        # A re-run of the same partitions (on the surviving worker) converges to the same data.
        rerun = [cluster.launch("scrape", p, log=f"rerun-{p.replace('|', '-')}.log") for p in partitions]
        assert all(o["success"] for launched in rerun for o in launched.wait())
        problems = _compare(cluster)
        assert not problems, "\n".join(problems)
    finally:
        engine.dispose()
        for vendor_name in VENDORS:
            cluster.demo("POST", "/_faults", json={"shop": vendor_name, "faults": []})


CRAWLING_FOR = 1.5
"""Seconds between a worker taking up a scrape and its kill: the crawl (15 slow pages at 4 per
second) is then under way and far from done."""


def _crawl_started(instance: Any, partitions: list[str], timeout: float = 120) -> tuple[str, str]:
    """(worker, vendor) of the first scrape step a worker took up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for partition in partitions:
            for run_id in _run_ids(instance, partition):
                crawls = [worker for step, worker in worker_of_steps(instance, run_id) if step == "raw_captures"]
                if crawls:
                    return crawls[0], partition.split("|")[1]
        time.sleep(0.2)
    raise TimeoutError("no scrape step started on a worker")
