"""Notification targets are secrets: sealed at rest (a real pg_dump never shows one), `${VAR}`
references expanded only when a message is sent (to a real webhook receiver), and migration 0009
encrypting what older versions stored in clear, and decrypting it again on the way down."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cli.main import app
from infra import migrate
from infra.connections import libpq_conninfo
from infra.secrets import SECRET_KEY_ENV, SECRET_KEY_FILE_ENV, SecretBox, SecretKeyError, ensure_home_key
from infra.settings import load_settings, secret
from pipelines.alerts.delivery import deliver_due
from pipelines.alerts.evaluate import evaluate_partitions
from pipelines.alerts.notifier import Notifier
from pipelines.alerts.vault import open_reference
from pipelines.platform.backup import find_tool
from pipelines.shared.warehouse import Warehouse
from tests.support.alert_data import add_vendor, rows, sealing_box, see
from tests.support.alert_receivers import webhook_receiver

pytestmark = pytest.mark.usefixtures("secret_key")

DAY = dt.date(2026, 3, 1)
HOOK_SECRET = "Hk-7f3e9a1c55d2-s3cret"
SMTP_SECRET = "smtp-App-Passw0rd-91x"
TOKEN = "tok-4d8c2b6e0a9f7d1c3b5a"


def plain_dump(url: str) -> str:
    """The warehouse as a real `pg_dump --format=plain` sees it (what any backup would contain)."""
    info = psycopg.conninfo.conninfo_to_dict(libpq_conninfo(url))
    with psycopg.connect(libpq_conninfo(url)) as conn:
        major = int(str(conn.execute("SHOW server_version").fetchone()[0]).split(".")[0])
    tool = find_tool("pg_dump", major)
    done = subprocess.run([str(tool.path), "-h", str(info["host"]), "-p", str(info["port"]), "-U", str(info["user"]),
                           "-d", str(info["dbname"]), "--format=plain", "--data-only"],
                          env={**os.environ, "PGPASSWORD": str(info.get("password", ""))},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_targets_never_reach_a_dump_in_clear_and_still_deliver(fresh_database: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKET_PULSE_DATABASE_URL", fresh_database)
    monkeypatch.setenv("HOOK_PASSWORD", HOOK_SECRET)
    runner = CliRunner()
    wh = Warehouse(database_url=fresh_database)
    with webhook_receiver() as hook:
        direct = hook.apprise_url("/direct", user="carol", password=HOOK_SECRET)
        by_reference = hook.apprise_url("/referenced", user="bob", password="${HOOK_PASSWORD}")
        mail = f"mailtos://alice:{SMTP_SECRET}@smtp.example.com"
        token_hook = f"json://127.0.0.1:9/hooks/{TOKEN}"
        assert runner.invoke(app, ["users", "add", "alice", "--email", "alice@example.com"]).exit_code == 0
        added = runner.invoke(app, ["alerts", "add", "consoles", "--user", "alice", "--query", "console",
                                    "--notify", direct, "--notify", by_reference, "--notify", mail,
                                    "--notify", token_hook])
        assert added.exit_code == 0, added.output
        with wh.begin() as conn:
            vendor = add_vendor(conn, "mercado")
            see(conn, vendor, "MC-1", DAY, title="Xbox Series X console", price=450)
            evaluate_partitions(conn, [(DAY, "mercado")])
        summary = deliver_due(wh.engine, Notifier(timeout_seconds=5, backoff_initial_seconds=600))
        assert summary.sent == 2 and summary.retrying == 2  # the two webhooks; the others cannot be reached
        (plain,) = hook.wait_for(1, "/direct")
        (expanded,) = hook.wait_for(1, "/referenced")
    # the reference was expanded when sent: the receiver got bob's real password
    assert expanded.headers["Authorization"] == "Basic " + base64.b64encode(f"bob:{HOOK_SECRET}".encode()).decode()
    assert plain.json["title"] == expanded.json["title"] == "New match: Xbox Series X console"

    listed = runner.invoke(app, ["alerts", "list"]).output + runner.invoke(app, ["notifications"]).output
    assert "json://carol:****@127.0.0.1" in listed and "json://bob:****@127.0.0.1" in listed
    assert f"json://127.0.0.1:9/hooks/{TOKEN[0]}...{TOKEN[-1]}" in listed

    dump = plain_dump(fresh_database)
    assert "Xbox Series X console" in dump, "the dump holds the data"
    for secret_value in (HOOK_SECRET, SMTP_SECRET, TOKEN, direct, mail, token_hook):
        assert secret_value not in dump and secret_value not in listed
    assert dump.count("gAAAAA") >= 8, "4 targets sealed in the saved search, 4 in the outbox"
    with wh.connect() as conn:  # what is stored is what the user wrote: the reference, not the password
        settings = conn.execute(text("SELECT notification_settings FROM saved_searches")).scalar_one()
    written = [open_reference(sealing_box(), t["sealed"]) for t in settings["targets"]]
    assert written == [direct, by_reference, mail, token_hook]


def test_a_reference_not_set_where_alerts_are_sent_is_retried_not_leaked(
        fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wh = Warehouse(database_url=fresh_database)
    monkeypatch.setenv("HOOK_TOKEN", TOKEN)
    from pipelines.alerts.alerts_file import load_alerts_file
    from pipelines.alerts.manage import sync_file

    with webhook_receiver() as hook:
        spec_file = tmp_path / "alerts.yaml"
        spec_file.write_text(f"""
