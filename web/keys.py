"""API keys as strings: the format, generation and hashing (stdlib only, no database).

A key reads ``mpk_<lookup>_<secret>``: ``mpk_`` makes it recognisable (secret scanners, logs),
``<lookup>`` (12 random characters) finds its row without a scan, and ``<secret>`` is 32 random
bytes (43 URL-safe characters). Only the SHA-256 of the whole key is stored: with 256 bits of
randomness a fast hash is as safe as a slow one, and checking a key costs microseconds. The stored
and computed hashes are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "mpk_"
LOOKUP_LENGTH = 12
SECRET_BYTES = 32
SCOPES = ("read", "write")
"""``write`` includes ``read``."""

_LOOKUP_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_KEY = re.compile(rf"^{PREFIX}([a-z0-9]{{{LOOKUP_LENGTH}}})_([A-Za-z0-9_-]{{43}})$")


@dataclass(frozen=True)
class NewKey:
    key: str
    """Shown once, never stored."""
    lookup: str
    """``mpk_`` + the lookup part: stored, shown in listings, safe to log."""
    key_hash: str


def generate() -> NewKey:
    lookup = "".join(secrets.choice(_LOOKUP_ALPHABET) for _ in range(LOOKUP_LENGTH))
    key = f"{PREFIX}{lookup}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewKey(key=key, lookup=f"{PREFIX}{lookup}", key_hash=hash_key(key))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def lookup_of(key: str) -> str | None:
    """The stored lookup prefix of a well-formed key, or None for anything else."""
    match = _KEY.match(key)
    return f"{PREFIX}{match.group(1)}" if match else None


def matches(key: str, stored_hash: str) -> bool:
    """Constant-time comparison of the key's hash with the stored one."""
    return hmac.compare_digest(hash_key(key).encode(), stored_hash.encode())


def scopes_for(scope: str) -> list[str]:
    """What a key created with ``--scope scope`` holds."""
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r}: use read or write")
    return list(SCOPES[: SCOPES.index(scope) + 1])
