"""On-demand search: ``POST /searches`` searches the vendors now; its progress streams as Server-Sent Events.

An identical search of the caller's (same query, case and spacing aside, same vendors) younger than
``max_age_minutes`` answers at once (``cache_hit: true``), finished or still running. Otherwise a
request is recorded and handed to the process's search launcher (the pipeline's own code, passed
in by the command that started the front door: this package never fetches anything itself), which
crawls each vendor with its politeness rules, archives and publishes like the day's scrape and
writes a timeline that ``GET /searches/{id}/events`` streams: ``started``, ``page``, ``results``,
``error`` per vendor, then ``done``. Requests are their owner's: another user's is a 404.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sse_starlette import EventSourceResponse, ServerSentEvent

from pipelines.alerts.manage import known_vendors
from pipelines.on_demand import store
from pipelines.on_demand.query import clean_query, query_key, vendor_set
from web.api import Problem
from web.api_v1 import models
from web.api_v1.deps import ReadEngine, Reader, Writer, write_engine
from web.api_v1.metering import UsageMeter
from web.api_v1.params import NO_NUL, SearchId

router = APIRouter(tags=["on-demand search"])

WriteEngine = Annotated[Engine, Depends(write_engine)]

POLL_SECONDS = 0.2
"""How often an open event stream looks for new events."""
STREAM_LIMIT_SECONDS = 600.0
"""An event stream ends after this long even if the search has not (reconnect with Last-Event-ID)."""


EVENT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["event", "data", "id"],
    "properties": {"event": {"type": "string", "enum": list(store.EVENT_TYPES)},
                   "data": {"type": "string", "contentMediaType": "application/json",
                            "description": "JSON: `vendor` (null for done) and the step's fields"},
                   "id": {"type": "string", "description": "Send it back as Last-Event-ID to resume"}},
}
"""One Server-Sent Event of the stream."""


class SearchLauncher(Protocol):
    """Runs recorded requests in the background (the pipeline's ``BackgroundSearches``)."""

    def launch(self, request_id: int, on_finished: Callable[[Any], None] | None = None) -> None:
        """Start searching; ``on_finished`` gets the summary (``.pages``) when it is done."""

    def warm(self) -> object:
        """Get ready for the first search (load the code location) without blocking."""

    def close(self) -> None:
        """Let running searches finish, then free what the searches held."""


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$",
                       description="What to search the shops for, as a shopper would type it.")
    vendors: list[Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]] = Field(
        default_factory=list, max_length=50, description="Vendors to search (see /vendors); empty: every vendor.")
    max_age_minutes: int = Field(default=60, ge=0, le=10_080, description="Answer from an identical search of "
                                 "yours at most this old (0: always search now).")


class FoundListing(BaseModel):
    id: int
    title: str
    price: str | None = Field(description="Decimal, as text.")
    currency: str
    url: str | None
    condition: str | None
    sold: bool
    position: int


class VendorResult(BaseModel):
    vendor: str
    status: Literal["running", "results", "error"]
    count: int = 0
    pages: int = 0
    error: str | None = None
    listings: list[FoundListing] = Field(default_factory=list, description="The first 100, in the shop's order.")


class SearchOut(BaseModel):
    id: int
    query: str
    vendors: list[str] = Field(description="The vendors asked for; empty: every vendor.")
    status: Literal["running", "done", "failed"]
    cache_hit: bool
    pages: int
    results: int
    error: str | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    events_url: str
    vendor_results: list[VendorResult]


def _own_request(engine: Engine, user_id: int, request_id: int) -> Any:
    with engine.connect() as conn:
        row = store.request(conn, request_id)
    if row is None or row.user_id != user_id:
        raise Problem(404, "Not Found", f"no search {request_id}")
    return row


