"""Headless-Chromium downloader for JavaScript-rendered shops (Playwright, async API).

Same contract as the HTTP fetcher: `fetch()` returns a `FetchedResponse` (the rendered DOM
as UTF-8) and never raises for network, page or browser problems, including a missing
browser, so the crawler treats both fetch modes alike. One session = one browser process and
one browser context (shared cookies); each fetch gets a fresh page that is closed right after,
so a misbehaving page cannot leak state or memory into the next one.

We prefer the system Chromium (`/usr/bin/chromium`, or `$MARKET_PULSE_CHROMIUM`) because
Playwright's own browser download is often impossible on self-hosted, closed-network boxes.

Usage::

    fetcher = BrowserFetcher(page_timeout_s=20)
    async with fetcher.session() as s:
        page = await s.fetch("http://127.0.0.1:8765/mercado/search?q=canon",
                             wait_for="#app[data-ready='1']")
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from pydantic import Field

from downloader.policy import (
    FetchHook,
    HostLimiter,
    RateLimit,
    RateLimitLike,
    RetryingFetcher,
    host_key,
    is_retryable_status,
    run_with_hooks,
)
from downloader.types import ErrorKind, FetchedResponse, FetchRequest, redact_headers

logger = logging.getLogger(__name__)

_API_PREFIX = re.compile(r"^[A-Za-z]+\.[A-Za-z_]+: ")

CHROMIUM_ENV_VAR = "MARKET_PULSE_CHROMIUM"
SYSTEM_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = (
    f"install Chromium (e.g. `apt-get install chromium`) or set {CHROMIUM_ENV_VAR} to the path of a "
    "Chromium/Chrome executable"
)

# Flags for a quiet browser on a closed network: no phoning home, no update checks, no QUIC.
BASE_LAUNCH_ARGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",  # small /dev/shm in containers otherwise crashes tabs
    "--disable-domain-reliability",
)

# Session cookies: {name: value} (sent to every site this session visits, like HttpSession)
# or Playwright cookie dicts with their own url/domain.
BrowserCookies = Mapping[str, str] | Sequence[Mapping[str, Any]] | None


def default_chromium_path() -> str | None:
    """$MARKET_PULSE_CHROMIUM, else /usr/bin/chromium if present, else None (Playwright's own)."""
    from_env = os.environ.get(CHROMIUM_ENV_VAR, "").strip()
    if from_env:
        return from_env
    if os.path.exists(SYSTEM_CHROMIUM):
        return SYSTEM_CHROMIUM
    return None


class BrowserFetcher(RetryingFetcher):
    """Configuration for rendering pages in headless Chromium; open a `session()` to fetch."""

    executable_path: str | None = Field(
        default=None,
        description=(
            f"Chromium binary. None = auto: ${CHROMIUM_ENV_VAR}, else {SYSTEM_CHROMIUM} if it exists, "
            "else Playwright's bundled browser."
        ),
    )
    headless: bool = Field(default=True, description="Run without a window (servers have no display).")
    page_timeout_s: float = Field(
        default=30.0, gt=0, description="Budget per fetch: navigation plus waiting for `wait_for`."
    )
    max_concurrent_pages: int = Field(default=4, ge=1, description="Open pages at once per session.")
    block_resource_types: list[str] = Field(
        default=["image", "font", "media"],
        description="Playwright resource types aborted to save time and bandwidth.",
    )
    extra_args: list[str] = Field(default=[], description="Additional Chromium command-line flags.")
    user_agent: str | None = Field(default=None, description="None = Chromium's own user agent.")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="Reject larger rendered DOMs.")
    launch_timeout_s: float = Field(default=30.0, gt=0, description="Max seconds to start the browser.")
    max_attempts: int = Field(
        default=2, ge=1, description="Renders per page for dropped connections, 429 and 5xx (1 = no retry)."
    )

    def resolved_executable_path(self) -> str | None:
        return self.executable_path or default_chromium_path()

    def launch_args(self) -> list[str]:
        args = list(BASE_LAUNCH_ARGS)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(0, "--no-sandbox")  # Chromium refuses to start its sandbox as root
        return [*args, *self.extra_args]

    def session(
        self,
        *,
        rate_limit: RateLimitLike = None,
        cookies: BrowserCookies = None,
        headers: Mapping[str, str] | None = None,
        hooks: Sequence[FetchHook] = (),
        user_agent: str | None = None,
        max_attempts: int | None = None,
    ) -> BrowserSession:
        """A new (unopened) session; use as `async with fetcher.session(...) as s`.

        rate_limit applies to page navigations (not to the sub-resources a page loads).
        user_agent overrides the resource's `user_agent` for this session (a vendor's own).
        """
        return BrowserSession(self, rate_limit=rate_limit, cookies=cookies, headers=headers, hooks=hooks,
                              user_agent=user_agent, max_attempts=max_attempts)


