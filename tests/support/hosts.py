"""Servers on three loopback addresses with test host names the fence resolves (no system DNS).

``shop.test`` is 127.0.0.1, ``other.test`` 127.0.0.2 and ``intranet.test`` 127.0.0.3, each an
aiohttp server recording every request it receives (path and lower-cased headers).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from downloader.fence import HostFence


@dataclass
class Seen:
    """What one server received: (path, lower-cased headers) per request."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def headers(self, path: str) -> dict[str, str]:
        return next(h for p, h in self.requests if p == path)


@dataclass
class Hosts:
    """Three servers: the shop on 127.0.0.1, another host on .2 and an "intranet" one on .3."""

    shop: int
    other: int
    intranet: int
    seen: dict[str, Seen]
    lookups: list[str]

    def fence(self, *allowed: str, answers: dict[str, Sequence[Sequence[str]]] | None = None) -> HostFence:
        names = {"shop.test": [["127.0.0.1"]], "other.test": [["127.0.0.2"]], "intranet.test": [["127.0.0.3"]],
                 **(answers or {})}
        calls: dict[str, int] = {}

        async def resolve(host: str, port: int) -> list[str]:
            self.lookups.append(host)
            if host not in names:
                raise OSError(f"unknown test host {host}")
            index = calls[host] = calls.get(host, -1) + 1
            return list(names[host][min(index, len(names[host]) - 1)])

        return HostFence(f"http://shop.test:{self.shop}/shop", allowed, owner="shop", resolver=resolve)


def _recorder(seen: Seen, routes: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.requests.append((request.path_qs, {k.lower(): v for k, v in request.headers.items()}))
        return await handler(request)

    app = web.Application(middlewares=[record])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    return app


Handler = Callable[[web.Request], Awaitable[web.Response]]


def page(body: str = "<html><body>ok</body></html>", **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html", headers=headers)
    return handler


def redirect(target: Callable[[], str], *, cookie: bool = False) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        response = web.Response(status=302, headers={"Location": target()})
        if cookie:
            response.set_cookie("set_by_shop", "v1")
        return response
    return handler


@contextlib.asynccontextmanager
async def three_hosts(shop_routes: dict[str, Any], other_routes: dict[str, Any] | None = None,
                      intranet_routes: dict[str, Any] | None = None) -> AsyncIterator[Hosts]:
    seen = {"shop": Seen(), "other": Seen(), "intranet": Seen()}
    runners = []
    ports = []
    for name, address, routes in (("shop", "127.0.0.1", shop_routes), ("other", "127.0.0.2", other_routes),
                                  ("intranet", "127.0.0.3", intranet_routes)):
        app = _recorder(seen[name], routes or {"/b": page(), "/": page()})
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, address, 0).start()
        runners.append(runner)
        ports.append(runner.addresses[0][1])
    try:
        yield Hosts(shop=ports[0], other=ports[1], intranet=ports[2], seen=seen, lookups=[])
    finally:
        for runner in runners:
            await runner.cleanup()
