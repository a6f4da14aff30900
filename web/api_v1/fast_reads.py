"""The API's three busiest reads, answered without FastAPI's routing and dependency solving.

A price history, a page of ``listings?q=`` and ``comps?q=`` are most of what clients ask for, and
for them FastAPI's machinery (matching the path against every route, solving the key, scope, rate
limit and pool dependencies, extracting each parameter) costs about as much server CPU as the
query itself (bench/RESULTS.md). :class:`FastReads` sits in front of the FastAPI app and answers
such a request itself when it is plainly valid:

- ``GET`` on one of the three paths;
- a bearer key already in the key cache (:mod:`web.key_cache`) with the ``read`` scope;
- a query that validates against the route's own query model (the same class the route declares,
  so the bounds, patterns and defaults are one definition) and that the route's read accepts;
- under the key's rate limit (checked, and counted, by the same :class:`RateLimits`).

The answer is then built by the same read function the route calls, through the same read pool,
and counted in the key's usage as :class:`~web.api_v1.metering.UsageTiming` counts it. Anything
else (no key, a key not yet cached, a bad parameter, over the limit, another method) goes on to
the FastAPI route unchanged: errors, the schema and the docs all come from there, so this path can
only answer what the route would answer the same way (tests/test_api_fast_reads.py compares them).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from web.api import Problem, problem_response
from web.api_v1 import server_error_response
from web.api_v1.catalog import PriceHistoryQuery, price_history_read
from web.api_v1.listings import CompsQuery, ListingsQuery, comps_read, listings_read
from web.api_v1.params import BIGINT
from web.key_cache import KeyCache
from web.sessions import Principal

log = logging.getLogger("market_pulse.web")

Read = Callable[[Connection], Any]


@dataclass(frozen=True)
class FastRoute:
    """A path (its id groups become the read's first arguments), its query model and its read."""

    path: re.Pattern[str]
    query: type[BaseModel]
    read: Callable[..., Read]


ROUTES = (
    FastRoute(re.compile(r"/api/v1/products/([1-9][0-9]{0,18})/price-history"), PriceHistoryQuery,
              price_history_read),
    FastRoute(re.compile(r"/api/v1/listings"), ListingsQuery, listings_read),
    FastRoute(re.compile(r"/api/v1/comps"), CompsQuery, comps_read),
)


def cached_principal(scope: Scope, cache: KeyCache) -> Principal | None:
    """The principal of the request's bearer key when the key cache holds it (else None: the route
    then checks the key, and caches it)."""
    authorization = next((v for k, v in scope["headers"] if k == b"authorization"), None)
    if authorization is None:
        return None
    scheme, key = get_authorization_scheme_param(authorization.decode("latin-1"))
    if scheme.lower() != "bearer" or not key:
        return None
    return cache.get(key)


def prepared_read(route: FastRoute, ids: tuple[str, ...], query_string: bytes) -> Read | None:
    """The route's read for this request, or None when the route should decide (a bad id or
    parameter, which it answers with its own 422 or 404)."""
    numbers = [int(i) for i in ids]
    if any(n > BIGINT for n in numbers):
        return None
    try:
        query = route.query.model_validate(dict(QueryParams(query_string)))
        return route.read(*numbers, query)
    except (ValidationError, Problem):
        return None


class FastReads:
    """ASGI: the three busiest reads when plainly valid (see the module); everything else to ``app``."""

    def __init__(self, app: FastAPI) -> None:
        self.app: ASGIApp = app
        """Where every request this path does not answer goes."""
        self.state = app.state
        """The FastAPI app's state: key cache, rate limits, read pool, usage meter."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            for route in ROUTES:
                match = route.path.fullmatch(path)
                if match is not None:
                    if await self.answer(route, match.groups(), scope, receive, send):
                        return
                    break
        await self.app(scope, receive, send)

    async def answer(self, route: FastRoute, ids: tuple[str, ...], scope: Scope, receive: Receive,
                     send: Send) -> bool:
        """Answer the request and return True, or return False having sent nothing."""
        started = time.perf_counter()
        state = self.state
        principal = cached_principal(scope, state.key_cache)
        if principal is None or "read" not in principal.scopes or principal.key_id is None:
            return False
        read = prepared_read(route, ids, scope.get("query_string", b""))
        if read is None or state.rate_limits.retry_after(principal.key_id) is not None:
            return False
        try:
            response = await state.read_pool.answer(read)
        except Problem as exc:
            response = problem_response(Request(scope), exc)
        except Exception:
            log.exception("GET %s failed", scope["path"])
            response = server_error_response()
        try:
            await response(scope, receive, send)
        finally:
            state.meter.add(principal.key_id, requests=1, seconds=time.perf_counter() - started)
        return True

