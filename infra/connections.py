"""Connecting with psycopg to a SQLAlchemy-style URL, with failures as one printable line."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from infra.settings import redact


class DatabaseUnavailable(RuntimeError):
    """A database URL does not answer; the message is one line, fit to print."""


def libpq_conninfo(url: str) -> str:
    """A psycopg connection string for a SQLAlchemy URL (drivers differ, servers do not)."""
    parsed = make_url(url)
    parts = {
        "host": parsed.host or "127.0.0.1",
        "port": str(parsed.port or 5432),
        "user": parsed.username or "",
        "password": parsed.password or "",
        "dbname": parsed.database or "postgres",
        **{k: str(v) for k, v in parsed.query.items()},
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


def connect(url: str, *, timeout: float = 5, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A psycopg connection, or :class:`DatabaseUnavailable` with a one-line reason."""
    try:
        return psycopg.connect(libpq_conninfo(url), connect_timeout=max(1, int(timeout)),
                               autocommit=autocommit)
    except psycopg.OperationalError as exc:
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        reason = lines[0] if lines else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to {redact(url)}: {reason}") from exc