class BrowserSession:
    """One browser process + one context for a crawl. Launch failures are remembered and
    reported by every `fetch()` instead of being raised."""

    def __init__(
        self,
        config: BrowserFetcher,
        *,
        rate_limit: RateLimitLike = None,
        cookies: BrowserCookies = None,
        headers: Mapping[str, str] | None = None,
        hooks: Sequence[FetchHook] = (),
        user_agent: str | None = None,
        max_attempts: int | None = None,
    ) -> None:
        self._config = config
        self._user_agent = user_agent or config.user_agent
        self._retry_policy = config.retry_policy()
        if max_attempts is not None:
            self._retry_policy = dataclasses.replace(self._retry_policy, max_attempts=max_attempts)
        self._rate_limit = RateLimit.coerce(rate_limit)
        self._headers = dict(headers or {})
        self._hooks = tuple(hooks)
        self._blocked = frozenset(config.block_resource_types)
        self._limiter = HostLimiter()
        self._pages: asyncio.Semaphore | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._opened = False
        self._closing = False
        self.launch_error: str | None = None
        self.launch_seconds = 0.0
        # {name: value} cookies are seeded per origin on first visit; dicts are added at open.
        self._cookie_map: dict[str, str] = {}
        self._cookie_list: list[dict[str, Any]] = []
        if isinstance(cookies, Mapping):
            self._cookie_map = {str(k): str(v) for k, v in cookies.items()}
        elif cookies:
            self._cookie_list = [dict(c) for c in cookies]
        self._seeded_origins: set[str] = set()

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> BrowserSession:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Start the browser. Never raises for a missing/broken browser: see `launch_error`."""
        if self._opened:
            return
        self._opened = True
        self._closing = False
        self.launch_error = None
        cfg = self._config
        self._pages = asyncio.Semaphore(cfg.max_concurrent_pages)
        path = cfg.resolved_executable_path()
        if path is not None and not os.path.isfile(path):
            self.launch_error = f"Chromium not found at {path!r}: {INSTALL_HINT}"
            logger.error("%s", self.launch_error)
            return
        t0 = time.perf_counter()
        try:
            self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=path,
                headless=cfg.headless,
                args=cfg.launch_args(),
                timeout=cfg.launch_timeout_s * 1000,
            )
            self._browser.on("disconnected", self._on_disconnected)
            self._context = await self._browser.new_context(
                user_agent=self._user_agent,
                extra_http_headers=self._headers or None,
                service_workers="block",  # they would bypass our request routing
            )
            if self._cookie_list:
                await self._context.add_cookies(self._cookie_list)  # type: ignore[arg-type]
            if self._blocked:
                await self._context.route("**/*", self._route)
        except Exception as exc:
            where = path or "Playwright's bundled Chromium"
            self.launch_error = f"could not launch Chromium ({where}): {_first_line(exc)}; {INSTALL_HINT}"
            logger.error("%s", self.launch_error)
            await self._shutdown()
        finally:
            self.launch_seconds = time.perf_counter() - t0

    async def close(self) -> None:
        await self._shutdown()
        self._opened = False

    async def _shutdown(self) -> None:
        self._closing = True
        for closer in (
            self._context.close if self._context else None,
            self._browser.close if self._browser else None,
            self._playwright.stop if self._playwright else None,
        ):
            if closer is None:
                continue
            try:
                await closer()
            except Exception as exc:  # closing a dead browser must not mask the real outcome
                logger.debug("ignoring error while closing browser: %s", exc)
        self._context = self._browser = self._playwright = None

    def _on_disconnected(self, _browser: Browser) -> None:
        if not self._closing and self.launch_error is None:
            self.launch_error = "browser process exited unexpectedly (crash or killed)"
            logger.error("%s", self.launch_error)

    async def _route(self, route: Route) -> None:
        try:
            if route.request.resource_type in self._blocked:
                await route.abort()
            else:
                await route.continue_()
        except PlaywrightError:  # the page was closed while the request was in flight
            pass

    # -- fetching --------------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        *,
        wait_for: str | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        rate_limit: RateLimitLike = None,
    ) -> FetchedResponse:
        """Render `url` and return its DOM; never raises for page/browser problems.

        wait_for: CSS selector that must be *attached* to the DOM before we snapshot it (use a
            readiness marker such as `#app[data-ready='1']`). Not awaited for 4xx/5xx pages.
        cookies: {name: value} added to the session's context for this URL's site.
        timeout_s: overrides `page_timeout_s` (navigation + wait_for together).
        """
        if not self._opened:
            raise RuntimeError("BrowserSession.fetch() called outside `async with fetcher.session()`")
        request = FetchRequest(url=url, headers=dict(headers or {}), wait_for=wait_for, timeout_s=timeout_s)
        limit = self._rate_limit if rate_limit is None else RateLimit.coerce(rate_limit)
        try:
            return await run_with_hooks(self._hooks, request, lambda req: self._fetch(req, cookies, limit))
        except Exception as exc:  # a bug (ours or a hook's) must still not kill sibling fetches
            logger.exception("unexpected error rendering %s", url)
            return _response(request, error=f"unexpected error: {type(exc).__name__}: {exc}", kind="internal")

    async def _fetch(
        self, request: FetchRequest, cookies: Mapping[str, str] | None, limit: RateLimit | None
    ) -> FetchedResponse:
        if self.launch_error is not None or self._context is None:
            return _response(request, error=self.launch_error or "browser is not running", kind="browser")
        attempts = 0
        browser_seconds = 0.0
        t0 = time.perf_counter()
        started_at: datetime | None = None

        async def attempt() -> FetchedResponse:
            nonlocal attempts, browser_seconds, started_at
            if self.launch_error is not None or self._context is None:  # crashed between attempts
                return _response(request, error=self.launch_error or "browser is not running", kind="browser")
            attempts += 1
            assert self._pages is not None
            async with self._limiter.slot(request.url, limit):
                for hook in self._hooks:  # throttle wait / open circuit, just before navigating
                    refused = await hook.before_attempt(request)
                    if refused is not None:
                        attempts -= 1
                        return refused
                async with self._pages:
                    result = await self._render(request, cookies)
            started_at = started_at or result.started_at
            browser_seconds += result.browser_seconds
            for hook in reversed(self._hooks):
                await hook.after_attempt(request, result, result.elapsed_ms / 1000.0)
            return result

        if self._retry_policy.max_attempts <= 1:
            response = await attempt()
        else:
            response = await self._retry_policy.retrying()(attempt)
        if attempts:
            response.attempts = attempts
            response.browser_seconds = browser_seconds
            response.started_at = started_at or response.started_at
            response.elapsed_ms = (time.perf_counter() - t0) * 1000.0
        if response.error_kind == "http_status":
            response.error = f"HTTP {response.status} from server after {attempts} attempt(s)"
        return response

    async def _render(self, request: FetchRequest, cookies: Mapping[str, str] | None) -> FetchedResponse:
        cfg = self._config
        context = self._context
        assert context is not None
        timeout_s = request.timeout_s or cfg.page_timeout_s
        started_at, t0 = datetime.now(UTC), time.perf_counter()
        deadline = t0 + timeout_s
        result = _response(request, started_at=started_at)
        page: Page | None = None
        try:
            await self._add_cookies(context, request.url, cookies)
            page = await context.new_page()
            page.set_default_timeout(timeout_s * 1000)  # bounds content()/load-state waits too
            if request.headers:
                await page.set_extra_http_headers(request.headers)
            try:
                main = await page.goto(request.url, wait_until="load", timeout=timeout_s * 1000)
            except PlaywrightTimeoutError:
                return _fail(result, f"timeout after {timeout_s}s (navigation)", "navigation", page)
            except PlaywrightError as exc:
                message = _first_line(exc)
                return _fail(result, f"navigation failed: {message}", _navigation_kind(message), page)
            if main is not None:
                result.status = main.status
                result.headers = redact_headers(await main.all_headers())
                result.content_type = result.headers.get("content-type")
            page_is_error = result.status is not None and result.status >= 400
            if request.wait_for and not page_is_error:
                remaining_ms = max(deadline - time.perf_counter(), 0.001) * 1000
                try:
                    await page.wait_for_selector(request.wait_for, state="attached", timeout=remaining_ms)
                except PlaywrightTimeoutError:
                    # keep the DOM: it shows *why* (captcha, empty shell, changed markup)
                    result.error = f"timeout after {timeout_s}s waiting for selector {request.wait_for!r}"
                    result.error_kind = "wait_for_timeout"
                except PlaywrightError as exc:  # e.g. an invalid selector
                    result.error = f"wait_for {request.wait_for!r} failed: {_first_line(exc)}"
                    result.error_kind = "wait_for_timeout"
            html = await _content(page)
            result.final_url = page.url
            result.body = html.encode("utf-8")
            result.bytes_received = len(result.body)
            if len(result.body) > cfg.max_body_bytes:
                result.body = b""
                result.error, result.error_kind = f"body larger than {cfg.max_body_bytes} bytes", "too_large"
            elif result.error is None and is_retryable_status(result.status):
                result.error = f"HTTP {result.status} from server"
                result.error_kind = "http_status"
            return result
        except PlaywrightError as exc:  # browser crashed/closed mid-fetch
            kind: ErrorKind = "browser" if self.launch_error else "navigation"
            return _fail(result, f"browser error: {_first_line(exc)}", kind, page)
        finally:
            result.elapsed_ms = (time.perf_counter() - t0) * 1000.0
            if page is not None:
                with contextlib.suppress(PlaywrightError):
                    await page.close()
            result.browser_seconds = time.perf_counter() - t0
            if result.error:
                logger.info("render %s failed: %s", request.url, result.error)
            else:
                logger.debug("rendered %s -> %s in %.0f ms", request.url, result.status, result.elapsed_ms)

    async def _add_cookies(
        self, context: BrowserContext, url: str, cookies: Mapping[str, str] | None
    ) -> None:
        """Scope name/value cookies to the fetched URL (Playwright needs a url or domain)."""
        pending: dict[str, str] = {}
        origin = host_key(url)
        if self._cookie_map and origin not in self._seeded_origins:
            self._seeded_origins.add(origin)
            pending.update(self._cookie_map)
        if cookies:
            pending.update(cookies)
        if pending:
            site = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}/"  # path "/" = whole site
            await context.add_cookies([{"name": k, "value": v, "url": site} for k, v in pending.items()])


async def _content(page: Page) -> str:
    """page.content(), tolerating one in-flight client-side navigation."""
    try:
        return await page.content()
    except PlaywrightError:
        await page.wait_for_load_state("load")
        return await page.content()


_CONNECT_ERRORS = ("ERR_CONNECTION_REFUSED", "ERR_ADDRESS_UNREACHABLE", "ERR_NAME_NOT_RESOLVED",
                   "ERR_CONNECTION_TIMED_OUT")
_DISCONNECT_ERRORS = ("ERR_CONNECTION_RESET", "ERR_EMPTY_RESPONSE", "ERR_CONNECTION_CLOSED",
                      "ERR_INCOMPLETE_CHUNKED_ENCODING", "ERR_CONTENT_LENGTH_MISMATCH", "ERR_CONNECTION_ABORTED")


def _navigation_kind(message: str) -> ErrorKind:
    """Chromium's net::ERR_* codes mapped onto the HTTP fetcher's kinds (so retries agree)."""
    if any(code in message for code in _CONNECT_ERRORS):
        return "connect"
    if any(code in message for code in _DISCONNECT_ERRORS):
        return "disconnected"
    if "ERR_TOO_MANY_REDIRECTS" in message:
        return "redirects"
    return "navigation"


def _first_line(exc: BaseException) -> str:
    """Playwright messages carry multi-line call logs; the first line is the useful part."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return _API_PREFIX.sub("", line)  # "Page.goto: net::ERR_..." -> "net::ERR_..."


def _response(
    request: FetchRequest,
    *,
    started_at: datetime | None = None,
    error: str | None = None,
    kind: ErrorKind | None = None,
) -> FetchedResponse:
    return FetchedResponse(
        requested_url=request.url,
        final_url=request.url,
        status=None,
        headers={},
        body=b"",
        content_type=None,
        elapsed_ms=0.0,
        started_at=started_at or datetime.now(UTC),
        fetch_mode="browser",
        error=error,
        attempts=1 if kind != "browser" else 0,
        error_kind=kind,
    )


def _fail(result: FetchedResponse, message: str, kind: ErrorKind, page: Page | None) -> FetchedResponse:
    result.error, result.error_kind = message, kind
    if page is not None:
        result.final_url = page.url if page.url not in ("", "about:blank") else result.final_url
    return result
