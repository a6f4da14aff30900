"""``market-pulse users …`` (people: saved-search owners and, with a password, UI logins) and
``market-pulse keys …`` (API keys). Registered in :mod:`cli.main`.

Passwords never appear on a command line: they are typed at a hidden prompt, read from a file
(``--password-file``, ``-`` for standard input) or generated and shown once.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import app_transaction, fail
from infra.database import DatabaseUnavailable
from infra.embedded_postgres import EmbeddedPostgresError
from infra.schema import USER_ROLES
from pipelines.alerts import manage
from pipelines.shared.sql import AnyRow
from web import accounts, api_keys, passwords

users_app = typer.Typer(help="People: owners of saved searches and, with a password, UI logins (roles "
                        "viewer, operator, admin).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (Authorization: Bearer ...): create, list, revoke.", no_args_is_help=True)

EXPECTED = (DatabaseUnavailable, EmbeddedPostgresError, manage.ManageError, accounts.AccountError,
            passwords.PasswordRuleError)


def _when(value: dt.datetime | None, empty: str = "never") -> str:
    return empty if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


PasswordFile = Annotated[Path | None, typer.Option(
    "--password-file", help="Read the password from the first line of this file ('-': standard input).",
    dir_okay=False, allow_dash=True)]
Generate = Annotated[bool, typer.Option(
    "--generate-password", help="Generate a one-time password, print it once; it must be changed at first login.")]


def _read_password(file: Path | None, generate: bool, *, prompt: bool) -> tuple[str | None, bool]:
    """(password, must_change) from the options, a hidden prompt, or (None, False) when none is wanted."""
    if file is not None and generate:
        raise fail("use either --password-file or --generate-password")
    if generate:
        return passwords.one_time_password(), True
    if file is not None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text()
        except OSError as exc:
            raise fail(f"--password-file {file}: {exc.strerror}") from None
        password = text.splitlines()[0] if text.strip() else ""
        if not password:
            raise fail(f"--password-file {file}: no password in it")
        return password, False
    if prompt and sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return None, False


def _show_one_time(username: str, password: str) -> None:
    typer.echo(f"one-time password for {username} (shown only now; to be changed at first login): {password}")


# --- users ------------------------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ -).")],
    email: Annotated[str, typer.Option("--email", help="E-mail address (unique).")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="Name shown in listings.")] = None,
    role: Annotated[str, typer.Option("--role", help=f"{', '.join(USER_ROLES)}.")] = "viewer",
    password_file: PasswordFile = None,
    generate: Generate = False,
    no_login: Annotated[bool, typer.Option("--no-login", help="No password: the user owns saved searches but "
                                           "cannot log in (the default when not on a terminal).")] = False,
) -> None:
    """Add a user: an owner of saved searches and, with a password, someone who logs in to the UI."""
    password, must_change = (None, False) if no_login else _read_password(password_file, generate, prompt=True)
    with app_transaction(EXPECTED) as conn:
        new_id = accounts.add_user(conn, username, email, role=role, display_name=display_name, password=password,
                                   must_change=must_change)
    login = "can log in" if password else "cannot log in yet (market-pulse users set-password)"
    typer.echo(f"user {username} added (id {new_id}, {role}; {login})")
    if must_change and password:
        _show_one_time(username, password)


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Users with role, whether they can log in, last login, sessions, keys and saved searches."""
    with app_transaction(EXPECTED) as conn:
        logins = {r.username: r for r in accounts.list_login_users(conn)}
        owners = {r.username: r.searches for r in manage.list_users(conn)}
    items = [{"id": r.id, "username": r.username, "email": r.email, "role": r.role, "active": r.is_active,
              "can_log_in": r.can_log_in, "must_change_password": r.must_change_password, "locked": r.locked,
              "last_login": r.last_login and r.last_login.isoformat(), "sessions": r.sessions, "keys": r.keys,
              "saved_searches": owners.get(r.username, 0)} for r in logins.values()]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    if not items:
        typer.echo("no users yet: market-pulse users add NAME --email ADDRESS --role viewer")
    for item, r in zip(items, logins.values(), strict=True):
        state = [] if r.is_active else ["inactive"]
        state += [] if r.can_log_in else ["no login"]
        state += ["must change password"] if r.must_change_password else []
        state += ["locked"] if r.locked else []
        typer.echo(f"{r.id:>4}  {r.username:<16} {r.role:<8} <{r.email}>  last login {_when(r.last_login)}; "
                   f"{r.sessions} session(s), {r.keys} key(s), {item['saved_searches']} saved search(es)"
                   + (f"  [{', '.join(state)}]" if state else ""))


