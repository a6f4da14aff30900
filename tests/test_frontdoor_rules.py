"""The front door's rules one by one: Host names, origins, GraphQL documents, passwords, settings,
and the refusal to serve beyond loopback unconfigured."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from infra.settings import PROJECT_ROOT
from web import guard, passwords
from web.app import safe_next
from web.config import FrontDoorConfigError, load_config

LOCAL = ("127.0.0.1", "localhost", "::1")


@pytest.mark.parametrize(("host", "ok"), [
    ("127.0.0.1:3000", True), ("localhost", True), ("[::1]:3000", True), ("LOCALHOST:80", True),
    ("evil.example", False), ("127.0.0.1.evil.example", False), ("127.0.0.1@evil.example", False),
    ("", False), (None, False), ("127.0.0.1:3000/x", False), ("[::1", False),
])
def test_host_allow_list(host: str | None, ok: bool) -> None:
    assert guard.host_allowed(host, LOCAL) is ok


@pytest.mark.parametrize(("origin", "referer", "ok"), [
    ("http://127.0.0.1:3000", None, True),
    ("http://127.0.0.1:3000", "http://evil.example/", True),  # Origin decides
    ("http://evil.example", "http://127.0.0.1:3000/", False),
    ("null", None, False),
    (None, "http://127.0.0.1:3000/runs?x=1", True),
    (None, "http://127.0.0.1:3001/", False),  # another port is another origin
    ("https://127.0.0.1:3000", None, False),  # another scheme too
    ("https://pulse.example.com", None, True),
    ("https://pulse.example.com:443", None, True),
    (None, None, False),
    ("javascript:alert(1)", None, False),
])
def test_same_origin(origin: str | None, referer: str | None, ok: bool) -> None:
    trusted = ("http://127.0.0.1:3000", "https://pulse.example.com")
    assert guard.same_origin(origin, referer, trusted) is ok


def test_graphql_operations_are_read_whole() -> None:
    assert guard.operation_types("{ version }") == {"query"}
    assert guard.operation_types("query A { a } mutation B { b }") == {"query", "mutation"}
    assert guard.operation_types("subscription { s }") == {"subscription"}
    for bad in ("mutation {", "fragment F on Q { a }", ""):
        with pytest.raises(guard.GraphQLRejected):
            guard.operation_types(bad)


def test_graphql_http_rules() -> None:
    mutation, query = "mutation { launchRun }", "{ version }"
    body = lambda q: f'{{"query": "{q}"}}'.encode()  # noqa: E731
    refuse = guard.refuse_graphql_http
    assert refuse("GET", mutation, "", None, may_mutate=True)[0] == 403  # type: ignore[index]
    assert refuse("GET", "query A { a } mutation B { b }", "", None, may_mutate=True)[0] == 403  # type: ignore[index]
    assert refuse("GET", query, "", None, may_mutate=False) is None
    assert refuse("GET", None, "", None, may_mutate=False) is None  # GraphiQL's page
    assert refuse("POST", None, "text/plain", b"", may_mutate=True)[0] == 415  # type: ignore[index]
    assert refuse("POST", None, "application/x-www-form-urlencoded", b"q=1", may_mutate=True)[0] == 415  # type: ignore[index]
    assert refuse("POST", None, "application/json", body(mutation), may_mutate=False)[0] == 403  # type: ignore[index]
    assert refuse("POST", None, "application/json; charset=utf-8", body(mutation), may_mutate=True) is None
    assert refuse("POST", None, "application/json", body(query), may_mutate=False) is None
    assert refuse("POST", None, "application/json", b"[]", may_mutate=True)[0] == 400  # type: ignore[index]
    assert refuse("POST", None, "application/json", b"{", may_mutate=True)[0] == 400  # type: ignore[index]


def test_websocket_carries_subscriptions_only() -> None:
    ws = guard.refuse_graphql_ws_message
    assert ws('{"type": "connection_init"}') is None
    assert ws('{"type": "start", "id": "1", "payload": {"query": "subscription { s }"}}') is None
    assert ws('{"type": "start", "id": "1", "payload": {"query": "mutation { m }"}}') is not None
    assert ws('{"type": "subscribe", "id": "1", "payload": {"query": "{ q }"}}') is not None
    assert ws("not json") is not None and ws(None) is not None


def test_password_rules_and_hashes() -> None:
    with pytest.raises(passwords.PasswordRuleError):
        passwords.hash_password("short")
    with pytest.raises(passwords.PasswordRuleError):
        passwords.hash_password("alice-example", "Alice-Example")
    with pytest.raises(passwords.PasswordRuleError):
        passwords.hash_password("x" * (passwords.MAX_LENGTH + 1))
    stored = passwords.hash_password("a long enough password")
    assert stored.startswith("$argon2id$") and "a long enough password" not in stored
    assert passwords.verify(stored, "a long enough password")
    assert not passwords.verify(stored, "a long enough passworD")
    assert not passwords.verify(None, "a long enough password") and not passwords.verify("garbage", "x" * 12)
    one_time = passwords.one_time_password()
    assert len(one_time) >= passwords.MIN_LENGTH and one_time != passwords.one_time_password()


@pytest.mark.parametrize(("value", "expected"), [
    ("/runs?x=1", "/runs?x=1"), ("", "/"), ("//evil.example", "/"), ("/\\evil.example", "/"),
    ("https://evil.example/", "/"), ("runs", "/"),
])
def test_login_redirects_stay_on_site(value: str, expected: str) -> None:
    assert safe_next(value) == expected


def test_settings() -> None:
    config = load_config({"MARKET_PULSE_PUBLIC_URL": "https://Pulse.Example.com/", "MARKET_PULSE_SESSION_HOURS": "8",
                          "MARKET_PULSE_ALLOWED_HOSTS": "pulse.internal, 10.0.0.5"})
    assert config.public_origin == "https://pulse.example.com" and config.https and config.session_hours == 8
    assert {"pulse.example.com", "pulse.internal", "10.0.0.5", "127.0.0.1"} <= set(config.allowed_hosts)
    config.check_bind("0.0.0.0")  # configured: allowed
    bare = load_config({})
    bare.check_bind("127.0.0.1")
    bare.check_bind("::1")
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        with pytest.raises(FrontDoorConfigError, match="MARKET_PULSE_PUBLIC_URL"):
            bare.check_bind(host)
    for env in ({"MARKET_PULSE_ALLOWED_HOSTS": "*"}, {"MARKET_PULSE_PUBLIC_URL": "pulse.example.com"},
                {"MARKET_PULSE_SESSION_HOURS": "0"}):
        with pytest.raises(FrontDoorConfigError):
            load_config(env)


@pytest.mark.parametrize("command", [["dev", "--host", "0.0.0.0", "--seed-days", "0"], ["web", "--host", "0.0.0.0"]])
def test_serving_beyond_loopback_unconfigured_is_refused(command: list[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env["MARKET_PULSE_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "cli", *command], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert "refusing to listen on 0.0.0.0" in done.stderr
    assert not (tmp_path / "postgres").exists(), "nothing may be started before the refusal"
