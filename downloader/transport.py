"""The transport under our httpx client: aiohttp's connection pool and HTTP parser.

httpx stays the API (requests, responses, cookies, redirects, streaming, errors), but its
default transport (httpcore on anyio) cost ~3 ms of CPU per request on the 2-core machines we
measured, most of it checking every pooled connection for every request, while aiohttp's
C-accelerated pool and parser cost ~0.5 ms under the same httpx client (`bench/scrape.py`).
For a scraper that is most of a core.

``httpx-aiohttp`` does the translation. Three things are ours:

- the aiohttp session keeps **no cookies** (``DummyCookieJar``): httpx's jar is the one the
  vendor-session code reads, persists and encrypts; two jars would replay cookies we removed;
- aiohttp's silent re-send on a dropped keep-alive connection is off: every retry goes through
  our retry policy, which counts and reports it;
- aiohttp errors are mapped to the precise httpx error the fetcher reports to users ("connection
  refused", "server disconnected", "timeout (connect)"). The library maps every connection-level
  error to ``ConnectTimeout``, so a refused port would read as a timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Literal, get_args

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["TRANSPORTS", "TransportName", "make_transport"]

TransportName = Literal["aiohttp", "httpcore"]
"""Values of ``HttpFetcher.transport``: ``httpcore`` is httpx's own default."""
TRANSPORTS: tuple[str, ...] = get_args(TransportName)


class PreciseAiohttpTransport(AiohttpTransport):
    """``AiohttpTransport`` with one cookie-less session per client and exact error types."""

    def __init__(self, *, max_connections: int, keepalive_expiry_s: float = 5.0) -> None:
        super().__init__(client=self._new_session)
        self._max_connections = max_connections
        self._keepalive_expiry_s = keepalive_expiry_s

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=self._keepalive_expiry_s)
        session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                        auto_decompress=False)
        # aiohttp silently re-sends an idempotent request once when a reused connection drops;
        # our retry policy counts, spaces and reports every attempt, so it must see that failure.
        # (No public switch; tests/test_faults.py counts server hits against reported attempts.)
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _precise_errors(request):
            response = await super().handle_async_request(request)
        response.stream = _PreciseStream(response.stream, request)
        return response


class _PreciseStream(httpx.AsyncByteStream):
    """The response body, with the same error mapping while it streams (a body cut short)."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _precise_errors(self._request):
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


@contextlib.contextmanager
def _precise_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpx.TransportError as exc:
        cause = exc.__cause__
        if isinstance(cause, aiohttp.ClientError):
            raise precise_error(cause, request) from cause
        raise
    except aiohttp.ClientError as exc:  # not in the library's map (e.g. a malformed status line)
        raise precise_error(exc, request) from exc


def precise_error(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """The httpx error that httpcore would have raised for the same failure."""
    message = _one_line(exc)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError):  # includes SocketTimeoutError (read)
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS handshake
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    if isinstance(exc, aiohttp.ClientPayloadError):
        detail = _one_line(exc.__cause__) if exc.__cause__ is not None else message
        return httpx.RemoteProtocolError(f"peer closed connection without sending complete message body ({detail})",
                                         request=request)
    if isinstance(exc, aiohttp.ClientResponseError):  # unparseable status line or headers
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(exc, aiohttp.ClientOSError):  # reset or broken pipe on an open connection
        return httpx.ReadError(message, request=request)
    return httpx.NetworkError(message, request=request)


def _one_line(exc: BaseException) -> str:
    """aiohttp's message without its multi-line parser diagnostics (caret lines, repr noise)."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    text = " ".join(part for part in str(text).split() if part != "^")
    return text[:150]


def make_transport(kind: str, *, max_connections: int) -> httpx.AsyncBaseTransport | None:
    """The transport for ``HttpFetcher.transport``; ``None`` lets httpx build its default."""
    if kind == "aiohttp":
        return PreciseAiohttpTransport(max_connections=max_connections)
    if kind == "httpcore":
        return None
    raise ValueError(f"unknown HTTP transport {kind!r}; expected one of {', '.join(TRANSPORTS)}")
