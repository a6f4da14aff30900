"""``market-pulse alerts …`` and ``market-pulse notifications`` (users: :mod:`cli.users`).

Registered in :mod:`cli.main`. Targets (Apprise URLs) are stored encrypted and only ever printed as
their masked labels; a target may be given as ``${VAR}`` references (quote them for the shell) so
that the secret never appears on a command line.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy import Connection

from cli.errors import app_transaction, fail
from infra.database import DatabaseUnavailable, engine_for, resolve_urls
from infra.embedded_postgres import EmbeddedPostgresError
from infra.secrets import SecretBox, SecretKeyError, ensure_home_key
from infra.settings import PROJECT_ROOT, load_settings
from pipelines.alerts import manage
from pipelines.alerts.alerts_file import AlertEntry, load_alerts_file
from pipelines.alerts.criteria import (
    CriteriaError,
    SearchCriteria,
    describe_rule,
    format_validation_error,
)
from pipelines.alerts.vault import parse_stored

alerts_app = typer.Typer(help="Saved searches that notify on new matches, price drops and below-market prices.",
                         no_args_is_help=True)

DEMO_ALERTS_FILE = PROJECT_ROOT / "demo" / "alerts.yaml"
EXPECTED = (DatabaseUnavailable, EmbeddedPostgresError, manage.ManageError, CriteriaError, SecretKeyError)


def secret_box() -> SecretBox:
    """The key ring that seals targets. The embedded (laptop) setup gets a key file of its own on
    first use; with a configured server the key must be given (the error says how)."""
    if load_settings().embedded:
        ensure_home_key()
    return SecretBox.from_env()


def _vendor_file_names() -> set[str]:
    from pipelines.vendors.config.errors import VendorConfigError
    from pipelines.vendors.config.loading import load_vendors

    try:
        return {v.name for v in load_vendors(load_settings().vendors_dir)}
    except (VendorConfigError, OSError):
        return set()


def _known_vendors(conn: Connection) -> set[str]:
    return manage.known_vendors(conn, _vendor_file_names())


def _when(value: dt.datetime | None) -> str:
    return "never" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- alerts -------------------------------------------------------------------------------------------


@alerts_app.command("add")
def alerts_add(
    name: Annotated[str, typer.Argument(help="Name of the saved search (unique per user).")],
    user: Annotated[str, typer.Option("--user", "-u", help="Owner (see `users add`).")],
    query: Annotated[str, typer.Option("--query", "-q", help="Search phrase sent to the vendors; every word must "
                                       "appear in a title unless --all is given.")],
    notify: Annotated[list[str], typer.Option("--notify", "-n", help="Apprise URL (repeatable): json://host/path, "
                                              "mailtos://user:pass@host?to=..., slack://..., tgram://..., "
                                              "discord://...")],
    all_words: Annotated[list[str] | None, typer.Option("--all", help="Word/phrase that must appear (repeatable; "
                                                        "replaces the query's words).")] = None,
    any_words: Annotated[list[str] | None, typer.Option("--any", help="At least one of these (repeatable).")] = None,
    none_words: Annotated[list[str] | None, typer.Option("--none", help="None of these (repeatable).")] = None,
    vendor: Annotated[list[str] | None, typer.Option("--vendor", help="Only this vendor (repeatable).")] = None,
    min_price: Annotated[Decimal | None, typer.Option("--min-price")] = None,
    max_price: Annotated[Decimal | None, typer.Option("--max-price")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO code; required with a price range.")] = None,
    condition: Annotated[list[str] | None, typer.Option("--condition", help="Condition contains (repeatable).")] = None,
    location: Annotated[list[str] | None, typer.Option("--location", help="Location contains (repeatable).")] = None,
    attribute: Annotated[list[str] | None, typer.Option("--attr", help="NAME=VALUE the attribute contains.")] = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", "-r", help="new | drop:10% | drop:50 | "
                                                   "below-market:20%[:n=5] (repeatable; default new).")] = None,
    digest: Annotated[bool, typer.Option("--digest", help="One message per evaluation instead of per match.")] = False,
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
) -> None:
    """Add a saved search (validated: Apprise URLs, vendors, prices, rules)."""
    attributes: dict[str, str] = {}
    for item in attribute or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise fail(f"--attr {item!r}: expected NAME=VALUE")
        attributes[key.strip()] = value.strip()
    try:
        entry = AlertEntry.model_validate({
            "name": name, "user": user, "query": query, "all": all_words or None, "any": any_words or [],
            "none": none_words or [], "vendors": vendor or [],
            "price": {"min": min_price, "max": max_price, "currency": currency},
            "condition": condition or [], "location": location or [], "attributes": attributes,
            "rules": rule or ["new"], "notify": {"urls": notify, "digest": digest}, "active": not paused})
    except ValidationError as exc:
        raise fail(format_validation_error(exc)) from None
    with app_transaction(EXPECTED) as conn:
        new_id = manage.add_search(conn, entry, _known_vendors(conn), secret_box())
    typer.echo(f"saved search {new_id} '{name}' added for {user}")


def _describe_criteria(c: SearchCriteria) -> str:
    parts = [f"all {c.all_words}" if c.all_words else "", f"any {c.any_words}" if c.any_words else "",
             f"none {c.none_words}" if c.none_words else "",
             f"vendors {', '.join(c.vendors)}" if c.vendors else "every vendor"]
    if c.min_price is not None or c.max_price is not None:
        parts.append(f"price {c.min_price if c.min_price is not None else '0'}-"
                     f"{c.max_price if c.max_price is not None else '∞'} {c.currency}")
    elif c.currency:
        parts.append(f"in {c.currency}")
    parts += [f"condition {c.conditions}" if c.conditions else "", f"location {c.locations}" if c.locations else "",
              f"attributes {c.attributes}" if c.attributes else ""]
    return " · ".join(p for p in parts if p)


def _search_json(r: Any) -> dict[str, Any]:
    stored = parse_stored(r.notification_settings)
    if stored is not None:
        targets, digest = [t.label for t in stored.targets], stored.digest
    else:
        targets, digest = ["(unreadable settings: run `market-pulse db migrate`)"], False
    try:
        criteria: Any = SearchCriteria.model_validate(r.criteria)
        rules = [describe_rule(x) for x in criteria.rules]
        summary = _describe_criteria(criteria)
    except ValidationError as exc:
        criteria, rules, summary = None, [], "invalid: " + format_validation_error(exc).replace("\n", "; ")
    return {
        "id": r.id, "user": r.username, "name": r.name, "query": r.query, "active": r.is_active,
        "criteria": summary, "rules": rules, "targets": targets, "digest": digest,
        "matches": r.matches or 0, "last_match_at": r.last_match_at and r.last_match_at.isoformat(),
        "last_match": r.last_match_title, "last_match_rule": r.last_match_rule,
        "last_checked_at": r.last_checked_at and r.last_checked_at.isoformat(),
        "delivery": {"sent": r.sent, "pending": r.pending + r.sending, "failed": r.failed,
                     "last_sent_at": r.last_sent_at and r.last_sent_at.isoformat(), "last_error": r.last_error},
    }


@alerts_app.command("list")
def alerts_list(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's searches.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Saved searches with their last match and delivery state."""
    with app_transaction(EXPECTED) as conn:
        rows = manage.search_report(conn, user)
    items = [_search_json(r) for r in rows]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    if not items:
        typer.echo("no saved searches yet: market-pulse alerts add NAME --user U --query Q --notify URL")
    for item, r in zip(items, rows, strict=True):
        state = "active" if item["active"] else "paused"
        typer.echo(f"#{item['id']} {item['user']}/{item['name']}  [{state}]  query \"{item['query']}\"")
        typer.echo(f"    matches: {item['criteria']}")
        typer.echo(f"    rules: {', '.join(item['rules']) or '-'}; notify: {', '.join(item['targets'])}"
                   + (" (digest)" if item["digest"] else ""))
        last = (f"{_when(r.last_match_at)} [{item['last_match_rule']}] {item['last_match']}"
                if r.last_match_at else "none yet")
        typer.echo(f"    last match: {last}; {item['matches']} match(es); last checked {_when(r.last_checked_at)}")
        d = item["delivery"]
        line = f"    delivery: {d['sent']} sent, {d['pending']} pending, {d['failed']} failed"
        if r.last_sent_at:
            line += f"; last sent {_when(r.last_sent_at)}"
        if d["last_error"]:
            line += f"; last error: {d['last_error'][:160]}"
        typer.echo(line)


