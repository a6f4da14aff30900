"""The front door as an attacker and as its users meet it: `market-pulse web` serving Dagster's
real UI (a one-asset code location on a real Dagster instance) on a free port, real HTTP and
websocket clients, real PostgreSQL for users, sessions and keys."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from infra.database import engine_for
from tests.support.frontdoor import first_login, log_in, session_client
from tests.support.servers import web_process
from web import accounts

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures" / "frontdoor"
PASSWORDS = {"admin": "admin-password-123", "operator": "operator-password-123", "viewer": "viewer-password-123",
             "locked": "locked-password-123"}
EVIL = "http://evil.example"
LAUNCH_HELLO = """mutation { launchPipelineExecution(executionParams: {
  selector: {repositoryLocationName: "frontdoor", repositoryName: "__repository__", pipelineName: "__ASSET_JOB",
             assetSelection: [{path: ["hello"]}]}, mode: "default"}) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on UnauthorizedError { message }
  ... on PythonError { message } } }"""
RUN_COUNT = "{ runsOrError { ... on Runs { count } } }"
PERMISSIONS = "{ permissions { permission value } }"


@pytest.fixture(scope="module")
def front_door(tmp_path_factory: pytest.TempPathFactory, database_url: str, dagster_storage_url: str) -> Iterator[str]:
    home = tmp_path_factory.mktemp("frontdoor-home")
    workspace = home / "workspace.yaml"
    workspace.write_text(f"load_from:\n  - python_file:\n      relative_path: {FIXTURES / 'defs.py'}\n"
                         "      location_name: frontdoor\n")
    (home / "admin.password").write_text(PASSWORDS["admin"] + "\n")
    with engine_for(database_url).begin() as conn:
        for role in ("operator", "viewer"):
            accounts.add_user(conn, role, f"{role}@example.com", role=role, password=PASSWORDS[role])
        accounts.add_user(conn, "locked", "locked@example.com", role="operator", password=PASSWORDS["locked"])
        accounts.add_user(conn, "newcomer", "newcomer@example.com", role="operator", password="one-time-pass-1",
                          must_change=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env |= {"MARKET_PULSE_HOME": str(home), "MARKET_PULSE_DATABASE_URL": database_url,
            "MARKET_PULSE_DAGSTER_DATABASE_URL": dagster_storage_url, "DAGSTER_HOME": str(home / "dagster"),
            "MARKET_PULSE_ADMIN_PASSWORD_FILE": str(home / "admin.password")}
    with web_process(env, workspace, home / "web.log") as url:
        yield url


@pytest.fixture(scope="module")
def operator(front_door: str) -> Iterator[httpx.Client]:
    client = log_in(front_door, "operator", PASSWORDS["operator"])
    yield client
    client.close()


@pytest.fixture(scope="module")
def viewer(front_door: str) -> Iterator[httpx.Client]:
    client = log_in(front_door, "viewer", PASSWORDS["viewer"])
    yield client
    client.close()


def gql(client: httpx.Client, query: str, **kwargs: Any) -> httpx.Response:
    return client.post("/graphql", json={"query": query, "variables": {}}, **kwargs)


def run_count(client: httpx.Client) -> int:
    response = gql(client, RUN_COUNT)
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["runsOrError"]["count"])


def session_cookie(response: httpx.Response) -> SimpleCookie:
    cookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        cookie.load(header)
    return cookie


# --- Host, Origin and the GraphQL attacks -------------------------------------------------------------


def test_foreign_host_is_refused(front_door: str, operator: httpx.Client) -> None:
    for path in ("/login", "/graphql", "/server_info"):
        refused = httpx.get(f"{front_door}{path}", headers={"Host": "rebound.evil.example"})
        assert refused.status_code == 400, (path, refused.status_code)
    posted = operator.post("/graphql", json={"query": RUN_COUNT},
                           headers={"Host": "evil.example", "Origin": "http://evil.example"})
    assert posted.status_code == 400
    assert operator.get("/server_info", headers={"Host": "localhost"}).status_code == 200


def test_cross_origin_text_plain_graphql_post_is_refused(front_door: str, operator: httpx.Client) -> None:
    """The attack: a foreign page POSTs a mutation as text/plain (no preflight), query in the URL."""
    before = run_count(operator)
    # The victim's browser sends the session cookie along; the attacker's page chooses the rest.
    browser = httpx.Client(base_url=str(operator.base_url), cookies=operator.cookies)
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/page"}, {}):
        response = browser.post("/graphql", params={"query": LAUNCH_HELLO}, content=b"x",
                                headers={"Content-Type": "text/plain", **headers})
        assert response.status_code == 403, (headers, response.status_code, response.text)
    # Same origin but not JSON: Dagster would read the query from the URL; refused as well.
    same_origin = operator.post("/graphql", params={"query": LAUNCH_HELLO}, content=b"x",
                                headers={"Content-Type": "text/plain"})
    assert same_origin.status_code == 415
    assert run_count(operator) == before


def test_graphql_mutation_by_get_is_refused(operator: httpx.Client) -> None:
    before = run_count(operator)
    response = operator.get("/graphql", params={"query": LAUNCH_HELLO})
    assert response.status_code == 403
    assert "POST" in response.json()["errors"][0]["message"]
    assert operator.get("/graphql", params={"query": RUN_COUNT}).status_code == 200  # queries by GET still work
    assert run_count(operator) == before


def test_viewer_is_read_only_and_operator_launches(operator: httpx.Client, viewer: httpx.Client) -> None:
    before = run_count(operator)
    refused = gql(viewer, LAUNCH_HELLO)
    assert refused.status_code == 403, refused.text
    assert run_count(viewer) == before  # the viewer can read
    # Behind the gate, Dagster itself runs the viewer's requests read-only (as --read-only would).
    viewer_permissions = {p["permission"]: p["value"] for p in gql(viewer, PERMISSIONS).json()["data"]["permissions"]}
    operator_permissions = {p["permission"]: p["value"]
                            for p in gql(operator, PERMISSIONS).json()["data"]["permissions"]}
    assert viewer_permissions["launch_pipeline_execution"] is False
    assert not any(viewer_permissions.values()), viewer_permissions
    assert operator_permissions["launch_pipeline_execution"] is True
    assert operator_permissions["start_schedule"] is True

    launched = gql(operator, LAUNCH_HELLO)
    assert launched.status_code == 200, launched.text
    assert launched.json()["data"]["launchPipelineExecution"]["__typename"] == "LaunchRunSuccess", launched.text
    assert run_count(operator) == before + 1

    report = "/report_asset_materialization/hello"
    assert viewer.post(report, json={}).status_code == 403
    assert operator.post(report, json={}).status_code == 200


def test_static_assets_and_ui_pages_come_through(front_door: str, operator: httpx.Client) -> None:
    index = operator.get("/assets", headers={"Accept": "text/html"})
    assert index.status_code == 200 and "<html" in index.text.lower()
    assert "content-security-policy" in index.headers  # Dagster's own, with its nonce
    assert index.headers["x-frame-options"] == "DENY"
    icon = operator.get("/favicon.png")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png" and len(icon.content) > 100


# --- websockets ----------------------------------------------------------------------------------------------


def _ws(front_door: str, client: httpx.Client | None, origin: str | None):  # type: ignore[no-untyped-def]
    headers = {}
    if client is not None:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return ws_connect(front_door.replace("http", "ws") + "/graphql", subprotocols=["graphql-ws"],
                      additional_headers=headers, origin=origin, open_timeout=20)


def test_graphql_websocket_carries_subscriptions(front_door: str, operator: httpx.Client,
                                                viewer: httpx.Client) -> None:
    run_id = gql(operator, LAUNCH_HELLO).json()["data"]["launchPipelineExecution"]["run"]["runId"]
    subscription = ("subscription($id: ID!) { pipelineRunLogs(runId: $id) { __typename "
                    "... on PipelineRunLogsSubscriptionSuccess { messages { __typename } } } }")
    for client in (viewer, operator):
        with _ws(front_door, client, front_door) as socket:
            assert socket.subprotocol == "graphql-ws"
            socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(socket.recv(timeout=20))["type"] == "connection_ack"
            socket.send(json.dumps({"id": "1", "type": "start",
                                    "payload": {"query": subscription, "variables": {"id": run_id}}}))
            message = json.loads(socket.recv(timeout=30))
            while message["type"] == "ka":
                message = json.loads(socket.recv(timeout=30))
            assert message["type"] == "data", message
            logs = message["payload"]["data"]["pipelineRunLogs"]
            assert logs["__typename"] == "PipelineRunLogsSubscriptionSuccess" and logs["messages"], logs


def test_graphql_websocket_refuses_strangers_and_mutations(front_door: str, operator: httpx.Client) -> None:
    for client, origin in ((operator, EVIL), (operator, None), (None, front_door)):
        with pytest.raises(InvalidStatus) as refused:
            _ws(front_door, client, origin)
        assert refused.value.response.status_code == 403, (origin, client is None)
    before = run_count(operator)
    with _ws(front_door, operator, front_door) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(socket.recv(timeout=20))["type"] == "connection_ack"
        socket.send(json.dumps({"id": "1", "type": "start", "payload": {"query": LAUNCH_HELLO}}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert run_count(operator) == before


# --- logging in and out ------------------------------------------------------------------------------------


def test_login_cookie_flags_and_logout(front_door: str, database_url: str) -> None:
    client = session_client(front_door)
    response = client.post("/login", data={"username": "operator", "password": PASSWORDS["operator"],
                                           "next": "/runs"})
    assert response.status_code == 303 and response.headers["location"] == "/runs"
    raw = response.headers["set-cookie"]
    morsel = session_cookie(response)["mp_session"]
    assert morsel["httponly"] is True and morsel["samesite"].lower() == "strict" and morsel["path"] == "/"
    assert "secure" not in raw.lower()  # plain http on loopback: a Secure cookie would never come back
    token = morsel.value
    assert len(token) >= 40
    engine = create_engine(database_url)
    with engine.connect() as conn:  # only a hash of the token is kept
        assert conn.execute(text("SELECT count(*) FROM web_sessions WHERE token_hash = :t"), {"t": token}).scalar() == 0
    engine.dispose()
    assert client.get("/server_info").status_code == 200

    assert client.post("/logout").status_code == 303
    replay = session_client(front_door)
    replay.cookies.set("mp_session", token)
    assert replay.get("/server_info").status_code == 401  # the stolen cookie died with the logout
    assert replay.get("/assets", headers={"Accept": "text/html"}).headers["location"] == "/login?next=%2Fassets"
    assert gql(replay, RUN_COUNT).status_code == 401


def test_login_refuses_cross_origin_and_open_redirects(front_door: str) -> None:
    foreign = httpx.post(f"{front_door}/login", data={"username": "operator", "password": PASSWORDS["operator"]},
                         headers={"Origin": EVIL})
    assert foreign.status_code == 403 and "set-cookie" not in foreign.headers
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        response = session_client(front_door).post(
            "/login", data={"username": "operator", "password": PASSWORDS["operator"], "next": target})
        assert response.headers["location"] == "/", target


def test_wrong_password_and_unknown_user_look_the_same(front_door: str) -> None:
    answers = []
    for username, password in (("operator", "not-the-password"), ("nobody-here", "not-the-password")):
        response = session_client(front_door).post("/login", data={"username": username, "password": password})
        assert response.status_code == 401 and "set-cookie" not in response.headers
        answers.append(response.text.replace(username, "NAME"))
    assert answers[0] == answers[1]


def test_repeated_wrong_passwords_lock_the_account(front_door: str, database_url: str) -> None:
    for _ in range(accounts.LOCKOUT_THRESHOLD):
        session_client(front_door).post("/login", data={"username": "locked", "password": "guess-guess-guess"})
    right = session_client(front_door).post("/login", data={"username": "locked", "password": PASSWORDS["locked"]})
    assert right.status_code == 401, "a locked account accepts no password, not even the right one"
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET locked_until = now() - interval '1 second' WHERE username = 'locked'"))
    engine.dispose()
    assert log_in(front_door, "locked", PASSWORDS["locked"]).get("/server_info").status_code == 200


def test_one_time_password_must_be_replaced_first(front_door: str) -> None:
    client, new = first_login(front_door, "newcomer", "one-time-pass-1")
    assert client.get("/server_info").status_code == 200
    assert session_client(front_door).post(
        "/login", data={"username": "newcomer", "password": "one-time-pass-1"}).status_code == 401
    assert log_in(front_door, "newcomer", new).get("/server_info").status_code == 200


def test_first_admin_from_password_file(front_door: str, database_url: str) -> None:
    client = log_in(front_door, "admin", PASSWORDS["admin"])
    assert client.get("/server_info").status_code == 200  # no forced change: the operator chose it
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE username = 'admin'")).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$") and PASSWORDS["admin"] not in stored


def test_api_keys_do_not_open_the_ui(front_door: str, database_url: str) -> None:
    from web.api_keys import create_key

    with engine_for(database_url).begin() as conn:
        key = create_key(conn, "operator", "write", expires_at=None).key
    bearer = httpx.Client(base_url=front_door, headers={"Authorization": f"Bearer {key}"})
    assert bearer.get("/api/v1/me").json()["user"] == "operator"
    assert bearer.get("/server_info").status_code == 401
    assert bearer.post("/graphql", json={"query": LAUNCH_HELLO}).status_code == 403  # no Origin: not exempt
    assert bearer.post("/api/v1/me").status_code == 405  # an API call with a key needs no Origin


def test_basic_credentials_do_not_exempt_from_the_origin_check(operator: httpx.Client) -> None:
    """Browsers resend Basic credentials on their own (e.g. for a proxy's login), so they prove nothing."""
    browser = httpx.Client(base_url=str(operator.base_url), cookies=operator.cookies)
    response = browser.post("/graphql", json={"query": LAUNCH_HELLO},
                            headers={"Origin": EVIL, "Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 403


# --- without Dagster: https cookies and the first admin ------------------------------------------------------


def test_session_cookie_is_secure_and_host_prefixed_on_https(database_url: str) -> None:
    """Behind a TLS proxy (MARKET_PULSE_PUBLIC_URL=https://…) the cookie is __Host-mp_session, Secure."""
    from tests.support.dagster_ui import free_port
    from tests.support.servers import app_in_thread
    from web.app import create_front_door
    from web.config import load_config

    with engine_for(database_url).begin() as conn:
        accounts.add_user(conn, "tls-user", "tls@example.com", password="tls-password-123")
    public = f"https://127.0.0.1:{free_port()}"
    config = load_config({"MARKET_PULSE_PUBLIC_URL": public})
    with app_in_thread(create_front_door(config, database_url)) as url:
        response = httpx.post(f"{url}/login", data={"username": "tls-user", "password": "tls-password-123"},
                              headers={"Origin": public})
        assert response.status_code == 303, response.text
        morsel = session_cookie(response)["__Host-mp_session"]
        assert morsel["secure"] is True and morsel["httponly"] is True and morsel["samesite"].lower() == "strict"
        assert morsel["path"] == "/" and not morsel["domain"]
        assert "mp_session" not in session_cookie(response)
        # State changes need the public origin (what browsers behind the proxy send).
        with httpx.Client(base_url=url, cookies={"__Host-mp_session": morsel.value}) as client:
            assert client.post("/logout", headers={"Origin": EVIL}).status_code == 403
            assert client.get("/account").status_code == 200
            assert client.post("/logout", headers={"Origin": public}).status_code == 303
            assert client.get("/account").status_code == 401


def test_first_admin_is_created_once(fresh_database: str) -> None:
    with engine_for(fresh_database).begin() as conn:
        created = accounts.ensure_admin(conn)
        again = accounts.ensure_admin(conn)
    assert created is not None and created.username == "admin" and created.one_time_password
    assert again is None  # a second start prints nothing
    engine = create_engine(fresh_database)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT role, must_change_password, password_hash FROM users")).one()
    engine.dispose()
    assert row.role == "admin" and row.must_change_password is True
    assert created.one_time_password not in row.password_hash and row.password_hash.startswith("$argon2id$")
