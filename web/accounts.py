"""People who log in: roles, passwords, the first admin, and checking a login.

Users live in the warehouse's ``users`` table, the same rows that own saved searches; a user
without a password simply cannot log in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from infra.schema import USER_ROLES
from pipelines.alerts import manage
from web import passwords
from web.store import SQL

log = logging.getLogger("market_pulse.web")

LOCKOUT_THRESHOLD = 5
"""Wrong passwords in a row before the account starts to wait."""
LOCKOUT_BASE_SECONDS = 30
LOCKOUT_MAX_SECONDS = 15 * 60

DEFAULT_ADMIN = "admin"


class AccountError(ValueError):
    """An account command cannot be done; the message says why (never a password)."""


def check_role(role: str) -> str:
    if role not in USER_ROLES:
        raise AccountError(f"role {role!r}: use {', '.join(USER_ROLES)}")
    return role


def role_at_least(role: str, needed: str) -> bool:
    """Roles are ordered: viewer < operator < admin."""
    return role in USER_ROLES and USER_ROLES.index(role) >= USER_ROLES.index(needed)


def user_id_of(conn: Connection, username: str) -> int:
    try:
        return manage.user_id(conn, username)
    except manage.ManageError as exc:
        raise AccountError(str(exc)) from None


def add_user(conn: Connection, username: str, email: str, *, role: str = "viewer", display_name: str | None = None,
             password: str | None = None, must_change: bool = False) -> int:
    """A new user with a role and, when given, a password (hashed here; never stored in clear)."""
    check_role(role)
    password_hash = passwords.hash_password(password, username) if password is not None else None
    try:
        new_id = manage.add_user(conn, username, email, display_name)
    except manage.ManageError as exc:
        raise AccountError(str(exc)) from None
    SQL.run(conn, "set_role", {"user_id": new_id, "role": role})
    if password_hash is not None:
        SQL.run(conn, "set_password", {"user_id": new_id, "password_hash": password_hash, "must_change": must_change})
    return new_id


def set_password(conn: Connection, username: str, password: str, *, must_change: bool = False) -> int:
    """Replace the password (and end the user's sessions); returns the user's id."""
    user_id = user_id_of(conn, username)
    password_hash = passwords.hash_password(password, username)
    SQL.run(conn, "set_password", {"user_id": user_id, "password_hash": password_hash, "must_change": must_change})
    return user_id


def set_role(conn: Connection, username: str, role: str) -> None:
    user_id = user_id_of(conn, username)
    check_role(role)
    if role != "admin":
        _keep_an_admin(conn, username)
    SQL.run(conn, "set_role", {"user_id": user_id, "role": role})


def set_active(conn: Connection, username: str, active: bool) -> None:
    user_id = user_id_of(conn, username)
    if not active:
        _keep_an_admin(conn, username)
    SQL.run(conn, "set_active", {"user_id": user_id, "active": active})


def _keep_an_admin(conn: Connection, username: str) -> None:
    """Refuse to demote or disable the last admin who can log in (nobody could manage users then)."""
    row = SQL.rows(conn, "user_for_login", {"username": username})[0]
    if row.role == "admin" and row.is_active and row.password_hash is not None \
            and SQL.rows(conn, "active_admins", {})[0][0] <= 1:
        raise AccountError(f"{username} is the last admin who can log in: make another admin first")


def list_login_users(conn: Connection) -> list[Any]:
    return SQL.rows(conn, "login_users", {})


@dataclass(frozen=True)
class FirstAdmin:
    username: str
    one_time_password: str | None
    """Printed once when it was generated; None when it came from MARKET_PULSE_ADMIN_PASSWORD_FILE."""


def ensure_admin(conn: Connection, password: str | None = None, username: str = DEFAULT_ADMIN) -> FirstAdmin | None:
    """On first start (no admin who can log in): create ``username`` as admin.

    With ``password`` (read from MARKET_PULSE_ADMIN_PASSWORD_FILE) that is the password; otherwise a
    one-time password is generated, returned for printing once, and must be changed at first login.
    Returns None when an admin exists already. Concurrent first starts are serialised by a lock.
    """
    SQL.run(conn, "lock_first_admin")
    if SQL.rows(conn, "active_admins", {})[0][0] > 0:
        return None
    one_time = None if password is not None else passwords.one_time_password()
    secret = password if password is not None else one_time
    assert secret is not None
    existing = SQL.rows(conn, "user_for_login", {"username": username})
    if existing:
        if existing[0].password_hash is not None:
            raise AccountError(f"user {username} exists and is not an admin: make an admin with "
                               f"`market-pulse users set-role NAME admin`")
        SQL.run(conn, "set_role", {"user_id": existing[0].id, "role": "admin"})
        set_password(conn, username, secret, must_change=one_time is not None)
    else:
        add_user(conn, username, f"{username}@localhost", role="admin", display_name="Administrator",
                 password=secret, must_change=one_time is not None)
    log.info("created the first admin %s", username)
    return FirstAdmin(username=username, one_time_password=one_time)


@dataclass(frozen=True)
class LoginResult:
    user_id: int | None
    username: str
    must_change_password: bool = False

    @property
    def ok(self) -> bool:
        return self.user_id is not None


def check_login(conn: Connection, username: str, password: str) -> LoginResult:
    """Verify a login. Every failure looks the same to the caller (unknown user, wrong password,
    disabled, locked), and costs one argon2 verification either way."""
    rows = SQL.rows(conn, "user_for_login", {"username": username[:64]})
    row = rows[0] if rows else None
    matched = passwords.verify(row.password_hash if row else None, password)
    if row is None:
        return LoginResult(None, username)
    if not matched or not row.is_active or row.locked:
        if not matched:
            SQL.run(conn, "record_login_failure", {"user_id": row.id, "threshold": LOCKOUT_THRESHOLD,
                                                   "base_seconds": LOCKOUT_BASE_SECONDS,
                                                   "max_seconds": LOCKOUT_MAX_SECONDS})
        return LoginResult(None, username)
    SQL.run(conn, "record_login_success", {"user_id": row.id})
    if passwords.needs_rehash(row.password_hash):
        SQL.run(conn, "set_password", {"user_id": row.id, "password_hash": passwords.hash_password(password),
                                       "must_change": row.must_change_password})
    return LoginResult(row.id, row.username, bool(row.must_change_password))


def change_own_password(conn: Connection, user_id: int, username: str, current: str, new: str) -> None:
    """A logged-in user's change: the current password is asked again; the new one must differ."""
    rows = SQL.rows(conn, "user_for_login", {"username": username})
    if not rows or rows[0].id != user_id or not passwords.verify(rows[0].password_hash, current):
        raise AccountError("the current password is wrong")
    if new == current:
        raise AccountError("the new password must differ from the current one")
    try:
        set_password(conn, username, new, must_change=False)
    except passwords.PasswordRuleError as exc:
        raise AccountError(str(exc)) from None
