"""Managing users and saved searches (what the CLI and ``alerts sync`` do), and reporting on them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from pipelines.alerts.alerts_file import AlertEntry, AlertsFile, UserEntry
from pipelines.alerts.criteria import CriteriaError, NotificationSettings, SearchCriteria


class ManageError(ValueError):
    """A management command cannot be done; the message says why (no secrets)."""


# --- users -------------------------------------------------------------------------------------


def add_user(conn: Connection, username: str, email: str, display_name: str | None = None) -> int:
    entry = _user_entry(username, email, display_name)
    clash = conn.execute(text("SELECT username, email FROM users WHERE username = :u OR lower(email) = lower(:e)"),
                         {"u": entry.username, "e": entry.email}).first()
    if clash is not None:
        what = "username" if clash.username == entry.username else "e-mail address"
        raise ManageError(f"a user with this {what} exists already ({clash.username})")
    return int(conn.execute(text("""
        INSERT INTO users (username, email, display_name) VALUES (:u, :e, :d) RETURNING id
    """), {"u": entry.username, "e": entry.email, "d": entry.display_name}).scalar_one())


def _user_entry(username: str, email: str, display_name: str | None) -> UserEntry:
    from pydantic import ValidationError

    from pipelines.alerts.criteria import format_validation_error

    try:
        return UserEntry(username=username, email=email, display_name=display_name)
    except ValidationError as exc:
        raise ManageError(format_validation_error(exc)) from None


def user_id(conn: Connection, username: str) -> int:
    found = conn.execute(text("SELECT id FROM users WHERE username = :u"), {"u": username}).scalar()
    if found is None:
        raise ManageError(f"no user {username!r}: add one with `market-pulse users add {username} --email ...`")
    return int(found)


def list_users(conn: Connection) -> list[Any]:
    return list(conn.execute(text("""
        SELECT u.id, u.username, u.email, u.display_name, u.is_active, count(s.id) AS searches
        FROM users u LEFT JOIN saved_searches s ON s.user_id = u.id
        GROUP BY u.id ORDER BY u.username
    """)))


# --- saved searches ------------------------------------------------------------------------------


def check_vendors(criteria: SearchCriteria, known: set[str]) -> None:
    unknown = [v for v in criteria.vendors if v not in known]
    if unknown:
        raise ManageError(f"unknown vendor{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(known)) or 'none yet'})")


def known_vendors(conn: Connection, extra: Iterable[str] = ()) -> set[str]:
    """Vendors in the warehouse plus the given ones (the vendor files), so a search can name a vendor
    before the catalogue was first materialised."""
    return {r[0] for r in conn.execute(text("SELECT name FROM vendors"))} | set(extra)


def build_entry(entry: AlertEntry, known: set[str]) -> tuple[SearchCriteria, NotificationSettings]:
    try:
        criteria, settings = entry.build()
    except CriteriaError as exc:
        raise ManageError(str(exc)) from None
    check_vendors(criteria, known)
    return criteria, settings


def add_search(conn: Connection, entry: AlertEntry, known: set[str]) -> int:
    criteria, settings = build_entry(entry, known)
    uid = user_id(conn, entry.user)
    try:
        with conn.begin_nested():
            return int(conn.execute(text("""
                INSERT INTO saved_searches (user_id, name, query, criteria, notification_settings, is_active)
                VALUES (:uid, :name, :query, CAST(:criteria AS jsonb), CAST(:settings AS jsonb), :active)
                RETURNING id
            """), {"uid": uid, "name": entry.name, "query": entry.query, "criteria": criteria.model_dump_json(),
                   "settings": settings.model_dump_json(), "active": entry.active}).scalar_one())
    except IntegrityError:
        raise ManageError(f"{entry.user} already has a saved search named {entry.name!r}") from None


def resolve_search(conn: Connection, ref: str, username: str | None = None) -> Any:
    """A saved search by id, or by name (with ``username`` when several users use that name)."""
    params: dict[str, Any] = {"ref": ref, "user": username}
    by_id = ref.isdigit() and username is None
    rows = conn.execute(text(f"""
        SELECT s.id, s.name, s.is_active, u.username FROM saved_searches s JOIN users u ON u.id = s.user_id
        WHERE {"s.id = CAST(:ref AS bigint)" if by_id else "s.name = CAST(:ref AS text)"}
          AND (CAST(:user AS text) IS NULL OR u.username = CAST(:user AS text))
    """), params).all()
    if not rows:
        raise ManageError(f"no saved search {ref!r}" + (f" for user {username}" if username else ""))
    if len(rows) > 1:
        owners = ", ".join(sorted(r.username for r in rows))
        raise ManageError(f"several saved searches are named {ref!r} (users {owners}): add --user or use the id")
    return rows[0]


def set_active(conn: Connection, search_id: int, active: bool) -> None:
    conn.execute(text("UPDATE saved_searches SET is_active = :a WHERE id = :id AND is_active <> :a"),
                 {"a": active, "id": search_id})


def remove_search(conn: Connection, search_id: int) -> None:
    """Delete a saved search with its matches and outbox rows (pending messages are dropped)."""
    conn.execute(text("DELETE FROM saved_searches WHERE id = :id"), {"id": search_id})


SEARCH_REPORT = text("""
    SELECT s.id, u.username, s.name, s.query, s.criteria, s.notification_settings, s.is_active,
           s.last_checked_at, s.last_matched_at,
           m.matches, lm.event_at AS last_match_at, lm.rule AS last_match_rule, lm.title AS last_match_title,
           coalesce(n.sent, 0) AS sent, coalesce(n.pending, 0) AS pending, coalesce(n.sending, 0) AS sending,
           coalesce(n.failed, 0) AS failed, n.last_sent_at, ne.last_error
    FROM saved_searches s JOIN users u ON u.id = s.user_id
    LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE data ? 'last_rule') AS matches
                       FROM alert_matches WHERE saved_search_id = s.id) m ON true
    LEFT JOIN LATERAL (SELECT CAST(am.data ->> 'last_event_at' AS timestamptz) AS event_at,
                              am.data ->> 'last_rule' AS rule, l.title
                       FROM alert_matches am JOIN listings l ON l.id = am.listing_id
                       WHERE am.saved_search_id = s.id AND am.data ? 'last_rule'
                       ORDER BY CAST(am.data ->> 'last_event_at' AS timestamptz) DESC, am.id DESC
                       LIMIT 1) lm ON true
    LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE status = 'sent') AS sent,
                              count(*) FILTER (WHERE status = 'pending') AS pending,
                              count(*) FILTER (WHERE status = 'sending') AS sending,
                              count(*) FILTER (WHERE status = 'failed') AS failed,
                              max(sent_at) AS last_sent_at
                       FROM notifications WHERE saved_search_id = s.id) n ON true
    LEFT JOIN LATERAL (SELECT last_error FROM notifications
                       WHERE saved_search_id = s.id AND status IN ('failed', 'pending') AND last_error IS NOT NULL
                       ORDER BY updated_at DESC LIMIT 1) ne ON true
    WHERE CAST(:user AS text) IS NULL OR u.username = CAST(:user AS text)
    ORDER BY u.username, s.name
