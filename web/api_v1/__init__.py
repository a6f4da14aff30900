"""The HTTP API, version 1 (``/api/v1``): reads of the warehouse, the caller's saved searches and
notifications, health; API keys, scopes, per-key rate limits and usage; Problem Details for every
error. :func:`install` adds it to the front door's FastAPI app."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from web import api
from web.api_v1 import analytics, catalog, docs, health, listings, models, saved, searches
from web.api_v1.metering import DEFAULT_RATE_LIMIT, RateLimits, UsageMeter, UsageTiming
from web.api_v1.reading import ReadPool
from web.api_v1.searches import SearchLauncher
from web.key_cache import DEFAULT_TTL_SECONDS, KeyCache

log = logging.getLogger("market_pulse.web")

PREFIX = "/api/v1"
OPENAPI_URL = f"{PREFIX}/openapi.json"

KEYED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: models.problem("No valid API key (missing, unknown, revoked or expired)"),
    403: models.problem("The key lacks the scope"),
    404: models.problem("Unknown id (another user's saved search is unknown too)"),
    422: models.problem("A parameter or the body is invalid: the detail names the field"),
    429: models.problem("Over the key's rate limit: see Retry-After"),
}
"""Every keyed route may answer these, as Problem Details (declared so clients and fuzzers know)."""

router = APIRouter(prefix=PREFIX)
for part in (catalog.router, listings.router, analytics.router, saved.router, searches.router):
    router.include_router(part, responses=KEYED_RESPONSES)
router.include_router(health.router)


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
             **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "header")] or [str(p) for p in loc]
    return ".".join(parts)


async def validation_problem(request: Request, exc: Exception) -> Response:
    """422 naming each bad field (``field: message``); the input itself is not echoed."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return _problem(422, "Unprocessable Content", detail, errors=errors)


async def http_problem(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) as Problem Details under /api/."""
    assert isinstance(exc, StarletteHTTPException)
    if not request.url.path.startswith("/api/"):
        return Response(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
    title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "Error")
    return _problem(exc.status_code, title, str(exc.detail), dict(exc.headers or {}))


async def server_problem(request: Request, exc: Exception) -> Response:
    """Anything unexpected: logged here with its trace; the client gets a 500 without one."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    if not request.url.path.startswith("/api/"):
        return Response("internal error", status_code=500)
    return server_error_response()


def server_error_response() -> Response:
    """The 500 of an API request: no trace, no internals (they are in the log)."""
    return _problem(500, "Internal Server Error", "the server could not answer this request; it was logged")


def install(app: FastAPI, *, engine: Engine, read_engine: Engine, rate_limit: str = DEFAULT_RATE_LIMIT,
            usage_flush_seconds: float = 5.0, key_cache_seconds: float = DEFAULT_TTL_SECONDS,
            searches: SearchLauncher | None = None) -> UsageMeter:
    """Add the API to ``app``; returns the usage meter, to start and stop with the app. ``searches``
    runs on-demand searches (without it ``POST /searches`` answers 503)."""
    app.state.engine = engine
    app.state.searches = searches
    app.state.read_engine = read_engine
    app.state.read_pool = ReadPool(read_engine)
    app.state.key_cache = KeyCache(key_cache_seconds)
    app.state.rate_limits = RateLimits(rate_limit)
    app.state.meter = UsageMeter(engine, usage_flush_seconds)
    app.add_middleware(UsageTiming, meter=app.state.meter)
    app.add_exception_handler(api.Problem, api.problem_response)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(Exception, server_problem)
    app.include_router(api.router, responses=KEYED_RESPONSES)
    app.include_router(router)

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return docs.page(app.openapi())

    return app.state.meter
