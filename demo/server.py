"""The demo marketplace web server: five shops on one aiohttp app (contract: demo/SPEC.md).

Handlers only validate parameters and look rendered bytes up in `demo.render` caches, so the
server stays far faster than any scraper it serves. A single middleware (`demo.middleware`)
counts requests per shop and is the seam for runtime-switchable fault modes.

Entry points: `create_app(seed)` for embedding, `serve(host, port, seed)` (blocking; what
`market-pulse demo serve` calls), `running_demo(...)` for tests, `python -m demo.server`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

import orjson
from aiohttp import web

from demo.catalogue import get_catalogue, parse_asof
from demo.faults import fault_routes
from demo.inbox import add_inbox
from demo.middleware import FaultRegistry, RequestStats, make_gate
from demo.render import JS, JSON, MERCADO_SHELL, TEXT, Page, Renderer, decode_cursor, index_page, shop_home
from demo.shops import SHOPS

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_PAGE = 100_000

APP_JS = (Path(__file__).parent / "assets" / "app.js").read_bytes()
# A valid 1x1 grey JPEG: every image URL of every shop returns it.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hn"
    "Pk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2P/wAARCAABAAEDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAb/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAA"
    "AAAAAAAAAAAAAP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKQAH//Z"
)

_AFTER = re.compile(r"cv-(\d{6,})")


class BadRequest(ValueError):
    """A request parameter is invalid; answered with 400 and the message."""


class DemoSite:
    """State of one running demo: catalogue renderers, request counters and fault registry."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.renderer = Renderer(get_catalogue(seed))
        self.stats = RequestStats((*SHOPS, "site"))
        self.faults = FaultRegistry()


SITE = web.AppKey("demo_site", DemoSite)


def _respond(page: Page) -> web.Response:
    return web.Response(body=page.body, status=page.status, headers={"Content-Type": page.content_type})


def _bad(message: str, json: bool) -> web.Response:
    if json:
        return web.Response(body=orjson.dumps({"error": message}), status=400, headers={"Content-Type": JSON})
    return web.Response(body=(message + "\n").encode(), status=400, headers={"Content-Type": TEXT})


_parse_asof_cached = lru_cache(maxsize=4_096)(parse_asof)


def _asof(request: web.Request) -> date:
    value = request.query.get("asof")
    if not value:
        return datetime.now(UTC).date()
    try:
        return _parse_asof_cached(value)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _page(request: web.Request) -> int:
    value = request.query.get("page")
    if not value:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise BadRequest(f"invalid page {value!r}: expected an integer from 1 to {MAX_PAGE}")
    return int(value)


def _handler(render: Callable[[web.Request], Page], json: bool = False) -> Callable:
    """Wrap a sync render step into an aiohttp handler that turns BadRequest into a 400."""

    async def handle(request: web.Request) -> web.Response:
        try:
            return _respond(render(request))
        except BadRequest as exc:
            return _bad(str(exc), json)

    return handle


def _routes(site: DemoSite) -> list[web.RouteDef]:
    r = site.renderer

    def q(request: web.Request) -> str:
        return request.query.get("q", "")

    def chapin_offset(request: web.Request) -> int:
        cursor = request.query.get("cursor")
        if not cursor:
            return 0
        try:
            return decode_cursor(cursor)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None

    def cardvault_after(request: web.Request) -> int:
        after = request.query.get("after")
        if not after:
            return 0
        m = _AFTER.fullmatch(after)
        if m is None:
            raise BadRequest(f"invalid after {after!r}: expected a listing id like cv-000123")
        return int(m.group(1))

    def item_id(request: web.Request) -> str:
        return request.match_info["id"]

    def mercado_shell(request: web.Request) -> Page:
        _asof(request)
        _page(request)
        return MERCADO_SHELL

    def mercado_item_shell(request: web.Request) -> Page:
        found = r.mercado_item_data(item_id(request), _asof(request)).status == 200
        return MERCADO_SHELL if found else Page(404, MERCADO_SHELL.content_type, MERCADO_SHELL.body)

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=JPEG, headers={"Content-Type": "image/jpeg", "Cache-Control": "max-age=86400"})

    async def app_js(request: web.Request) -> web.Response:
        return web.Response(body=APP_JS, headers={"Content-Type": JS})

    async def index(request: web.Request) -> web.Response:
        return _respond(index_page(site.seed))

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps({"status": "ok", "seed": site.seed}),
                            headers={"Content-Type": JSON})

    async def stats(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(site.stats.snapshot()), headers={"Content-Type": JSON})

    async def stats_reset(request: web.Request) -> web.Response:
        before = site.stats.snapshot()
        site.stats.reset()
        return web.Response(body=orjson.dumps(before), headers={"Content-Type": JSON})

    routes = [
        web.get("/", index, name="site.index"),
        web.get("/healthz", healthz, name="site.healthz"),
        web.get("/_stats", stats, name="site.stats"),
        web.post("/_stats/reset", stats_reset, name="site.stats_reset"),
        web.get("/toko/search", _handler(lambda rq: r.toko_search(q(rq), _page(rq), _asof(rq))), name="toko.search"),
        web.get("/toko/item/{id}", _handler(lambda rq: r.toko_item(item_id(rq), _asof(rq))), name="toko.item"),
        web.get("/chapin/api/search",
                _handler(lambda rq: r.chapin_search(q(rq), chapin_offset(rq), _asof(rq)), json=True),
                name="chapin.search"),
        web.get("/chapin/api/item/{id}", _handler(lambda rq: r.chapin_item_json(item_id(rq), _asof(rq)), json=True),
                name="chapin.item_api"),
        web.get("/chapin/p/{id}", _handler(lambda rq: r.chapin_item_html(item_id(rq), _asof(rq))), name="chapin.item"),
        web.get("/mercado/search", _handler(mercado_shell), name="mercado.search"),
        web.get("/mercado/producto/{id}", _handler(mercado_item_shell), name="mercado.item"),
        web.get("/mercado/app.js", app_js, name="mercado.asset"),
        web.get("/mercado/data", _handler(lambda rq: r.mercado_data(q(rq), _page(rq), _asof(rq)), json=True),
                name="mercado.data"),
        web.get("/mercado/data/producto/{id}",
                _handler(lambda rq: r.mercado_item_data(item_id(rq), _asof(rq)), json=True),
                name="mercado.item_data"),
        web.get("/cardvault/search",
                _handler(lambda rq: r.cardvault_search(q(rq), cardvault_after(rq), _asof(rq))),
                name="cardvault.search"),
        web.get("/cardvault/card/{id}", _handler(lambda rq: r.cardvault_item(item_id(rq), _asof(rq))),
                name="cardvault.item"),
        web.get("/fynda/sok", _handler(lambda rq: r.fynda_search(q(rq), _page(rq), _asof(rq))), name="fynda.search"),
        web.get("/fynda/api/search", _handler(lambda rq: r.fynda_api_search(q(rq), _page(rq), _asof(rq)), json=True),
                name="fynda.data"),
        web.get("/fynda/annons/{id}", _handler(lambda rq: r.fynda_item(item_id(rq), _asof(rq))), name="fynda.item"),
    ]
    for code in SHOPS:
        home = shop_home(code)

        async def shop_index(request: web.Request, _home: Page = home) -> web.Response:
            return _respond(_home)

        routes += [
            web.get(f"/{code}/img/{{name}}", image, name=f"{code}.img"),
            web.get(f"/{code}/", shop_index, name=f"{code}.home"),
        ]
    return routes


