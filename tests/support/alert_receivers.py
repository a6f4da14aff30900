"""Real receivers on 127.0.0.1 for alert delivery tests: a JSON webhook (aiohttp) and SMTP (aiosmtpd)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    json: Any
    at: float


@dataclass
class WebhookReceiver:
    """Collects JSON POSTs. ``/down/...`` answers 503 forever; ``fail_next`` makes the next N fail."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def apprise_url(self, path: str = "/hook", *, user: str | None = None, password: str | None = None) -> str:
        host = self.url.removeprefix("http://")
        auth = f"{user}:{password}@" if user else ""
        return f"json://{auth}{host}{path}"

    def unique(self, path: str | None = None) -> dict[str, Received]:
        """What an idempotent receiver keeps: one message per idempotency key."""
        out: dict[str, Received] = {}
        for item in self.for_path(path):
            out.setdefault(item.headers.get("X-Idempotency-Key", f"none-{id(item)}"), item)
        return out

    def for_path(self, path: str | None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = self.for_path(path)
            if len(items) >= count:
                return items
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages at {path or 'any path'}, got {len(self.for_path(path))}")

    async def _handle(self, request: web.Request) -> web.Response:
        if request.path.startswith("/down"):
            return web.Response(status=503, text="down for maintenance")
        payload = await request.json()
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return web.Response(status=500, text="boom")
            self.received.append(Received(request.path, dict(request.headers), payload, time.time()))
        return web.json_response({"ok": True})


@contextlib.contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_post("/{tail:.*}", receiver._handle)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        host, port = runner.addresses[0][:2]
        box["runner"] = runner
        receiver.url = f"http://{host}:{port}"
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="webhook-receiver", daemon=True)
    thread.start()
    assert ready.wait(10), "webhook receiver did not start"
    try:
        yield receiver
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


class _SmtpHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class SmtpReceiver:
    host: str
    port: int
    handler: _SmtpHandler

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def apprise_url(self, to: str = "alice@example.com", sender: str = "alerts@example.com") -> str:
        return f"mailto://{self.host}:{self.port}?from={sender}&to={to}&mode=insecure"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"expected {count} e-mails, got {len(self.messages)}"
        return self.messages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    handler = _SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpReceiver("127.0.0.1", port, handler)
    finally:
        controller.stop()