def _set_active(ref: str, user: str | None, active: bool) -> None:
    with app_transaction(EXPECTED) as conn:
        row = manage.resolve_search(conn, ref, user)
        manage.set_active(conn, row.id, active)
    typer.echo(f"saved search {row.id} '{row.name}' of {row.username} {'resumed' if active else 'paused'}")


@alerts_app.command("pause")
def alerts_pause(
    search: Annotated[str, typer.Argument(help="Id or name of the saved search.")],
    user: Annotated[str | None, typer.Option("--user", "-u")] = None,
) -> None:
    """Stop evaluating a saved search (its history is kept)."""
    _set_active(search, user, False)


@alerts_app.command("resume")
def alerts_resume(
    search: Annotated[str, typer.Argument(help="Id or name of the saved search.")],
    user: Annotated[str | None, typer.Option("--user", "-u")] = None,
) -> None:
    """Evaluate a paused saved search again (from the next listings materialisation on)."""
    _set_active(search, user, True)


@alerts_app.command("remove")
def alerts_remove(
    search: Annotated[str, typer.Argument(help="Id or name of the saved search.")],
    user: Annotated[str | None, typer.Option("--user", "-u")] = None,
) -> None:
    """Delete a saved search, its matches and its undelivered notifications."""
    with app_transaction(EXPECTED) as conn:
        row = manage.resolve_search(conn, search, user)
        manage.remove_search(conn, row.id)
    typer.echo(f"saved search {row.id} '{row.name}' of {row.username} removed")


