"""What every API route depends on: the caller (key, scope, rate limit, usage) and the engines.

(No ``from __future__ import annotations`` here: FastAPI reads the closure's annotations at runtime.)"""


import time
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from web.api import Problem, require_key
from web.api_v1.metering import RateLimits, UsageMeter
from web.sessions import Principal


def read_engine(request: Request) -> Engine:
    """The read-only role's engine: a read route cannot write, whatever its SQL says."""
    return request.app.state.read_engine


def write_engine(request: Request) -> Engine:
    return request.app.state.engine


def caller(scope: str) -> Callable[..., Iterator[Principal]]:
    """A valid key with ``scope``, under its rate limit; the request is counted in its usage."""
    authenticated = require_key(scope)

    def dependency(request: Request, principal: Annotated[Principal, Depends(authenticated)]) -> Iterator[Principal]:
        limits: RateLimits = request.app.state.rate_limits
        meter: UsageMeter = request.app.state.meter
        assert principal.key_id is not None
        wait = limits.retry_after(principal.key_id)
        if wait is not None:
            raise Problem(429, "Too Many Requests", f"this key may make {limits.item} requests: try again in "
                          f"{wait} s", {"Retry-After": str(wait)})
        started = time.perf_counter()
        try:
            yield principal
        finally:
            meter.add(principal.key_id, requests=1, seconds=time.perf_counter() - started)

    return dependency


Reader = Annotated[Principal, Depends(caller("read"))]
Writer = Annotated[Principal, Depends(caller("write"))]
ReadEngine = Annotated[Engine, Depends(read_engine)]
"""Routes open their connection themselves, in the thread that runs them: a connection held by a
yield dependency would wait for a worker thread while threads wait for connections (a deadlock
once requests outnumber the pool)."""
