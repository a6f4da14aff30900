"""BrowserFetcher against a real aiohttp server and the system Chromium.

Tests that need a working Chromium are marked `browser` and skipped when none is found;
the missing-browser tests run everywhere (they never start one).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from downloader.browser import CHROMIUM_ENV_VAR, BrowserFetcher, default_chromium_path
from downloader.types import FetchedResponse

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CHROMIUM = default_chromium_path()

LATE_PAGE = """<!doctype html><html><head><title>shell</title></head><body>
<div id="app"></div>
<img src="/img/photo.jpg">
<script>
  setTimeout(() => {
    const app = document.getElementById('app');
    const price = (749).toFixed(2).replace('.', ',');  // so the source never contains the result
    app.innerHTML = '<p class="price">' + price + ' €</p>';
    app.setAttribute('data-ready', '1');
  }, 700);
</script></body></html>"""


@contextlib.asynccontextmanager
async def serve(routes: dict[str, Handler]) -> AsyncIterator[str]:
    """Run an aiohttp app on a free port in the current event loop; yield its base URL."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


@pytest.mark.browser
def test_wait_for_captures_js_rendered_content_and_blocks_images() -> None:
    image_hits = 0
    cookies_seen: list[str | None] = []
    langs: list[str | None] = []

    async def shell(request: web.Request) -> web.Response:
        cookies_seen.append(request.headers.get("Cookie"))
        langs.append(request.headers.get("Accept-Language"))
        return web.Response(text=LATE_PAGE, content_type="text/html")

    async def photo(request: web.Request) -> web.Response:
        nonlocal image_hits
        image_hits += 1
        return web.Response(body=b"\xff\xd8", content_type="image/jpeg")

    async def main() -> tuple[FetchedResponse, FetchedResponse]:
        routes = {"/search": shell, "/img/photo.jpg": photo}
        async with serve(routes) as base, BrowserFetcher().session(cookies={"region": "es"}) as s:
            early = await s.fetch(f"{base}/search?q=canon")
            rendered = await s.fetch(
                f"{base}/search?q=canon&page=2",
                wait_for="#app[data-ready='1']",
                cookies={"sid": "x1"},
                headers={"Accept-Language": "es-ES"},
            )
            return early, rendered

    early, rendered = run(main())
    assert early.error is None and b"749,00" not in early.body, "without wait_for we snapshot the shell"
    assert rendered.error is None and rendered.status == 200
    assert "749,00 €" in rendered.text()
    assert rendered.fetch_mode == "browser" and rendered.browser_seconds > 0 and rendered.elapsed_ms > 0
    assert rendered.started_at.tzinfo is not None
    assert rendered.content_type is not None and rendered.content_type.startswith("text/html")
    assert rendered.bytes_received == len(rendered.body)
    assert image_hits == 0, "images are blocked"
    assert cookies_seen[0] == "region=es"
    assert sorted((cookies_seen[1] or "").split("; ")) == ["region=es", "sid=x1"]
    assert langs[1] == "es-ES"


@pytest.mark.browser
def test_selector_that_never_appears_times_out_with_readable_error() -> None:
    async def shell(request: web.Request) -> web.Response:
        return web.Response(text=LATE_PAGE, content_type="text/html")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="<h1>not listed</h1>", content_type="text/html")

    async def main() -> tuple[FetchedResponse, FetchedResponse, FetchedResponse]:
        routes = {"/search": shell, "/gone": missing}
        async with serve(routes) as base, BrowserFetcher(page_timeout_s=1.0).session() as s:
            return await asyncio.gather(
                s.fetch(f"{base}/search", wait_for=".never-there"),
                s.fetch(f"{base}/gone", wait_for=".never-there"),
                s.fetch(f"http://127.0.0.1:{free_port()}/"),
            )

    timed_out, gone, refused = run(main())
    assert timed_out.error == "timeout after 1.0s waiting for selector '.never-there'"
    assert timed_out.error_kind == "wait_for_timeout"
    assert timed_out.status == 200 and b'id="app"' in timed_out.body, "DOM kept for diagnosis"
    assert gone.status == 404 and gone.error is None, "error pages are not waited on"
    assert refused.error is not None and refused.error.startswith(
        "navigation failed: net::ERR_CONNECTION_REFUSED"
    )
    assert refused.error_kind == "connect" and refused.status is None, "a refused connection is retryable"
    assert refused.attempts == BrowserFetcher().max_attempts


def test_missing_browser_path_gives_fix_instructions() -> None:
    async def main() -> FetchedResponse:
        async with BrowserFetcher(executable_path="/nonexistent/chromium").session() as s:
            return await s.fetch("http://127.0.0.1:9/", wait_for="#app")

    page = run(main())
    assert page.error is not None
    assert "Chromium not found at '/nonexistent/chromium'" in page.error
    assert "install Chromium" in page.error and CHROMIUM_ENV_VAR in page.error
    assert page.error_kind == "browser" and page.fetch_mode == "browser"


def test_unlaunchable_browser_gives_fix_instructions() -> None:
    async def main() -> FetchedResponse:
        fetcher = BrowserFetcher(executable_path="/bin/false", launch_timeout_s=10)
        async with fetcher.session() as s:
            return await s.fetch("http://127.0.0.1:9/")

    page = run(main())
    assert page.error is not None and page.error.startswith("could not launch Chromium (/bin/false)")
    assert CHROMIUM_ENV_VAR in page.error


def test_executable_resolution_and_launch_args(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CHROMIUM_ENV_VAR, "/opt/chrome/chrome")
    assert BrowserFetcher().resolved_executable_path() == "/opt/chrome/chrome"
    assert BrowserFetcher(executable_path="/x/chromium").resolved_executable_path() == "/x/chromium"
    monkeypatch.delenv(CHROMIUM_ENV_VAR)
    expected = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    assert BrowserFetcher().resolved_executable_path() == expected
    args = BrowserFetcher(extra_args=["--lang=es"]).launch_args()
    assert {"--disable-gpu", "--disable-quic", "--disable-background-networking"} <= set(args)
    assert args[-1] == "--lang=es"
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)
