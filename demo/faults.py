"""Fault modes of the demo marketplace: how real shops misbehave, switchable per shop at runtime.

Each fault is an async callable `(request, handler) -> response` registered for one shop in the
site's `FaultRegistry` (`demo.middleware`). Switch them

* from Python: ``app[SITE].faults.configure("toko", [{"mode": "rate_limit", "rate": 0.1}])`` or
  ``app[SITE].faults.set("toko", RateLimited(retry_after=1))``;
* over HTTP: ``POST /_faults`` with ``{"shop": "toko", "faults": [{"mode": "unavailable", "times": 3}]}``
  (an empty list switches the shop's faults off), ``DELETE /_faults`` (all off, robots.txt too),
  ``GET /_faults`` (what is active and how often each fault fired), and
  ``POST /_faults`` with ``{"robots_txt": "User-agent: *\\nDisallow: /toko/"}`` (or ``null``) to
  serve a site-wide ``/robots.txt`` (``{"robots_status": 503}`` makes it fail).

Which requests a fault hits (options shared by every mode, all optional; default: every request
of the shop): ``kinds`` (path kinds as counted by ``/_stats``, e.g. ``["search"]``), ``after``
(let the first N matching requests through), ``times`` (then fire N times and stop: a burst),
``every`` (every k-th matching request) and ``rate`` (probability, from a seeded RNG: ``seed``).

Modes (extra options in brackets):

=================  ==========================================================================
rate_limit         429 with Retry-After [retry_after=1 seconds, retry_after_format="seconds"|"http-date"]
unavailable        503 [retry_after: optional]
slow               wait, then answer normally [delay=2.0 seconds]
reset              drop the connection (TCP RST) without an answer
truncate           send the headers and half the body, then close (Content-Length promises more)
truncate_html      a complete HTTP answer whose HTML stops halfway (no closing ``</html>``)
malformed          200 with garbage instead of the page (binary junk between <html> tags)
layout             the page with its markup renamed (CSS classes and JSON keys get a ``v2-`` prefix)
huge               200 with a body of ``size_mb`` MB (default 20) [chunked=false: stream it]
redirect_loop      302 back to the same URL, forever
login_wall         requests without cookie ``cookie``=``value`` go to ``/<shop>/login`` (a page with
                   ``form#login``); with ``valid_for=N`` even a good cookie stops working after N
                   requests (the session "expires") [cookie="demo_session", value="letmein"]
=================  ==========================================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import random
import re
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar
from urllib.parse import quote

import orjson
from aiohttp import web

from demo.shops import DEFAULT_ROBOTS_TXT

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

KIND_KEY = web.RequestKey("demo_kind", str)  # the path kind the gate classified the request as
SHOP_KEY = web.RequestKey("demo_shop", str)


class FaultSpecError(ValueError):
    """A fault description is invalid (answered with 400 by POST /_faults)."""


class Fault:
    """Base: decides whether a request is hit (see module doc), counts hits, then `inject`s."""

    mode: ClassVar[str] = ""
    _options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, kinds: list[str] | None = None, after: int = 0, times: int | None = None,
                 every: int | None = None, rate: float | None = None, seed: int = 0) -> None:
        if after < 0 or (times is not None and times < 0) or (every is not None and every < 1):
            raise FaultSpecError("after/times must be >= 0 and every >= 1")
        if rate is not None and not 0 <= rate <= 1:
            raise FaultSpecError("rate must be between 0 and 1")
        self.kinds = frozenset(kinds) if kinds else None
        self.after, self.times, self.every, self.rate = after, times, every, rate
        self._rng = random.Random(seed)
        self.seen = 0  # matching requests
        self.injected = 0  # requests actually hit
        self._spec: dict[str, Any] = {}

    def selects(self, request: web.Request) -> bool:
        if self.kinds is not None and request.get(KIND_KEY) not in self.kinds:
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.injected >= self.times:
            return False
        if self.every is not None and (self.seen - self.after) % self.every != 0:
            return False
        return not (self.rate is not None and self._rng.random() >= self.rate)

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.selects(request):
            return await handler(request)
        self.injected += 1
        return await self.inject(request, handler)

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, **self._spec, "seen": self.seen, "injected": self.injected}


class RateLimited(Fault):
    mode = "rate_limit"
    _options = ("retry_after", "retry_after_format")

    def __init__(self, retry_after: float = 1, retry_after_format: str = "seconds", **selection: Any) -> None:
        super().__init__(**selection)
        if retry_after_format not in ("seconds", "http-date"):
            raise FaultSpecError("retry_after_format must be 'seconds' or 'http-date'")
        self.retry_after, self.retry_after_format = retry_after, retry_after_format

    def retry_after_header(self) -> str:
        if self.retry_after_format == "http-date":
            # whole seconds: round up so the client never waits less than retry_after
            return email.utils.formatdate(math.ceil(time.time()) + self.retry_after, usegmt=True)
        return str(int(self.retry_after)) if float(self.retry_after).is_integer() else str(self.retry_after)

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return web.Response(status=429, text="Too many requests, slow down\n",
                            headers={"Retry-After": self.retry_after_header()})


class Unavailable(Fault):
    mode = "unavailable"
    _options = ("retry_after",)

    def __init__(self, retry_after: float | None = None, **selection: Any) -> None:
        super().__init__(**selection)
        self.retry_after = retry_after

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return web.Response(status=503, text="Service temporarily unavailable\n", headers=headers)


class Slow(Fault):
    mode = "slow"
    _options = ("delay",)

    def __init__(self, delay: float = 2.0, **selection: Any) -> None:
        super().__init__(**selection)
        self.delay = delay

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await asyncio.sleep(self.delay)
        return await handler(request)


def _abort(request: web.Request, *, rst: bool = True) -> None:
    transport = request.transport
    if transport is None:
        return
    if not rst:  # flush what was written, then FIN: the client sees a short body
        transport.close()
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
    transport.abort()


class Reset(Fault):
    mode = "reset"

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        _abort(request)
        raise web.HTTPServiceUnavailable()  # never reaches the client: the socket is gone


async def _body_of(request: web.Request, handler: Handler) -> tuple[web.Response, bytes]:
    response = await handler(request)
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes | bytearray):
        raise web.HTTPInternalServerError(text="fault needs a buffered response")
    return response, bytes(response.body)


class Truncate(Fault):
    mode = "truncate"

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        original, body = await _body_of(request, handler)
        stream = web.StreamResponse(status=original.status, headers={"Content-Type": original.content_type})
        stream.content_length = len(body)
        await stream.prepare(request)
        await stream.write(body[: len(body) // 2])
        _abort(request, rst=False)
        return stream


class TruncateHtml(Fault):
    mode = "truncate_html"

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        original, body = await _body_of(request, handler)
        return web.Response(status=original.status, body=body[: len(body) // 2],
                            headers={"Content-Type": original.headers.get("Content-Type", "text/html")})


class Malformed(Fault):
    mode = "malformed"

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        original, _ = await _body_of(request, handler)
        junk = bytes(random.Random(self.injected).randrange(256) for _ in range(2048))
        return web.Response(status=200, body=b"<html><body>\x00\xff" + junk + b"</body></html>",
                            headers={"Content-Type": original.headers.get("Content-Type", "text/html")})


_CLASS_ATTR = re.compile(rb'class="([^"]*)"')
_ID_ATTR = re.compile(rb'id="([^"]*)"')


def _rename_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {f"v2-{k}": _rename_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_json(v) for v in value]
    return value


class ChangedLayout(Fault):
    mode = "layout"

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        original, body = await _body_of(request, handler)
        if "json" in (original.content_type or ""):
            new = orjson.dumps(_rename_json(orjson.loads(body)))
        else:
            def prefix(match: re.Match[bytes]) -> bytes:
                names = b" ".join(b"v2-" + name for name in match.group(1).split())
                return match.group(0)[: match.start(1) - match.start(0)] + names + b'"'

            new = _ID_ATTR.sub(prefix, _CLASS_ATTR.sub(prefix, body))
        return web.Response(status=original.status, body=new,
                            headers={"Content-Type": original.headers.get("Content-Type", "text/html")})


class Huge(Fault):
    mode = "huge"
    _options = ("size_mb", "chunked")

    def __init__(self, size_mb: float = 20, chunked: bool = False, **selection: Any) -> None:
        super().__init__(**selection)
        self.size = int(size_mb * 1024 * 1024)
        self.chunked = chunked

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        head = b"<!doctype html><html><body><ul class='results'>"
        if not self.chunked:
            return web.Response(body=head + b" " * (self.size - len(head)), content_type="text/html")
        stream = web.StreamResponse(headers={"Content-Type": "text/html"})
        stream.enable_chunked_encoding()
        await stream.prepare(request)
        block = b" " * (1024 * 1024)
        sent = 0
        with contextlib.suppress(ConnectionError, RuntimeError):  # the client hangs up at its cap
            await stream.write(head)
            while sent < self.size:
                await stream.write(block)
                sent += len(block)
            await stream.write_eof()
        return stream


class RedirectLoop(Fault):
    mode = "redirect_loop"

    async def inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raise web.HTTPFound(request.path_qs)


LOGIN_PAGE = """<!doctype html><html><head><title>Sign in</title></head><body>
<form id="login" method="post" action="/{shop}/login"><input name="user"><input name="password" type="password">
<button>Sign in</button></form></body></html>"""


class LoginWall(Fault):
    mode = "login_wall"
    _options = ("cookie", "value", "valid_for")

    def __init__(self, cookie: str = "demo_session", value: str = "letmein", valid_for: int | None = None,
                 **selection: Any) -> None:
        super().__init__(**selection)
        self.cookie, self.value, self.valid_for = cookie, value, valid_for
        self.logged_in_requests = 0

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        shop = request.get(SHOP_KEY, "")
        if request.path == f"/{shop}/login":
            return web.Response(text=LOGIN_PAGE.format(shop=shop), content_type="text/html")
        if not self.selects(request):
            return await handler(request)
        if request.cookies.get(self.cookie) == self.value and (
                self.valid_for is None or self.logged_in_requests < self.valid_for):
            self.logged_in_requests += 1
            return await handler(request)
        self.injected += 1
        raise web.HTTPFound(f"/{shop}/login?next={quote(request.path_qs, safe='')}")


MODES: dict[str, type[Fault]] = {cls.mode: cls for cls in (
    RateLimited, Unavailable, Slow, Reset, Truncate, TruncateHtml, Malformed, ChangedLayout, Huge, RedirectLoop,
    LoginWall)}
_SELECTION = ("kinds", "after", "times", "every", "rate", "seed")


def fault_from_spec(spec: dict[str, Any]) -> Fault:
    """A `Fault` from its JSON description, e.g. ``{"mode": "rate_limit", "rate": 0.1}``."""
    if not isinstance(spec, dict) or "mode" not in spec:
        raise FaultSpecError(f"a fault is an object with a mode; modes: {', '.join(sorted(MODES))}")
    mode = spec["mode"]
    cls = MODES.get(mode)
    if cls is None:
        raise FaultSpecError(f"unknown fault mode {mode!r}; modes: {', '.join(sorted(MODES))}")
    options = {k: v for k, v in spec.items() if k != "mode"}
    unknown = set(options) - set(_SELECTION) - set(cls._options)
    if unknown:
        allowed = ", ".join(sorted({*_SELECTION, *cls._options}))
        raise FaultSpecError(f"{mode}: unknown option(s) {', '.join(sorted(unknown))}; allowed: {allowed}")
    try:
        fault = cls(**options)
    except TypeError as exc:
        raise FaultSpecError(f"{mode}: {exc}") from None
    fault._spec = options
    return fault


# -- admin endpoints ------------------------------------------------------------------------------


def fault_routes(registry: Any, shops: tuple[str, ...]) -> list[web.RouteDef]:
    """``GET/POST/DELETE /_faults`` for a `FaultRegistry` (see module doc)."""

    def state() -> web.Response:
        return web.Response(body=orjson.dumps(registry.describe()), content_type="application/json")

    async def show(request: web.Request) -> web.Response:
        return state()

    async def change(request: web.Request) -> web.Response:
        try:
            payload = await request.json()
        except ValueError:
            return _error("expected a JSON object")
        if not isinstance(payload, dict):
            return _error("expected a JSON object")
        try:
            if "robots_txt" in payload or "robots_status" in payload:
                registry.robots_txt = payload.get("robots_txt")
                registry.robots_status = int(payload.get("robots_status") or 200)
            if "shop" in payload:
                shop = payload["shop"]
                if shop not in shops:
                    raise FaultSpecError(f"unknown shop {shop!r}; shops: {', '.join(shops)}")
                specs = payload.get("faults", [])
                if not isinstance(specs, list):
                    raise FaultSpecError("faults must be a list")
                registry.configure(shop, specs)
        except (FaultSpecError, ValueError, TypeError) as exc:
            return _error(str(exc))
        return state()

    async def clear(request: web.Request) -> web.Response:
        shop = request.query.get("shop")
        registry.clear(shop)
        if shop is None:
            registry.robots_txt, registry.robots_status = DEFAULT_ROBOTS_TXT, 200
        return state()

    return [web.get("/_faults", show, name="site.faults"),
            web.post("/_faults", change, name="site.faults_set"),
            web.delete("/_faults", clear, name="site.faults_clear")]


def _error(message: str) -> web.Response:
    return web.Response(status=400, body=orjson.dumps({"error": message}), content_type="application/json")
