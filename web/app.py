"""The front door: one ASGI app in front of everything people reach over HTTP.

Every request passes, in this order:

1. the Host allow-list (a foreign Host is refused: DNS rebinding);
2. for state-changing requests (any method but GET/HEAD/OPTIONS, and websocket handshakes), a
   same-origin check on ``Origin``/``Referer`` (CSRF); API calls carrying a bearer key are exempt,
   since a foreign page cannot make a browser send that header;
3. authentication: public pages (login, health, the API with its own key check) pass; everything
   else needs a session cookie, else the browser is sent to the login page;
4. for Dagster's UI: GraphQL mutations by GET are refused for everyone, viewers may send no
   mutation and no other state-changing request, the websocket carries subscriptions only;
   Dagster itself then runs the request read-only unless the user is an operator or admin
   (:mod:`web.dagster_ui`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import anyio
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.database import engine_for
from web import accounts, api_v1, guard, passwords, sessions
from web.api_v1.fast_reads import FastReads
from web.api_v1.reading import read_engine_for
from web.api_v1.searches import SearchLauncher
from web.config import FrontDoorConfig
from web.dagster_ui import PRINCIPAL_SCOPE_KEY
from web.sessions import Principal

log = logging.getLogger("market_pulse.web")

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
COOKIE = "mp_session"
SECURE_COOKIE = "__Host-mp_session"
"""On https the cookie is ``__Host-`` prefixed: the browser then insists on Secure, Path=/, no Domain."""

PUBLIC_PATHS = frozenset({"/login", "/-/health"})
PUBLIC_PREFIXES = ("/-/static/", "/api/")
ACCOUNT_PATHS = frozenset({"/account", "/account/password", "/logout"})
"""Front-door pages for a logged-in user; reachable with a one-time password still to change."""
VIEWER_WRITABLE = frozenset({"/logout", "/account/password"})
"""The only state-changing requests a viewer may make besides read-only GraphQL."""

SECURITY_HEADERS = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"))
PAGE_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


class FrontDoor:
    """The outer ASGI app: checks, then either the front door's own pages or Dagster's UI."""

    def __init__(self, config: FrontDoorConfig, engine: Engine, workspace_files: Sequence[str] | None,
                 read_engine: Engine | None = None, searches: SearchLauncher | None = None) -> None:
        self.config = config
        self.engine = engine
        self.read_engine = read_engine or engine
        """The read-only role's engine: the HTTP API's reads."""
        self.searches = searches
        self.workspace_files = list(workspace_files) if workspace_files else None
        self.dagster: ASGIApp | None = None
        self.pages = build_pages(self)
        self.public = FastReads(self.pages)
        """The pages anyone may reach (login, health, the API): the FastAPI app, its busiest API reads
        answered in front of it (:mod:`web.api_v1.fast_reads`)."""

    # --- the pipeline of checks ---------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.pages(scope, receive, send)
            return
        send = with_security_headers(send)
        headers = Headers(scope=scope)
        host = headers.get("host")
        if not guard.host_allowed(host, self.config.allowed_hosts):
            log.warning("refused Host %r from %s", host, _client(scope))
            await refuse(scope, receive, send, 400, "this server does not answer to that host name")
            return
        if self.state_changing(scope) and not api_key_request(scope, headers) \
                and not guard.same_origin(headers.get("origin"), headers.get("referer"), self.trusted_origins(scope)):
            log.warning("refused cross-origin %s %s (Origin %r) from %s", scope.get("method", "WEBSOCKET"),
                        scope["path"], headers.get("origin"), _client(scope))
            await refuse(scope, receive, send, 403, "cross-origin request refused")
            return
        path = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.public(scope, receive, send)
            return
        principal = await self.session_principal(scope)
        if principal is None:
            await self.ask_to_log_in(scope, receive, send)
            return
        scope = {**scope, PRINCIPAL_SCOPE_KEY: principal}
        if path in ACCOUNT_PATHS:
            await self.pages(scope, receive, send)
            return
        if principal.must_change_password:
            await redirect_or_refuse(scope, receive, send, "/account", 403, "choose a new password first")
            return
        await self.dagster_ui(scope, receive, send, principal)

    def state_changing(self, scope: Scope) -> bool:
        return scope["type"] == "websocket" or scope.get("method", "GET") not in guard.SAFE_METHODS

    def trusted_origins(self, scope: Scope) -> tuple[str, ...]:
        own = guard.request_origin(scope.get("scheme", "http").replace("ws", "http"), Headers(scope=scope)["host"])
        public = self.config.public_origin
        return (own, public) if public else (own,)

    async def session_principal(self, scope: Scope) -> Principal | None:
        cookies = HTTPConnection(scope).cookies
        token = cookies.get(SECURE_COOKIE) or cookies.get(COOKIE)
        if not token:
            return None

        def lookup() -> Principal | None:
            with self.engine.begin() as conn:
                return sessions.principal_for(conn, token)

        return await anyio.to_thread.run_sync(lookup)

    async def ask_to_log_in(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
        await redirect_or_refuse(scope, receive, send, f"/login?next={quote(target, safe='')}", 401, "log in first")

    async def dagster_ui(self, scope: Scope, receive: Receive, send: Send, principal: Principal) -> None:
        if self.dagster is None:
            await refuse(scope, receive, send, 503, "the Dagster UI is starting or not configured")
            return
        may_operate = accounts.role_at_least(principal.role, "operator")
        path = scope["path"]
        # Dagster reads neither our cookie nor an Authorization header: it never sees them.
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k not in (b"cookie", b"authorization")]}
        if scope["type"] == "websocket":
            await self.dagster(scope, subscriptions_only(receive, send), send)
            return
        method = scope["method"]
        if guard.is_graphql_path(path):
            body = None
            if method == "POST":
                body = await read_body(receive, guard.MAX_GRAPHQL_BODY)
                if body is None:
                    await refuse(scope, receive, send, 413, "GraphQL request too large")
                    return
            query = dict(HTTPConnection(scope).query_params).get("query")
            refusal = guard.refuse_graphql_http(method, query, Headers(scope=scope).get("content-type", ""), body,
                                                may_mutate=may_operate)
            if refusal is not None:
                status, message = refusal
                log.warning("refused GraphQL %s from %s (%s): %s", method, principal.username, principal.role, message)
                await graphql_refusal(scope, receive, send, status, message)
                return
            await self.dagster(scope, replay(body, receive) if body is not None else receive, send)
            return
        if method not in guard.SAFE_METHODS and not may_operate:
            await refuse(scope, receive, send, 403, "viewers cannot change anything: ask an operator")
            return
        await self.dagster(scope, receive, send)


# --- small ASGI helpers ---------------------------------------------------------------------------------


def api_key_request(scope: Scope, headers: Headers) -> bool:
    """An API call carrying a bearer key: no page can make a browser send that header to another
    origin (that needs a CORS preflight, which is never granted), so no same-origin check is needed.
    Basic credentials are not exempt: browsers resend those on their own."""
    return scope["path"].startswith("/api/") and headers.get("authorization", "").lower().startswith("bearer ")


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"


def with_security_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS:
                if name.decode() not in headers:
                    headers.append(name.decode(), value.decode())
        await send(message)

    return wrapped


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting makes the server answer the handshake with HTTP 403.
        await send({"type": "websocket.close", "code": 4000 + status, "reason": message})
        return
    await PlainTextResponse(message, status_code=status, headers={"Cache-Control": "no-store"})(scope, receive, send)


async def graphql_refusal(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    """A GraphQL-shaped error, so Dagster's UI shows the reason instead of a bare network error."""
    await JSONResponse({"data": None, "errors": [{"message": message}]}, status_code=status)(scope, receive, send)