@users_app.command("set-password")
def users_set_password(
    username: Annotated[str, typer.Argument(help="The user.")],
    password_file: PasswordFile = None,
    generate: Generate = False,
) -> None:
    """Set a user's password (typed at a hidden prompt, from a file, or generated); ends their sessions."""
    password, must_change = _read_password(password_file, generate, prompt=True)
    if password is None:
        raise fail("no password: give --password-file FILE, --generate-password, or run it on a terminal")
    with app_transaction(EXPECTED) as conn:
        accounts.set_password(conn, username, password, must_change=must_change)
    typer.echo(f"password of {username} set; their sessions were ended")
    if must_change:
        _show_one_time(username, password)


@users_app.command("set-role")
def users_set_role(
    username: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[str, typer.Argument(help=f"{', '.join(USER_ROLES)}.")],
) -> None:
    """Change a user's role (their sessions end, so it applies at once; a viewer's write keys are revoked)."""
    with app_transaction(EXPECTED) as conn:
        accounts.set_role(conn, username, role)
    typer.echo(f"{username} is now {role}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Stop a user from logging in and using keys (sessions end; saved searches are kept)."""
    with app_transaction(EXPECTED) as conn:
        accounts.set_active(conn, username, False)
    typer.echo(f"{username} disabled")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Let a disabled user log in again."""
    with app_transaction(EXPECTED) as conn:
        accounts.set_active(conn, username, True)
    typer.echo(f"{username} enabled")


# --- keys -------------------------------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option("--user", "-u", help="Whose key it is.")],
    scope: Annotated[str, typer.Option("--scope", help="read, or write (includes read; operators and admins "
                                       "only).")] = "read",
    expires: Annotated[str | None, typer.Option("--expires", help="30d, 12h, 8w, a date (2027-01-31) or never "
                                                "(default 90d).")] = None,
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "",
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    try:
        expires_at = api_keys.parse_expiry(expires)
    except accounts.AccountError as exc:
        raise fail(str(exc)) from None
    with app_transaction(EXPECTED) as conn:
        created = api_keys.create_key(conn, user, scope, name=name, expires_at=expires_at)
    typer.echo(f"key {created.lookup} (id {created.id}) for {user}, scopes {', '.join(created.scopes)}, "
               f"expires {_when(created.expires_at)}. Shown only now; keep it secret:", err=True)
    typer.echo(created.key)


@keys_app.command("list")
def keys_list(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's keys.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """API keys with owner, scopes, expiry, last use and state (never the key itself)."""
    with app_transaction(EXPECTED) as conn:
        rows = api_keys.list_keys(conn, user)

    def state(r: AnyRow) -> str:
        return "revoked" if not r.is_active else "expired" if r.expired else "active"

    items = [{"id": r.id, "user": r.username, "name": r.name, "prefix": r.key_prefix, "scopes": r.scopes,
              "state": state(r), "created_at": r.created_at.isoformat(),
              "expires_at": r.expires_at and r.expires_at.isoformat(),
              "last_used_at": r.last_used_at and r.last_used_at.isoformat(),
              "revoked_at": r.revoked_at and r.revoked_at.isoformat()} for r in rows]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    if not rows:
        typer.echo("no API keys: market-pulse keys create --user U --scope read")
    for r in rows:
        typer.echo(f"{r.id:>4}  {r.key_prefix}  {r.username:<12} {','.join(r.scopes):<10} {state(r):<8} "
                   f"created {_when(r.created_at)}, expires {_when(r.expires_at)}, last used {_when(r.last_used_at)}"
                   f"  {r.name}")


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="Id or prefix (mpk_...) as `keys list` shows it.")]) -> None:
    """Revoke an API key at once (it stays listed as revoked)."""
    with app_transaction(EXPECTED) as conn:
        row = api_keys.revoke_key(conn, key)
    typer.echo(f"key {row.key_prefix} (id {row.id}) of {row.username} revoked")


@keys_app.command("usage")
def keys_usage(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's keys.")] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="Trailing days (UTC).")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """What each API key did per day: requests, on-demand searches, pages fetched, compute units."""
    from web.api_v1.store import key_usage

    with app_transaction(EXPECTED) as conn:
        rows = key_usage(conn, user, days)
    items = [{"date": r.usage_date.isoformat(), "key_id": r.key_id, "prefix": r.key_prefix, "user": r.username,
              "name": r.name, "requests": r.requests, "searches": r.searches, "pages": r.pages,
              "compute_units": str(r.compute_units)} for r in rows]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    if not rows:
        typer.echo(f"no API use in the last {days} day(s)")
    for i in items:
        typer.echo(f"{i['date']}  {i['prefix']}  {i['user']:<12} {i['requests']:>8} requests {i['searches']:>5} "
                   f"searches {i['pages']:>6} pages {i['compute_units']:>10} CU  {i['name']}")
