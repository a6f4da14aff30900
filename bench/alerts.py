"""Alerts benchmark: matching throughput, and latency from a listings materialisation to the webhook.

Run: ``uv run python bench/alerts.py`` (both parts; ``--part throughput`` or ``--part latency`` for
one). Results are printed and appended to ``bench/RESULTS.md`` under "Alerts".

1. **Throughput** — 1,000 active saved searches x 100,000 listings new in one (day, vendor)
   partition, evaluated by the sensor's own code path (:func:`evaluate_partitions`: load candidates,
   trigram-indexed matching, rule decisions, bulk write of matches and outbox, one transaction).
   Target: under 10 s. Synthetic catalogue: 3,000 products of 30 brands, titles with noise words,
   searches for a model, a brand with a price cap, or model words with any/none words; rules
   mix new / price drop / below market (price snapshots for half the products).
2. **Latency** — the real thing: the demo marketplace, a webhook receiver on 127.0.0.1 and
   ``dagster-daemon run`` in its own process group (sensors, run queue, run workers as in
   ``make run``). Each round materialises ``raw_captures`` for a new day (not timed), then
   ``listings``; latency is the listings materialisation event's timestamp → the digest message
   arriving at the webhook (target: p95 ≤ 10 s). By default the ``listings`` step matches and sends
   itself right after its materialisation (``--listings-step off``: the sensor alone, whose tick
   sends a small burst itself; ``--sensor-send-limit 0`` also measures the path through a
   ``deliver_notifications`` run). After the last round it waits for a sensor tick past the last
   materialisation and for delivery runs to finish, then counts the messages per listing and per
   idempotency key at the receiver: a listing reported twice is a duplicate.

Everything runs on an embedded PostgreSQL in a temporary folder (or ``--database-server URL``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from psycopg import sql
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra import migrate  # noqa: E402
from infra.database import connect, engine_for  # noqa: E402
from infra.embedded_postgres import EmbeddedPostgres  # noqa: E402
from infra.settings import with_database, with_driver  # noqa: E402
from pipelines.alerts.evaluate import evaluate_partitions  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## Alerts (pipelines/alerts)"
DAEMON_LOG = Path(tempfile.gettempdir()) / "market-pulse-bench-alerts-daemon.log"


# --- infrastructure --------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_server(given: str | None) -> Iterator[str]:
    if given:
        yield with_database(with_driver(given, "psycopg"), "postgres")
        return
    with tempfile.TemporaryDirectory(prefix="mp-bench-alerts-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "postgres")
        running = server.ensure_running()
        try:
            yield running.url("postgres")
        finally:
            server.stop()


def fresh_database(server_url: str, name: str, *, migrated: bool = True) -> str:
    with connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server_url, name)
    if migrated:
        migrate.upgrade(url)
    return url


# --- 1. throughput ----------------------------------------------------------------------------------

BRANDS = ["apple", "samsung", "sony", "nintendo", "xiaomi", "google", "huawei", "oppo", "lenovo", "asus", "dell",
          "canon", "nikon", "fujifilm", "bose", "jbl", "garmin", "dji", "gopro", "logitech", "razer", "microsoft",
          "oneplus", "realme", "vivo", "motorola", "nokia", "panasonic", "philips", "dyson"]
SERIES = ["alpha", "nova", "pixel", "galaxy", "xperia", "zen", "aero", "pulse", "vista", "edge", "prime", "orbit",
          "spark", "fusion", "vector", "quantum", "titan", "lumen", "sonic", "zephyr"]
NOISE = ["original", "bekas", "mulus", "garansi", "resmi", "black", "white", "blue", "gold", "silver", "128gb",
         "256gb", "512gb", "bundle", "promo", "murah", "second", "new", "sealed", "fullset", "box", "cod"]


def catalogue(rng: random.Random, products: int = 3000) -> list[tuple[str, str, str, Decimal]]:
    """(brand, series word, model code, base price) per product."""
    out = []
    for i in range(products):
        brand = BRANDS[i % len(BRANDS)]
        series = SERIES[(i // len(BRANDS)) % len(SERIES)]
        model = f"{series[:2]}{i:04d}"
        out.append((brand, series, model, Decimal(rng.randrange(50, 3000))))
    return out


def make_searches(rng: random.Random, products: list[tuple[str, str, str, Decimal]], n: int) -> list[dict]:
    searches = []
    for i in range(n):
        brand, series, model, price = rng.choice(products)
        kind = rng.random()
        if kind < 0.70:  # a model, maybe with a price cap
            c: dict = {"all_words": [model]}
            if rng.random() < 0.4:
                c.update(max_price=str(price), currency="EUR")
        elif kind < 0.85:  # model words with any/none words
            c = {"all_words": [series, model], "any_words": rng.sample(NOISE[5:10], 2), "none_words": ["bekas"]}
        else:  # a brand under a tight price cap
            c = {"all_words": [brand], "max_price": str(rng.randrange(50, 120)), "currency": "EUR"}
        rules = [{"kind": "new_match"}]
        if rng.random() < 0.3:
            rules.append({"kind": "price_drop", "min_percent": 10})
        if rng.random() < 0.1:
            rules.append({"kind": "below_market", "min_percent": 20, "min_sample_size": 5})
        c["rules"] = rules
        searches.append({"name": f"search {i}", "query": " ".join(c["all_words"]), "criteria": c,
                         "settings": {"urls": ["json://127.0.0.1:9/bench"], "digest": rng.random() < 0.2}})
    return searches


def load_throughput_data(url: str, *, searches: int, listings: int, day: dt.date, seed: int = 7) -> None:
    from infra.secrets import SecretBox, generate_key
    from pipelines.alerts.criteria import NotificationSettings, SearchCriteria
    from pipelines.alerts.vault import seal

    rng = random.Random(seed)
    products = catalogue(rng)
    engine = engine_for(url)
    with engine.begin() as conn:
        vendor_id = conn.execute(text("""
            INSERT INTO vendors (name, display_name, base_url, currency) VALUES ('bench', 'Bench', 'http://x', 'EUR')
            RETURNING id""")).scalar_one()
        conn.execute(text("INSERT INTO products (product_key, name) SELECT 'p' || g, 'p' || g "
                          "FROM generate_series(0, :n - 1) g"), {"n": len(products)})
        product_ids = [r[0] for r in conn.execute(text("SELECT id FROM products ORDER BY id"))]
        conn.execute(text("""
            INSERT INTO price_snapshots (product_id, snapshot_date, currency, market_value, sample_size)
            SELECT id, :day, 'EUR', 1000, 10 FROM products WHERE id % 2 = 0"""), {"day": day})
        user_id = conn.execute(text("INSERT INTO users (username, email) VALUES ('bench', 'bench@example.com') "
                                    "RETURNING id")).scalar_one()
        seen_at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(
                "COPY listings (vendor_id, external_id, title, price, currency, condition, product_id, url, "
                "first_seen_at, last_seen_at) FROM STDIN") as copy:
            for i in range(listings):
                p = rng.randrange(len(products))
                brand, series, model, price = products[p]
                title = " ".join([brand.title(), series.title(), model.upper(), *rng.sample(NOISE, 3)])
                listed = (price * Decimal(rng.uniform(0.6, 1.3))).quantize(Decimal("0.01"))
                copy.write_row((vendor_id, f"B-{i:06d}", title, listed, "EUR", rng.choice(["new", "used"]),
                                product_ids[p], f"http://bench/{i}", seen_at, seen_at))
        conn.execute(text("""
            INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency,
                                           price_kind, is_sold, title)
            SELECT id, vendor_id, :day, first_seen_at, price, currency, 'priced', false, title FROM listings"""),
                     {"day": day})
        conn.execute(text("""
            INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency)
            SELECT id, first_seen_at, :day, price, currency FROM listings"""), {"day": day})
        box = SecretBox(secret_key=generate_key())  # targets are stored sealed, as the CLI stores them
        for s in make_searches(rng, products, searches):
            criteria = SearchCriteria.model_validate(s["criteria"]).model_dump_json()
            settings = seal(NotificationSettings.model_validate(s["settings"]), box).model_dump_json()
            conn.execute(text("""
                INSERT INTO saved_searches (user_id, name, query, criteria, notification_settings)
                VALUES (:u, :n, :q, CAST(:c AS jsonb), CAST(:s AS jsonb))"""),
                         {"u": user_id, "n": s["name"], "q": s["query"], "c": criteria, "s": settings})
        conn.execute(text("ANALYZE"))


def bench_throughput(server_url: str, searches: int, listings: int) -> list[str]:
    day = dt.date(2026, 3, 1)
    url = fresh_database(server_url, "mp_bench_alerts_throughput")
    started = time.perf_counter()
    load_throughput_data(url, searches=searches, listings=listings, day=day)
    print(f"loaded {listings:,} listings and {searches:,} saved searches in {time.perf_counter() - started:.1f} s")
    engine = engine_for(url)
    with engine.begin() as conn:
        first = evaluate_partitions(conn, [(day, "bench")])
    with engine.begin() as conn:
        again = evaluate_partitions(conn, [(day, "bench")])
    pairs = first.searches * first.listings
    lines = [
        f"- throughput: {first.searches:,} saved searches x {first.listings:,} new listings evaluated in "
        f"**{first.seconds:.2f} s** (target < 10 s): matching {first.match_seconds:.2f} s "
        f"({pairs / max(first.match_seconds, 1e-9) / 1e6:.0f} M search-listing pairs/s through the trigram index), "
        f"{first.matched_pairs:,} matching pairs, {first.matches_written:,} match rows, "
        f"{first.notifications_queued:,} notifications queued; rules {dict(first.events)}",
        f"- re-evaluating the same partition (nothing new to notify): {again.seconds:.2f} s, "
        f"{again.notifications_queued} queued",
    ]
    for line in lines:
        print(line)
    return lines


# --- 2. latency ---------------------------------------------------------------------------------------


def _wait(predicate, timeout: float, what: str, step: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def bench_latency(server_url: str, rounds: int, interval: int, dequeue_interval: int | None = None,
                  sensor_send_limit: int | None = None, listings_step: bool = True) -> list[str]:
    from dagster import AssetKey, DagsterInstance, materialize

    from demo.server import running_demo
    from pipelines.alerts.notifier import Notifier
    from pipelines.platform.runner import QUIET
    from pipelines.shared.partitions import day_vendor_key
    from pipelines.vendors.assets import vendor_catalog
    from tests.support.alert_data import TEST_SECRET_KEY, add_search, add_user
    from tests.support.alert_receivers import webhook_receiver

    app_url = fresh_database(server_url, "mp_bench_alerts_app")
    dagster_url = with_driver(fresh_database(server_url, "mp_bench_alerts_dagster", migrated=False), "psycopg2")
    home = Path(tempfile.mkdtemp(prefix="mp-bench-dagster-"))
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    config = "the project's dagster.yaml"
    if dequeue_interval is not None:  # what the run queue daemon waits between dequeues (Dagster's default: 5 s)
        import yaml

        instance_yaml = yaml.safe_load((home / "dagster.yaml").read_text())
        instance_yaml["run_coordinator"].setdefault("config", {})["dequeue_interval_seconds"] = dequeue_interval
        (home / "dagster.yaml").write_text(yaml.safe_dump(instance_yaml))
        config += f" with run_coordinator.config.dequeue_interval_seconds: {dequeue_interval}"
    if sensor_send_limit is not None:  # 0: every notification goes through a deliver_notifications run
        config += f", MARKET_PULSE_ALERT_SENSOR_SEND_LIMIT={sensor_send_limit}"
    config += ", alerts from the listings step" if listings_step else ", alerts from the sensor alone"
    load_before = os.getloadavg()
    daemon = None
    with running_demo(subprocess_mode=True) as demo_url, webhook_receiver() as hook:
        os.environ.update({
            "MARKET_PULSE_DATABASE_URL": app_url, "MARKET_PULSE_DAGSTER_STORAGE_URL": dagster_url,
            "MARKET_PULSE_SECRET_KEY": TEST_SECRET_KEY,  # opens the targets add_search sealed
            "DAGSTER_HOME": str(home), "MARKET_PULSE_DEMO_URL": demo_url,
            "MARKET_PULSE_ALERT_SENSOR_INTERVAL": str(interval),
            "MARKET_PULSE_ALERT_SENSOR_SEND_LIMIT": str(20 if sensor_send_limit is None else sensor_send_limit),
            "MARKET_PULSE_ALERTS_IN_LISTINGS_STEP": "1" if listings_step else "0"})
        try:
            from tests.support.pipeline import ScrapingPipeline

            instance = DagsterInstance.get()
            # the listings runs below execute in this process, with the resource the code location builds
            notifier = Notifier(sensor_send_limit=20 if sensor_send_limit is None else sensor_send_limit,
                                listings_step_alerts=listings_step)
            pipeline = ScrapingPipeline(app_url, demo_url, instance=instance, notifier=notifier)
            assert materialize([vendor_catalog], resources=pipeline.resources, instance=instance,
                               run_config=QUIET).success
            with pipeline.warehouse.begin() as conn:
                # broad enough that every simulated day brings at least one new match (a day without one
                # would leave the round nothing to measure)
                add_search(conn, add_user(conn, "bench"), "Phones", "phone", vendors=["toko"], digest=True,
                           all_words=[], any_words=["iphone", "samsung", "galaxy", "xiaomi", "pixel", "redmi"],
                           urls=[hook.apprise_url("/latency")])
            daemon = subprocess.Popen(
                [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
                cwd=home, env=os.environ.copy(), start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=open(DAEMON_LOG, "wb"))  # noqa: SIM115
            try:
                _wait(lambda: _ticked(instance) or daemon.poll() is not None, 120, "the alert sensor's first tick",
                      step=0.5)
                if daemon.poll() is not None:
                    raise TimeoutError("dagster-daemon exited")
            except TimeoutError:
                print(DAEMON_LOG.read_text()[-3000:], file=sys.stderr)
                raise
            latencies, breakdowns, senders = [], [], []
            start_day = dt.date(2025, 6, 2)
            for i in range(rounds):
                day = start_day + dt.timedelta(days=i)
                key = day_vendor_key(day, "toko")
                assert materialize([pipeline.raw_captures], partition_key=key, resources=pipeline.resources,
                                   instance=instance, run_config=QUIET).success
                before = len(hook.for_path("/latency"))
                time.sleep(random.uniform(0, interval))  # land anywhere in the sensor's cycle
                result = materialize([pipeline.listings], partition_key=key, resources=pipeline.resources,
                                     instance=instance, run_config=QUIET)
                assert result.success
                event = instance.fetch_materializations(AssetKey("listings"), limit=1, ascending=False).records[0]
                arrived = _wait(lambda n=before: hook.for_path("/latency")[n:], 120, "the digest")[0]
                latency = arrived.at - event.timestamp
                latencies.append(latency)
                sent_by_step, step_log = _step_alerts(instance, result.run_id)
                print(f"  the listings step: {step_log}")
                senders.append("step" if sent_by_step else "sensor")
                steps = (f"sent by the listings step {latency:.1f} s after its materialisation; load "
                         f"{os.getloadavg()[0]:.1f}" if sent_by_step
                         else _breakdown(instance, event.timestamp, arrived.at))
                breakdowns.append(steps)
                print(f"round {i + 1}: {day} toko -> {arrived.json['title']!r} after {latency:.1f} s ({steps})")
            last_event = instance.fetch_materializations(AssetKey("listings"), limit=1, ascending=False).records[0]
            settled = _settle(instance, last_event.timestamp)
            counts = _count_messages(hook.for_path("/latency"))
            print(f"after the last round: {settled}; {counts.describe()}")
        finally:
            if daemon is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(daemon.pid, signal.SIGINT)
                try:
                    daemon.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(daemon.pid, signal.SIGKILL)
                    daemon.wait()
            _stop_leftovers(home)
            shutil.rmtree(home, ignore_errors=True)
    load_after = os.getloadavg()
    line = (f"- latency, listings materialisation → message at the local webhook, `dagster-daemon run` with "
            f"{config}, sensor interval {interval} s, {rounds} rounds: "
            f"median **{statistics.median(latencies):.1f} s**, p95 **{p95(latencies):.1f} s** (nearest rank), "
            f"max {max(latencies):.1f} s (target p95 ≤ 10 s); each: {', '.join(f'{x:.1f}' for x in latencies)} s; "
            f"sent by the step in {senders.count('step')} of {rounds} rounds; {counts.describe()}; "
            f"load average {' / '.join(f'{x:.1f}' for x in load_before)} before, "
            f"{' / '.join(f'{x:.1f}' for x in load_after)} after (1/5/15 min); last round: {breakdowns[-1]}")
    print(line)
    return [line]


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank (of 20 values: the 19th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass(frozen=True)
class MessageCounts:
    messages: int
    keys: int
    listings: int
    repeated_keys: int
    """Messages beyond the first with the same idempotency key (what a non-idempotent receiver shows twice)."""
    repeated_listings: int
    """Reports of a listing beyond its first: the bench's searches report each listing once (rule ``new``)."""

    def describe(self) -> str:
        return (f"{self.messages} messages at the receiver, {self.keys} idempotency keys, {self.listings} listings "
                f"reported: **{self.repeated_listings} duplicate listing reports, {self.repeated_keys} repeated keys**")


