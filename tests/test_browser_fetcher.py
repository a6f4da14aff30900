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

from downloader.browser import CHROMIUM_ENV_VAR, IMAGES_OFF_ARG, BrowserFetcher, default_chromium_path
from downloader.types import FetchedResponse
from tests.support.hosts import Hosts, page, redirect, three_hosts

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
        # 3 s, not less: the budget covers navigation too, which a loaded 2-core machine can slow
        # past a second (then the error would rightly say "navigation").
        async with serve(routes) as base, BrowserFetcher(page_timeout_s=3.0).session() as s:
            return await asyncio.gather(
                s.fetch(f"{base}/search", wait_for=".never-there"),
                s.fetch(f"{base}/gone", wait_for=".never-there"),
                s.fetch(f"http://127.0.0.1:{free_port()}/"),
            )

    timed_out, gone, refused = run(main())
    assert timed_out.error == "timeout after 3.0s waiting for selector '.never-there'"
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
    assert IMAGES_OFF_ARG in args, "blocked images are not even requested"
    assert IMAGES_OFF_ARG not in BrowserFetcher(block_resource_types=["font"]).launch_args()


# -- the host fence in the browser ------------------------------------------------------------------

FENCED_PAGE = """<!doctype html><html><body><p id="shop">shop page</p>
<script src="http://127.0.0.2:{other}/tracker.js"></script>
<script>fetch("http://127.0.0.3:{intranet}/steal").catch(() => {{}});
  fetch("http://169.254.169.254/latest/meta-data/").catch(() => {{}});</script>
</body></html>"""


@pytest.mark.browser
def test_the_browser_stays_inside_the_fence() -> None:
    """Redirects (which request routing never sees), next-page links, scripts and fetches: only the
    vendor's hosts are reached, and a refused navigation says why."""
    targets: dict[str, str] = {}

    async def main() -> tuple[dict[str, FetchedResponse], Hosts]:
        def to(name: str) -> Any:
            return redirect(lambda: targets[name])

        async def shop_page(request: web.Request) -> web.Response:
            return web.Response(text=targets["page"], content_type="text/html")

        routes = {"/shop/metadata": to("metadata"), "/shop/port": to("port"), "/shop/rebound": to("rebound"),
                  "/shop/page": shop_page}
        async with three_hosts(routes) as hosts:
            targets.update({"page": FENCED_PAGE.format(other=hosts.other, intranet=hosts.intranet),"metadata": "http://169.254.169.254/latest/meta-data/",
                            "port": f"http://shop.test:{hosts.intranet}/",  # the shop's name, another port
                            "rebound": f"http://cdn.test:{hosts.intranet}/"})  # allowed name, forbidden address
            fence = hosts.fence("cdn.test", answers={"cdn.test": [["127.0.0.3"]]})
            base = f"http://shop.test:{hosts.shop}"
            async with BrowserFetcher(max_attempts=1).session(fence=fence) as s:
                results = {name: await s.fetch(f"{base}/shop/{name}") for name in ("metadata", "port", "rebound")}
                results["link"] = await s.fetch(f"http://127.0.0.1:{hosts.other}/next?page=2")
                results["page"] = await s.fetch(f"{base}/shop/page")
            return results, hosts

    results, hosts = run(main())
    for name in ("metadata", "port", "rebound", "link"):
        response = results[name]
        assert response.error_kind == "blocked" and (response.error or "").startswith("refused"), (name, response.error)
        assert response.body == b""
    assert "169.254.169.254:80 (cloud metadata address): not one of shop's hosts" in (results["metadata"].error or "")
    assert f"shop.test:{hosts.intranet}: it resolves to 127.0.0.1, a loopback address" in (results["port"].error or "")
    assert f"cdn.test:{hosts.intranet}: it resolves to 127.0.0.3" in (results["rebound"].error or "")
    assert results["link"].attempts == 0, "refused before a page is opened"
    assert results["page"].ok and b"shop page" in results["page"].body
    assert hosts.seen["other"].paths == [] and hosts.seen["intranet"].paths == [], "no script, fetch or hop got out"


@pytest.mark.browser
def test_browser_vendor_headers_stay_on_the_page_request_and_secure_cookies_off_http() -> None:
    from pipelines.scraping.sessions import Cookie, to_playwright_cookies

    async def main() -> tuple[FetchedResponse, FetchedResponse, Hosts]:
        holder: list[Hosts] = []
        routes = {"/shop/away": redirect(lambda: f"http://other.test:{holder[0].other}/b"),
                  "/shop/here": page("<html><body><img src='/pixel.gif'><p>here</p></body></html>"),
                  "/pixel.gif": page("GIF")}
        async with three_hosts(routes) as hosts:
            holder.append(hosts)
            cookies = to_playwright_cookies([
                Cookie(name="secure_sid", value="s", domain="shop.test", secure=True, http_only=True),
                Cookie(name="plain", value="p", domain="shop.test"),
                Cookie(name="theirs", value="t", domain="other.test")])
            fetcher = BrowserFetcher(max_attempts=1, block_resource_types=[])
            async with fetcher.session(fence=hosts.fence("other.test", "127.0.0.2"), cookies=cookies,
                                       headers={"X-Api-Key": "vendor-key"}) as s:
                away = await s.fetch(f"http://shop.test:{hosts.shop}/shop/away", headers={"X-Trace": "1"})
                here = await s.fetch(f"http://shop.test:{hosts.shop}/shop/here")
            return away, here, hosts

    away, here, hosts = run(main())
    assert away.ok and away.final_url.startswith("http://other.test:") and here.ok
    at_shop = hosts.seen["shop"].headers("/shop/away")
    assert at_shop["x-api-key"] == "vendor-key" and at_shop["x-trace"] == "1"
    assert at_shop["cookie"] == "plain=p", "a Secure cookie is never sent over http"
    at_other = hosts.seen["other"].headers("/b")
    assert "x-api-key" not in at_other and "x-trace" not in at_other, "vendor headers stay behind"
    assert at_other.get("cookie") == "theirs=t", "only the other host's own cookie"
    assert "x-api-key" not in hosts.seen["shop"].headers("/pixel.gif"), "sub-resources carry no vendor header"