""")


def search_report(conn: Connection, username: str | None = None) -> list[Any]:
    return list(conn.execute(SEARCH_REPORT, {"user": username}))


NOTIFICATIONS_REPORT = text("""
    SELECT n.id, n.created_at, n.status, n.attempts, n.target, n.title, n.last_error, n.next_attempt_at,
           n.sent_at, s.name AS search, u.username
    FROM notifications n
    LEFT JOIN saved_searches s ON s.id = n.saved_search_id
    LEFT JOIN users u ON u.id = n.user_id
    WHERE (CAST(:status AS text) IS NULL OR n.status = CAST(:status AS text))
      AND (CAST(:search AS text) IS NULL OR s.name = CAST(:search AS text) OR CAST(s.id AS text) = :search)
    ORDER BY n.updated_at DESC, n.id DESC
    LIMIT :limit
""")


def notifications_report(conn: Connection, *, status: str | None = None, search: str | None = None,
                         limit: int = 20) -> list[Any]:
    return list(conn.execute(NOTIFICATIONS_REPORT, {"status": status, "search": search, "limit": limit}))


def outbox_counts(conn: Connection) -> dict[str, int]:
    return {r.status: r.n for r in conn.execute(text("SELECT status, count(*) AS n FROM notifications GROUP BY 1"))}


# --- sync from a file -------------------------------------------------------------------------------


@dataclass
class SyncReport:
    users: dict[str, list[str]] = field(default_factory=lambda: {"created": [], "updated": [], "unchanged": []})
    alerts: dict[str, list[str]] = field(default_factory=lambda: {
        "created": [], "updated": [], "unchanged": [], "removed": []})

    @property
    def changed(self) -> bool:
        return any(self.users[k] for k in ("created", "updated")) or any(
            self.alerts[k] for k in ("created", "updated", "removed"))

    def describe(self) -> str:
        u = ", ".join(f"{len(v)} {k}" for k, v in self.users.items() if v) or "none"
        a = ", ".join(f"{len(v)} {k}" for k, v in self.alerts.items() if v) or "none"
        return f"users: {u}; saved searches: {a}"


def sync_file(conn: Connection, spec: AlertsFile, known: set[str], *, prune: bool = False,
              only_missing: bool = False) -> SyncReport:
    """Make the database say what the file says (idempotent: a second run changes nothing).

    Users are matched by username, saved searches by (user, name). With ``prune``, saved searches
    of the users named in the file that the file does not list are removed. With ``only_missing``,
    existing users and searches are left exactly as they are (used for the demo's example search).
    """
    report = SyncReport()
    built = {(e.user, e.name): build_entry(e, known) for e in spec.alerts}
    for entry in spec.users:
        row = conn.execute(text("SELECT id, email, display_name FROM users WHERE username = :u"),
                           {"u": entry.username}).first()
        if row is None:
            add_user(conn, entry.username, entry.email, entry.display_name)
            report.users["created"].append(entry.username)
        elif only_missing or (row.email, row.display_name) == (entry.email, entry.display_name):
            report.users["unchanged"].append(entry.username)
        else:
            conn.execute(text("UPDATE users SET email = :e, display_name = :d WHERE id = :id"),
                         {"e": entry.email, "d": entry.display_name, "id": row.id})
            report.users["updated"].append(entry.username)
    for entry in spec.alerts:
        label = f"{entry.user}/{entry.name}"
        criteria, settings = built[(entry.user, entry.name)]
        uid = user_id(conn, entry.user)
        row = conn.execute(text("""
            SELECT id, query, criteria, notification_settings, is_active FROM saved_searches
            WHERE user_id = :uid AND name = :name
        """), {"uid": uid, "name": entry.name}).first()
        if row is None:
            add_search(conn, entry, known)
            report.alerts["created"].append(label)
            continue
        if only_missing or _same(row, entry, criteria, settings):
            report.alerts["unchanged"].append(label)
            continue
        conn.execute(text("""
            UPDATE saved_searches SET query = :query, criteria = CAST(:criteria AS jsonb),
                   notification_settings = CAST(:settings AS jsonb), is_active = :active
            WHERE id = :id
        """), {"id": row.id, "query": entry.query, "criteria": criteria.model_dump_json(),
               "settings": settings.model_dump_json(), "active": entry.active})
        report.alerts["updated"].append(label)
    if prune:
        users = {e.username for e in spec.users} | {e.user for e in spec.alerts}
        wanted = set(built)
        for r in conn.execute(text("""
            SELECT s.id, u.username, s.name FROM saved_searches s JOIN users u ON u.id = s.user_id
            WHERE u.username = ANY(:users) ORDER BY s.id
        """), {"users": sorted(users)}).all():
            if (r.username, r.name) not in wanted:
                remove_search(conn, r.id)
                report.alerts["removed"].append(f"{r.username}/{r.name}")
    return report


def _same(row: Any, entry: AlertEntry, criteria: SearchCriteria, settings: NotificationSettings) -> bool:
    try:
        stored = (SearchCriteria.model_validate(row.criteria), NotificationSettings.model_validate(
            row.notification_settings))
    except Exception:
        return False
    return (row.query, row.is_active, stored) == (entry.query, entry.active, (criteria, settings))
