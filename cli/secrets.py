"""``market-pulse secrets``: the Fernet key ring that encrypts vendor sessions and notification targets.

Registered in :mod:`cli.main`. Keys are written to files (mode 0600), never asked for on the
command line; point ``MARKET_PULSE_SECRET_KEY_FILE`` at the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import fail
from infra.database import DatabaseUnavailable, engine_for, resolve_urls
from infra.embedded_postgres import EmbeddedPostgresError
from infra.secrets import (
    SECRET_KEY_ENV,
    SECRET_KEY_FILE_ENV,
    SecretBox,
    SecretKeyError,
    generate_key,
    home_key_file,
    write_key_file,
)
from infra.settings import load_settings

secrets_app = typer.Typer(help="The key ring that encrypts secrets at rest (vendor sessions, notification targets).",
                          no_args_is_help=True)

EXPECTED = (SecretKeyError, DatabaseUnavailable, EmbeddedPostgresError, ValueError)


@secrets_app.command("generate-key")
def generate_key_command(
    file: Annotated[Path | None, typer.Option("--file", help="Write the key to this new file (mode 0600) instead "
                                              "of printing it; then set MARKET_PULSE_SECRET_KEY_FILE to it.")] = None,
) -> None:
    """Make a new Fernet key (for a new install, or to rotate: put it first in the key ring)."""
    if file is None:
        typer.echo(generate_key())
        return
    try:
        write_key_file(file)
    except FileExistsError:
        raise fail(f"{file} exists already: it is never overwritten (a lost key is lost data)") from None
    except OSError as exc:
        raise fail(f"cannot write {file}: {exc.strerror or exc}") from None
    typer.echo(f"key written to {file} (readable by you only): export {SECRET_KEY_FILE_ENV}={file}", err=True)


@secrets_app.command("status")
def status_command() -> None:
    """Where the key ring comes from and how many keys it holds (never the keys)."""
    given, file = os.environ.get(SECRET_KEY_ENV), os.environ.get(SECRET_KEY_FILE_ENV)
    source = (SECRET_KEY_ENV if given else f"{SECRET_KEY_FILE_ENV}={file}" if file else str(home_key_file()))
    try:
        keys = SecretBox.from_env().check()
    except EXPECTED as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{keys} key(s) from {source}")


@secrets_app.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt every stored secret (vendor sessions, notification targets) with the first key.

    Rotation: `secrets generate-key`, put the new key first in the key ring (comma-separated, the
    old keys after it), run this, then remove the old keys."""
    from pipelines.alerts.manage import rotate_target_keys
    from pipelines.scraping.sessions import rotate_session_keys

    try:
        box = SecretBox.from_env()
        keys = box.check()
        with engine_for(resolve_urls(load_settings()).app).begin() as conn:
            sessions, unreadable_sessions = rotate_session_keys(conn, box)
            targets, unreadable_targets = rotate_target_keys(conn, box)
    except EXPECTED as exc:
        raise fail(str(exc)) from None
    typer.echo(f"re-encrypted {sessions} vendor session(s) and {targets} notification target(s) with the first of "
               f"{keys} key(s)")
    unreadable = [f"vendor session {i}" for i in unreadable_sessions] + unreadable_targets
    if unreadable:
        raise fail(f"{len(unreadable)} could not be decrypted with any configured key and were left as they are "
                    f"({', '.join(unreadable[:10])}): add the key they were encrypted with")
    if keys > 1:
        typer.echo("you can now remove the older key(s) from the key ring", err=True)
