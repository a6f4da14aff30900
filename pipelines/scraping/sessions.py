"""Logged-in vendor sessions: cookie exports in, encrypted rows at rest, cookies out to fetchers.

A person logs in to a shop in their own browser, exports the cookies (EditThisCookie /
Cookie-Editor JSON, a Playwright storage state, or a Netscape ``cookies.txt``) and runs
``market-pulse sessions import VENDOR FILE``. Cookies for any domain outside the vendor's
hosts (its ``base_url`` host and ``allowed_hosts``) refuse the whole import; each cookie keeps
its domain (host-only or with subdomains), path, ``Secure``, ``HttpOnly`` and ``SameSite``. The
cookies are encrypted with the ``SecretBox`` (Fernet) before they touch the database;
``expires_at`` is the earliest expiry of a persistent cookie. The scraper loads the vendor's
newest valid session and hands the cookies to the HTTP or browser fetcher; ``SessionGuard``
watches every answer for the login wall (``session.login_redirect_pattern`` /
``session.login_marker``) and, at the first sign, stops the vendor's crawl and marks the
session invalid: a vendor is never scraped logged out.

Cookie values never leave this module in clear except towards a fetcher: ``Cookie.__repr__``
hides them, errors name line numbers and cookie names only, and listings show counts and dates.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import ipaddress
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from parsel import Selector as ParselSelector
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import Connection, text

from downloader.hooks import FetchHook
from downloader.types import FetchedResponse, FetchRequest
from infra.secrets import SecretBox, SecretKeyError
from pipelines.parsing.selectors import CompiledSelector, HtmlEngine
from pipelines.vendors.config.fetch_rules import SessionRules
from pipelines.vendors.config.selectors import Selector
from pipelines.vendors.config.vendor import VendorConfig

logger = logging.getLogger(__name__)

SESSION_EXPIRED = "session expired: import a fresh one"
NO_SESSION = "no valid session"


class CookieImportError(ValueError):
    """The export cannot be read; the message names the line or entry, never a cookie value."""


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str = field(repr=False)
    domain: str  # ".shop.com": shop.com and its subdomains; "shop.com": that host only
    path: str = "/"
    expires: float | None = None  # Unix seconds; None = session cookie (ends with the browser)
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None  # "Strict" | "Lax" | "None"

    def expired(self, now: dt.datetime) -> bool:
        return self.expires is not None and self.expires <= now.timestamp()


# -- reading exports ----------------------------------------------------------------------------

_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None", "no_restriction": "None"}


def parse_cookie_export(content: str, *, fmt: str = "auto") -> tuple[list[Cookie], str]:
    """Cookies from an export, plus the format recognised (``json`` or ``netscape``)."""
    stripped = content.lstrip("\ufeff").strip()
    if not stripped:
        raise CookieImportError("the file is empty")
    if fmt == "auto":
        fmt = "json" if stripped[0] in "[{" else "netscape"
    if fmt == "json":
        cookies = _parse_json(stripped)
    elif fmt == "netscape":
        cookies = _parse_netscape(stripped)
    else:
        raise CookieImportError(f"unknown format {fmt!r}; use auto, json or netscape")
    if not cookies:
        raise CookieImportError("no cookies found in the file")
    return cookies, fmt


def _parse_json(content: str) -> list[Cookie]:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise CookieImportError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):  # Playwright storage_state
        data = data["cookies"]
    if not isinstance(data, list):
        raise CookieImportError("expected a JSON list of cookies (EditThisCookie / Cookie-Editor export) "
                                "or an object with a \"cookies\" list (Playwright storage state)")
    cookies = []
    for index, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise CookieImportError(f"cookie #{index}: expected an object, got {type(entry).__name__}")
        name, value, domain = entry.get("name"), entry.get("value"), entry.get("domain")
        if not isinstance(name, str) or not name:
            raise CookieImportError(f"cookie #{index}: missing \"name\"")
        if not isinstance(value, str):
            raise CookieImportError(f"cookie #{index} ({name}): missing \"value\"")
        if not isinstance(domain, str) or not domain:
            raise CookieImportError(f"cookie #{index} ({name}): missing \"domain\"")
        if entry.get("hostOnly") is False and not domain.startswith("."):
            domain = "." + domain  # a domain cookie written without its dot
        expires = entry.get("expirationDate", entry.get("expires"))
        if entry.get("session") is True or expires in (None, -1, 0):
            expires = None
        elif not isinstance(expires, int | float):
            raise CookieImportError(f"cookie #{index} ({name}): expiry must be a number of seconds")
        same_site = entry.get("sameSite")
        cookies.append(Cookie(
            name=name, value=value, domain=domain, path=entry.get("path") or "/",
            expires=None if expires is None else float(expires), secure=bool(entry.get("secure")),
            http_only=bool(entry.get("httpOnly")),
            same_site=_SAME_SITE.get(str(same_site).lower()) if same_site else None))
    return cookies


def _parse_netscape(content: str) -> list[Cookie]:
    cookies = []
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        http_only = False
        if line.startswith("#HttpOnly_"):
            line, http_only = line[len("#HttpOnly_"):], True
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) == 6:  # an empty value at the end of the line loses its tab in some editors
            parts.append("")
        if len(parts) != 7:
            raise CookieImportError(f"line {number}: expected 7 tab-separated fields (domain, subdomains, "
                                    f"path, secure, expiry, name, value), got {len(parts)}")
        domain, subdomains, path, secure, expiry, name, value = parts
        if subdomains.upper() == "TRUE" and not domain.startswith(".") and not _is_ip(domain):
            domain = "." + domain  # "include subdomains" written without the leading dot
        if not name:
            raise CookieImportError(f"line {number}: empty cookie name")
        try:
            expires = float(expiry)
        except ValueError:
            raise CookieImportError(f"line {number} ({name}): expiry {expiry!r} is not a number") from None
        cookies.append(Cookie(name=name, value=value, domain=domain, path=path or "/",
                              expires=expires if expires > 0 else None, secure=secure.upper() == "TRUE",
                              http_only=http_only))
    return cookies


# -- handing cookies to fetchers ----------------------------------------------------------------


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def to_httpx_cookies(cookies: Sequence[Cookie]) -> httpx.Cookies:
    """The cookies as the HTTP fetcher's jar holds them: domain, path, expiry and ``Secure``
    kept (the jar never sends a Secure cookie over http); HttpOnly/SameSite ride along."""
    jar = httpx.Cookies()
    for cookie in cookies:
        domain = cookie.domain.lower()
        rest: dict[str, str] = {}
        if cookie.http_only:
            rest["HttpOnly"] = ""  # the jar only asks whether the attribute is there
        if cookie.same_site:
            rest["SameSite"] = cookie.same_site
        jar.jar.set_cookie(http.cookiejar.Cookie(
            version=0, name=cookie.name, value=cookie.value, port=None, port_specified=False,
            domain=domain, domain_specified=domain.startswith("."), domain_initial_dot=domain.startswith("."),
            path=cookie.path or "/", path_specified=True, secure=cookie.secure,
            expires=None if cookie.expires is None else int(cookie.expires), discard=cookie.expires is None,
            comment=None, comment_url=None, rest=rest))
    return jar


def check_cookie_domains(cookies: Sequence[Cookie], vendor: VendorConfig) -> None:
    """Refuse an export holding cookies for domains outside the vendor's hosts (its base_url
    host and ``allowed_hosts``): the message names the cookies and domains, never a value."""
    outside = [c for c in cookies if not _cookie_domain_allowed(c.domain, vendor)]
    if not outside:
        return
    shown = ", ".join(f"{c.name} ({c.domain})" for c in outside[:5]) + (" ..." if len(outside) > 5 else "")
    hosts = ", ".join(_vendor_hosts(vendor))
    raise CookieImportError(
        f"{len(outside)} cookie(s) are for domains outside {vendor.name}'s hosts ({hosts}): {shown}; "
        "export only this shop's cookies, or add the domain to allowed_hosts in its vendor file")


def _vendor_hosts(vendor: VendorConfig) -> list[str]:
    """The base_url host and the allowed_hosts entries, without ports or brackets."""
    base = (urlsplit(vendor.base_url).hostname or "").lower()
    entries = [entry.strip().lower() for entry in vendor.allowed_hosts]
    without_port = [re.sub(r":\d+$", "", e) if e.count(":") == 1 or e.startswith("[") else e for e in entries]
    return [base, *(e.strip("[]") for e in without_port)]


def _cookie_domain_allowed(domain: str, vendor: VendorConfig) -> bool:
    """The cookie would go to one of the vendor's hosts: its domain is one of them, a parent
    domain of one (``.shop.com`` for ``www.shop.com``), or inside an allowed ``*.`` / network."""
    name = domain.strip().lower().lstrip(".")
    if not name:
        return False
    for host in _vendor_hosts(vendor):
        if "/" in host or _is_ip(host):
            if _is_ip(name):
                try:
                    if ipaddress.ip_address(name) in ipaddress.ip_network(host, strict=False):
                        return True
                except ValueError:
                    pass
            continue
        if host.startswith("*."):
            parent = host[2:]
            if name == parent or name.endswith("." + parent):
                return True
        elif name == host or ("." in name and host.endswith("." + name)):
            return True
    return False


def to_playwright_cookies(cookies: Sequence[Cookie]) -> list[dict[str, Any]]:
    out = []
    for cookie in cookies:
        entry: dict[str, Any] = {"name": cookie.name, "value": cookie.value, "domain": cookie.domain,
                                 "path": cookie.path or "/", "httpOnly": cookie.http_only,
                                 "secure": cookie.secure, "expires": cookie.expires or -1}
        if cookie.same_site:
            entry["sameSite"] = cookie.same_site
        out.append(entry)
    return out


# -- storage ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    """What may be shown about a stored session: never the cookies."""

    id: int
    vendor: str
    label: str | None
    source: str | None
    cookie_count: int
    uploaded_at: dt.datetime
    expires_at: dt.datetime | None
    is_valid: bool
    invalid_reason: str | None
    last_used_at: dt.datetime | None


@dataclass(frozen=True)
class StoredSession:
    id: int
    cookies: list[Cookie] = field(repr=False)
    expires_at: dt.datetime | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _encode(cookies: Sequence[Cookie]) -> bytes:
    return orjson.dumps([asdict(c) for c in cookies])


def _decode(data: bytes) -> list[Cookie]:
    return [Cookie(**entry) for entry in orjson.loads(data)]


def import_session(conn: Connection, box: SecretBox, *, vendor: VendorConfig, vendor_id: int,
                   cookies: Sequence[Cookie], source: str, label: str | None = None,
                   now: dt.datetime | None = None) -> int:
    """Store `cookies` encrypted as the vendor's valid session (older ones are retired).

    Raises `CookieImportError` when a cookie is for a domain outside the vendor's hosts.
    """
    check_cookie_domains(cookies, vendor)
    now = now or _now()
    live = [c for c in cookies if not c.expired(now)]
    if not live:
        raise CookieImportError("every cookie in the export has already expired: log in again and re-export")
    expiries = [c.expires for c in live if c.expires is not None]
    expires_at = dt.datetime.fromtimestamp(min(expiries), dt.UTC) if expiries else None
    token = box.encrypt(_encode(live))
    conn.execute(text("""
        UPDATE vendor_sessions SET is_valid = false, invalid_reason = 'replaced by a newer import'
        WHERE vendor_id = :vendor_id AND is_valid
    """), {"vendor_id": vendor_id})
    return int(conn.execute(text("""
        INSERT INTO vendor_sessions (vendor_id, label, source, cookies_encrypted, cookie_count, uploaded_at,
                                     expires_at, is_valid)
        VALUES (:vendor_id, :label, :source, :token, :count, :now, :expires_at, true)
        RETURNING id
    """), {"vendor_id": vendor_id, "label": label, "source": source, "token": token, "count": len(live),
           "now": now, "expires_at": expires_at}).scalar_one())


def mark_session_invalid(conn: Connection, session_id: int, reason: str) -> None:
    conn.execute(text("""
        UPDATE vendor_sessions SET is_valid = false, invalid_reason = :reason WHERE id = :id AND is_valid
    """), {"id": session_id, "reason": reason})


def load_valid_session(conn: Connection, box: SecretBox, vendor_id: int,
                       now: dt.datetime | None = None) -> StoredSession | None:
    """The vendor's newest valid, unexpired session (an expired one is marked invalid on the way)."""
    now = now or _now()
    row = conn.execute(text("""
        SELECT id, cookies_encrypted, expires_at FROM vendor_sessions
        WHERE vendor_id = :vendor_id AND is_valid ORDER BY uploaded_at DESC, id DESC LIMIT 1
    """), {"vendor_id": vendor_id}).first()
    if row is None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        mark_session_invalid(conn, row.id, f"expired at {row.expires_at.isoformat(timespec='seconds')}")
        return None
    cookies = [c for c in _decode(box.decrypt(row.cookies_encrypted)) if not c.expired(now)]
    conn.execute(text("UPDATE vendor_sessions SET last_used_at = :now WHERE id = :id"), {"now": now, "id": row.id})
    return StoredSession(id=row.id, cookies=cookies, expires_at=row.expires_at)


