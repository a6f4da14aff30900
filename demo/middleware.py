"""The request gate in front of every demo route: request counting, faults, HTTP validators.

Tests and benchmarks need to know how many requests a scraper really made (politeness,
caching, retries), so every request is counted per shop and path kind, with the shop's peak
load (requests in flight at once, requests started within a second), and `GET /_stats`
exposes the counters. Fault injection (429 + Retry-After, 503 bursts, slow responses, resets,
malformed HTML, huge bodies, redirect loops, login walls: `demo.faults`) plugs in here: a
`Fault` is an async callable wrapping the real handler, registered per shop in `FaultRegistry`
and switchable at runtime (`/_faults`). With no fault active the gate costs one dict lookup.

Detail pages (path kinds `item`, `item_api`, `item_data`) carry an `ETag` (hash of the body)
and a `Last-Modified` (the start of the requested `asof` day) and answer a matching
`If-None-Match` / `If-Modified-Since` with `304 Not Modified`, so scrapers can revalidate.
The gate also serves `/robots.txt` when one is configured (`FaultRegistry.robots_txt`).
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol

from aiohttp import web

from demo.faults import KIND_KEY, SHOP_KEY, fault_from_spec
from demo.shops import DEFAULT_ROBOTS_TXT

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Route names are "<shop>.<kind>" (e.g. "toko.search"); these are not counted.
UNCOUNTED = frozenset({"site.stats", "site.stats_reset", "site.faults", "site.faults_set", "site.faults_clear"})
DETAIL_KINDS = frozenset({"item", "item_api", "item_data"})


class Fault(Protocol):
    """A fault mode: gets the request and the real handler, returns the (mis)behaving response.

    A fault may call `handler(request)` and alter the result (slow it down, corrupt the body),
    or answer without calling it (429, 503, redirect loop, login wall, connection reset).
    """

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse: ...


class FaultRegistry:
    """Active faults per shop; changed at runtime (e.g. by a test or an admin endpoint)."""

    def __init__(self) -> None:
        self._by_shop: dict[str, tuple[Fault, ...]] = {}
        self.robots_txt: str | None = DEFAULT_ROBOTS_TXT  # served at /robots.txt when set (else 404)
        self.robots_status = 200

    def configure(self, shop: str, specs: list[dict[str, Any]]) -> None:
        """Replace the shop's faults with ones built from JSON specs (`demo.faults`); [] = none."""
        self.set(shop, *(fault_from_spec(spec) for spec in specs))

    def describe(self) -> dict[str, Any]:
        return {"shops": {shop: [_describe(f) for f in faults] for shop, faults in sorted(self._by_shop.items())},
                "robots_txt": self.robots_txt, "robots_status": self.robots_status}

    def set(self, shop: str, *faults: Fault) -> None:
        if faults:
            self._by_shop[shop] = faults
        else:
            self._by_shop.pop(shop, None)

    def clear(self, shop: str | None = None) -> None:
        if shop is None:
            self._by_shop.clear()
        else:
            self._by_shop.pop(shop, None)

    def get(self, shop: str) -> tuple[Fault, ...]:
        return self._by_shop.get(shop, ())


def _describe(fault: Fault) -> dict[str, Any]:
    describe = getattr(fault, "describe", None)
    return describe() if describe is not None else {"mode": repr(fault)}


