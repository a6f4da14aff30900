"""Keyset cursors: the last row's sort key, as an opaque URL-safe string.

A cursor names its sort, so one from ``sort=price_asc`` cannot be replayed with ``sort=newest``;
a page after a cursor costs an index range scan, however deep it is (no OFFSET)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from web.api import Problem


def encode(kind: str, value: Any, row_id: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps([kind, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, kind: str) -> tuple[Any, int]:
    """(value, id) of a cursor made by :func:`encode` for ``kind``; else a 422 naming ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, value, row_id = json.loads(raw)
        if found != kind or not isinstance(row_id, int) or isinstance(row_id, bool) or not isinstance(value, str):
            raise ValueError
        if kind == "newest":
            parsed: Any = dt.datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError
        elif kind in ("price_asc", "price_desc"):
            parsed = Decimal(value)
            if not parsed.is_finite():
                raise ValueError
        else:
            parsed = int(value)
        if not -(2**63) <= row_id < 2**63:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, InvalidOperation, json.JSONDecodeError, UnicodeDecodeError):
        raise Problem(422, "Unprocessable Content", f"cursor: not a cursor of this listing (sort {kind}); "
                      "pass next_cursor from the previous page, with the same sort") from None
    return parsed, row_id
