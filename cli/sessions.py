"""``market-pulse sessions``: import, list, invalidate and re-key logged-in vendor sessions.

Cookie values are never printed: `list` shows counts, dates and status only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from cli.errors import fail
from infra.database import DatabaseUnavailable, engine_for, resolve_urls
from infra.embedded_postgres import EmbeddedPostgresError
from infra.secrets import SECRET_KEY_ENV, SecretBox, SecretKeyError, generate_key
from infra.settings import load_settings
from pipelines.scraping.sessions import (
    CookieImportError,
    import_session,
    invalidate_sessions,
    list_sessions,
    parse_cookie_export,
    rotate_session_keys,
)
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import UnknownVendor, vendor_id_for

sessions_app = typer.Typer(help="Logged-in vendor sessions (cookies encrypted at rest).", no_args_is_help=True)

EXPECTED = (CookieImportError, SecretKeyError, UnknownVendor, DatabaseUnavailable, EmbeddedPostgresError,
            OSError, ValueError)


def _engine(database_url: str | None) -> Engine:
    return engine_for(database_url or resolve_urls(load_settings()).app)


DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="Warehouse URL (default: configured).",
                                                    envvar="MARKET_PULSE_DATABASE_URL", show_envvar=False)]


@sessions_app.command("import")
def import_command(
    vendor: Annotated[str, typer.Argument(help="Vendor name, as in vendors/<name>.yaml.")],
    file: Annotated[Path, typer.Argument(help="Cookie export: JSON (EditThisCookie, Cookie-Editor, Playwright "
                                              "storage state) or Netscape cookies.txt.")],
    fmt: Annotated[str, typer.Option("--format", help="auto, json or netscape.")] = "auto",
    label: Annotated[str | None, typer.Option(help="A note to recognise this session by.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Store VENDOR's cookies from FILE, encrypted; the vendor's older sessions are retired.

    Every cookie must belong to the vendor's hosts (base_url and allowed_hosts in its file).
    """
    try:
        box = SecretBox.from_env()
        box.check()
        cookies, recognised = parse_cookie_export(file.read_text(encoding="utf-8"), fmt=fmt)
        settings = load_settings()
        with _engine(database_url).begin() as conn:
            vendor_id = vendor_id_for(conn, vendor)
            config = VendorRegistry(directory=str(settings.vendors_dir), demo_url=settings.demo_url).get(vendor)
            session_id = import_session(conn, box, vendor=config, vendor_id=vendor_id, cookies=cookies,
                                        source=f"{recognised}:{file.name}", label=label)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    except (*EXPECTED, VendorConfigError) as exc:
        raise fail(str(exc)) from None
    expiries = [c.expires for c in cookies if c.expires is not None]
    until = (dt.datetime.fromtimestamp(min(expiries), dt.UTC).isoformat(timespec="minutes")
             if expiries else "end of browser session (no expiry)")
    typer.echo(f"session {session_id} for {vendor}: {len(cookies)} cookie(s) from {recognised} export, "
               f"encrypted; valid until {until}")


@sessions_app.command("list")
def list_command(
    vendor: Annotated[str | None, typer.Argument(help="Only this vendor.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Every stored session with its status (never the cookie values)."""
    try:
        with _engine(database_url).connect() as conn:
            rows = list_sessions(conn, vendor)
    except EXPECTED as exc:
        raise fail(str(exc)) from None
    if not rows:
        typer.echo("no sessions stored" + (f" for {vendor}" if vendor else ""))
        return
    now = dt.datetime.now(dt.UTC)
    header = f"{'id':>5}  {'vendor':<14} {'status':<8} {'cookies':>7}  {'imported':<16}  {'expires':<16}  note"
    typer.echo(header)
    for row in rows:
        expired = row.expires_at is not None and row.expires_at <= now
        status = "valid" if row.is_valid and not expired else "expired" if row.is_valid else "invalid"
        note = row.invalid_reason or row.label or ""
        if row.is_valid and expired:
            note = "past its expiry"
        typer.echo(f"{row.id:>5}  {row.vendor:<14} {status:<8} {row.cookie_count:>7}  {_when(row.uploaded_at):<16}  "
                   f"{_when(row.expires_at):<16}  {note}")


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


@sessions_app.command("invalidate")
def invalidate_command(
    vendor: Annotated[str, typer.Argument(help="Vendor name.")],
    reason: Annotated[str, typer.Option(help="Recorded with the session.")] = "invalidated by hand",
    database_url: DatabaseOption = None,
) -> None:
    """Mark VENDOR's valid session(s) invalid (e.g. after logging out elsewhere)."""
    try:
        with _engine(database_url).begin() as conn:
            count = invalidate_sessions(conn, vendor_id_for(conn, vendor), reason)
    except EXPECTED as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{count} session(s) of {vendor} invalidated")


@sessions_app.command("rotate-key")
def rotate_key_command(database_url: DatabaseOption = None) -> None:
    """Re-encrypt every stored session with the first key of $MARKET_PULSE_SECRET_KEY.

    Rotation: generate a key, put it first in $MARKET_PULSE_SECRET_KEY (comma-separated, the old
    keys after it), run this, then remove the old keys.
    """
    try:
        box = SecretBox.from_env()
        keys = box.check()
        with _engine(database_url).begin() as conn:
            count, unreadable = rotate_session_keys(conn, box)
    except EXPECTED as exc:
        raise fail(str(exc)) from None
    typer.echo(f"re-encrypted {count} session(s) with the first of {keys} key(s) in {SECRET_KEY_ENV}")
    if unreadable:
        ids = ", ".join(str(i) for i in unreadable)
        raise fail(f"{len(unreadable)} session(s) could not be decrypted with any configured key and were left "
                    f"as they are (ids {ids}): add the key they were encrypted with, or import them again")
    if keys > 1:
        typer.echo(f"you can now remove the older key(s) from {SECRET_KEY_ENV}", err=True)


@sessions_app.command("generate-key")
def generate_key_command() -> None:
    """Print a new Fernet key for $MARKET_PULSE_SECRET_KEY."""
    typer.echo(generate_key())
