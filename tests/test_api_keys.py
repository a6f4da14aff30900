"""API keys: made by the CLI, shown once, stored as a hash, and checked by the FastAPI dependency
on a real server (no key, wrong scope, revoked, expired, disabled user)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import text

from infra.database import engine_for
from infra.settings import PROJECT_ROOT
from tests.support.servers import app_in_thread
from web import accounts, api, keys
from web.api_keys import create_key, parse_expiry, revoke_key
from web.key_cache import KeyCache
from web.sessions import Principal


@pytest.fixture(scope="module")
def users(database_url: str) -> dict[str, str]:
    with engine_for(database_url).begin() as conn:
        for name, role in (("ana", "operator"), ("vic", "viewer"), ("gone", "operator")):
            accounts.add_user(conn, name, f"{name}@example.com", role=role, password=f"{name}-password-123")
    return {"ana": "operator", "vic": "viewer", "gone": "operator"}


@pytest.fixture(scope="module")
def api_url(database_url: str, users: dict[str, str]) -> Iterator[str]:
    """The real /api/v1 router plus one route that needs the write scope."""
    app = FastAPI()
    app.state.engine = engine_for(database_url)
    app.add_exception_handler(api.Problem, api.problem_response)
    app.include_router(api.router)

    @app.post("/api/v1/write-check")
    def write_check(principal: Annotated[Principal, Depends(api.require_key("write"))]) -> dict[str, Any]:
        return {"user": principal.username}

    with app_in_thread(app) as url:
        yield url


def new_key(database_url: str, user: str, scope: str, expires_at: dt.datetime | None = None) -> str:
    with engine_for(database_url).begin() as conn:
        return create_key(conn, user, scope, expires_at=expires_at).key


def call(url: str, key: str | None, path: str = "/api/v1/me", method: str = "GET") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.request(method, f"{url}{path}", headers=headers, timeout=30)


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_key_format() -> None:
    made = [keys.generate() for _ in range(50)]
    for new in made:
        assert new.key.startswith("mpk_") and new.key.startswith(new.lookup + "_")
        secret = new.key.split("_", 2)[2]
        assert len(secret) == 43  # 32 random bytes, URL-safe base64
        assert keys.lookup_of(new.key) == new.lookup and keys.matches(new.key, new.key_hash)
        assert new.key not in new.key_hash and len(new.key_hash) == 64
    assert len({new.key for new in made}) == len({new.lookup for new in made}) == 50
    assert not keys.matches(made[0].key, made[1].key_hash)
    for bad in ("", "mpk_short_x", made[0].key + "x", made[0].key.replace("mpk_", "mpx_"), "Bearer " + made[0].key):
        assert keys.lookup_of(bad) is None


def test_an_accepted_key_is_remembered_for_its_time_only() -> None:
    now = [100.0]
    cache = KeyCache(ttl_seconds=2, clock=lambda: now[0])
    who = Principal(user_id=1, username="ana", role="operator", via="key", scopes=("read",), key_id=7)
    key, other = keys.generate().key, keys.generate().key
    assert cache.get(key) is None
    cache.put(key, who)
    assert cache.get(key) == who and cache.get(other) is None
    assert key not in repr(cache), "only the key's hash is kept"
    now[0] += 1.9
    assert cache.get(key) == who
    now[0] += 0.2
    assert cache.get(key) is None, "remembered past its time"
    off = KeyCache(ttl_seconds=0)
    off.put(key, who)
    assert off.get(key) is None


def test_no_key_or_a_bad_key_is_unauthorized(api_url: str, database_url: str) -> None:
    assert_problem(call(api_url, None), 401)
    assert_problem(call(api_url, "not-a-key"), 401)
    assert_problem(call(api_url, keys.generate().key), 401)  # well formed, unknown
    real = new_key(database_url, "ana", "read")
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")  # known prefix, wrong secret
    assert_problem(call(api_url, forged), 401)
    assert call(api_url, real).status_code == 200


def test_scope_is_enforced(api_url: str, database_url: str) -> None:
    read, write = new_key(database_url, "ana", "read"), new_key(database_url, "ana", "write")
    me = call(api_url, read)
    assert me.status_code == 200 and me.json() == {"user": "ana", "role": "operator", "scopes": ["read"]}
    assert_problem(call(api_url, read, "/api/v1/write-check", "POST"), 403)
    assert call(api_url, write, "/api/v1/write-check", "POST").json() == {"user": "ana"}
    assert call(api_url, write).json()["scopes"] == ["read", "write"]  # write includes read


def test_revoked_expired_and_disabled_keys_are_refused(api_url: str, database_url: str) -> None:
    revoked = new_key(database_url, "ana", "read")
    assert call(api_url, revoked).status_code == 200
    with engine_for(database_url).begin() as conn:
        revoke_key(conn, keys.lookup_of(revoked) or "")
    assert_problem(call(api_url, revoked), 401)

    expiring = new_key(database_url, "ana", "read", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert call(api_url, expiring).status_code == 200
    with engine_for(database_url).begin() as conn:
        conn.execute(text("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE key_prefix = :p"),
                     {"p": keys.lookup_of(expiring)})
    assert_problem(call(api_url, expiring), 401)

    owner_gone = new_key(database_url, "gone", "read")
    with engine_for(database_url).begin() as conn:
        accounts.set_active(conn, "gone", False)
    assert_problem(call(api_url, owner_gone), 401)


def test_last_used_is_recorded(api_url: str, database_url: str) -> None:
    key = new_key(database_url, "ana", "read")
    query = text("SELECT last_used_at FROM api_keys WHERE key_prefix = :p")
    with engine_for(database_url).connect() as conn:
        assert conn.execute(query, {"p": keys.lookup_of(key)}).scalar() is None
    assert call(api_url, key).status_code == 200
    with engine_for(database_url).connect() as conn:
        used = conn.execute(query, {"p": keys.lookup_of(key)}).scalar()
    assert used is not None and dt.datetime.now(dt.UTC) - used < dt.timedelta(minutes=1)


def test_a_viewer_holds_read_keys_only(database_url: str, users: dict[str, str]) -> None:
    with engine_for(database_url).begin() as conn, pytest.raises(accounts.AccountError, match="viewer"):
        create_key(conn, "vic", "write", expires_at=None)
    write = new_key(database_url, "ana", "write")
    with engine_for(database_url).begin() as conn:  # demoting a user revokes the keys the role may not hold
        accounts.set_role(conn, "ana", "viewer")
        row = conn.execute(text("SELECT is_active, revoked_at FROM api_keys WHERE key_prefix = :p"),
                           {"p": keys.lookup_of(write)}).one()
        accounts.set_role(conn, "ana", "operator")
    assert row.is_active is False and row.revoked_at is not None


def test_expiry_parsing() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert parse_expiry(None, now) == now + dt.timedelta(days=90)
    assert parse_expiry("12h", now) == now + dt.timedelta(hours=12)
    assert parse_expiry("2w", now) == now + dt.timedelta(weeks=2)
    assert parse_expiry("2026-03-01", now) == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert parse_expiry("never", now) is None
    for bad in ("2025-01-01", "soon", "5y", "-3d"):
        with pytest.raises(accounts.AccountError):
            parse_expiry(bad, now)


# --- the commands ------------------------------------------------------------------------------------------


def cli(database_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env["MARKET_PULSE_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=PROJECT_ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_users_and_keys_commands(database_url: str, api_url: str, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("kim-password-1234\n")
    added = cli(database_url, "users", "add", "kim", "--email", "kim@example.com", "--role", "operator",
                "--password-file", str(secret))
    assert added.returncode == 0, added.stderr
    assert "kim-password-1234" not in added.stdout + added.stderr
    with engine_for(database_url).connect() as conn:
        row = conn.execute(text("SELECT role, password_hash FROM users WHERE username = 'kim'")).one()
    assert row.role == "operator" and row.password_hash.startswith("$argon2id$")

    created = cli(database_url, "keys", "create", "--user", "kim", "--scope", "write", "--expires", "30d",
                  "--name", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert keys.lookup_of(key) is not None and "Shown only now" in created.stderr
    assert call(api_url, key, "/api/v1/write-check", "POST").status_code == 200

    listed = cli(database_url, "keys", "list", "--user", "kim")
    assert listed.returncode == 0 and keys.lookup_of(key) in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout and key.split("_", 2)[2] not in listed.stdout
    with engine_for(database_url).connect() as conn:
        stored = " ".join(str(v) for v in conn.execute(text("SELECT * FROM api_keys")).all())
    assert key.split("_", 2)[2] not in stored

    revoked = cli(database_url, "keys", "revoke", keys.lookup_of(key) or "")
    assert revoked.returncode == 0, revoked.stderr
    assert_problem(call(api_url, key), 401)
    assert "revoked" in cli(database_url, "keys", "list", "--user", "kim").stdout

    refused = cli(database_url, "keys", "create", "--user", "vic", "--scope", "write")
    assert refused.returncode == 1 and "viewer" in refused.stderr and "mpk_" not in refused.stdout
    demoted = cli(database_url, "users", "set-role", "kim", "viewer")
    assert demoted.returncode == 0, demoted.stderr
    listing = cli(database_url, "users", "list", "--json")
    assert any(u["username"] == "kim" and u["role"] == "viewer" for u in __import__("json").loads(listing.stdout))
    weak = cli(database_url, "users", "set-password", "kim", "--password-file", "-", stdin="short\n")
    assert weak.returncode == 1 and "at least" in weak.stderr
