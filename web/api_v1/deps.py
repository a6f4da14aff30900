"""What every API route depends on: the caller (key, scope, rate limit, usage) and the engines.

(No ``from __future__ import annotations`` here: FastAPI reads the closure's annotations at runtime.)"""


from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from web.api import Problem, require_key
from web.api_v1.metering import RateLimits
from web.api_v1.reading import ReadPool
from web.sessions import Principal


async def read_engine(request: Request) -> Engine:
    """The read-only role's engine: a read route cannot write, whatever its SQL says. (``async``:
    FastAPI runs a plain ``def`` dependency in a worker thread, a hop this one does not need.)"""
    return request.app.state.read_engine


async def read_pool(request: Request) -> ReadPool:
    """The read-only role's pool with its limiter: ``await pool.run(work)`` (:mod:`web.api_v1.reading`)."""
    return request.app.state.read_pool


async def write_engine(request: Request) -> Engine:
    return request.app.state.engine


def caller(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A valid key with ``scope``, under its rate limit. The request is counted in the key's usage
    when it has been answered (:class:`~web.api_v1.metering.UsageTiming`)."""
    authenticated = require_key(scope)

    async def dependency(request: Request, principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        limits: RateLimits = request.app.state.rate_limits
        assert principal.key_id is not None
        wait = limits.retry_after(principal.key_id)
        if wait is not None:
            raise Problem(429, "Too Many Requests", f"this key may make {limits.item} requests: try again in "
                          f"{wait} s", {"Retry-After": str(wait)})
        request.state.api_key_id = principal.key_id
        return principal

    return dependency


Reader = Annotated[Principal, Depends(caller("read"))]
Writer = Annotated[Principal, Depends(caller("write"))]
ReadEngine = Annotated[Engine, Depends(read_engine)]
Reading = Annotated[ReadPool, Depends(read_pool)]
"""Routes open their connection themselves, in the thread that runs them (``Reading``'s ``run``
does): a connection held by a yield dependency would wait for a worker thread while threads wait
for connections (a deadlock once requests outnumber the pool)."""
