"""What sealed notification targets cost: opening one per message, and migration 0009 per row.

Measured in the same run, against baselines of the same run:

- **delivery**: sending one message through :class:`pipelines.alerts.notifier.Notifier` to a real
  JSON webhook on 127.0.0.1 (the baseline), against opening the sealed target first
  (:func:`pipelines.alerts.vault.open_url`: Fernet decrypt + ``${VAR}`` expansion) and then
  sending. Matching never opens a target (it copies the token), so this is the whole cost on the
  alert path.
- **migration 0009** on N notifications stored in clear (what it does once, on upgrade), against
  rewriting the same rows with a plain ``UPDATE notifications SET body = body`` (the baseline).

Run: ``uv run python bench/sealed_targets.py [--messages 300] [--rows 20000] [--record]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.rollups import record  # noqa: E402
from infra import migrate  # noqa: E402
from infra.database import engine_for  # noqa: E402
from infra.secrets import SECRET_KEY_ENV, SecretBox, generate_key  # noqa: E402
from pipelines.alerts.criteria import NotificationSettings  # noqa: E402
from pipelines.alerts.notifier import Notifier  # noqa: E402
from pipelines.alerts.vault import open_url, seal  # noqa: E402


def bench_delivery(messages: int) -> list[str]:
    from tests.support.alert_receivers import webhook_receiver

    box = SecretBox(secret_key=generate_key())
    notifier = Notifier(timeout_seconds=5)
    os.environ["BENCH_HOOK_PASSWORD"] = "bench-Passw0rd"
    with webhook_receiver() as hook:
        written = hook.apprise_url("/bench", user="bob", password="${BENCH_HOOK_PASSWORD}")
        plain = written.replace("${BENCH_HOOK_PASSWORD}", "bench-Passw0rd")
        token = seal(NotificationSettings(urls=[written]), box).targets[0].sealed

        def send(url: str) -> None:
            assert notifier.send(url, "t", "b", idempotency_key=uuid.uuid4().hex).ok

        baseline, sealed, opening = [], [], []
        for _ in range(messages):  # interleaved, so both see the same machine
            started = time.perf_counter()
            send(plain)
            baseline.append(time.perf_counter() - started)
            started = time.perf_counter()
            url = open_url(box, token)
            opened = time.perf_counter()
            send(url)
            sealed.append(time.perf_counter() - started)
            opening.append(opened - started)
    base, with_open = statistics.median(baseline), statistics.median(sealed)
    return [f"delivery to a JSON webhook on 127.0.0.1, medians of {messages} messages:",
            f"  send only {base * 1000:.2f} ms; open (decrypt + ${{VAR}}) + send {with_open * 1000:.2f} ms "
            f"(x{with_open / base:.3f}); opening alone {statistics.median(opening) * 1e6:.0f} µs"]


def bench_migration(server_url: str, rows: int) -> list[str]:
    from psycopg import sql

    from infra.database import connect
    from infra.settings import with_database

    name = f"mp_bench_secrets_{os.getpid()}"
    with connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server_url, name)
    try:
        migrate.upgrade(url, "0004")
        engine = engine_for(url)
        with engine.begin() as conn:
            uid = conn.execute(text(
                "INSERT INTO users (username, email) VALUES ('b', 'b@x') RETURNING id")).scalar_one()
            targets = [f"json://bob:Secret{i}@127.0.0.1:9/hook" for i in range(20)]
            sid = conn.execute(text(
                "INSERT INTO saved_searches (user_id, name, query, notification_settings) "
                "VALUES (:u, 's', 'q', CAST(:n AS jsonb)) RETURNING id"),
                {"u": uid, "n": json.dumps({"urls": targets, "digest": False})}).scalar_one()
            params = []
            for i in range(rows):
                target = targets[i % len(targets)]
                key = f"alert:{sid}:{i}:new_match:10.00:EUR:{hashlib.sha256(target.encode()).hexdigest()[:12]}"
                ref = "mp-" + hashlib.sha256(key.encode()).hexdigest()[:32]
                params.append({"u": uid, "s": sid, "k": key, "t": target, "b": f"body\nref: {ref}",
                               "d": json.dumps({"idempotency_key": ref})})
            conn.execute(text("INSERT INTO notifications (user_id, saved_search_id, dedupe_key, target, title, "
                              "body, data) VALUES (:u, :s, :k, :t, 'T', :b, CAST(:d AS jsonb))"), params)
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("UPDATE notifications SET body = body"))
        baseline = time.perf_counter() - started
        engine.dispose()
        os.environ[SECRET_KEY_ENV] = generate_key()
        started = time.perf_counter()
        migrate.upgrade(url, "0009")
        migration = time.perf_counter() - started
    finally:
        from infra.database import _ENGINES

        for engine in _ENGINES.values():
            engine.dispose()
        with connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return [f"migration 0009 on {rows:,} notifications stored in clear (20 targets):",
            f"  {migration:.2f} s ({migration / rows * 1e6:.0f} µs per row); rewriting every row once "
            f"(UPDATE … SET body = body) {baseline:.2f} s: x{migration / baseline:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-server", help="PostgreSQL server URL (a superuser's) instead of an embedded one")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    lines = bench_delivery(args.messages)
    if args.database_server:
        lines += bench_migration(args.database_server, args.rows)
    else:
        import tempfile

        from infra.embedded_postgres import EmbeddedPostgres

        with tempfile.TemporaryDirectory() as tmp:
            server = EmbeddedPostgres(Path(tmp) / "postgres")
            try:
                lines += bench_migration(server.ensure_running().url("postgres"), args.rows)
            finally:
                server.stop()
    print("\n".join(lines))
    if args.record:
        record("Sealed notification targets (bench/sealed_targets.py)", lines)


if __name__ == "__main__":
    main()
