"""The demo's alert inbox: a JSON webhook receiver that shows what Market Pulse sent.

The demo's example saved search (``demo/alerts.yaml``) notifies ``json://127.0.0.1:8765/alerts-inbox``
(Apprise's JSON webhook). This module receives those POSTs and shows them:

- ``POST /alerts-inbox`` — Apprise JSON payload (``title``, ``message``, ``type`` ...). Idempotent:
  a message whose ``X-Idempotency-Key`` header (or ``idempotency_key`` field) was seen before is
  acknowledged but not stored again, as a well-behaved receiver should.
- ``GET /alerts-inbox`` — an HTML page of the received alerts, newest first (refreshes itself).
- ``GET /alerts-inbox.json`` — the same as JSON (``{"received": n, "duplicates": n, "alerts": [...]}``).
- ``DELETE /alerts-inbox`` — empty it.

Kept in memory (the last 500), like everything else in the demo.
"""

from __future__ import annotations

import html
import json
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

MAX_KEPT = 500


class Inbox:
    def __init__(self) -> None:
        self.alerts: deque[dict[str, Any]] = deque(maxlen=MAX_KEPT)
        self.keys: set[str] = set()
        self.duplicates = 0
        self._lock = threading.Lock()

    def receive(self, payload: dict[str, Any], key: str | None) -> bool:
        """Store a message; False when its idempotency key was seen already."""
        with self._lock:
            if key and key in self.keys:
                self.duplicates += 1
                return False
            if key:
                self.keys.add(key)
            self.alerts.appendleft({"received_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                    "idempotency_key": key, "title": str(payload.get("title", "")),
                                    "message": str(payload.get("message", "")), "type": payload.get("type"),
                                    "data": payload.get("market_pulse")})
            return True

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"received": len(self.alerts), "duplicates": self.duplicates, "alerts": list(self.alerts)}

    def clear(self) -> None:
        with self._lock:
            self.alerts.clear()
            self.keys.clear()
            self.duplicates = 0


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Alerts inbox · demo</title>
<meta http-equiv="refresh" content="10">
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
article{{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}}
h2{{font-size:1.05rem;margin:0 0 .4rem}} pre{{white-space:pre-wrap;margin:0;font-size:.9rem}}
.meta{{color:#777;font-size:.8rem;margin-bottom:.4rem}}</style></head><body>
<h1>Alerts inbox</h1>
<p>What Market Pulse's saved searches sent to <code>json://&lt;demo&gt;/alerts-inbox</code>:
{count} alert(s), {duplicates} duplicate delivery(ies) ignored. Newest first; this page refreshes every 10 s.
Manage searches with <code>market-pulse alerts list</code>.</p>
{items}
</body></html>"""


def _render(snapshot: dict[str, Any]) -> str:
    items = "".join(
        f"<article><h2>{html.escape(a['title'])}</h2>"
        f"<div class=meta>{html.escape(a['received_at'])} · {html.escape(a['idempotency_key'] or 'no key')}</div>"
        f"<pre>{html.escape(a['message'])}</pre></article>"
        for a in snapshot["alerts"]) or "<p><em>Nothing yet: materialise a <code>listings</code> partition.</em></p>"
    return PAGE.format(count=snapshot["received"], duplicates=snapshot["duplicates"], items=items)


INBOX = web.AppKey("alerts_inbox", Inbox)


def inbox_routes(inbox: Inbox) -> list[web.RouteDef]:
    async def post(request: web.Request) -> web.Response:
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "expected a JSON body"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"error": "expected a JSON object"}, status=400)
        key = request.headers.get("X-Idempotency-Key") or payload.get("idempotency_key")
        stored = inbox.receive(payload, str(key) if key else None)
        return web.json_response({"ok": True, "duplicate": not stored})

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=_render(inbox.snapshot()), content_type="text/html")

    async def as_json(request: web.Request) -> web.Response:
        return web.json_response(inbox.snapshot())

    async def clear(request: web.Request) -> web.Response:
        inbox.clear()
        return web.json_response({"ok": True})

    return [web.post("/alerts-inbox", post, name="inbox.post"), web.get("/alerts-inbox", page, name="inbox.page"),
            web.get("/alerts-inbox.json", as_json, name="inbox.json"),
            web.delete("/alerts-inbox", clear, name="inbox.clear")]


def add_inbox(app: web.Application) -> None:
    """Mount the inbox on a demo app (one line in ``demo.server.create_app``)."""
    app[INBOX] = Inbox()
    app.add_routes(inbox_routes(app[INBOX]))
