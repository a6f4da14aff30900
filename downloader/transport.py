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
  error to ``ConnectTimeout``, so a refused port would read as a timeout;
- with a `HostFence`, names are resolved through the fence and connections go to exactly the
  addresses it checked (aiohttp: a resolver; httpcore: a network backend), so a DNS answer that
  changes after the check (rebinding) cannot reach a private address. IP literals never reach a
  resolver: the fetcher checks them (``HostFence.check_url``) before every request and redirect.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Literal, get_args

import aiohttp
import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from httpx_aiohttp import AiohttpTransport

from downloader.fence import HostFence

__all__ = ["TRANSPORTS", "TransportName", "make_transport"]

TransportName = Literal["aiohttp", "httpcore"]
"""Values of ``HttpFetcher.transport``: ``httpcore`` is httpx's own default."""
TRANSPORTS: tuple[str, ...] = get_args(TransportName)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """httpx's verifying SSL context (certifi's CAs), made once per process: building one loads the CA
    bundle (~50-130 ms of CPU), and every session and robots.txt fetch would otherwise build its own."""
    return httpx.create_ssl_context()


class PreciseAiohttpTransport(AiohttpTransport):
    """``AiohttpTransport`` with one cookie-less session per client and exact error types."""

    def __init__(self, *, max_connections: int, keepalive_expiry_s: float = 5.0,
                 fence: HostFence | None = None) -> None:
        super().__init__(client=self._new_session, verify=shared_ssl_context())
        self._max_connections = max_connections
        self._keepalive_expiry_s = keepalive_expiry_s
        self._fence = fence

    def _new_session(self) -> aiohttp.ClientSession:
        resolver = FencedResolver(self._fence) if self._fence is not None else None
        connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=self._keepalive_expiry_s,
                                         resolver=resolver)
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
        assert isinstance(response.stream, httpx.AsyncByteStream)  # an async transport's body
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


class FencedResolver(AbstractResolver):
    """aiohttp resolver answering only with the addresses the fence allows (`HostRefused` otherwise)."""

    def __init__(self, fence: HostFence) -> None:
        self._fence = fence

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        addresses = await self._fence.addresses(host, port)
        return [{"hostname": host, "host": str(address), "port": port,
                 "family": socket.AF_INET if address.version == 4 else socket.AF_INET6,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for address in addresses]

    async def close(self) -> None:
        return None


class FencedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore backend that resolves through the fence and connects to a checked address.

    TLS still verifies the original host name: httpcore passes it as the SNI/certificate name.
    """

    def __init__(self, fence: HostFence, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._fence = fence
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await self._fence.addresses(host, port)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout,
                                                     local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are outside the host fence")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _fenced_httpcore(max_connections: int, fence: HostFence) -> httpx.AsyncHTTPTransport:
    """httpx's own transport with its connection pool rebuilt on the fenced network backend
    (httpx has no option for a network backend; ``_pool`` is the pool its requests go to)."""
    transport = httpx.AsyncHTTPTransport(verify=shared_ssl_context(),
                                         limits=httpx.Limits(max_connections=max_connections,
                                                             max_keepalive_connections=max_connections))
    default = transport._pool
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=default._ssl_context, max_connections=max_connections,
        max_keepalive_connections=max_connections, keepalive_expiry=default._keepalive_expiry,
        network_backend=FencedNetworkBackend(fence))
    return transport


def make_transport(kind: str, *, max_connections: int, fence: HostFence | None = None
                   ) -> httpx.AsyncBaseTransport | None:
    """The transport for ``HttpFetcher.transport``; ``None`` lets httpx build its default."""
    if kind == "aiohttp":
        return PreciseAiohttpTransport(max_connections=max_connections, fence=fence)
    if kind == "httpcore":
        return _fenced_httpcore(max_connections, fence) if fence is not None else None
    raise ValueError(f"unknown HTTP transport {kind!r}; expected one of {', '.join(TRANSPORTS)}")
