"""Headless-Chromium downloader for JavaScript-rendered shops (Playwright, async API).

Same contract as the HTTP fetcher: `fetch()` returns a `FetchedResponse` (the rendered DOM
as UTF-8) and never raises for network, page or browser problems, including a missing
browser, so the crawler treats both fetch modes alike. One session = one browser process and
one browser context (shared cookies); each fetch gets a fresh page that is closed right after,
so a misbehaving page cannot leak state or memory into the next one.

With a `HostFence` every connection Chromium opens (page, redirect hop, script, XHR,
WebSocket) goes through a local SOCKS proxy that resolves names through the fence and
connects only to the addresses it checked (`downloader.socks`); request routing refuses
requests outside the fence before they leave the browser and explains refused navigations.
The session's and the request's headers go only with the page request itself (fetched
without following redirects, so a redirect to another host is followed without them);
cookies stay with their domains and Chromium never sends a ``Secure`` one over http.

We prefer the system Chromium (`/usr/bin/chromium`, or `$MARKET_PULSE_CHROMIUM`) because
Playwright's own browser download is often impossible on self-hosted, closed-network boxes.

Usage::

    fetcher = BrowserFetcher(page_timeout_s=20)
    async with fetcher.session(fence=HostFence("http://127.0.0.1:8765")) as s:
        page = await s.fetch("http://127.0.0.1:8765/mercado/search?q=canon",
                             wait_for="#app[data-ready='1']")
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Playwright, ProxySettings, Route, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from pydantic import Field

from downloader.attempts import AttemptLoop
from downloader.fence import HostFence, url_endpoint
from downloader.hooks import FetchHook
from downloader.lifecycle import OpenedOnEntry
from downloader.limits import RateLimit, host_key
from downloader.retry import RetrySettings
from downloader.socks import FencedSocksProxy
from downloader.types import ErrorKind, FetchedResponse, FetchRequest, empty_response, redact_headers

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
IMAGES_OFF_ARG = "--blink-settings=imagesEnabled=false"
"""With images blocked: Blink does not request them at all, so no image goes through the request
route (a round trip through the driver and this process each, only to be aborted): about a quarter
of the browser's CPU per rendered page of the demo's JS shop. The DOM keeps every ``src``."""
# With the fence's proxy: no UDP outside it (WebRTC would otherwise reach any address).
FENCED_LAUNCH_ARGS = ("--force-webrtc-ip-handling-policy=disable_non_proxied_udp",)

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


class BrowserFetcher(RetrySettings):
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
        if "image" in self.block_resource_types:
            args.append(IMAGES_OFF_ARG)
        return [*args, *self.extra_args]

    def session(
        self,
        *,
        rate_limit: RateLimit | None = None,
        cookies: BrowserCookies = None,
        headers: Mapping[str, str] | None = None,
        hooks: Sequence[FetchHook] = (),
        fence: HostFence | None = None,
        user_agent: str | None = None,
        max_attempts: int | None = None,
    ) -> BrowserSession:
        """A new (unopened) session; use as `async with fetcher.session(...) as s`.

        rate_limit applies to page navigations (not to the sub-resources a page loads).
        headers go with each page request itself, not with redirects or sub-resources.
        fence: the hosts and addresses the browser may reach (None: anywhere; tools and tests).
        user_agent overrides the configured `user_agent` for this session (a vendor's own).
        """
        return BrowserSession(self, rate_limit=rate_limit, cookies=cookies, headers=headers, hooks=hooks,
                              fence=fence, user_agent=user_agent, max_attempts=max_attempts)


class BrowserSession(OpenedOnEntry):
    """One browser process + one context for a crawl. Launch failures are remembered and
    reported by every `fetch()` instead of being raised."""

    def __init__(
        self,
        config: BrowserFetcher,
        *,
        rate_limit: RateLimit | None = None,
        cookies: BrowserCookies = None,
        headers: Mapping[str, str] | None = None,
        hooks: Sequence[FetchHook] = (),
        fence: HostFence | None = None,
        user_agent: str | None = None,
        max_attempts: int | None = None,
    ) -> None:
        self._config = config
        self._user_agent = user_agent or config.user_agent
        self._headers = dict(headers or {})
        self._fence = fence
        self._blocked = frozenset(config.block_resource_types)
        self._loop = AttemptLoop(fetch_mode="browser", retry_policy=config.retry_policy(max_attempts), hooks=hooks,
                                 rate_limit=rate_limit, concurrency=config.max_concurrent_pages, fence=fence)
        self._proxy: FencedSocksProxy | None = None
        # Per open page: the headers still to add to its page request, what the fence refused,
        # and every URL it requested (redirect hops included), to explain a refused navigation.
        self._page_headers: dict[Page, tuple[dict[str, str], float]] = {}  # headers, timeout (s)
        self._page_refusals: dict[Page, list[str]] = {}
        self._page_urls: dict[Page, list[str]] = {}
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

    async def open(self) -> None:
        """Start the browser. Never raises for a missing/broken browser: see `launch_error`."""
        if self._opened:
            return
        self._opened = True
        self._closing = False
        self.launch_error = None
        cfg = self._config
        path = cfg.resolved_executable_path()
        if path is not None and not os.path.isfile(path):
            self.launch_error = f"Chromium not found at {path!r}: {INSTALL_HINT}"
            logger.error("%s", self.launch_error)
            return
        t0 = time.perf_counter()
        try:
            proxy: ProxySettings | None = None
            args = cfg.launch_args()
            if self._fence is not None:
                # Every connection through the fence (loopback included: Playwright adds <-loopback>).
                self._proxy = FencedSocksProxy(self._fence)
                proxy = ProxySettings(server=await self._proxy.start())
                args = [*args, *FENCED_LAUNCH_ARGS]
            self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=path,
                headless=cfg.headless,
                args=args,
                proxy=proxy,
                timeout=cfg.launch_timeout_s * 1000,
            )
            self._browser.on("disconnected", self._on_disconnected)
            self._context = await self._browser.new_context(
                user_agent=self._user_agent,
                service_workers="block",  # they would bypass our request routing
            )
            if self._cookie_list:
                # Playwright types these as its SetCookieParam TypedDict, which it does not export.
                await self._context.add_cookies(self._cookie_list)  # type: ignore[arg-type]
            await self._context.route("**/*", self._route)  # fence, blocked types, vendor headers
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
            self._proxy.close if self._proxy else None,
        ):
            if closer is None:
                continue
            try:
                await closer()
            except Exception as exc:  # closing a dead browser must not mask the real outcome
                logger.debug("ignoring error while closing browser: %s", exc)
        self._context = self._browser = self._playwright = None
        self._proxy = None

    def _on_disconnected(self, _browser: Browser) -> None:
        if not self._closing and self.launch_error is None:
            self.launch_error = "browser process exited unexpectedly (crash or killed)"
            logger.error("%s", self.launch_error)

    async def _route(self, route: Route) -> None:
        """Every request a page makes (not redirect hops: the proxy fences those)."""
        request = route.request
        page = _page_of(request)
        try:
            refusal = self._fence.check_url(request.url) if self._fence is not None else None
            if refusal is not None:
                if page is not None:
                    self._page_refusals.setdefault(page, []).append(refusal)
                logger.info("browser request refused: %s", refusal)
                await route.abort("blockedbyclient")
            elif request.resource_type in self._blocked:
                await route.abort()
            elif (page is not None and request.is_navigation_request() and request.frame.parent_frame is None
                  and (pending := self._page_headers.pop(page, None))):
                await self._send_with_headers(route, page, request, *pending)
            else:
                await route.continue_()
        except PlaywrightError:  # the page was closed while the request was in flight
            pass

    async def _send_with_headers(self, route: Route, page: Page, request: PlaywrightRequest,
                                 extra: dict[str, str], timeout_s: float) -> None:
        """The page request with the vendor's headers, its redirect not followed here: Chromium
        follows it as a new request, which carries no vendor header to another host."""
        try:
            answer = await route.fetch(headers={**request.headers, **extra}, max_redirects=0,
                                       timeout=timeout_s * 1000)
        except PlaywrightError as exc:
            refused = self._proxy_refusal([request.url])
            if refused is not None:
                self._page_refusals.setdefault(page, []).append(refused)
                await route.abort("blockedbyclient")
            else:
                await route.abort(_abort_code(str(exc)))
            return
        await route.fulfill(response=answer)

    # -- fetching --------------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        *,
        wait_for: str | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        rate_limit: RateLimit | None = None,
    ) -> FetchedResponse:
        """Render `url` and return its DOM; never raises for page/browser problems.

        wait_for: CSS selector that must be *attached* to the DOM before we snapshot it (use a
            readiness marker such as `#app[data-ready='1']`). Not awaited for 4xx/5xx pages.
        headers: sent with this page request only (with the session's headers).
        cookies: {name: value} added to the session's context for this URL's site.
        timeout_s: overrides `page_timeout_s` (navigation + wait_for together).
        """
        if not self._opened:
            raise RuntimeError("BrowserSession.fetch() called outside `async with fetcher.session()`")
        request = FetchRequest(url=url, headers=dict(headers or {}), wait_for=wait_for, timeout_s=timeout_s)
        return await self._loop.fetch(request, lambda req: self._render(req, cookies), rate_limit=rate_limit,
                                      ready=self._not_running)

    def _not_running(self, request: FetchRequest) -> FetchedResponse | None:
        """The browser is missing or crashed (before or between attempts): nothing can be sent."""
        if self.launch_error is not None or self._context is None:
            return empty_response(request, fetch_mode="browser", error=self.launch_error or "browser is not running",
                                  error_kind="browser", attempts=0)
        return None

    async def _render(self, request: FetchRequest, cookies: Mapping[str, str] | None) -> FetchedResponse:
        cfg = self._config
        context = self._context
        assert context is not None
        timeout_s = request.timeout_s or cfg.page_timeout_s
        started_at, t0 = datetime.now(UTC), time.perf_counter()
        deadline = t0 + timeout_s
        result = empty_response(request, fetch_mode="browser", started_at=started_at)
        page: Page | None = None
        try:
            await self._add_cookies(context, request.url, cookies)
            page = await context.new_page()
            page.set_default_timeout(timeout_s * 1000)  # bounds content()/load-state waits too
            extra = {**self._headers, **request.headers}
            if extra:
                self._page_headers[page] = (extra, timeout_s)
            if self._fence is not None:
                urls = self._page_urls[page] = []
                page.on("request", lambda r: urls.append(r.url))
            try:
                main = await page.goto(request.url, wait_until="load", timeout=timeout_s * 1000)
            except PlaywrightTimeoutError:
                return _fail(result, f"timeout after {timeout_s}s (navigation)", "navigation", page)
            except PlaywrightError as exc:
                message = _first_line(exc)
                refused = self._refusal(page, message)
                if refused is not None:
                    return _fail(result, refused, "blocked", page)
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
            if result.error is not None and self._page_refusals.get(page):
                result.error += f" (refused by the host fence: {self._page_refusals[page][0]})"
            return result
        except PlaywrightError as exc:  # browser crashed/closed mid-fetch
            kind: ErrorKind = "browser" if self.launch_error else "navigation"
            return _fail(result, f"browser error: {_first_line(exc)}", kind, page)
        finally:
            result.elapsed_ms = (time.perf_counter() - t0) * 1000.0
            if page is not None:
                for per_page in (self._page_headers, self._page_refusals, self._page_urls):
                    per_page.pop(page, None)
                with contextlib.suppress(PlaywrightError):
                    await page.close()
            result.browser_seconds = time.perf_counter() - t0
            if result.error:
                logger.info("render %s failed: %s", request.url, result.error)
            else:
                logger.debug("rendered %s -> %s in %.0f ms", request.url, result.status, result.elapsed_ms)

    def _refusal(self, page: Page, message: str) -> str | None:
        """The fence's reason for a failed navigation: refused by routing, or by the proxy on a
        redirect hop (Chromium reports only "blocked by client" / "SOCKS connection failed")."""
        if "ERR_BLOCKED_BY_CLIENT" not in message and "ERR_SOCKS_CONNECTION_FAILED" not in message \
                and "ERR_PROXY_CONNECTION_FAILED" not in message:
            return None
        if self._page_refusals.get(page):
            return self._page_refusals[page][0]
        return self._proxy_refusal(reversed(self._page_urls.get(page, [])))

    def _proxy_refusal(self, urls: Iterable[str]) -> str | None:
        """What the proxy said when it refused a connection to the host of one of ``urls``."""
        if self._proxy is None:
            return None
        for url in urls:
            try:
                _scheme, host, port = url_endpoint(url)
            except ValueError:
                continue
            refused = self._proxy.refusals.get(f"{host}:{port}")
            if refused is not None:
                return refused
        return None

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
                   "ERR_CONNECTION_TIMED_OUT", "ERR_SOCKS_CONNECTION_FAILED", "ERR_PROXY_CONNECTION_FAILED",
                   "ERR_SOCKS_CONNECTION_HOST_UNREACHABLE")
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


def _page_of(request: PlaywrightRequest) -> Page | None:
    try:
        return request.frame.page
    except PlaywrightError:  # a service worker's request (blocked anyway) has no frame
        return None


def _abort_code(message: str) -> str:
    """Playwright's abort code closest to a failed `route.fetch` (keeps the retry decision)."""
    if "ECONNREFUSED" in message:
        return "connectionrefused"
    if "ECONNRESET" in message or "socket hang up" in message.lower():
        return "connectionreset"
    if "Timeout" in message or "ETIMEDOUT" in message:
        return "timedout"
    if "ENOTFOUND" in message or "EAI_AGAIN" in message:
        return "namenotresolved"
    return "failed"


def _first_line(exc: BaseException) -> str:
    """Playwright messages carry multi-line call logs; the first line is the useful part."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return _API_PREFIX.sub("", line)  # "Page.goto: net::ERR_..." -> "net::ERR_..."


def _fail(result: FetchedResponse, message: str, kind: ErrorKind, page: Page | None) -> FetchedResponse:
    result.error, result.error_kind = message, kind
    if page is not None:
        result.final_url = page.url if page.url not in ("", "about:blank") else result.final_url
    return result
