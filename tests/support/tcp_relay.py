"""A plain TCP relay: ``python -m tests.support.tcp_relay LISTEN_HOST:PORT=TARGET_HOST:PORT ...``.

The services a worker needs (RabbitMQ, Postgres, the demo marketplace) listen on the host's
127.0.0.1 only. A worker in its own network namespace reaches them over a veth pair through two
relays: one inside the namespace listening on the same 127.0.0.1 ports (so every URL the worker
uses is identical to the host's), one on the host's end of the veth forwarding to 127.0.0.1.
Each relayed connection is closed on both sides as soon as either side closes, so a killed
worker's database session (and the advisory lock it held) ends at once, as it would without us.

Prints ``ready`` once every listener is bound; runs until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _handler(target_host: str, target_port: int):  # type: ignore[no-untyped-def]
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    return handle


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main(mappings: list[str]) -> None:
    servers = []
    for mapping in mappings:
        listen, _, target = mapping.partition("=")
        listen_host, listen_port = _address(listen)
        servers.append(await asyncio.start_server(_handler(*_address(target)), listen_host, listen_port,
                                                  reuse_address=True))
    print("ready", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
