"""API-key authentication for HTTP endpoints: ``Authorization: Bearer mpk_…`` plus a scope.

``require_key("read")`` / ``require_key("write")`` are FastAPI dependencies that return the
key's :class:`~web.sessions.Principal`; failures are Problem Details (RFC 9457) bodies: 401 for a
missing, malformed, unknown, revoked or expired key (one answer for all, the reason goes to the
log), 403 when the key lacks the scope. An app whose state holds a ``key_cache``
(:class:`~web.key_cache.KeyCache`) checks a recently accepted key in memory, without the database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from web.api_keys import KeyRejected, authenticate
from web.key_cache import KeyCache
from web.keys import SCOPES
from web.sessions import Principal

log = logging.getLogger("market_pulse.web")

_bearer = HTTPBearer(auto_error=False, description="An API key from `market-pulse keys create`.")


class Problem(Exception):
    """An error answered as ``application/problem+json``."""

    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers or {}


def problem_response(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return JSONResponse({"type": "about:blank", "title": exc.title, "status": exc.status, "detail": exc.detail},
                        status_code=exc.status, headers=exc.headers, media_type="application/problem+json")


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _authenticate(engine: Engine, key: str) -> Principal:
    with engine.begin() as conn:
        return authenticate(conn, key)


def require_key(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits requests carrying a valid API key with ``scope``. (``async``: a key
    found in the app's key cache costs no worker-thread hop; only a lookup goes to a thread.)"""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def dependency(request: Request,
                         credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
        challenge = {"WWW-Authenticate": f'Bearer scope="{scope}"'}
        if credentials is None:
            raise Problem(401, "Unauthorized", "an API key is needed: Authorization: Bearer <key>", challenge)
        key = credentials.credentials
        cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
        principal = cache.get(key) if cache is not None else None
        if principal is None:
            try:
                principal = await anyio.to_thread.run_sync(_authenticate, _engine(request), key)
            except KeyRejected as exc:
                log.warning("API key refused from %s: %s", request.client.host if request.client else "?", exc)
                raise Problem(401, "Unauthorized", "the API key is not valid (unknown, revoked or expired)",
                              {"WWW-Authenticate": f'Bearer error="invalid_token", scope="{scope}"'}) from None
            if cache is not None:
                cache.put(key, principal)
        if scope not in principal.scopes:
            raise Problem(403, "Forbidden", f"this key's scopes ({', '.join(principal.scopes)}) do not include "
                          f"{scope}", {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'})
        return principal

    return dependency


router = APIRouter(prefix="/api/v1", tags=["account"])


@router.get("/me", summary="Who this API key belongs to")
async def me(principal: Annotated[Principal, Depends(require_key("read"))]) -> dict[str, Any]:
    return {"user": principal.username, "role": principal.role, "scopes": list(principal.scopes)}
