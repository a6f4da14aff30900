"""The request gate in front of every demo route: request counting and the fault seam.

Tests and benchmarks need to know how many requests a scraper really made (politeness,
caching, retries), so every request is counted per shop and path kind, and `GET /_stats`
exposes the counters. Fault injection (429 + Retry-After, 503 bursts, slow responses, resets,
malformed HTML, huge bodies, redirect loops, login walls) will plug in here: a `Fault` is an
async callable wrapping the real handler, registered per shop in `FaultRegistry` and
switchable at runtime. The registry is empty today, so the gate costs one dict lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Route names are "<shop>.<kind>" (e.g. "toko.search"); these are not counted.
UNCOUNTED = frozenset({"site.stats", "site.stats_reset"})


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


class RequestStats:
    """Request counters per shop and path kind (search, item, img, data, asset, home, ...)."""

    def __init__(self, shops: tuple[str, ...]) -> None:
        self._shops = shops
        self._counts: dict[str, dict[str, int]] = {}
        self.reset()

    def hit(self, shop: str, kind: str) -> None:
        per_shop = self._counts.setdefault(shop, {})
        per_shop[kind] = per_shop.get(kind, 0) + 1

    def reset(self) -> None:
        self._counts = {shop: {} for shop in self._shops}

    def snapshot(self) -> dict:
        shops = {shop: dict(sorted(kinds.items())) for shop, kinds in self._counts.items()}
        total = sum(sum(kinds.values()) for kinds in shops.values())
        return {"total": total, "shops": shops}


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
        where = _classify(request, shops)
        if where is None:
            return await handler(request)
        shop, kind = where
        stats.hit(shop, kind)
        active = faults.get(shop)
        if not active:
            return await handler(request)
        wrapped = handler
        for fault in reversed(active):
            wrapped = _bind(fault, wrapped)
        return await wrapped(request)

    return gate


def _bind(fault: Fault, inner: Handler) -> Handler:
    async def call(request: web.Request) -> web.StreamResponse:
        return await fault(request, inner)

    return call