def list_sessions(conn: Connection, vendor: str | None = None) -> list[SessionInfo]:
    rows = conn.execute(text("""
        SELECT s.id, v.name AS vendor, s.label, s.source, s.cookie_count, s.uploaded_at, s.expires_at,
               s.is_valid, s.invalid_reason, s.last_used_at
        FROM vendor_sessions s JOIN vendors v ON v.id = s.vendor_id
        WHERE CAST(:vendor AS text) IS NULL OR v.name = :vendor
        ORDER BY v.name, s.uploaded_at DESC, s.id DESC
    """), {"vendor": vendor})
    return [SessionInfo(**row._mapping) for row in rows]


def invalidate_sessions(conn: Connection, vendor_id: int, reason: str) -> int:
    return conn.execute(text("""
        UPDATE vendor_sessions SET is_valid = false, invalid_reason = :reason WHERE vendor_id = :vendor_id AND is_valid
    """), {"vendor_id": vendor_id, "reason": reason}).rowcount


def rotate_session_keys(conn: Connection, box: SecretBox) -> tuple[int, list[int]]:
    """Re-encrypt every stored session with the first key of `box`.

    Returns (rows re-encrypted, ids of rows no configured key can decrypt; left untouched).
    """
    rows = conn.execute(text("SELECT id, cookies_encrypted FROM vendor_sessions ORDER BY id")).all()
    unreadable = []
    for row in rows:
        try:
            token = box.rotate(row.cookies_encrypted)
        except SecretKeyError:
            unreadable.append(row.id)
            continue
        conn.execute(text("UPDATE vendor_sessions SET cookies_encrypted = :token WHERE id = :id"),
                     {"token": token, "id": row.id})
    return len(rows) - len(unreadable), unreadable