users: [{{username: dave, email: dave@example.com}}]
alerts:
  - {{name: s, user: dave, query: console, notify: ["{hook.apprise_url('/t/${HOOK_TOKEN}')}"]}}
""")
        with wh.begin() as conn:
            sync_file(conn, load_alerts_file(spec_file), {"mercado"}, sealing_box())
            vendor = add_vendor(conn, "mercado")
            see(conn, vendor, "MC-1", DAY, title="PS5 console", price=500)
            evaluate_partitions(conn, [(DAY, "mercado")])
        monkeypatch.delenv("HOOK_TOKEN")  # the delivering process lacks the variable
        notifier = Notifier(timeout_seconds=5, backoff_initial_seconds=0)
        assert deliver_due(wh.engine, notifier).retrying == 1
        with wh.connect() as conn:
            (row,) = rows(conn, "SELECT status, last_error, target_label FROM notifications")
        assert row.status == "pending" and "environment variable HOOK_TOKEN is not set" in row.last_error
        assert row.target_label.endswith("/t/${HOOK_TOKEN}")
        hook_file = tmp_path / "hook-token"
        hook_file.write_text(TOKEN + "\n")
        monkeypatch.setenv("HOOK_TOKEN_FILE", str(hook_file))  # a *_FILE variant works too
        assert deliver_due(wh.engine, notifier).sent == 1
        assert len(hook.wait_for(1, f"/t/{TOKEN}")) == 1


def test_secret_settings_take_files_and_the_home_key_is_private(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key"
    runner = CliRunner()
    made = runner.invoke(app, ["secrets", "generate-key", "--file", str(key_file)])
    assert made.exit_code == 0 and key_file.read_text().strip() not in made.output
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert "never overwritten" in runner.invoke(app, ["secrets", "generate-key", "--file", str(key_file)]).output
    monkeypatch.delenv(SECRET_KEY_ENV)
    monkeypatch.setenv(SECRET_KEY_FILE_ENV, str(key_file))
    token = SecretBox().encrypt(b"x")
    assert SecretBox(secret_key=key_file.read_text().strip()).decrypt(token) == b"x"
    assert "1 key(s) from MARKET_PULSE_SECRET_KEY_FILE" in runner.invoke(app, ["secrets", "status"]).output
    monkeypatch.setenv(SECRET_KEY_ENV, "also-set")
    with pytest.raises(SecretKeyError, match="both MARKET_PULSE_SECRET_KEY and MARKET_PULSE_SECRET_KEY_FILE"):
        SecretBox().encrypt(b"x")
    monkeypatch.delenv(SECRET_KEY_ENV)
    monkeypatch.setenv(SECRET_KEY_FILE_ENV, str(tmp_path / "missing"))
    with pytest.raises(SecretKeyError, match=r"MARKET_PULSE_SECRET_KEY_FILE=.*missing: cannot read it"):
        SecretBox().check()

    # the embedded setup: a key of its own under MARKET_PULSE_HOME, made once, readable by its owner only
    monkeypatch.delenv(SECRET_KEY_FILE_ENV)
    monkeypatch.setenv("MARKET_PULSE_HOME", str(tmp_path / "home"))
    created = ensure_home_key()
    assert created == tmp_path / "home" / "secret.key" and oct(created.stat().st_mode & 0o777) == "0o600"
    assert ensure_home_key() is None and SecretBox().check() == 1

    # database URLs and passwords as files, never on a command line or in the environment
    url_file, password_file = tmp_path / "url", tmp_path / "password"
    url_file.write_text("postgresql://market_pulse_app@db.example:5432/market_pulse\n")
    password_file.write_text("pa55-from-a-file\n")
    settings = load_settings({"MARKET_PULSE_DATABASE_URL_FILE": str(url_file),
                              "MARKET_PULSE_APP_PASSWORD_FILE": str(password_file)})
    assert settings.database_url == "postgresql://market_pulse_app:pa55-from-a-file@db.example:5432/market_pulse"
    assert "pa55-from-a-file" not in repr(settings)
    assert secret("X", {"X_FILE": str(password_file)}) == "pa55-from-a-file"


def _legacy_rows(url: str) -> dict[str, Any]:
    """Rows as versions before 0009 wrote them: targets in clear, target ids hashed from the URL."""
    target = f"json://bob:{HOOK_SECRET}@127.0.0.1:9/hook"
    legacy_id = hashlib.sha256(target.encode()).hexdigest()[:12]
    key = f"alert:1:1:new_match:10.00:EUR:{legacy_id}"
    ref = "mp-" + hashlib.sha256(key.encode()).hexdigest()[:32]
    engine = create_engine(url)
    with engine.begin() as conn:
        uid = conn.execute(text("INSERT INTO users (username, email) VALUES ('old', 'old@example.com') "
                                "RETURNING id")).scalar_one()
        sid = conn.execute(text(
            "INSERT INTO saved_searches (user_id, name, query, criteria, notification_settings) "
            "VALUES (:u, 'old', 'console', CAST(:c AS jsonb), CAST(:n AS jsonb)) RETURNING id"),
            {"u": uid, "c": json.dumps({"all_words": ["console"], "rules": [{"kind": "new_match"}]}),
             "n": json.dumps({"urls": [target], "digest": False})}).scalar_one()
        conn.execute(text(
            "INSERT INTO notifications (user_id, saved_search_id, dedupe_key, target, title, body, data) "
            "VALUES (:u, :s, :k, :t, 'New match', :b, CAST(:d AS jsonb))"),
            {"u": uid, "s": sid, "k": key, "t": target, "b": f"...\nref: {ref}",
             "d": json.dumps({"idempotency_key": ref})})
    engine.dispose()
    return {"target": target, "legacy_id": legacy_id, "ref": ref}


def _table_text(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT (SELECT string_agg(s::text, '|') FROM saved_searches s) || "
                                  "(SELECT string_agg(n::text, '|') FROM notifications n)")).scalar_one()
    engine.dispose()
    return str(found)


def test_migration_0009_seals_what_was_stored_in_clear_and_its_downgrade_opens_it(
        empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before = migrate._scripts().get_revision("0009").down_revision  # the schema 0009 starts from
    assert isinstance(before, str)
    migrate.upgrade(empty_database_url, before)
    legacy = _legacy_rows(empty_database_url)
    monkeypatch.delenv(SECRET_KEY_ENV)
    with pytest.raises(ValueError, match="migration 0009 encrypts notification targets and needs the key"):
        migrate.upgrade(empty_database_url)
    assert migrate.current_revision(empty_database_url) == before  # nothing half-done

    monkeypatch.setenv(SECRET_KEY_ENV, sealing_box().secret_key or "")
    migrate.upgrade(empty_database_url)
    stored = _table_text(empty_database_url)
    for clear in (HOOK_SECRET, legacy["legacy_id"], legacy["ref"]):
        assert clear not in stored  # the secret, and the hashes a guess could be tested against
    engine = create_engine(empty_database_url)
    with engine.connect() as conn:
        settings = conn.execute(text("SELECT notification_settings FROM saved_searches")).scalar_one()
        note = conn.execute(text("SELECT * FROM notifications")).one()
    engine.dispose()
    (target,) = settings["targets"]
    assert target["label"] == "json://bob:****@127.0.0.1:9/hook" and note.target_label == target["label"]
    assert open_reference(sealing_box(), target["sealed"]) == legacy["target"]
    assert open_reference(sealing_box(), note.target) == legacy["target"]
    assert note.dedupe_key == f"alert:1:1:new_match:10.00:EUR:{target['id']}"  # the new id, as new rows get
    assert note.data["idempotency_key"] in note.body and note.data["idempotency_key"] != legacy["ref"]

    monkeypatch.delenv(SECRET_KEY_ENV)
    with pytest.raises(ValueError, match=r"0009 .*decrypts notification targets and needs the key"):
        migrate.downgrade(empty_database_url, before)
    monkeypatch.setenv(SECRET_KEY_ENV, sealing_box().secret_key or "")
    migrate.downgrade(empty_database_url, before)
    engine = create_engine(empty_database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT notification_settings FROM saved_searches")).scalar_one() == {
            "urls": [legacy["target"]], "digest": False}
        assert conn.execute(text("SELECT target FROM notifications")).scalar_one() == legacy["target"]
    engine.dispose()


def test_rotating_the_key_re_encrypts_every_target(fresh_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.secrets import generate_key

    monkeypatch.setenv("MARKET_PULSE_DATABASE_URL", fresh_database)
    wh = Warehouse(database_url=fresh_database)
    target = f"json://127.0.0.1:9/hooks/{TOKEN}"
    runner = CliRunner()
    runner.invoke(app, ["users", "add", "alice", "--email", "alice@example.com"])
    assert runner.invoke(app, ["alerts", "add", "s", "--user", "alice", "--query", "console",
                               "--notify", target]).exit_code == 0
    with wh.begin() as conn:
        see(conn, add_vendor(conn, "mercado"), "MC-1", DAY, title="Wii console", price=80)
        evaluate_partitions(conn, [(DAY, "mercado")])
    old, new = sealing_box().secret_key or "", generate_key()
    monkeypatch.setenv(SECRET_KEY_ENV, f"{new},{old}")
    rotated = runner.invoke(app, ["secrets", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 0 vendor session(s) and 2 notification target(s)" in rotated.output
    assert new not in rotated.output and old not in rotated.output
    only_new = SecretBox(secret_key=new)
    with wh.connect() as conn:
        settings = conn.execute(text("SELECT notification_settings FROM saved_searches")).scalar_one()
        outbox = conn.execute(text("SELECT target FROM notifications")).scalar_one()
    assert open_reference(only_new, settings["targets"][0]["sealed"]) == target
    assert open_reference(only_new, outbox) == target
    with pytest.raises(SecretKeyError):
        open_reference(SecretBox(secret_key=old), outbox)
