"""HttpFetcher against real aiohttp servers on 127.0.0.1 (no mocks: sockets, keep-alive and
timeouts are exactly what breaks in production)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC
from typing import Any

import httpx
import pytest
from aiohttp import web

from downloader.hooks import FetchHook, blocked_response
from downloader.http import DEFAULT_USER_AGENT, HttpFetcher
from downloader.limits import RateLimit
from downloader.retry import parse_retry_after
from downloader.types import FetchedResponse, FetchRequest
from pipelines.scraping.resources import HttpFetcherResource

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FAST_RETRY = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05}


def test_success_uses_keep_alive_and_fills_every_field() -> None:
    peers: set[Any] = set()
    agents: list[str] = []

    async def hello(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        agents.append(request.headers.get("User-Agent", ""))
        return web.Response(text="<p>héllo</p>", content_type="text/html", headers={"X-Thing": "1"})

    async def main() -> list[FetchedResponse]:
        async with serve({"/hello": hello}) as base, HttpFetcher().session() as s:
            return [await s.fetch(f"{base}/hello?i={i}") for i in range(5)]

    pages = run(main())
    assert len(peers) == 1, "all five requests should reuse one keep-alive connection"
    assert agents == [DEFAULT_USER_AGENT] * 5
    page = pages[0]
    assert page.error is None and page.ok
    assert page.status == 200
    assert page.text() == "<p>héllo</p>"
    assert page.media_type == "text/html" and page.charset == "utf-8"
    assert page.headers["x-thing"] == "1" and all(k == k.lower() for k in page.headers)
    assert page.fetch_mode == "http" and page.attempts == 1 and page.browser_seconds == 0
    assert page.started_at.tzinfo is not None and page.started_at.utcoffset() == UTC.utcoffset(None)
    assert page.elapsed_ms > 0 and page.bytes_received >= len(page.body)
    assert page.final_url == page.requested_url


def test_404_is_recorded_status_not_error() -> None:
    hits = 0

    async def missing(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=404, text="gone")

    async def main() -> FetchedResponse:
        async with serve({"/item": missing}) as base, HttpFetcher(**FAST_RETRY).session() as s:
            return await s.fetch(f"{base}/item")

    page = run(main())
    assert page.status == 404 and page.error is None and not page.ok
    assert page.body == b"gone"
    assert hits == 1, "4xx (other than 429) must not be retried"


def test_read_timeout_gives_readable_error_and_is_not_retried() -> None:
    hits = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        await asyncio.sleep(1)
        return web.Response(text="late")

    async def main() -> FetchedResponse:
        async with serve({"/slow": slow}) as base, HttpFetcher(read_timeout_s=0.3).session() as s:
            return await s.fetch(f"{base}/slow")

    page = run(main())
    assert page.error == "timeout after 0.3s (read)"
    assert page.error_kind == "timeout" and page.body == b"" and page.status is None
    assert hits == 1 and page.attempts == 1


def test_total_timeout_catches_a_slow_drip() -> None:
    async def drip(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(30):  # never silent long enough for the read timeout
            await resp.write(b"x")
            await asyncio.sleep(0.1)
        return resp

    async def main() -> FetchedResponse:
        fetcher = HttpFetcher(read_timeout_s=5, total_timeout_s=0.5)
        async with serve({"/drip": drip}) as base, fetcher.session() as s:
            return await s.fetch(f"{base}/drip")

    started = time.monotonic()
    page = run(main())
    assert page.error == "timeout after 0.5s (total)"
    assert page.status == 200, "what we learned before the timeout is kept"
    assert time.monotonic() - started < 2.5


def test_body_cap_with_and_without_content_length() -> None:
    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b"a" * 5000)

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(10):
            await resp.write(b"b" * 500)
        return resp

    async def small(request: web.Request) -> web.Response:
        return web.Response(body=b"c" * 1000)

    async def main() -> list[FetchedResponse]:
        routes = {"/declared": declared, "/chunked": chunked, "/small": small}
        async with serve(routes) as base, HttpFetcher(max_body_bytes=1000).session() as s:
            return [await s.fetch(f"{base}{p}") for p in routes]

    declared_page, chunked_page, small_page = run(main())
    assert declared_page.error is not None and declared_page.error.startswith("body larger than 1000 bytes")
    assert chunked_page.error == "body larger than 1000 bytes"
    for page in (declared_page, chunked_page):
        assert page.error_kind == "too_large" and page.body == b"" and page.status == 200
    assert small_page.error is None and len(small_page.body) == 1000, "exactly the cap is allowed"


def test_redirects_followed_and_loops_capped() -> None:
    loop_hits = 0

    async def loop(request: web.Request) -> web.Response:
        nonlocal loop_hits
        loop_hits += 1
        raise web.HTTPFound("/loop")

    async def start(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/end")

    async def end(request: web.Request) -> web.Response:
        return web.Response(text="arrived")

    async def main() -> tuple[FetchedResponse, FetchedResponse]:
        routes = {"/loop": loop, "/start": start, "/end": end}
        async with serve(routes) as base, HttpFetcher(max_redirects=5).session() as s:
            return await s.fetch(f"{base}/loop"), await s.fetch(f"{base}/start")

    looped, moved = run(main())
    assert looped.error == "too many redirects (more than 5)"
    assert looped.error_kind == "redirects" and looped.status == 302
    assert loop_hits == 6, "the first request plus five followed hops"
    assert moved.error is None and moved.body == b"arrived"
    assert moved.final_url.endswith("/end") and moved.requested_url.endswith("/start")


def test_retries_503_then_succeeds_and_counts_attempts() -> None:
    hits = 0

    async def flaky(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=503) if hits < 3 else web.Response(text="ok")

    async def main() -> FetchedResponse:
        async with serve({"/flaky": flaky}) as base, HttpFetcher(**FAST_RETRY).session() as s:
            return await s.fetch(f"{base}/flaky")

    page = run(main())
    assert hits == 3
    assert page.status == 200 and page.error is None and page.attempts == 3


def test_persistent_5xx_becomes_an_error_after_max_attempts() -> None:
    hits = 0

    async def down(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=503, text="maintenance")

    async def main() -> FetchedResponse:
        async with serve({"/down": down}) as base, HttpFetcher(max_attempts=2, **FAST_RETRY).session() as s:
            return await s.fetch(f"{base}/down")

    page = run(main())
    assert hits == 2 and page.attempts == 2
    assert page.status == 503
    assert page.error == "HTTP 503 Service Unavailable after 2 attempt(s)"
    assert page.error_kind == "http_status"


def test_retry_after_is_honoured_and_capped() -> None:
    seen: list[float] = []

    async def busy(request: web.Request) -> web.Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return web.Response(status=429, headers={"Retry-After": "1"})
        return web.Response(text="ok")

    capped_hits = 0

    async def very_busy(request: web.Request) -> web.Response:
        nonlocal capped_hits
        capped_hits += 1
        return web.Response(status=429, headers={"Retry-After": "30"})

    async def main() -> tuple[FetchedResponse, FetchedResponse]:
        fetcher = HttpFetcher(max_attempts=2, retry_after_max_s=0.2, **FAST_RETRY)
        async with serve({"/busy": busy, "/very": very_busy}) as base:
            async with HttpFetcher(max_attempts=3, **FAST_RETRY).session() as s:
                ok = await s.fetch(f"{base}/busy")
            async with fetcher.session() as s:
                started = time.monotonic()
                refused = await s.fetch(f"{base}/very")
                assert time.monotonic() - started < 2, "a 30 s Retry-After must be capped"
            return ok, refused

    ok, refused = run(main())
    assert ok.status == 200 and ok.attempts == 2
    assert seen[1] - seen[0] >= 0.9, "waited for Retry-After: 1, not the 10 ms backoff"
    assert capped_hits == 2
    assert refused.error == "HTTP 429 Too Many Requests after 2 attempt(s)"


def test_rate_limit_spaces_requests_and_caps_concurrency() -> None:
    arrivals: list[float] = []
    in_flight = 0
    peak = 0

    async def page(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        arrivals.append(time.monotonic())
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.15)
        in_flight -= 1
        return web.Response(text="ok")

    async def main() -> tuple[list[FetchedResponse], list[FetchedResponse]]:
        nonlocal peak
        async with serve({"/p": page}) as base:
            async with HttpFetcher().session(rate_limit=RateLimit(requests_per_second=10)) as s:
                spaced = await asyncio.gather(*(s.fetch(f"{base}/p?i={i}") for i in range(6)))
            spacing_span = arrivals[-1] - arrivals[0]
            arrivals.clear()
            peak = 0  # the cap is measured on the second session only (the first one is rate-limited, not capped)
            async with HttpFetcher().session() as s:  # per-call limit, concurrency only
                limit = RateLimit(max_concurrency=2)
                capped = await asyncio.gather(
                    *(s.fetch(f"{base}/p?j={i}", rate_limit=limit) for i in range(6))
                )
            assert spacing_span >= 0.4, f"6 requests at 10/s need >= 0.5 s, took {spacing_span:.3f}"
            return spaced, capped

    spaced, capped = run(main())
    assert all(p.ok for p in spaced + capped)
    assert peak == 2


def test_connection_refused_is_retried_then_reported() -> None:
    async def main() -> FetchedResponse:
        async with HttpFetcher(max_attempts=2, **FAST_RETRY).session() as s:
            return await s.fetch(f"http://127.0.0.1:{free_port()}/")

    page = run(main())
    assert page.error == "connection refused"
    assert page.error_kind == "connect" and page.attempts == 2 and page.status is None


def test_cookies_are_sent_and_set_cookie_values_never_archived() -> None:
    received: list[str | None] = []

    async def login(request: web.Request) -> web.Response:
        received.append(request.headers.get("Cookie"))
        resp = web.Response(text="hi")
        resp.set_cookie("server_token", "s3cret")
        return resp

    async def main() -> tuple[FetchedResponse, httpx.Cookies]:
        async with serve({"/c": login}) as base, HttpFetcher().session(cookies={"sid": "abc123"}) as s:
            first = await s.fetch(f"{base}/c")
            await s.fetch(f"{base}/c")
            return first, s.cookies

    first, jar = run(main())
    assert received[0] == "sid=abc123"
    assert received[1] is not None and "server_token=s3cret" in received[1], "server cookies persist"
    assert first.headers["set-cookie"] == "<redacted>"
    assert "s3cret" not in repr(first.headers)
    assert jar.get("server_token") == "s3cret"


def test_gather_never_raises_even_for_garbage_urls() -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="fine")

    async def main() -> list[FetchedResponse]:
        async with serve({"/ok": ok}) as base, HttpFetcher(max_attempts=1).session() as s:
            urls = [f"{base}/ok", "ftp://example.invalid/x", "not a url", f"http://127.0.0.1:{free_port()}/"]
            return await asyncio.gather(*(s.fetch(u) for u in urls))

    good, ftp, junk, refused = run(main())
    assert good.ok
    assert ftp.error_kind == "invalid_url" and ftp.error and ftp.error.startswith("invalid URL")
    assert junk.error is not None
    assert refused.error == "connection refused"


def test_hooks_can_short_circuit_and_observe() -> None:
    hits = 0
    observed: list[int | None] = []

    async def ok(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(text=request.headers.get("If-None-Match", "-"))

    class Robots(FetchHook):
        async def before_fetch(self, request: FetchRequest) -> FetchRequest | FetchedResponse:
            if "/private" in request.url:
                return blocked_response(request, "disallowed by robots.txt")
            request.headers["If-None-Match"] = '"v1"'
            return request

        async def after_fetch(self, request: FetchRequest, response: FetchedResponse) -> FetchedResponse:
            observed.append(response.status)
            return response

    async def main() -> tuple[FetchedResponse, FetchedResponse]:
        async with serve({"/ok": ok, "/private": ok}) as base, HttpFetcher().session(hooks=[Robots()]) as s:
            return await s.fetch(f"{base}/ok"), await s.fetch(f"{base}/private")

    allowed, blocked = run(main())
    assert allowed.body == b'"v1"'
    assert blocked.error == "disallowed by robots.txt" and blocked.error_kind == "blocked"
    assert hits == 1 and observed == [200]


def test_rate_limit_validation_and_retry_after_parsing() -> None:
    assert RateLimit(2.0, 3) == RateLimit(requests_per_second=2.0, max_concurrency=3)
    assert RateLimit().unlimited and not RateLimit(max_concurrency=1).unlimited
    with pytest.raises(ValueError):
        RateLimit(requests_per_second=0)
    with pytest.raises(ValueError):
        RateLimit(max_concurrency=0)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_usable_as_a_dagster_resource() -> None:
    """The pipeline's resource is the plain fetcher plus ConfigurableResource: same fields, same
    sessions, configurable from Dagster (an EnvVar here)."""
    import dagster as dg

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="from dagster")

    results: list[FetchedResponse] = []

    async def scrape(fetcher: HttpFetcher) -> None:
        async with serve({"/h": hello}) as base, fetcher.session() as s:
            results.append(await s.fetch(f"{base}/h"))

    seen: list[HttpFetcherResource] = []

    @dg.asset
    def page(http: HttpFetcherResource) -> None:
        seen.append(http)
        asyncio.run(scrape(http))

    assert set(HttpFetcherResource.model_fields) == set(HttpFetcher.model_fields)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MP_TEST_USER_AGENT", "ConfiguredAgent/1.0")
        result = dg.materialize([page], resources={
            "http": HttpFetcherResource(read_timeout_s=5, user_agent=dg.EnvVar("MP_TEST_USER_AGENT"))})
    assert result.success
    assert results[0].body == b"from dagster"
    assert isinstance(seen[0], HttpFetcher) and seen[0].user_agent == "ConfiguredAgent/1.0"


# -- both transports report failures alike ---------------------------------------------------

RAW_REPLIES: dict[str, bytes | None] = {
    "ok": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>",
    "close_before_reply": None,
    "cut_body": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<html>only the start",
    "garbage_status": b"HTTP/1.1 OK-ISH maybe\r\n\r\n",
    "silent": b"",
}


@contextlib.asynccontextmanager
async def raw_server(reply: bytes | None) -> AsyncIterator[str]:
    """A TCP server that reads the request and answers with exactly ``reply`` (``None``: close at
    once; ``b""``: say nothing and keep the connection open)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio.run() cancels a handler still waiting at exit, and Python 3.11 logs that
        # cancellation as an error: this helper ends quietly instead.
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            if reply:
                writer.write(reply)
                await writer.drain()
            if reply == b"":
                await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()