# -- spotting a dead session ------------------------------------------------------------------------


def _compile_marker(marker: Selector, engine: HtmlEngine | None) -> CompiledSelector:
    """The login marker's one css, xpath or json expression (a vendor file allows no other kind)."""
    kind = marker.kind
    if kind == "embedded":
        raise ValueError("a login marker is one css, xpath or json expression")
    return CompiledSelector.build(kind, marker.query, engine)


class SessionGuard(FetchHook):
    """Turns a login wall into an error and stops the crawl: every later fetch fails at once.

    Checks each answer's final URL against `login_redirect_pattern` and its body against
    `login_marker`. The login page itself is not kept (the body is dropped).
    """

    def __init__(self, vendor: VendorConfig, rules: SessionRules, *, has_session: bool) -> None:
        self.vendor = vendor
        self.rules = rules
        self.has_session = has_session
        self._pattern = re.compile(rules.login_redirect_pattern) if rules.login_redirect_pattern else None
        marker = rules.login_marker
        self._engine = vendor.html_engine if vendor.extract.format == "html" else None
        self._marker = (_compile_marker(marker, self._engine)
                        if marker is not None and marker.has_expression else None)
        self.dead_reason: str | None = None
        self.evidence: str | None = None  # what gave it away (URL pattern or marker), for reports

    @property
    def message(self) -> str:
        what = SESSION_EXPIRED if self.has_session else f"{NO_SESSION}: the vendor needs a login"
        return (f"{what} (`market-pulse sessions import {self.vendor.name} FILE`); "
                f"{self.evidence or 'login wall'}")

    async def before_fetch(self, request: FetchRequest) -> FetchRequest | FetchedResponse:
        if self.dead_reason is None:
            return request
        return _session_error(request, self.dead_reason, attempts=0)

    async def before_attempt(self, request: FetchRequest) -> FetchedResponse | None:
        """Requests already queued when the session died are not sent either."""
        return None if self.dead_reason is None else _session_error(request, self.dead_reason, attempts=0)

    async def after_fetch(self, request: FetchRequest, response: FetchedResponse) -> FetchedResponse:
        evidence = self._login_evidence(response)
        if evidence is None:
            return response
        if self.dead_reason is None:
            self.evidence = evidence
            self.dead_reason = self.message
            logger.warning("%s: %s", self.vendor.name, self.dead_reason)
        failed = _session_error(request, self.dead_reason, attempts=response.attempts)
        failed.final_url, failed.status, failed.headers = response.final_url, response.status, response.headers
        failed.started_at, failed.elapsed_ms = response.started_at, response.elapsed_ms
        failed.bytes_received, failed.fetch_mode = response.bytes_received, response.fetch_mode
        failed.browser_seconds = response.browser_seconds
        return failed

    def _login_evidence(self, response: FetchedResponse) -> str | None:
        if self._pattern is not None:
            for url in (response.final_url, response.headers.get("location") or ""):
                if url and self._pattern.search(url):
                    return f"redirected to the login page {_path_of(url)}"
        if (self._marker is not None and response.body and response.status is not None and response.status < 500
                and _marker_present(self._marker, self._engine, response.body)):
            return f"login marker {self._marker.query!r} on {_path_of(response.final_url)}"
        return None


def _path_of(url: str) -> str:
    """The URL's path, without host or query (short, and query strings may carry tokens)."""
    return re.sub(r"^[a-z]+://[^/]+", "", url).split("?", 1)[0] or "/"


def _marker_present(selector: CompiledSelector, engine: str | None, body: bytes) -> bool:
    try:
        if selector.kind == "json":
            return selector.search_json(orjson.loads(body)) not in (None, False, [], {})
        text_body = body.decode("utf-8", errors="replace")
        root = (ParselSelector(text=text_body, type="html").root if engine == "lxml"
                else LexborHTMLParser(text_body).root)
        return root is not None and bool(selector.select(root))
    except (orjson.JSONDecodeError, ValueError):
        return False


def _session_error(request: FetchRequest, message: str, *, attempts: int) -> FetchedResponse:
    return FetchedResponse(
        requested_url=request.url, final_url=request.url, status=None, headers={}, body=b"",
        content_type=None, elapsed_ms=0.0, started_at=_now(), fetch_mode="http", error=message,
        attempts=attempts, error_kind="session")
