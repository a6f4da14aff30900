"""An archived response as the parsing side reads it back: a pure record, no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ArchivedPage:
    """A stored response, as the listings asset reads it back."""

    search_id: int
    query: str
    page_number: int
    url: str
    status: int | None
    error: str | None
    fetched_at: dt.datetime
    body: bytes
