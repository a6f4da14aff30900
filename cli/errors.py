"""How a command fails: one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import typer

from infra.database import DatabaseUnavailable
from infra.embedded_postgres import EmbeddedPostgresError

EXPECTED_ERRORS = (DatabaseUnavailable, EmbeddedPostgresError, ValueError)
"""What bad settings or an unreachable database raise; a command turns them into `fail`."""


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