class RequestStats:
    """Request counters per shop and path kind (search, item, img, data, asset, home, ...), and how
    hard each shop was hit: the most requests it had in flight at once and the most that started
    within one second (a scraper's politeness, seen from the server, whatever process sent them)."""

    def __init__(self, shops: tuple[str, ...]) -> None:
        self._shops = shops
        self._counts: dict[str, dict[str, int]] = {}
        self._in_flight: dict[str, int] = {}
        self._peak_in_flight: dict[str, int] = {}
        self._recent_starts: dict[str, deque[float]] = {}
        self._busiest_second: dict[str, int] = {}
        self.reset()

    def hit(self, shop: str, kind: str) -> None:
        per_shop = self._counts.setdefault(shop, {})
        per_shop[kind] = per_shop.get(kind, 0) + 1

    def started(self, shop: str) -> None:
        """A request of ``shop`` is being answered (pair with :meth:`finished`)."""
        now = time.monotonic()
        in_flight = self._in_flight.get(shop, 0) + 1
        self._in_flight[shop] = in_flight
        self._peak_in_flight[shop] = max(self._peak_in_flight.get(shop, 0), in_flight)
        starts = self._recent_starts.setdefault(shop, deque())
        starts.append(now)
        while starts and starts[0] <= now - 1.0:
            starts.popleft()
        self._busiest_second[shop] = max(self._busiest_second.get(shop, 0), len(starts))

    def finished(self, shop: str) -> None:
        self._in_flight[shop] = self._in_flight.get(shop, 1) - 1

    def reset(self) -> None:
        self._counts = {shop: {} for shop in self._shops}
        self._peak_in_flight = {}
        self._recent_starts = {}
        self._busiest_second = {}

    def snapshot(self) -> dict:
        shops = {shop: dict(sorted(kinds.items())) for shop, kinds in self._counts.items()}
        total = sum(sum(kinds.values()) for kinds in shops.values())
        load = {shop: {"peak_in_flight": self._peak_in_flight[shop], "busiest_second": self._busiest_second[shop]}
                for shop in sorted(self._peak_in_flight)}
        return {"total": total, "shops": shops, "load": load}


def _classify(request: web.Request, shops: tuple[str, ...]) -> tuple[str, str] | None:
    name = request.match_info.route.name
    if name:
        if name in UNCOUNTED:
            return None
        shop, _, kind = name.partition(".")
        return shop, kind
    first = request.path.split("/", 2)[1] if request.path.count("/") else ""
    return (first if first in shops else "site"), "unmatched"


def make_gate(stats: RequestStats, faults: FaultRegistry, shops: tuple[str, ...]) -> Callable:
    """Build the middleware: count the request, then run it through the shop's faults (if any)."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/robots.txt":
            stats.hit("site", "robots")
            if faults.robots_txt is None:
                raise web.HTTPNotFound()
            return web.Response(text=faults.robots_txt, status=faults.robots_status, content_type="text/plain")
        where = _classify(request, shops)
        if where is None:
            return await handler(request)
        shop, kind = where
        stats.hit(shop, kind)
        if kind in DETAIL_KINDS:
            handler = _bind(_conditional, handler)
        active = faults.get(shop)
        if active:
            request[SHOP_KEY], request[KIND_KEY] = shop, kind
            for fault in reversed(active):
                handler = _bind(fault, handler)
        stats.started(shop)
        try:
            return await handler(request)
        finally:
            stats.finished(shop)

    return gate


def _last_modified(request: web.Request) -> datetime:
    try:
        day = date.fromisoformat(request.query.get("asof", ""))
    except ValueError:
        day = datetime.now(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def _conditional(request: web.Request, handler: Handler) -> web.StreamResponse:
    """ETag + Last-Modified on 200 detail pages; 304 when the client's copy is current."""
    response = await handler(request)
    if response.status != 200 or not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return response
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:20] + '"'
    modified = _last_modified(request)
    headers = {"ETag": etag, "Last-Modified": email.utils.format_datetime(modified, usegmt=True),
               "Cache-Control": "no-cache"}
    if_none_match = request.headers.get("If-None-Match")
    if_modified_since = request.headers.get("If-Modified-Since")
    not_modified = False
    if if_none_match is not None:
        not_modified = etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    elif if_modified_since:
        try:
            not_modified = email.utils.parsedate_to_datetime(if_modified_since) >= modified
        except (TypeError, ValueError):
            not_modified = False
    if not_modified:
        return web.Response(status=304, headers=headers)
    response.headers.update(headers)
    return response


def _bind(fault: Fault, inner: Handler) -> Handler:
    async def call(request: web.Request) -> web.StreamResponse:
        return await fault(request, inner)

    return call
