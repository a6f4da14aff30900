"""API keys in the database: create (shown once), list (never the key), revoke, and authenticate.

The key format and hashing are in :mod:`web.keys`; this module adds the rows, expiry,
revocation, ``last_used_at`` and the rule that a key never holds more than its user's role allows
(a viewer's keys are read-only).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from web import keys
from web.accounts import AccountError, role_at_least, user_id_of
from web.sessions import Principal
from web.store import SQL

DEFAULT_LIFETIME = dt.timedelta(days=90)
_DURATION = re.compile(r"^(\d+)([hdw])$")


def parse_expiry(value: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """``--expires``: a duration (``12h``, ``30d``, ``8w``), a date or time (ISO 8601, UTC unless
    given), ``never``; None means the default (90 days)."""
    now = now or dt.datetime.now(dt.UTC)
    if value is None:
        return now + DEFAULT_LIFETIME
    value = value.strip()
    if value.lower() == "never":
        return None
    match = _DURATION.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"h": dt.timedelta(hours=amount), "d": dt.timedelta(days=amount), "w": dt.timedelta(weeks=amount)}
        when = now + delta[unit]
    else:
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            raise AccountError(f"--expires {value!r}: use 30d, 12h, 8w, a date (2027-01-31) or never") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    if when <= now:
        raise AccountError(f"--expires {value!r} is in the past")
    return when


@dataclass(frozen=True)
class CreatedKey:
    id: int
    key: str
    lookup: str
    scopes: list[str]
    expires_at: dt.datetime | None


def create_key(conn: Connection, username: str, scope: str, *, name: str = "",
               expires_at: dt.datetime | None) -> CreatedKey:
    user_id = user_id_of(conn, username)
    try:
        scopes = keys.scopes_for(scope)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    role = SQL.rows(conn, "user_for_login", {"username": username})[0].role
    if "write" in scopes and not role_at_least(role, "operator"):
        raise AccountError(f"{username} is a {role}: a viewer's keys can only read (--scope read)")
    new = keys.generate()
    key_id = int(SQL.rows(conn, "insert_api_key", {
        "user_id": user_id, "name": (name or f"{scope} key")[:100], "key_prefix": new.lookup,
        "key_hash": new.key_hash, "scopes": json.dumps(scopes), "expires_at": expires_at})[0][0])
    return CreatedKey(id=key_id, key=new.key, lookup=new.lookup, scopes=scopes, expires_at=expires_at)


def list_keys(conn: Connection, username: str | None = None) -> list[Any]:
    return SQL.rows(conn, "list_api_keys", {"username": username})


def revoke_key(conn: Connection, ref: str) -> Any:
    """Revoke by id or by lookup prefix (``mpk_…`` as ``keys list`` shows it)."""
    key_id = int(ref) if ref.isdigit() else None
    rows = SQL.rows(conn, "revoke_api_key", {"key_id": key_id, "key_prefix": ref})
    if not rows:
        raise AccountError(f"no API key {ref!r} (see `market-pulse keys list`)")
    return rows[0]


class KeyRejected(Exception):
    """Why a key was refused: for the server's log only; the client gets one generic answer."""


def authenticate(conn: Connection, key: str) -> Principal:
    """The principal of a valid key; raises :class:`KeyRejected` for anything else."""
    lookup = keys.lookup_of(key)
    if lookup is None:
        raise KeyRejected("malformed key")
    rows = SQL.rows(conn, "api_key_principal", {"key_prefix": lookup})
    if not rows:
        keys.matches(key, "0" * 64)  # same work as a known prefix
        raise KeyRejected(f"unknown key {lookup}")
    row = rows[0]
    if not keys.matches(key, row.key_hash):
        raise KeyRejected(f"wrong secret for {lookup}")
    if not row.is_active:
        raise KeyRejected(f"revoked key {lookup}")
    if row.expired:
        raise KeyRejected(f"expired key {lookup}")
    if not row.user_active:
        raise KeyRejected(f"key {lookup} of disabled user {row.username}")
    if row.stale:
        SQL.run(conn, "touch_api_key", {"key_id": row.key_id})
    return Principal(user_id=row.user_id, username=row.username, role=row.role, via="key",
                     scopes=tuple(row.scopes), key_id=int(row.key_id))
