"""A SOCKS5 proxy on 127.0.0.1 that applies the host fence to every connection the browser opens.

Chromium follows redirects, runs a page's scripts and opens WebSockets on its own; request
routing (``page.route``) does not see redirect hops, and Chromium resolves names itself, so a
check made in Python could be answered differently when Chromium connects. Every connection
of a fenced browser therefore goes through this proxy (Playwright launches Chromium with
``--proxy-server=socks5://…``, loopback included, and no local DNS): Chromium hands it the host
name and port, the proxy resolves the name once through the fence, refuses what the fence
refuses, and connects to exactly the address it checked. TLS passes through untouched.

Only what the browser needs is implemented (RFC 1928 CONNECT, no authentication: Chromium
does not send SOCKS credentials); the listener is bound to loopback and lives as long as one
crawl's browser. No maintained asyncio SOCKS server lets the caller choose the address to
connect to after its own check, hence these few lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import struct

from downloader.fence import HostFence, HostRefused

logger = logging.getLogger(__name__)

_VERSION = 5
_NO_AUTH, _NO_ACCEPTABLE = 0x00, 0xFF
_CONNECT = 0x01
_IPV4, _DOMAIN, _IPV6 = 0x01, 0x03, 0x04
# Reply codes (RFC 1928 section 6)
_OK, _NOT_ALLOWED, _HOST_UNREACHABLE, _REFUSED, _BAD_COMMAND, _BAD_ADDRESS = 0x00, 0x02, 0x04, 0x05, 0x07, 0x08
_CHUNK = 64 * 1024
_LINGER_S = 30.0


class FencedSocksProxy:
    """``async with FencedSocksProxy(fence) as url:`` → ``socks5://127.0.0.1:<port>``.

    ``refusals`` keeps the fence's message for each refused ``host:port`` (latest wins), so
    the browser session can tell a person why a navigation failed.
    """

    def __init__(self, fence: HostFence, *, connect_timeout_s: float = 10.0) -> None:
        self.fence = fence
        self.connect_timeout_s = connect_timeout_s
        self.refusals: dict[str, str] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"socks5://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            opened = await self._negotiate(reader, writer)
            if opened is None:
                return
            up_reader, upstream = opened
            directions = {asyncio.create_task(_pipe(reader, upstream)), asyncio.create_task(_pipe(up_reader, writer))}
            try:
                # When one side is done, give the other a moment to finish its answer, then close both
                # (a half-closed tunnel must not hold a socket until the crawl ends).
                _done, pending = await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
                if pending:
                    _done, pending = await asyncio.wait(pending, timeout=_LINGER_S)
            finally:
                for direction in directions:
                    direction.cancel()
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # either side went away
        except Exception:  # a malformed greeting must not end the proxy
            logger.debug("SOCKS connection failed", exc_info=True)
        finally:
            for stream in (upstream, writer):
                if stream is not None:
                    stream.close()
            if task is not None:
                self._tasks.discard(task)

    async def _negotiate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != _VERSION or _NO_AUTH not in methods:
            writer.write(bytes([_VERSION, _NO_ACCEPTABLE]))
            await writer.drain()
            return None
        writer.write(bytes([_VERSION, _NO_AUTH]))
        version, command, _reserved, kind = await reader.readexactly(4)
        if kind == _IPV4:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == _IPV6:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        elif kind == _DOMAIN:
            length = (await reader.readexactly(1))[0]
            host = (await reader.readexactly(length)).decode("ascii", errors="replace").lower()  # punycode
        else:
            await _reply(writer, _BAD_ADDRESS)
            return None
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if version != _VERSION or command != _CONNECT:
            await _reply(writer, _BAD_COMMAND)
            return None
        try:
            addresses = await self.fence.addresses(host, port)
        except HostRefused as refused:
            self.refusals[f"{host}:{port}"] = refused.message
            logger.info("browser connection refused: %s", refused.message)
            await _reply(writer, _NOT_ALLOWED)
            return None
        except OSError:  # the name does not resolve
            await _reply(writer, _HOST_UNREACHABLE)
            return None
        last_error: OSError | None = None
        for address in addresses:  # exactly the addresses the fence checked
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(str(address), port), self.connect_timeout_s)
            except (OSError, TimeoutError) as exc:
                last_error = exc if isinstance(exc, OSError) else OSError(str(exc))
                continue
            bound = up_writer.get_extra_info("sockname") or ("0.0.0.0", 0)
            await _reply(writer, _OK, bound)
            return up_reader, up_writer
        await _reply(writer, _REFUSED if isinstance(last_error, ConnectionRefusedError) else _HOST_UNREACHABLE)
        return None


async def _reply(writer: asyncio.StreamWriter, code: int, bound: tuple[str, int] = ("0.0.0.0", 0)) -> None:
    address = ipaddress.ip_address(str(bound[0]))
    kind = _IPV4 if address.version == 4 else _IPV6
    writer.write(bytes([_VERSION, code, 0, kind]) + address.packed + struct.pack("!H", int(bound[1])))
    await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until end of stream (or a dropped side), then half-close the other."""
    try:
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
    except OSError:
        pass
    finally:
        if writer.can_write_eof() and not writer.is_closing():
            with contextlib.suppress(OSError):
                writer.write_eof()

