"""Recently accepted API keys, remembered for a couple of seconds.

Checking a key is a database transaction (find its row, compare the hash, now and then touch
``last_used_at``) and a worker-thread hop; a client calling many times a second would pay both
on every call. The principal of an accepted key is kept in this process's memory for
``ttl_seconds`` (2 s by default), under the key's SHA-256 (the key itself is not kept).

The price, documented in docs/security.md: revoking or expiring a key, disabling its user or
lowering their role reaches a running server up to ``ttl_seconds`` later. Refused keys are not
remembered: every refusal is checked, and logged, again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from web.keys import hash_key
from web.sessions import Principal

DEFAULT_TTL_SECONDS = 2.0
MAX_ENTRIES = 10_000
"""Beyond this many live keys the oldest half is dropped (memory stays bounded whatever arrives)."""


@dataclass
class KeyCache:
    """Principals of accepted keys until their time is up; ``ttl_seconds=0`` remembers nothing.

    Used from the event loop only (no lock): reads and writes happen between awaits."""

    ttl_seconds: float = DEFAULT_TTL_SECONDS
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, tuple[float, Principal]] = field(default_factory=dict)

    def get(self, key: str) -> Principal | None:
        if self.ttl_seconds <= 0:
            return None
        digest = hash_key(key)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        until, principal = entry
        if until <= self.clock():
            del self._entries[digest]
            return None
        return principal

    def put(self, key: str, principal: Principal) -> None:
        if self.ttl_seconds <= 0:
            return
        now = self.clock()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {d: e for d, e in self._entries.items() if e[0] > now}
            if len(self._entries) >= MAX_ENTRIES:  # dicts keep insertion order: the oldest go first
                self._entries = dict(list(self._entries.items())[MAX_ENTRIES // 2:])
        self._entries[hash_key(key)] = (now + self.ttl_seconds, principal)

    def clear(self) -> None:
        """Forget every key: each is checked against the database again on its next use."""
        self._entries.clear()
