"""Password hashing (argon2id through argon2-cffi), the password rules, and one-time passwords.

argon2-cffi's defaults are RFC 9106's "second recommended" profile (argon2id, 64 MiB, 3 passes),
which costs ~50-100 ms a hash here: slow for a guesser, unnoticeable at a login.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024
"""Longer inputs are refused before hashing: nobody types them, and they would only cost CPU."""

_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a wrong password."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class PasswordRuleError(ValueError):
    """A new password breaks a rule; the message says which (never the password)."""


def check_rules(password: str, username: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRuleError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRuleError(f"a password may have at most {MAX_LENGTH} characters")
    if username and password.strip().lower() == username.strip().lower():
        raise PasswordRuleError("the password must not be the user name")


def hash_password(password: str, username: str = "") -> str:
    """The argon2id hash of a password that follows the rules."""
    check_rules(password, username)
    return _HASHER.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing or unreadable hash never matches (but costs the same)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehashed at the next login)."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def one_time_password() -> str:
    """A random password to hand over once (~120 bits, in groups that are easy to copy)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(21))
    return "-".join(raw[i:i + 7] for i in range(0, 21, 7))
