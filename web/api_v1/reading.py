"""How the API's read routes reach the warehouse: one worker-thread hop per request, never more
hops at once than the read pool has connections, and no round trip spent on pinging.

- The routes are ``async``: FastAPI then runs their dependencies and validates and serialises
  their answer on the event loop, and only the database work goes to a worker thread. (A plain
  ``def`` route costs a hop for the route and another for validating its answer.)
- The hop waits on a limiter as wide as the pool: requests beyond it wait on the event loop, in
  order, instead of in threads that wait for a connection (unfairly) and contend for the GIL.
- The pool does not ping a connection before lending it (a round trip on every request); a read
  whose connection turns out dead (the server restarted) is run again once on a fresh one: reads
  change nothing, so running one twice is safe.
- Its connections are in autocommit: no ``BEGIN`` before the first statement and no ``ROLLBACK``
  when the connection is given back (two round trips of the three or four a read costs). Each
  statement sees what was committed when it started, so a route's two statements (comps' band
  and its listings) may straddle a scrape's commit: for these reads that is harmless.

An asyncio engine (psycopg's async mode, the route's code run with ``run_sync``) was tried
instead of the worker threads: with 10 clients it answered 55-76 requests/s where the threads
answer 97-99 (bench/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import anyio
from pydantic_core import to_json
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError
from starlette.responses import Response

from infra.settings import with_driver

T = TypeVar("T")

READ_POOL_SIZE = 10
"""Connections of the API's read pool, and reads running at once."""
READ_POOL_OVERFLOW = 5
"""Extra connections for reads outside the limiter (other routes, readiness)."""

_ENGINES: dict[str, Engine] = {}


def read_engine_for(url: str) -> Engine:
    """The API's read pool on ``url`` (one per URL per process): autocommit, no pre-ping,
    connections recycled hourly."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = create_engine(with_driver(url, "psycopg"), pool_size=READ_POOL_SIZE,
                               max_overflow=READ_POOL_OVERFLOW, pool_pre_ping=False, pool_recycle=3600,
                               isolation_level="AUTOCOMMIT")
        _ENGINES[url] = engine
    return engine


def read_with_retry(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work`` on a pooled connection; once more on a fresh one if that connection was dead (the
    pool then drops every connection made before, so one retry is enough)."""
    try:
        with engine.connect() as conn:
            return work(conn)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    with engine.connect() as conn:
        return work(conn)


@dataclass
class ReadPool:
    """The read engine and the limiter of hops to it (made on first use, inside the event loop)."""

    engine: Engine
    size: int = READ_POOL_SIZE
    _limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)

    async def run(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in a worker thread, on a connection of the read pool."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.size)
        return await anyio.to_thread.run_sync(partial(read_with_retry, self.engine, work), limiter=self._limiter)

    async def answer(self, work: Callable[[Connection], Any]) -> Response:
        """``work``'s models as the JSON answer, serialised in the worker thread too. The models were
        validated as they were built from the rows: returning a ``Response`` spares FastAPI
        validating them a second time against the route's ``response_model`` (which the schema and
        the docs still show) and serialising them on the event loop."""

        def serialised(conn: Connection) -> bytes:
            return to_json(work(conn), by_alias=True)

        return Response(await self.run(serialised), media_type="application/json")