def _count_messages(messages: list) -> MessageCounts:  # type: ignore[type-arg]
    keys = Counter(m.headers.get("X-Idempotency-Key") for m in messages)
    listings: Counter[int] = Counter()
    for m in messages:
        data = m.json.get("market_pulse") or {}
        listings.update(data.get("listing_ids") or ([data["listing_id"]] if "listing_id" in data else []))
    return MessageCounts(len(messages), len(keys), len(listings), sum(n - 1 for n in keys.values()),
                         sum(n - 1 for n in listings.values()))


def _step_alerts(instance, run_id: str) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
    """Whether the listings run's own alerts sent at least one message, and its alert log lines."""
    lines = [entry.user_message for entry in instance.all_logs(run_id)
             if (entry.user_message or "").startswith("alerts")]
    sent = any(int(found.group(1)) > 0 for found in (re.search(r"sent now: claimed \d+: sent (\d+)", line)
                                                     for line in lines) if found)
    return sent, " | ".join(lines) or "no alert lines in the run's log"


def _settle(instance, last_materialised: float) -> str:  # type: ignore[no-untyped-def]
    """Wait until the alert sensor has ticked past the last materialisation (the catch-up path had
    its chance to send again) and no delivery run is in flight, so the message count is final."""
    from dagster import DagsterRunStatus, RunsFilter
    from dagster._core.scheduler.instigation import TickStatus

    def ticked_after() -> bool:
        for state in instance.all_instigator_state():
            if state.instigator_name == "alert_matching_sensor":
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=5)
                return any(t.timestamp > last_materialised and t.status in (TickStatus.SKIPPED, TickStatus.SUCCESS)
                           for t in ticks)
        return False

    _wait(ticked_after, 180, "an alert sensor tick after the last materialisation", step=0.5)
    in_flight = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
                 DagsterRunStatus.STARTED]
    _wait(lambda: not instance.get_runs_count(RunsFilter(job_name="deliver_notifications", statuses=in_flight)),
          180, "delivery runs to finish", step=0.5)
    delivery_runs = instance.get_runs_count(RunsFilter(job_name="deliver_notifications"))
    return f"the sensor ticked past the last materialisation, {delivery_runs} delivery runs in all"