def _search_out(engine: Engine, row: Any, cache_hit: bool) -> SearchOut:
    with engine.connect() as conn:
        events = store.events_after(conn, row.id, 0, limit=10_000)
    by_vendor: dict[str, VendorResult] = {}
    for event in events:
        if event.vendor is None:
            continue
        result = by_vendor.setdefault(event.vendor, VendorResult(vendor=event.vendor, status="running"))
        data = event.data
        if event.event_type == "page":
            result.pages += 1
        elif event.event_type == "results":
            result.status, result.count, result.pages = "results", data["count"], data["pages"]
            result.listings = [FoundListing.model_validate(item) for item in data["listings"]]
        elif event.event_type == "error":
            result.status, result.error = "error", data["message"]
    return SearchOut(id=row.id, query=row.query, vendors=list(row.vendors), status=row.status, cache_hit=cache_hit,
                     pages=row.pages, results=row.results, error=row.error, created_at=row.created_at,
                     completed_at=row.completed_at, events_url=f"/api/v1/searches/{row.id}/events",
                     vendor_results=list(by_vendor.values()))


@router.post("/searches", status_code=202, summary="Search the shops now (or answer from a recent identical search)",
             responses={200: {"model": SearchOut, "description": "An identical search of yours, recent enough"},
                        503: models.problem("This server cannot run on-demand searches")})
def start_search(body: SearchIn, request: Request, response: Response, caller: Writer, engine: WriteEngine,
                 read: ReadEngine) -> SearchOut:
    query, key, vendors = clean_query(body.query), query_key(body.query), vendor_set(body.vendors)
    with read.connect() as conn:
        unknown = sorted(set(vendors) - known_vendors(conn))
        if unknown:
            raise Problem(422, "Unprocessable Content",
                          f"vendors: unknown vendor(s) {', '.join(unknown)} (see /vendors)")
        earlier = store.fresh_request(conn, query_key=key, vendors=vendors, max_age_minutes=body.max_age_minutes,
                                      user_id=caller.user_id)
    if earlier is not None:
        response.status_code = 200
        return _search_out(read, _own_request(read, caller.user_id, earlier), cache_hit=True)
    launcher: SearchLauncher | None = getattr(request.app.state, "searches", None)
    if launcher is None:
        raise Problem(503, "Service Unavailable", "on-demand search is not available on this server: it was started "
                      "without the pipeline (start the front door with `market-pulse web`)")
    with engine.begin() as conn:
        request_id = store.create_request(conn, query=query, query_key=key, vendors=vendors, user_id=caller.user_id,
                                          api_key_id=caller.key_id)
        row = store.request(conn, request_id)
    meter: UsageMeter = request.app.state.meter
    key_id = caller.key_id
    assert key_id is not None
    meter.add(key_id, searches=1)
    launcher.launch(request_id, lambda summary: meter.add(key_id, pages=summary.pages))
    return _search_out(read, row, cache_hit=False)


@router.get("/searches/{search_id}", summary="One of your on-demand searches: its state and what each vendor found")
def get_search(search_id: SearchId, caller: Reader, engine: ReadEngine) -> SearchOut:
    return _search_out(engine, _own_request(engine, caller.user_id, search_id), cache_hit=False)


@router.get("/searches/{search_id}/events", response_class=EventSourceResponse,
            summary="The search's progress as Server-Sent Events (started, page, results, error, done)",
            responses={200: {"content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
                             "description": "One event per step; each `data` is JSON with its `vendor`; the "
                             "stream ends after `done`. Resume with Last-Event-ID."}})
async def search_events(search_id: SearchId, caller: Reader, engine: ReadEngine,
                        last_event_id: Annotated[str | None, Header(max_length=20, pattern=NO_NUL)] = None
                        ) -> EventSourceResponse:
    await asyncio.to_thread(_own_request, engine, caller.user_id, search_id)
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    return EventSourceResponse(_stream(engine, search_id, after), ping=15)


async def _stream(engine: Engine, request_id: int, after: int) -> AsyncIterator[ServerSentEvent]:
    deadline = time.monotonic() + STREAM_LIMIT_SECONDS
    while time.monotonic() < deadline:
        rows = await asyncio.to_thread(_events, engine, request_id, after)
        for row in rows:
            after = row.id
            yield ServerSentEvent(data=json.dumps({"vendor": row.vendor, **row.data}, default=str),
                                  event=row.event_type, id=str(row.id))
            if row.event_type == "done":
                return
        if not rows:
            await asyncio.sleep(POLL_SECONDS)


def _events(engine: Engine, request_id: int, after: int) -> list[Any]:
    with engine.connect() as conn:
        return store.events_after(conn, request_id, after)
