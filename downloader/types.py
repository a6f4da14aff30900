"""Plain data types shared by the fetchers (the "downloader" layer), the crawler and the archive.

They are deliberately free of httpx/Playwright objects so that a response can be archived,
pickled, compared in tests or handed to a parser without dragging a network client along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

FetchMode = Literal["http", "browser"]

# Machine-readable error categories, so callers (retry policy, circuit breaker, reports) can
# branch on the *kind* of failure without parsing the human-readable `error` message.
ErrorKind = Literal[
    "connect",  # could not open a connection (refused, DNS, TLS, connect timeout): safe to retry
    "disconnected",  # connection dropped before/while receiving the response: safe to retry (GET)
    "timeout",  # read/write/pool/total timeout after the request was sent
    "too_large",  # body exceeded max_body_bytes
    "truncated",  # a complete HTTP answer whose HTML stops before </html> (require_html_end): retried
    "redirects",  # too many redirects or a broken Location header
    "http_status",  # 429/5xx still returned after the last attempt
    "protocol",  # malformed HTTP, undecodable body
    "invalid_url",  # unsupported scheme, malformed URL
    "browser",  # browser missing or failed to launch/crash
    "navigation",  # browser navigation failed or timed out
    "wait_for_timeout",  # browser: the wait_for selector never appeared
    "blocked",  # refused without asking the server: the host fence, robots.txt, an open circuit...
    "session",  # the vendor session is missing or dead (login wall): import a fresh one
    "internal",  # unexpected bug; logged with a traceback
]

# Response headers whose values must never end up in the archive: they carry session secrets.
REDACTED_HEADERS = frozenset({"set-cookie", "set-cookie2"})
REDACTED_VALUE = "<redacted>"


@dataclass(slots=True)
class FetchRequest:
    """What the crawler asks the downloader for. Hooks may rewrite it before it is sent
    (e.g. add If-None-Match for conditional requests)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    wait_for: str | None = None  # browser only: CSS selector that marks "page is rendered"
    timeout_s: float | None = None  # overrides the fetcher's total/page timeout for this request


@dataclass(slots=True)
class FetchedResponse:
    """One fetched page, successful or not.

    Fetchers never raise for network or HTTP problems: they return a response with `error`
    set, so one bad page never kills its siblings in an asyncio.gather. Rules for callers:

    * `error is None` means the server answered and the body is complete. That includes 4xx
      answers such as 404 (a delisted item is a valid, archivable answer); check `status`.
    * A 429 or 5xx that persists after the last retry *is* an error (`error_kind="http_status"`):
      we did not get the page, only a refusal.
    * Never parse a response whose `error` is set; `body` may be empty or hold diagnostic
      content (e.g. the DOM at the moment a browser `wait_for` timed out).
    """

    requested_url: str
    final_url: str
    status: int | None
    headers: dict[str, str]  # lower-cased names; Set-Cookie values redacted
    body: bytes
    content_type: str | None  # raw Content-Type header value, e.g. "text/html; charset=utf-8"
    elapsed_ms: float  # wall time from the first attempt's start to the end (incl. retry waits)
    started_at: datetime  # aware UTC; when the first attempt started (after any rate-limit wait)
    fetch_mode: FetchMode
    error: str | None = None  # readable message, e.g. "timeout after 10.0s (read)"
    attempts: int = 1
    browser_seconds: float = 0.0  # time a browser page was open; 0 for http
    bytes_received: int = 0  # http: bytes off the wire (pre-decompression); browser: DOM size
    error_kind: ErrorKind | None = None
    # Set when the body came from the HTTP cache: "fresh" (no request sent) or "revalidated"
    # (the server answered 304 Not Modified to a conditional request; `status` is the cached one).
    cache_status: Literal["fresh", "revalidated"] | None = None

    @property
    def ok(self) -> bool:
        """True when the page was fetched completely and the server said 2xx."""
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def media_type(self) -> str | None:
        """Content-Type without parameters, lower-cased ("text/html")."""
        if not self.content_type:
            return None
        return self.content_type.split(";", 1)[0].strip().lower() or None

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        for part in (self.content_type or "").split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"').lower()
        return None

    def text(self, default_encoding: str = "utf-8") -> str:
        """Body decoded with the declared charset (falling back to `default_encoding`)."""
        encoding = self.charset or default_encoding
        try:
            return self.body.decode(encoding, errors="replace")
        except LookupError:  # unknown charset name from the server
            return self.body.decode(default_encoding, errors="replace")


def empty_response(
    request: FetchRequest,
    *,
    fetch_mode: FetchMode,
    started_at: datetime | None = None,
    error: str | None = None,
    error_kind: ErrorKind | None = None,
    attempts: int = 1,
) -> FetchedResponse:
    """A response with nothing received (no status, headers or body): a refusal before any request,
    a browser that is not running, or a fetch's result before its answer is filled in."""
    return FetchedResponse(
        requested_url=request.url,
        final_url=request.url,
        status=None,
        headers={},
        body=b"",
        content_type=None,
        elapsed_ms=0.0,
        started_at=started_at or datetime.now(UTC),
        fetch_mode=fetch_mode,
        error=error,
        attempts=attempts,
        error_kind=error_kind,
    )


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Replace secret-bearing header values; responses are archived and may be logged."""
    return {k: (REDACTED_VALUE if k in REDACTED_HEADERS else v) for k, v in headers.items()}