@alerts_app.command("sync")
def alerts_sync(
    file: Annotated[Path, typer.Argument(help="alerts.yaml with `users:` and `alerts:` (see docs).",
                                         exists=True, dir_okay=False)],
    prune: Annotated[bool, typer.Option("--prune", help="Remove saved searches of the file's users that the "
                                        "file does not list.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; change nothing.")] = False,
) -> None:
    """Make users and saved searches match FILE (idempotent; ${VAR} is read from the environment)."""
    try:
        spec = load_alerts_file(file)
    except CriteriaError as exc:
        raise fail(str(exc)) from None
    try:
        engine = engine_for(resolve_urls(load_settings()).app)
        with engine.connect() as conn:
            transaction = conn.begin()
            report = manage.sync_file(conn, spec, _known_vendors(conn), secret_box(), prune=prune)
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()
    except EXPECTED as exc:
        raise fail(f"{file}: {exc}") from None
    typer.echo(("dry run, nothing changed: " if dry_run else "") + report.describe())
    for kind in ("created", "updated", "removed"):
        for label in report.alerts[kind]:
            typer.echo(f"  {kind}: {label}")


# --- notifications --------------------------------------------------------------------------------------


def notifications(
    status: Annotated[str | None, typer.Option("--status", "-s", help="pending, sending, sent or failed.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Only this saved search (id or name).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Recent deliveries and failures from the notification outbox (targets masked)."""
    if status is not None and status not in {"pending", "sending", "sent", "failed"}:
        raise fail(f"--status {status!r}: use pending, sending, sent or failed")
    with app_transaction(EXPECTED) as conn:
        rows = manage.notifications_report(conn, status=status, search=search, limit=limit)
        counts = manage.outbox_counts(conn)
    items = [{"id": r.id, "created_at": r.created_at.isoformat(), "status": r.status, "attempts": r.attempts,
              "target": r.target_label, "user": r.username, "search": r.search, "title": r.title,
              "last_error": r.last_error, "sent_at": r.sent_at and r.sent_at.isoformat(),
              "next_attempt_at": r.next_attempt_at.isoformat() if r.status in ("pending", "sending") else None}
             for r in rows]
    if as_json:
        typer.echo(json.dumps({"counts": counts, "notifications": items}, indent=2))
        return
    typer.echo("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"))
    for item, r in zip(items, rows, strict=True):
        when = _when(r.sent_at) if r.status == "sent" else f"next try {_when(r.next_attempt_at)}" \
            if r.status in ("pending", "sending") else ""
        typer.echo(f"{item['id']:>6}  {_when(r.created_at)}  {r.status:<7} x{r.attempts}  {item['target']}  "
                   f"{r.username}/{r.search}  {when}")
        typer.echo(f"        {r.title[:110]}")
        if r.last_error and r.status != "sent":
            typer.echo(f"        error: {r.last_error[:200]}")


# --- the demo's example ------------------------------------------------------------------------------


def inbox_target(demo_url: str) -> str:
    """The Apprise URL of the demo marketplace's alert inbox (``/alerts-inbox``)."""
    scheme, _, rest = demo_url.rstrip("/").partition("://")
    return f"{'jsons' if scheme == 'https' else 'json'}://{rest}/alerts-inbox"


def install_demo_alerts(database_url: str, demo_url: str) -> str:
    """Create the demo's example user and saved search if missing (never overwrites edits); returns
    what happened, in words. Never raises for expected problems: ``dev`` must start regardless."""
    try:
        spec = load_alerts_file(DEMO_ALERTS_FILE, constants={"MARKET_PULSE_DEMO_INBOX": inbox_target(demo_url)})
        with engine_for(database_url).begin() as conn:
            report = manage.sync_file(conn, spec, _known_vendors(conn), secret_box(), only_missing=True)
    except EXPECTED as exc:
        return f"not installed ({exc})"
    return f"{report.describe()}; inbox at {demo_url.rstrip('/')}/alerts-inbox"
