"""Plain-HTTP downloader: the part of the scraper that turns URLs into `FetchedResponse`s.

Like Scrapy's downloader it knows nothing about parsing or storage. One `HttpSession` per
vendor crawl owns one keep-alive `httpx.AsyncClient` (connection reuse is most of the
throughput) plus the per-host politeness state. `fetch()` never raises for network/HTTP
problems, so `asyncio.gather` over many pages cannot be killed by one bad page.

Redirects are followed by hand, each hop checked against the session's `HostFence`; a hop to
another origin (scheme, host or port) is sent with the client's own headers only: the
session's and the request's headers (a vendor's ``X-Api-Key``), ``Authorization`` and the
previous ``Cookie`` header stay behind, and the cookie jar adds only the cookies whose domain
matches the new host (never a ``Secure`` one over http), as Scrapy does.

Usage (inside or outside Dagster)::

    fetcher = HttpFetcher(read_timeout_s=10)
    async with fetcher.session(rate_limit=RateLimit(2, 2), fence=HostFence("http://127.0.0.1:8765")) as s:
        page = await s.fetch("http://127.0.0.1:8765/toko/search?q=iphone")
        if page.error is None: ...
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import httpx
from pydantic import Field

from downloader.attempts import AttemptLoop
from downloader.fence import HostFence, refusal_in
from downloader.hooks import FetchHook
from downloader.lifecycle import OpenedOnEntry
from downloader.limits import RateLimit
from downloader.retry import RetrySettings
from downloader.transport import TransportName, make_transport
from downloader.types import ErrorKind, FetchedResponse, FetchRequest, redact_headers

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "MarketPulse/0.1 (+https://github.com/market-pulse)"
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"

CookiesLike = Mapping[str, str] | httpx.Cookies | None


class HttpFetcher(RetrySettings):
    """Configuration for plain-HTTP fetching; open a `session()` to actually fetch.

    The configuration holds no connections: it may be constructed, copied and pickled freely
    (the pipeline's Dagster resource is a subclass), and each crawl gets its own client whose
    lifetime is bounded by `async with`.
    """

    user_agent: str = Field(
        default=DEFAULT_USER_AGENT, description="Identifies us honestly to vendors (with a contact URL)."
    )
    connect_timeout_s: float = Field(default=10.0, gt=0, description="Max seconds to open a connection.")
    read_timeout_s: float = Field(default=20.0, gt=0, description="Max seconds of silence while reading.")
    total_timeout_s: float = Field(
        default=60.0, gt=0, description="Max seconds for one attempt, redirects and body included."
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, description="Stop reading (and fail) past this many bytes."
    )
    max_redirects: int = Field(default=5, ge=0, description="Redirect hops allowed before failing.")
    max_connections: int = Field(default=100, ge=1, description="Concurrent connections per session.")
    max_attempts: int = Field(
        default=3, ge=1, description="Tries for connection errors, 429 and 5xx (1 = no retry)."
    )
    transport: TransportName = Field(
        default="aiohttp",
        description="Connection pool under the httpx client: aiohttp (~6x less CPU per request) or "
        "httpx's own httpcore.",
    )

    def session(
        self,
        *,
        rate_limit: RateLimit | None = None,
        cookies: CookiesLike = None,
        headers: Mapping[str, str] | None = None,
        hooks: Sequence[FetchHook] = (),
        fence: HostFence | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str | None = None,
        max_attempts: int | None = None,
        require_html_end: bool = False,
    ) -> HttpSession:
        """A new (unopened) session; use as `async with fetcher.session(...) as s`.

        rate_limit: default per-host limit for this session.
        cookies: sent with requests (e.g. from a stored login session). Pass `httpx.Cookies`
            with domains (``pipelines.scraping.sessions.to_httpx_cookies`` keeps Secure, path
            and domain); a plain mapping is scoped to the fence's base host, or sent to every
            host when there is no fence. Cookies set by servers are kept for the session.
        headers: extra headers (e.g. Accept-Language, an API key) for every request, kept on
            redirects within the same origin only.
        hooks: `FetchHook`s run around every fetch (robots.txt, circuit breaker, ...).
        fence: the hosts and addresses this session may reach (None: anywhere; for tools
            and tests only, the pipeline always passes the vendor's fence).
        transport: custom httpx transport (tests, proxies); it bypasses the fence's address
            check, which lives in the transports `make_transport` builds.
        user_agent: overrides the configured `user_agent` for this session (a vendor's own).
        max_attempts: overrides the configured `max_attempts` for this session.
        require_html_end: a 2xx text/html body without a closing `</html>` near its end is an
            error (`error_kind="truncated"`, retried): a page cut short must not pass for a short page.
        """
        return HttpSession(
            self, rate_limit=rate_limit, cookies=cookies, headers=headers, hooks=hooks, fence=fence,
            transport=transport, user_agent=user_agent, max_attempts=max_attempts,
            require_html_end=require_html_end,
        )


class _Partial:
    """What we learned about a response so far, so errors can still report status/url/bytes."""

    __slots__ = ("bytes_received", "final_url", "headers", "status")

    def __init__(self, url: str) -> None:
        self.final_url = url
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.bytes_received = 0


class _Failure(Exception):
    """Internal: abort the current attempt with a readable message."""

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.message = message
        self.kind: ErrorKind = kind


class HttpSession(OpenedOnEntry):
    """One crawl's worth of HTTP: a shared keep-alive client, cookie jar and host limiters."""

    def __init__(
        self,
        config: HttpFetcher,
        *,
        rate_limit: RateLimit | None = None,
        cookies: CookiesLike = None,
        headers: Mapping[str, str] | None = None,
        hooks: Sequence[FetchHook] = (),
        fence: HostFence | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str | None = None,
        max_attempts: int | None = None,
        require_html_end: bool = False,
    ) -> None:
        self._config = config
        self._require_html_end = require_html_end
        self._cookies = cookies
        self._headers = dict(headers or {})
        self._user_agent = user_agent or config.user_agent
        self._fence = fence
        self._transport = transport
        self._loop = AttemptLoop(fetch_mode="http", retry_policy=config.retry_policy(max_attempts), hooks=hooks,
                                 rate_limit=rate_limit, concurrency=config.max_connections, fence=fence)
        self._client: httpx.AsyncClient | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        if self._client is not None:
            return
        cfg = self._config
        self._client = httpx.AsyncClient(
            # Only what may go to any allowed host: vendor headers are added per request.
            headers={"User-Agent": self._user_agent, "Accept": DEFAULT_ACCEPT},
            cookies=self._scoped_cookies(),
            # pool=None: we queue on our own semaphore *before* the clock starts, so waiting
            # for a free connection never counts against a page's timeout.
            timeout=httpx.Timeout(
                connect=cfg.connect_timeout_s, read=cfg.read_timeout_s, write=cfg.read_timeout_s, pool=None
            ),
            limits=httpx.Limits(
                max_connections=cfg.max_connections, max_keepalive_connections=cfg.max_connections
            ),
            follow_redirects=False,  # followed by hand: fence, cap, per-hop headers, no body reads
            transport=self._transport
            or make_transport(cfg.transport, max_connections=cfg.max_connections, fence=self._fence),
        )

    def _scoped_cookies(self) -> httpx.Cookies | dict[str, str] | None:
        """A plain {name: value} mapping is scoped to the fence's base host (never to any host)."""
        if self._cookies is None or isinstance(self._cookies, httpx.Cookies):
            return self._cookies
        if self._fence is None:
            return dict(self._cookies)
        jar = httpx.Cookies()
        for name, value in self._cookies.items():
            jar.set(name, value, domain=self._fence.base_host)
        return jar

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    @property
    def cookies(self) -> httpx.Cookies:
        """The live cookie jar (to persist a session later). Never log its values."""
        if self._client is None:
            raise RuntimeError("session is not open")
        return self._client.cookies

    # -- fetching --------------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        rate_limit: RateLimit | None = None,
        timeout_s: float | None = None,
    ) -> FetchedResponse:
        """GET `url`; never raises for network/HTTP problems (see `FetchedResponse.error`).

        rate_limit overrides the session's default for this call (`RateLimit()` = unlimited).
        timeout_s overrides `total_timeout_s` for this call.
        """
        if self._client is None:
            raise RuntimeError("HttpSession.fetch() called outside `async with fetcher.session()`")
        request = FetchRequest(url=url, headers=dict(headers or {}), timeout_s=timeout_s)
        return await self._loop.fetch(request, self._attempt, rate_limit=rate_limit)

    async def _attempt(self, request: FetchRequest) -> FetchedResponse:
        """One try: GET, follow redirects by hand, read the body under the cap.

        The caller holds the rate-limit slot of the *requested* host for the whole attempt,
        redirect hops included.
        """
        cfg = self._config
        client = self._client
        assert client is not None
        partial = _Partial(request.url)
        total_s = request.timeout_s or cfg.total_timeout_s
        # timing fields are filled in by the caller (they span all attempts)
        epoch = datetime.now(UTC)
        try:
            async with asyncio.timeout(total_s):
                http_request = client.build_request("GET", request.url, headers={**self._headers, **request.headers})
                redirects = 0
                while True:
                    self._check_fence(http_request.url)
                    response = await client.send(http_request, stream=True)
                    try:
                        partial.final_url = str(response.url)
                        partial.status = response.status_code
                        partial.headers = redact_headers(dict(response.headers.items()))
                        if response.next_request is not None:  # redirect with a usable Location
                            partial.bytes_received += response.num_bytes_downloaded
                            redirects += 1
                            if redirects > cfg.max_redirects:
                                raise _Failure(
                                    f"too many redirects (more than {cfg.max_redirects})", "redirects"
                                )
                            http_request = self._redirect(http_request, response.next_request)
                            continue
                        body = await self._read_capped(response, partial)
                        partial.bytes_received += response.num_bytes_downloaded
                        if self._require_html_end and _html_cut_short(partial, body):
                            raise _Failure("truncated HTML: the page ends before </html>", "truncated")
                    finally:
                        await response.aclose()
                    return FetchedResponse(
                        requested_url=request.url,
                        final_url=partial.final_url,
                        status=partial.status,
                        headers=partial.headers,
                        body=body,
                        content_type=partial.headers.get("content-type"),
                        elapsed_ms=0.0,
                        started_at=epoch,
                        fetch_mode="http",
                        bytes_received=partial.bytes_received,
                    )
        except _Failure as failure:
            return _error_response(request.url, partial, failure.message, failure.kind, epoch, 0.0)
        except TimeoutError:
            return _error_response(
                request.url, partial, f"timeout after {total_s}s (total)", "timeout", epoch, 0.0
            )
        except Exception as exc:
            refused = refusal_in(exc)
            if refused is not None:  # the fence refused an address after resolving the name
                logger.warning("%s", refused.message)
                return _error_response(request.url, partial, refused.message, "blocked", epoch, 0.0)
            if not isinstance(exc, httpx.HTTPError | OSError):
                raise
            message, kind = _describe(exc, cfg)
            return _error_response(request.url, partial, message, kind, epoch, 0.0)

    def _check_fence(self, url: httpx.URL) -> None:
        if self._fence is not None:
            refusal = self._fence.check_url(str(url))
            if refusal is not None:
                logger.warning("%s", refusal)
                raise _Failure(refusal, "blocked")

    def _redirect(self, previous: httpx.Request, following: httpx.Request) -> httpx.Request:
        """The next hop: as httpx built it within one origin; to another origin, a fresh request
        with the client's own headers and the cookies the jar holds for that host only."""
        if _origin(following.url) == _origin(previous.url):
            return following
        assert self._client is not None
        return self._client.build_request("GET", following.url)

    async def _read_capped(self, response: httpx.Response, partial: _Partial) -> bytes:
        """Stream the body and stop as soon as it exceeds the cap (decoded size: zip bombs count)."""
        cap = self._config.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _Failure(f"body larger than {cap} bytes (Content-Length {declared})", "too_large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                partial.bytes_received += response.num_bytes_downloaded
                raise _Failure(f"body larger than {cap} bytes", "too_large")
            chunks.append(chunk)
        return b"".join(chunks)


_HTML_END_WINDOW = 64 * 1024


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _html_cut_short(partial: _Partial, body: bytes) -> bool:
    """A 2xx HTML page whose last 64 KiB hold no `</html>` (tags after it are tolerated)."""
    status = partial.status or 0
    media = (partial.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if not 200 <= status < 300 or media not in ("text/html", "application/xhtml+xml") or not body:
        return False
    return b"</html" not in body[-_HTML_END_WINDOW:].lower()


def _error_response(
    url: str, partial: _Partial, message: str, kind: ErrorKind, started_at: datetime, elapsed_ms: float
) -> FetchedResponse:
    """Failed responses keep what we learned (status, headers, final URL) but no body:
    a truncated or half-read page must never be parsed as if it were complete."""
    return FetchedResponse(
        requested_url=url,
        final_url=partial.final_url,
        status=partial.status,
        headers=partial.headers,
        body=b"",
        content_type=partial.headers.get("content-type"),
        elapsed_ms=elapsed_ms,
        started_at=started_at,
        fetch_mode="http",
        error=message,
        bytes_received=partial.bytes_received,
        error_kind=kind,
    )


def _describe(exc: BaseException, cfg: HttpFetcher) -> tuple[str, ErrorKind]:
    """Turn an httpx/OS exception into a short message a human can act on, plus its kind."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timeout after {cfg.connect_timeout_s}s (connect)", "connect"
    if isinstance(exc, httpx.ReadTimeout):
        return f"timeout after {cfg.read_timeout_s}s (read)", "timeout"
    if isinstance(exc, httpx.WriteTimeout):
        return f"timeout after {cfg.read_timeout_s}s (write)", "timeout"
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout ({type(exc).__name__})", "timeout"
    if isinstance(exc, httpx.ConnectError):
        return _describe_connect_error(exc), "connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "disconnected" in text.lower():
            return "server disconnected without a complete response", "disconnected"
        if "incomplete" in text.lower() or "peer closed" in text.lower():
            # The connection dropped mid-body: a truncated page, worth another try (GET).
            return f"truncated body: {text}", "disconnected"
        return f"protocol error: {text}", "protocol"
    if isinstance(exc, httpx.NetworkError):  # ReadError / WriteError / CloseError
        cause = _root_os_error(exc)
        detail = (
            "connection reset" if isinstance(cause, ConnectionResetError) else (str(exc) or "network error")
        )
        return f"connection lost: {detail}", "disconnected"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"invalid URL: {exc}", "invalid_url"
    if isinstance(exc, httpx.DecodingError):
        return f"could not decode body: {exc}", "protocol"
    if isinstance(exc, httpx.TooManyRedirects):
        return f"too many redirects (more than {cfg.max_redirects})", "redirects"
    if isinstance(exc, OSError):
        return _describe_connect_error(exc), "connect"
    return f"{type(exc).__name__}: {exc}", "protocol"


def _root_os_error(exc: BaseException) -> BaseException | None:
    """Walk __cause__/__context__ to the most specific low-level error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    found: BaseException | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | ssl.SSLError):
            found = current
        current = current.__cause__ or current.__context__
    return found


def _describe_connect_error(exc: BaseException) -> str:
    root = _root_os_error(exc)
    if isinstance(root, ConnectionRefusedError) or getattr(root, "errno", None) == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(root, socket.gaierror):
        return f"DNS lookup failed: {root.strerror or root}"
    if isinstance(root, ssl.SSLError):
        return f"TLS error: {getattr(root, 'reason', None) or root}"
    if isinstance(root, ConnectionResetError):
        return "connection reset"
    if isinstance(root, TimeoutError):
        return "timeout (connect)"
    return f"connection failed: {root or exc}"
