"""Browser sessions kept in the database: the cookie holds a random token, the table its SHA-256.

Server-side sessions (rather than a signed cookie) make logout, a password change, a role change
and disabling a user take effect at once, for every browser of that user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection

from web.store import SQL


@dataclass(frozen=True)
class Principal:
    """Who a request comes from, as far as the front door is concerned."""

    user_id: int
    username: str
    role: str
    must_change_password: bool = False
    via: str = "session"
    """``session`` (browser cookie) or ``key`` (API key)."""
    scopes: tuple[str, ...] = ()
    """An API key's scopes; empty for a browser session."""
    key_id: int | None = None
    """The API key's id (usage and rate limits are per key); None for a browser session."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(conn: Connection, user_id: int, lifetime_seconds: int) -> str:
    """A new session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    SQL.run(conn, "insert_session", {"token_hash": _digest(token), "user_id": user_id,
                                     "lifetime_seconds": lifetime_seconds})
    return token


def principal_for(conn: Connection, token: str) -> Principal | None:
    """The user of a live session, or None (unknown, expired, user disabled or without a password)."""
    if not token or len(token) > 128:
        return None
    rows = SQL.rows(conn, "session_principal", {"token_hash": _digest(token)})
    if not rows:
        return None
    row = rows[0]
    if row.stale:
        SQL.run(conn, "touch_session", {"session_id": row.session_id})
    return Principal(user_id=row.user_id, username=row.username, role=row.role,
                     must_change_password=bool(row.must_change_password))


def close_session(conn: Connection, token: str) -> None:
    SQL.run(conn, "delete_session", {"token_hash": _digest(token)})
