"""Fetch policies against real aiohttp servers on 127.0.0.1: adaptive throttle, robots.txt,
circuit breaker, Retry-After dates, per-host limits, conditional requests, truncation.

Every count is taken at the server: what matters is what a vendor sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from downloader.cache import ConditionalCache, MemoryCacheStore
from downloader.circuit import CircuitBreaker
from downloader.http import HttpFetcher
from downloader.limits import RateLimit
from downloader.retry import parse_retry_after
from downloader.robots import RobotsPolicy
from downloader.throttle import AdaptiveThrottle
from downloader.types import FetchedResponse

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FAST = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05}


@contextlib.asynccontextmanager
async def serve(routes: dict[str, Handler]) -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


# -- adaptive throttle ------------------------------------------------------------------------------


def test_retry_after_pauses_the_whole_host_and_delay_grows_then_recovers() -> None:
    arrivals: list[tuple[float, str]] = []
    refused = False

    async def page(request: web.Request) -> web.Response:
        nonlocal refused
        arrivals.append((time.monotonic(), request.query["i"]))
        if not refused:
            refused = True
            return web.Response(status=429, headers={"Retry-After": "1"})
        return web.Response(text="<html>ok</html>", content_type="text/html")

    throttle = AdaptiveThrottle(min_delay_s=0.0, max_delay_s=2.0, target_concurrency=4)

    async def main() -> list[FetchedResponse]:
        async with serve({"/p": page}) as base, HttpFetcher(**FAST).session(hooks=[throttle]) as s:
            first = await s.fetch(f"{base}/p?i=0")  # 429, waits Retry-After, then 200
            assert throttle.peak_delay_s >= 0.05, "a 429 doubles the delay (from its floor)"
            rest = await asyncio.gather(*(s.fetch(f"{base}/p?i={i}") for i in range(1, 4)))
            return [first, *rest]

    started = time.monotonic()
    pages = run(main())
    assert all(p.ok for p in pages) and pages[0].attempts == 2
    assert arrivals[1][0] - arrivals[0][0] >= 0.95, "Retry-After: 1 was honoured"
    assert throttle.slowdowns == 1
    assert time.monotonic() - started < 5


def test_slow_server_widens_the_spacing_between_requests() -> None:
    arrivals: list[float] = []

    async def slow(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        await asyncio.sleep(0.2)
        return web.Response(text="ok")

    throttle = AdaptiveThrottle(min_delay_s=0.0, max_delay_s=5.0, target_concurrency=1)

    async def main() -> None:
        async with serve({"/s": slow}) as base, HttpFetcher().session(hooks=[throttle]) as s:
            await s.fetch(f"{base}/s?warm")  # learns the latency
            await asyncio.gather(*(s.fetch(f"{base}/s?i={i}") for i in range(4)))

    run(main())
    gaps = [b - a for a, b in itertools.pairwise(arrivals[1:])]
    assert min(gaps) >= 0.08, f"latency 0.2 s at target concurrency 1 spaces requests out, got {gaps}"


def test_throttle_unit_rules() -> None:
    clock = [0.0]
    throttle = AdaptiveThrottle(min_delay_s=0.1, max_delay_s=1.0, target_concurrency=1, clock=lambda: clock[0])
    ok = FetchedResponse("http://h/x", "http://h/x", 200, {}, b"", None, 0.0, None, "http")  # type: ignore[arg-type]
    busy = FetchedResponse("http://h/x", "http://h/x", 503, {}, b"", None, 0.0, None, "http")  # type: ignore[arg-type]
    req = type("R", (), {"url": "http://h/x"})()
    run(throttle.after_attempt(req, busy, 0.01))  # type: ignore[arg-type]
    assert throttle.delay_for("http://h/") == pytest.approx(0.2)
    for _ in range(3):
        run(throttle.after_attempt(req, busy, 0.01))  # type: ignore[arg-type]
    assert throttle.delay_for("http://h/") == 1.0, "capped at max_delay_s"
    for _ in range(20):
        run(throttle.after_attempt(req, ok, 0.001))  # type: ignore[arg-type]
    assert throttle.delay_for("http://h/") == pytest.approx(0.1, abs=0.01), "recovers down to the floor"
    error = FetchedResponse("http://h/x", "http://h/x", 500, {}, b"", None, 0.0, None, "http")  # type: ignore[arg-type]
    run(throttle.after_attempt(req, error, 0.0))  # type: ignore[arg-type]
    assert throttle.delay_for("http://h/") == pytest.approx(0.1, abs=0.01), "errors never lower the delay"


# -- robots.txt -----------------------------------------------------------------------------------------


def test_robots_disallow_blocks_without_a_request_and_crawl_delay_spaces() -> None:
    hits: list[tuple[float, str]] = []

    async def robots(request: web.Request) -> web.Response:
        hits.append((time.monotonic(), "robots"))
        return web.Response(text="User-agent: *\nDisallow: /private\nCrawl-delay: 0.3\n\n"
                                 "User-agent: OtherBot\nDisallow: /\n")

    async def page(request: web.Request) -> web.Response:
        hits.append((time.monotonic(), request.path))
        return web.Response(text="ok")

    policy = RobotsPolicy("MarketPulse/0.1 (+https://example.org)")

    async def main() -> list[FetchedResponse]:
        routes = {"/robots.txt": robots, "/public": page, "/private": page}
        async with serve(routes) as base, HttpFetcher().session(hooks=[policy]) as s:
            return [await s.fetch(f"{base}/public?i=1"), await s.fetch(f"{base}/private/x"),
                    await s.fetch(f"{base}/public?i=2")]

    first, private, second = run(main())
    assert first.ok and second.ok
    assert private.error_kind == "blocked" and private.attempts == 0
    assert private.error is not None and private.error.startswith("disallowed by robots.txt (http://127.0.0.1:")
    paths = [p for _, p in hits]
    assert paths == ["robots", "/public", "/public"], "robots.txt read once; /private never requested"
    assert hits[2][0] - hits[1][0] >= 0.28, "Crawl-delay honoured"
    assert policy.blocked == 1


def test_robots_missing_allows_all_and_unreachable_blocks_all() -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def down(request: web.Request) -> web.Response:
        return web.Response(status=503)

    async def main() -> tuple[FetchedResponse, FetchedResponse]:
        async with serve({"/p": page}) as base, HttpFetcher().session(hooks=[RobotsPolicy("MP")]) as s:
            allowed = await s.fetch(f"{base}/p")
        async with serve({"/p": page, "/robots.txt": down}) as base, \
                HttpFetcher().session(hooks=[RobotsPolicy("MP")]) as s:
            refused = await s.fetch(f"{base}/p")
        return allowed, refused

    allowed, refused = run(main())
    assert allowed.ok
    assert refused.error_kind == "blocked"
    assert refused.error is not None and refused.error.startswith("robots.txt unreachable (HTTP 503)")


# -- circuit breaker ----------------------------------------------------------------------------------


def test_circuit_opens_after_consecutive_failures_and_stops_retries() -> None:
    hits = 0

    async def down(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=503)

    breaker = CircuitBreaker("shop", max_failures=2)

    async def main() -> list[FetchedResponse]:
        fetcher = HttpFetcher(max_attempts=2, **FAST)
        async with serve({"/d": down}) as base, fetcher.session(hooks=[breaker]) as s:
            return [await s.fetch(f"{base}/d?i={i}") for i in range(5)]

    pages = run(main())
    assert hits == 4, "two pages x two attempts, then nothing"
    assert [p.error_kind for p in pages] == ["http_status", "http_status", "blocked", "blocked", "blocked"]
    assert pages[2].error is not None and pages[2].error.startswith("circuit open: shop failed 2 times in a row")
    assert "HTTP 503" in pages[2].error and breaker.refused == 3 and breaker.is_open


def test_circuit_resets_on_success_and_half_opens_after_a_pause() -> None:
    clock = [0.0]
    breaker = CircuitBreaker("shop", max_failures=2, reset_after_s=10, clock=lambda: clock[0])
    failed = FetchedResponse("u", "u", 503, {}, b"", None, 0.0, None, "http", error="HTTP 503",  # type: ignore[arg-type]
                             error_kind="http_status")
    good = FetchedResponse("u", "u", 200, {}, b"", None, 0.0, None, "http")  # type: ignore[arg-type]
    req = type("R", (), {"url": "u"})()
    run(breaker.after_fetch(req, failed))  # type: ignore[arg-type]
    run(breaker.after_fetch(req, good))  # type: ignore[arg-type]
    run(breaker.after_fetch(req, failed))  # type: ignore[arg-type]
    assert not breaker.is_open, "a success in between resets the count"
    run(breaker.after_fetch(req, failed))  # type: ignore[arg-type]
    assert breaker.is_open
    assert isinstance(run(breaker.before_fetch(req)), FetchedResponse)  # type: ignore[arg-type]
    clock[0] = 11
    assert run(breaker.before_fetch(req)) is req, "one trial request after reset_after_s"  # type: ignore[arg-type]
    assert isinstance(run(breaker.before_fetch(req)), FetchedResponse), "only one"  # type: ignore[arg-type]
    run(breaker.after_fetch(req, good))  # type: ignore[arg-type]
    assert not breaker.is_open


# -- retries, limits ----------------------------------------------------------------------------------


def test_retry_after_http_date_is_honoured() -> None:
    seen: list[float] = []

    async def busy(request: web.Request) -> web.Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)  # second resolution: 1-2 s
            return web.Response(status=429, headers={"Retry-After": when})
        return web.Response(text="ok")

    async def main() -> FetchedResponse:
        async with serve({"/b": busy}) as base, HttpFetcher(**FAST).session() as s:
            return await s.fetch(f"{base}/b")

    page = run(main())
    assert page.ok and page.attempts == 2
    assert seen[1] - seen[0] >= 0.9
    assert parse_retry_after(email.utils.formatdate(time.time() + 30, usegmt=True)) == pytest.approx(30, abs=1.5)


def test_limits_apply_per_host() -> None:
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def page(request: web.Request) -> web.Response:
        host = request.host.split(":")[0]
        in_flight[host] = in_flight.get(host, 0) + 1
        peak[host] = max(peak.get(host, 0), in_flight[host])
        await asyncio.sleep(0.1)
        in_flight[host] -= 1
        return web.Response(text="ok")

    async def main() -> float:
        async with serve({"/p": page}) as base:
            other = base.replace("127.0.0.1", "localhost")
            async with HttpFetcher().session(rate_limit=RateLimit(max_concurrency=1)) as s:
                started = time.monotonic()
                urls = [f"{b}/p?i={i}" for i in range(3) for b in (base, other)]
                pages = await asyncio.gather(*(s.fetch(u) for u in urls))
                assert all(p.ok for p in pages)
                return time.monotonic() - started

    took = run(main())
    assert peak == {"127.0.0.1": 1, "localhost": 1}, "one at a time per host"
    assert took < 0.55, f"the two hosts ran side by side ({took:.2f}s; serial would be 0.6s)"


def test_truncated_html_is_retried_and_user_agent_overridable() -> None:
    hits = 0
    agents: list[str] = []

    async def page(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        agents.append(request.headers["User-Agent"])
        html = "<!doctype html><html><body><ul class='results'><li>1</li><li>2</li></ul></body></html>"
        return web.Response(text=html[:40] if hits == 1 else html, content_type="text/html")

    async def main() -> FetchedResponse:
        fetcher = HttpFetcher(**FAST)
        async with serve({"/p": page}) as base, \
                fetcher.session(require_html_end=True, user_agent="ShopBot/2 (+mailto:ops@example.org)") as s:
            return await s.fetch(f"{base}/p")

    fetched = run(main())
    assert fetched.ok and fetched.attempts == 2 and hits == 2
    assert agents == ["ShopBot/2 (+mailto:ops@example.org)"] * 2


# -- conditional requests ------------------------------------------------------------------------------


def test_conditional_cache_revalidates_with_etag_and_serves_fresh_copies() -> None:
    requests: list[tuple[str | None, str | None]] = []
    body = b"<html><h1>item</h1></html>"

    async def item(request: web.Request) -> web.Response:
        requests.append((request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")))
        headers = {"ETag": '"v1"', "Last-Modified": "Sun, 01 Nov 2026 00:00:00 GMT"}
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="text/html", headers=headers)

    async def search(request: web.Request) -> web.Response:
        return web.Response(text="<html>no validators</html>", content_type="text/html")

    store = MemoryCacheStore()

    async def main() -> tuple[list[FetchedResponse], FetchedResponse, int]:
        async with serve({"/item": item, "/search": search}) as base:
            async with HttpFetcher().session(hooks=[ConditionalCache(store)]) as s:
                pages = [await s.fetch(f"{base}/item"), await s.fetch(f"{base}/item"),
                         await s.fetch(f"{base}/search")]
            sent = len(requests)
            async with HttpFetcher().session(hooks=[ConditionalCache(store, fresh_for_s=60)]) as s:
                fresh = await s.fetch(f"{base}/item")
            return pages, fresh, len(requests) - sent

    (first, second, other), fresh, sent_for_fresh = run(main())
    assert requests[:2] == [(None, None), ('"v1"', "Sun, 01 Nov 2026 00:00:00 GMT")]
    assert first.body == body and first.cache_status is None
    assert second.body == body and second.status == 200 and second.cache_status == "revalidated"
    assert second.attempts == 1 and second.bytes_received < len(body), "the 304 cost no body"
    assert other.ok and len(store.pages) == 1, "pages without validators are not stored"
    assert fresh.cache_status == "fresh" and fresh.attempts == 0 and fresh.body == body
    assert sent_for_fresh == 0, "a fresh copy needs no request"


# -- vendor file options ----------------------------------------------------------------------------


def test_fetch_options_in_vendor_files_are_validated_with_file_and_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pipelines.scraping.fetching import rate_limit_for, throttle_for
    from pipelines.vendors.config.errors import VendorConfigError
    from pipelines.vendors.config.loading import load_vendor_file
    from tests.support.vendor_files import vendor_dir

    ok = load_vendor_file(vendor_dir(tmp_path / "ok", {"toko": {
        "rate_limit": {"requests_per_second": 4, "concurrency": 2, "adaptive": True, "max_delay_seconds": 5},
        "cache": {"search_max_age": "1h30m"}, "fetch": {"obey_robots": False, "user_agent": "Bot/1"}}},
        only=["toko"]) / "toko.yaml")
    throttle = throttle_for(ok)
    assert throttle is not None and throttle.min_delay_s == 0.25 and throttle.target_concurrency == 2
    assert ok.cache.search_max_age is not None and ok.cache.search_max_age.total_seconds() == 5400
    assert rate_limit_for(ok) == RateLimit(4.0, 2), "adaptive keys are the throttle's, not limits"
    for patch, message in [
        ({"cache": {"search_max_age": "30 minutes"}}, "cache.search_max_age: invalid duration '30 minutes'"),
        ({"rate_limit": {"adaptve": True}}, "rate_limit.adaptve: unknown field"),
        ({"fetch": {"max_consecutive_failures": 0}}, "fetch.max_consecutive_failures: input should be greater"),
        ({"fetch": {"user_agent": " Bot"}}, "fetch.user_agent: must be one line"),
        ({"session": {"login_redirect_pattern": "(unclosed"}}, "session.login_redirect_pattern: invalid regular"),
    ]:
        folder = vendor_dir(tmp_path / str(abs(hash(message))), {"toko": patch}, only=["toko"])
        with pytest.raises(VendorConfigError) as excinfo:
            load_vendor_file(folder / "toko.yaml")
        assert "toko.yaml: " + message in str(excinfo.value), str(excinfo.value)