def create_app(seed: int = 42) -> web.Application:
    """The demo marketplace as an aiohttp application (state in `app[SITE]`)."""
    site = DemoSite(seed)
    app = web.Application(middlewares=[make_gate(site.stats, site.faults, (*SHOPS,))])
    app[SITE] = site
    app.add_routes(_routes(site))
    app.add_routes(fault_routes(site.faults, (*SHOPS,)))  # /_faults: switch fault modes at runtime
    add_inbox(app)  # /alerts-inbox: receives the demo saved search's alerts (demo/inbox.py)
    return app


# ---- running it ----------------------------------------------------------------------------
def _loop_factory(use_uvloop: bool = True) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop if installed (it ships with the project's dependencies), else asyncio's default."""
    if use_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            return uvloop.new_event_loop
    return None


async def _start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


async def _serve_forever(host: str, port: int, seed: int, announce: Callable[[str], None]) -> None:
    runner, url = await _start(create_app(seed), host, port)
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    announce(f"Demo marketplace listening on {url} (seed {seed})")
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, seed: int = 42, *, use_uvloop: bool = True,
          announce: Callable[[str], None] | None = None) -> None:
    """Run the demo marketplace until SIGINT/SIGTERM (blocking). Port 0 picks a free port;
    the first line printed (or passed to `announce`) carries the bound URL."""

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        with asyncio.Runner(loop_factory=_loop_factory(use_uvloop)) as runner:
            runner.run(_serve_forever(host, port, seed, announce or say))
    except KeyboardInterrupt:
        pass


@contextlib.contextmanager
def running_demo(port: int = 0, seed: int = 42, host: str = DEFAULT_HOST, *,
                 subprocess_mode: bool = False, timeout: float = 20.0) -> Iterator[str]:
    """Run the demo for the duration of a `with` block and yield its base URL (no trailing /).

    Default: an event loop in a daemon thread of this process (fast, shares the warm
    catalogue caches). `subprocess_mode=True` starts `python -m demo.server` instead, for
    tests that need a separate process (determinism) or a server not sharing the GIL.
    """
    if subprocess_mode:
        with _subprocess_demo(host, port, seed, timeout) as url:
            yield url
        return
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            runner, url = loop.run_until_complete(_start(create_app(seed), host, port))
        except BaseException as exc:  # surfaced to the caller below
            box["error"] = exc
            ready.set()
            loop.close()
            return
        box["url"] = url
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    thread = threading.Thread(target=run, name="demo-marketplace", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise RuntimeError("demo server did not start in time")
    if "error" in box:
        raise RuntimeError(f"demo server failed to start: {box['error']!r}")
    try:
        yield str(box["url"])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)


@contextlib.contextmanager
def _subprocess_demo(host: str, port: int, seed: int, timeout: float) -> Iterator[str]:
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-m", "demo.server", "--host", host, "--port", str(port), "--seed", str(seed)]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            line = proc.stdout.readline() if proc.stdout else ""
        finally:
            timer.cancel()
        match = re.search(r"http://\S+", line)
        if match is None:
            raise RuntimeError(f"demo server subprocess did not start (exit code {proc.poll()}): {line!r}")
        yield match.group(0)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.server", description="Run the demo marketplace.")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-uvloop", action="store_true", help="use asyncio's default event loop")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.seed, use_uvloop=not args.no_uvloop)


if __name__ == "__main__":
    main()