async def redirect_or_refuse(scope: Scope, receive: Receive, send: Send, location: str, status: int,
                             message: str) -> None:
    """Browsers navigating to a page are redirected; scripts, GraphQL and websockets get ``status``."""
    headers = Headers(scope=scope)
    if scope["type"] == "http" and scope["method"] == "GET" and "text/html" in headers.get("accept", ""):
        await RedirectResponse(location, status_code=303)(scope, receive, send)
        return
    if guard.is_graphql_path(scope["path"]) and scope["type"] == "http":
        await graphql_refusal(scope, receive, send, status, message)
        return
    await refuse(scope, receive, send, status, message)


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the app, then defers to the real one."""
    sent = False

    async def wrapped() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


def subscriptions_only(receive: Receive, send: Send) -> Receive:
    """Inspect every message the browser sends on the GraphQL websocket; close on anything but a
    subscription (see :func:`web.guard.refuse_graphql_ws_message`)."""

    async def wrapped() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive":
            reason = guard.refuse_graphql_ws_message(message.get("text"))
            if reason is not None:
                log.warning("closed a GraphQL websocket: %s", reason)
                await send({"type": "websocket.close", "code": 4403, "reason": reason[:120]})
                return {"type": "websocket.disconnect", "code": 4403}
        return message

    return wrapped


# --- the front door's own pages -----------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """Only a path on this site (no ``//host``, no scheme): never an open redirect."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def page(request: Request, template: str, title: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(request, template, {"title": title, **context}, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


def build_pages(front: FrontDoor) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            meter.start()
            stack.callback(meter.stop)
            if front.searches is not None:
                front.searches.warm()  # the code location loads in the background, before the first search
                stack.callback(front.searches.close)
            if front.workspace_files:
                from web.dagster_ui import dagster_webserver_app

                front.dagster = await anyio.to_thread.run_sync(
                    stack.enter_context, dagster_webserver_app(front.workspace_files))
            yield
            front.dagster = None

    app = FastAPI(title="Market Pulse", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json")
    meter = api_v1.install(app, engine=front.engine, read_engine=front.read_engine,
                           rate_limit=front.config.api_rate_limit, searches=front.searches)
    app.mount("/-/static", StaticFiles(directory=HERE / "static"), name="static")

    def principal_of(request: Request) -> Principal:
        principal = request.scope.get(PRINCIPAL_SCOPE_KEY)
        assert principal is not None, "account pages are only reached through the session check"
        return principal

    def secure(request: Request) -> bool:
        return front.config.https or request.url.scheme == "https"

    def set_session_cookie(response: Response, request: Request, token: str) -> None:
        response.set_cookie(SECURE_COOKIE if secure(request) else COOKIE, token,
                            max_age=front.config.session_hours * 3600, path="/", httponly=True,
                            samesite="strict", secure=secure(request))

    def clear_session_cookies(response: Response, request: Request, keep: bool = False) -> None:
        """Delete the session cookies the browser sent (``keep``: except the one about to be set)."""
        current = SECURE_COOKIE if secure(request) else COOKIE
        for name in (COOKIE, SECURE_COOKIE):
            if name in request.cookies and not (keep and name == current):
                response.delete_cookie(name, path="/", httponly=True, samesite="strict",
                                       secure=name == SECURE_COOKIE or secure(request))

    @app.get("/-/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", "Log in", next=safe_next(next), username="")

    @app.post("/login", include_in_schema=False)
    def login(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
              next: Annotated[str, Form()] = "/") -> Response:
        with front.engine.begin() as conn:
            result = accounts.check_login(conn, username.strip(), password)
            token = sessions.open_session(conn, result.user_id, front.config.session_hours * 3600) \
                if result.user_id is not None else None
        if token is None:
            log.warning("failed login for %r from %s", username[:64], request.client.host if request.client else "?")
            return page(request, "login.html", "Log in", status=401, next=safe_next(next), username=username[:64],
                        error="Wrong user name or password, or too many attempts: wait a minute and try again.")
        log.info("login: %s from %s", result.username, request.client.host if request.client else "?")
        target = "/account" if result.must_change_password else safe_next(next)
        response = RedirectResponse(target, status_code=303)
        clear_session_cookies(response, request, keep=True)
        set_session_cookie(response, request, token)
        return response

    @app.get("/logout", include_in_schema=False)
    def logout_form(request: Request) -> HTMLResponse:
        return page(request, "logout.html", "Log out")

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        principal = principal_of(request)
        with front.engine.begin() as conn:
            for name in (COOKIE, SECURE_COOKIE):
                if name in request.cookies:
                    sessions.close_session(conn, request.cookies[name])
        log.info("logout: %s", principal.username)
        response = RedirectResponse("/login", status_code=303)
        clear_session_cookies(response, request)
        return response

    @app.get("/account", include_in_schema=False)
    def account(request: Request) -> HTMLResponse:
        principal = principal_of(request)
        notice = "Choose your own password to continue." if principal.must_change_password else None
        return page(request, "account.html", "Your account", principal=principal, notice=notice,
                    min_length=passwords.MIN_LENGTH)

    @app.post("/account/password", include_in_schema=False)
    def change_password(request: Request, current: Annotated[str, Form()], new: Annotated[str, Form()],
                        confirm: Annotated[str, Form()]) -> Response:
        principal = principal_of(request)
        error = "the two new passwords differ" if new != confirm else None
        if error is None:
            try:
                with front.engine.begin() as conn:
                    accounts.change_own_password(conn, principal.user_id, principal.username, current, new)
                    token = sessions.open_session(conn, principal.user_id, front.config.session_hours * 3600)
            except accounts.AccountError as exc:
                error = str(exc)
        if error is not None:
            return page(request, "account.html", "Your account", status=400, principal=principal,
                        error=f"Password not changed: {error}.", min_length=passwords.MIN_LENGTH)
        log.info("password changed: %s", principal.username)
        response = RedirectResponse("/", status_code=303)
        clear_session_cookies(response, request, keep=True)
        set_session_cookie(response, request, token)
        return response

    return app


def create_front_door(config: FrontDoorConfig, database_url: str,
                      workspace_files: Sequence[str] | None = None, readonly_url: str | None = None,
                      searches: SearchLauncher | None = None) -> FrontDoor:
    """The front door on the warehouse at ``database_url`` (users, sessions, keys); with
    ``workspace_files``, Dagster's UI behind it (on ``$DAGSTER_HOME``'s instance). The HTTP API
    reads through ``readonly_url`` (the read-only role) when given, in its own pool
    (:func:`web.api_v1.reading.read_engine_for`), and runs on-demand searches through ``searches``
    (the pipeline's launcher; without it they answer 503)."""
    return FrontDoor(config, engine_for(database_url), workspace_files, read_engine_for(readonly_url or database_url),
                     searches)