def _breakdown(instance, materialised: float, arrived: float) -> str:  # type: ignore[no-untyped-def]
    """Where the time went: sensor tick (and send, when the tick sent it), or run queued → started → message."""
    from dagster import RunsFilter

    records = [r for r in instance.get_run_records(RunsFilter(job_name="deliver_notifications"), limit=5)
               if materialised < r.create_timestamp.timestamp() < arrived]
    others = [r for r in instance.get_run_records(RunsFilter(), limit=50)
              if r.dagster_run.job_name != "deliver_notifications" and r.create_timestamp.timestamp() > materialised
              and r.create_timestamp.timestamp() < arrived]
    tail = f"{len(others)} other runs launched meanwhile; load {os.getloadavg()[0]:.1f}"
    if not records:
        return f"sent by the sensor tick, tick wait + evaluate + send {arrived - materialised:.1f} s; {tail}"
    record = records[-1]
    created, started = record.create_timestamp.timestamp(), record.start_time or 0
    return (f"tick+evaluate {created - materialised:.1f} s, queued + run worker start {started - created:.1f} s, "
            f"run start → message {arrived - started:.1f} s; {tail}")


def _stop_leftovers(home: Path) -> None:
    """Code servers the daemon started run in their own process groups and may outlive it: stop
    every process of ours whose environment carries this benchmark's DAGSTER_HOME."""
    marker = f"DAGSTER_HOME={home}".encode()
    mine = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                mine.append(int(entry.name))
    for pid in mine:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while mine and time.monotonic() < deadline:
        mine = [pid for pid in mine if Path(f"/proc/{pid}").exists()]
        time.sleep(0.2)
    for pid in mine:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _ticked(instance) -> bool:  # type: ignore[no-untyped-def]
    """True once the daemon has evaluated the alert sensor at least once."""
    for state in instance.all_instigator_state():
        if state.instigator_name == "alert_matching_sensor":
            return bool(instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1))
    return False


