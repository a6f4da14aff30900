"""How a command fails: one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import Connection

from infra.database import DatabaseUnavailable, engine_for, resolve_urls
from infra.embedded_postgres import EmbeddedPostgresError
from infra.settings import load_settings

EXPECTED_ERRORS = (DatabaseUnavailable, EmbeddedPostgresError, ValueError)
"""What bad settings or an unreachable database raise; a command turns them into `fail`."""


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def app_transaction(expected: tuple[type[Exception], ...]) -> Iterator[Connection]:
    """One transaction on the warehouse as the pipeline's role; any of ``expected`` raised while
    connecting or inside the block rolls it back and ends the command with its message."""
    try:
        with engine_for(resolve_urls(load_settings()).app).begin() as conn:
            yield conn
    except expected as exc:
        raise fail(str(exc)) from None