@pytest.mark.parametrize("case", list(RAW_REPLIES))
def test_transports_report_the_same_outcome(case: str) -> None:
    """aiohttp under httpx (the default, ~6x less CPU) must read exactly like httpx's own pool."""

    async def fetch(transport: str) -> FetchedResponse:
        fetcher = HttpFetcher(transport=transport, max_attempts=1, read_timeout_s=0.5)  # type: ignore[arg-type]
        async with raw_server(RAW_REPLIES[case]) as url, fetcher.session() as s:
            return await s.fetch(url)

    ours, reference = run(fetch("aiohttp")), run(fetch("httpcore"))
    assert (ours.status, ours.error_kind, ours.body) == (reference.status, reference.error_kind, reference.body)
    if case == "ok":
        assert ours.error is None and ours.body == b"<html></html>"
    else:
        assert ours.error and reference.error and ours.body == b""
        assert "\n" not in ours.error and len(ours.error) < 160, ours.error


def test_connection_refused_reads_the_same_on_both_transports() -> None:
    async def fetch(transport: str) -> FetchedResponse:
        fetcher = HttpFetcher(transport=transport, max_attempts=1)  # type: ignore[arg-type]
        async with fetcher.session() as s:
            return await s.fetch(f"http://127.0.0.1:{free_port()}/")

    assert {run(fetch(t)).error for t in ("aiohttp", "httpcore")} == {"connection refused"}


def test_aiohttp_transport_keeps_no_cookie_jar_of_its_own() -> None:
    """httpx's jar is the only one (vendor sessions persist it); a cookie dropped from it stays gone."""
    seen: list[str | None] = []

    async def setter(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        response = web.Response(text="<html></html>", content_type="text/html")
        response.set_cookie("sid", "secret")
        return response

    async def main() -> None:
        async with serve({"/": setter}) as base, HttpFetcher().session() as s:
            await s.fetch(f"{base}/")
            await s.fetch(f"{base}/")
            s.cookies.clear()
            await s.fetch(f"{base}/")

    run(main())
    assert seen == [None, "sid=secret", None]


def test_the_downloader_and_the_secret_box_import_no_dagster_and_no_pipeline() -> None:
    """The downloader is a library (Scrapy's downloader, not a Dagster component), and infra's
    secrets work without Dagster: checked in a fresh interpreter."""
    import subprocess
    import sys

    code = ("import sys, downloader.http, downloader.browser, downloader.robots, downloader.cache, "
            "downloader.circuit, downloader.throttle, downloader.socks, infra.secrets; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'pipelines')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