# --- results --------------------------------------------------------------------------------------------


def append_results(lines: list[str]) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = f"\n### {stamp} — `uv run python bench/alerts.py` ({os.cpu_count()} cores)\n" + "\n".join(lines) + "\n"
    existing = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if HEADING not in existing:
        existing = existing.rstrip("\n") + f"\n\n{HEADING}\n"
    start = existing.index(HEADING) + len(HEADING)
    following = existing.find("\n## ", start)
    end = len(existing) if following < 0 else following
    RESULTS.write_text(existing[:end].rstrip("\n") + "\n" + block + existing[end:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["all", "throughput", "latency"], default="all")
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--interval", type=int, default=15, help="alert sensor interval (s)")
    parser.add_argument("--dequeue-interval", type=int, action="append",
                        help="also measure with this run-queue dequeue interval (s); repeatable")
    parser.add_argument("--sensor-send-limit", type=int, action="append",
                        help="also measure with this Notifier.sensor_send_limit (0: always a run); repeatable")
    parser.add_argument("--listings-step", choices=["on", "off"], default="on",
                        help="alerts matched and sent by the listings step itself (on, the default) or by the "
                        "sensor alone (off)")
    parser.add_argument("--database-server", help="PostgreSQL server URL instead of an embedded one")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    lines: list[str] = []
    with postgres_server(args.database_server) as server_url:
        if args.part in ("all", "throughput"):
            lines += bench_throughput(server_url, args.searches, args.listings)
        if args.part in ("all", "latency"):
            step = args.listings_step == "on"
            lines += bench_latency(server_url, args.rounds, args.interval, listings_step=step)
            for seconds in args.dequeue_interval or []:
                lines += bench_latency(server_url, args.rounds, args.interval, seconds, listings_step=step)
            for limit in args.sensor_send_limit or []:
                lines += bench_latency(server_url, args.rounds, args.interval, sensor_send_limit=limit,
                                       listings_step=step)
    if not args.no_record:
        append_results(lines)


if __name__ == "__main__":
    main()
