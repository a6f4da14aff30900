"""``market-pulse users|alerts|notifications`` against a real warehouse: validation, listing, sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli.alerts import inbox_target, install_demo_alerts
from cli.main import app
from pipelines.alerts.vault import open_reference
from pipelines.shared.warehouse import Warehouse
from tests.support.alert_data import sealing_box

pytestmark = pytest.mark.usefixtures("secret_key")

SECRET = "tok3n-Very-Secret"
HOOK = f"json://bob:{SECRET}@127.0.0.1:9/hook"


@pytest.fixture
def cli(fresh_database: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MARKET_PULSE_DATABASE_URL", fresh_database)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, list(args), env=env)
        assert (result.exit_code == 0) == ok, result.output
        assert SECRET not in result.output
        return result.output

    invoke.warehouse = Warehouse(database_url=fresh_database)  # type: ignore[attr-defined]
    return invoke


def test_users_and_alerts_lifecycle(cli) -> None:  # type: ignore[no-untyped-def]
    assert "user alice added" in cli("users", "add", "alice", "--email", "alice@example.com")
    assert "exists already" in cli("users", "add", "alice", "--email", "other@example.com", ok=False)
    assert "email" in cli("users", "add", "bob", "--email", "not-an-address", ok=False)

    base = ["alerts", "add", "Cheap iPhones", "--user", "alice", "--query", "iphone 13"]
    assert "Apprise cannot use the URL jsn://***" in cli(*base, "--notify", f"jsn://x:{SECRET}@h/p", ok=False)
    assert "unknown vendor ebay" in cli(*base, "--notify", HOOK, "--vendor", "ebay", ok=False)
    assert "min_price (900) is greater than max_price (500)" in cli(
        *base, "--notify", HOOK, "--min-price", "900", "--max-price", "500", "--currency", "EUR", ok=False)
    assert "needs a currency" in cli(*base, "--notify", HOOK, "--max-price", "500", ok=False)
    assert "unknown rule" in cli(*base, "--notify", HOOK, "--rule", "sometimes", ok=False)
    assert "no user 'carol'" in cli("alerts", "add", "x", "--user", "carol", "--query", "q", "--notify", HOOK,
                                    ok=False)
    out = cli(*base, "--notify", HOOK, "--notify", "mailtos://me:pw@example.com", "--vendor", "toko",
              "--max-price", "9000000", "--currency", "idr", "--none", "case", "--attr", "Warna=Midnight",
              "--rule", "new", "--rule", "drop:10%", "--rule", "below-market:20%:n=5", "--digest")
    assert "saved search 1 'Cheap iPhones' added for alice" in out
    assert "already has a saved search named" in cli(*base, "--notify", HOOK, ok=False)

    listing = cli("alerts", "list")
    assert "#1 alice/Cheap iPhones  [active]  query \"iphone 13\"" in listing
    assert "rules: new, drop:10%, below-market:20%:n=5; notify: json://bob:****@127.0.0.1:9/hook" in listing
    assert "(digest)" in listing and "price 0-9000000 IDR" in listing
    assert "last match: none yet" in listing and "delivery: 0 sent, 0 pending, 0 failed" in listing
    data = json.loads(cli("alerts", "list", "--json"))
    assert data[0]["targets"][0] == "json://bob:****@127.0.0.1:9/hook" and data[0]["active"] is True
    with cli.warehouse.connect() as conn:  # at rest: sealed, only the masked label in clear
        stored = conn.execute(text("SELECT notification_settings::text FROM saved_searches")).scalar_one()
    assert SECRET not in stored and "json://bob:****@127.0.0.1:9/hook" in stored and '"sealed": "gAAAAA' in stored

    assert "paused" in cli("alerts", "pause", "Cheap iPhones")
    assert json.loads(cli("alerts", "list", "--json"))[0]["active"] is False
    assert "resumed" in cli("alerts", "resume", "1")
    assert "no saved search 'nope'" in cli("alerts", "pause", "nope", ok=False)
    assert "removed" in cli("alerts", "remove", "Cheap iPhones", "--user", "alice")
    assert "no saved searches yet" in cli("alerts", "list")


ALERTS_YAML = """
users:
  - {username: alice, email: alice@example.com}
  - {username: bob, email: bob@example.com}
alerts:
  - name: iPhones
    user: alice
    query: iphone 13
    none: [case]
    vendors: toko
    price: {max: 9000000, currency: IDR}
    rules: [new, "drop:10%"]
    notify: ["json://bob:${HOOK_PASSWORD}@127.0.0.1:9/hook"]
  - name: Pikachu
    user: bob
    query: pikachu
    vendors: [cardvault]
    condition: [psa]
    notify: {urls: ["json://127.0.0.1:9/cards"], digest: true}
"""


def test_sync_is_idempotent_and_reports_problems(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {"HOOK_PASSWORD": SECRET}
    path = tmp_path / "alerts.yaml"
    path.write_text(ALERTS_YAML)
    assert "environment variable HOOK_PASSWORD is not set" in cli("alerts", "sync", str(path), ok=False)
    assert "users: 2 created; saved searches: 2 created" in cli("alerts", "sync", str(path), env=env)
    with cli.warehouse.connect() as conn:
        before = conn.execute(text("SELECT id, updated_at, criteria FROM saved_searches ORDER BY id")).all()
        settings = conn.execute(text("SELECT notification_settings FROM saved_searches ORDER BY id")).scalars().first()
    assert before[0].criteria["all_words"] == ["iphone", "13"] and before[0].criteria["vendors"] == ["toko"]
    # the reference is stored (sealed) as written, to be expanded when a message is sent
    (target,) = settings["targets"]
    assert open_reference(sealing_box(), target["sealed"]) == "json://bob:${HOOK_PASSWORD}@127.0.0.1:9/hook"
    assert target["label"] == "json://bob:****@127.0.0.1:9/hook"
    out = cli("alerts", "sync", str(path), env=env)
    assert "users: 2 unchanged; saved searches: 2 unchanged" in out
    with cli.warehouse.connect() as conn:
        assert conn.execute(text("SELECT id, updated_at, criteria FROM saved_searches ORDER BY id")).all() == before

    path.write_text(ALERTS_YAML.replace("drop:10%", "drop:15%").split("  - name: Pikachu")[0])
    assert "dry run, nothing changed: users: 2 unchanged; saved searches: 1 updated" in cli(
        "alerts", "sync", str(path), "--dry-run", env=env)
    out = cli("alerts", "sync", str(path), "--prune", env=env)
    assert "1 updated" in out and "removed: bob/Pikachu" in out and "updated: alice/iPhones" in out

    path.write_text(ALERTS_YAML.replace("max: 9000000", "min: 10, max: 5").replace("vendors: toko", "vendors: ebay")
                    .replace("${HOOK_PASSWORD}", "x").replace("json://127.0.0.1:9/cards", "carrier-pigeon://x"))
    out = cli("alerts", "sync", str(path), ok=False)
    assert "alerts[0] (iPhones):" in out and "min_price (10) is greater than max_price (5)" in out
    assert "alerts[1] (Pikachu):" in out
    assert "notify.urls: entry 1: Apprise cannot use the URL carrier-pigeon://*** (unknown scheme" in out
    path.write_text(ALERTS_YAML.replace("${HOOK_PASSWORD}", "x").replace("vendors: toko", "vendors: ebay"))
    assert "unknown vendor ebay" in cli("alerts", "sync", str(path), ok=False)


def test_notifications_command_shows_failures_masked(cli) -> None:  # type: ignore[no-untyped-def]
    cli("users", "add", "alice", "--email", "alice@example.com")
    cli("alerts", "add", "s", "--user", "alice", "--query", "x", "--notify", HOOK)
    with cli.warehouse.begin() as conn:
        conn.execute(text("""
            INSERT INTO notifications (user_id, saved_search_id, dedupe_key, target, target_label, title, body, status,
                                       attempts, last_error)
            SELECT user_id, id, 'k' || g, s.notification_settings #>> '{targets,0,sealed}',
                   s.notification_settings #>> '{targets,0,label}', 'Price drop -12%: PlayStation 5', 'b',
                   CASE WHEN g = 1 THEN 'failed' ELSE 'sent' END, g, CASE WHEN g = 1 THEN 'HTTP 503' END
            FROM saved_searches s, generate_series(1, 2) g
        """))
    out = cli("notifications")
    assert "outbox: failed 1, sent 1" in out and "json://bob:****@127.0.0.1:9/hook" in out
    assert "error: HTTP 503" in out and "Price drop -12%: PlayStation 5" in out
    failed = json.loads(cli("notifications", "--status", "failed", "--json"))
    assert [n["status"] for n in failed["notifications"]] == ["failed"]
    assert "use pending, sending, sent or failed" in cli("notifications", "--status", "lost", ok=False)
    listing = cli("alerts", "list")
    assert "delivery: 1 sent, 0 pending, 1 failed" in listing and "last error: HTTP 503" in listing


def test_demo_example_is_installed_once_and_never_overwritten(fresh_database: str) -> None:
    assert inbox_target("http://127.0.0.1:8765/") == "json://127.0.0.1:8765/alerts-inbox"
    first = install_demo_alerts(fresh_database, "http://127.0.0.1:8765")
    assert "users: 1 created; saved searches: 1 created" in first and "/alerts-inbox" in first
    wh = Warehouse(database_url=fresh_database)
    with wh.begin() as conn:
        conn.execute(text("UPDATE saved_searches SET is_active = false"))
    assert "saved searches: 1 unchanged" in install_demo_alerts(fresh_database, "http://127.0.0.1:8765")
    with wh.connect() as conn:
        row = conn.execute(text("SELECT is_active, notification_settings FROM saved_searches")).one()
    assert row.is_active is False
    (target,) = row.notification_settings["targets"]
    assert open_reference(sealing_box(), target["sealed"]) == "json://127.0.0.1:8765/alerts-inbox"
    assert target["label"] == "json://127.0.0.1:8765/alerts-inbox"


def test_list_shows_the_last_match(cli) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from pipelines.alerts.evaluate import evaluate_partitions
    from tests.support.alert_data import add_vendor, see

    cli("users", "add", "alice", "--email", "alice@example.com")
    cli("alerts", "add", "ps5", "--user", "alice", "--query", "playstation", "--notify", HOOK, "--rule", "new",
        "--rule", "drop:10%")
    day = dt.date(2026, 3, 1)
    with cli.warehouse.begin() as conn:
        v = add_vendor(conn, "mercado")
        see(conn, v, "MC-1", day, title="PlayStation 5 Slim", price=500)
        see(conn, v, "MC-2", day, title="PlayStation 4", price=200)
        evaluate_partitions(conn, [(day, "mercado")])
        see(conn, v, "MC-2", day + dt.timedelta(days=1), title="PlayStation 4", price=150)
        evaluate_partitions(conn, [(day + dt.timedelta(days=1), "mercado")])
    listing = cli("alerts", "list")
    assert "[price_drop] PlayStation 4; 2 match(es)" in listing
    assert "delivery: 0 sent, 3 pending, 0 failed" in listing


def test_a_target_is_never_stored_without_a_key(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """With a configured database and no key, nothing is stored, and one line says how to make a key."""
    monkeypatch.delenv("MARKET_PULSE_SECRET_KEY")
    cli("users", "add", "alice", "--email", "alice@example.com")
    out = cli("alerts", "add", "s", "--user", "alice", "--query", "x", "--notify", HOOK, ok=False)
    assert out.startswith("error: notification targets are stored encrypted: MARKET_PULSE_SECRET_KEY is not set")
    assert "market-pulse secrets generate-key --file" in out and len(out.strip().splitlines()) == 1
    with cli.warehouse.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM saved_searches")).scalar_one() == 0
