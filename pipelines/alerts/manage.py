"""Managing users and saved searches (what the CLI and ``alerts sync`` do), and reporting on them.

Writing a saved search seals its targets with a :class:`~infra.secrets.SecretBox`
(:mod:`pipelines.alerts.vault`); without a key nothing is written and the error says how to
create one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from infra.secrets import SecretBox, SecretKeyError
from pipelines.alerts import store, vault
from pipelines.alerts.alerts_file import AlertEntry, AlertsFile, UserEntry
from pipelines.alerts.criteria import CriteriaError, NotificationSettings, SearchCriteria, StoredNotification
from pipelines.vendors.store import vendor_names


class ManageError(ValueError):
    """A management command cannot be done; the message says why (no secrets)."""


# --- users -------------------------------------------------------------------------------------


def add_user(conn: Connection, username: str, email: str, display_name: str | None = None) -> int:
    entry = _user_entry(username, email, display_name)
    clash = store.find_user_clash(conn, entry.username, entry.email)
    if clash is not None:
        what = "username" if clash.username == entry.username else "e-mail address"
        raise ManageError(f"a user with this {what} exists already ({clash.username})")
    return store.insert_user(conn, entry.username, entry.email, entry.display_name)


def _user_entry(username: str, email: str, display_name: str | None) -> UserEntry:
    from pydantic import ValidationError

    from pipelines.alerts.criteria import format_validation_error

    try:
        return UserEntry(username=username, email=email, display_name=display_name)
    except ValidationError as exc:
        raise ManageError(format_validation_error(exc)) from None


def user_id(conn: Connection, username: str) -> int:
    found = store.find_user(conn, username)
    if found is None:
        raise ManageError(f"no user {username!r}: add one with `market-pulse users add {username} --email ...`")
    return int(found.id)


def list_users(conn: Connection) -> list[Any]:
    return store.list_users(conn)


# --- saved searches ------------------------------------------------------------------------------


def check_vendors(criteria: SearchCriteria, known: set[str]) -> None:
    unknown = [v for v in criteria.vendors if v not in known]
    if unknown:
        raise ManageError(f"unknown vendor{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(known)) or 'none yet'})")


def known_vendors(conn: Connection, extra: Iterable[str] = ()) -> set[str]:
    """Vendors in the warehouse plus the given ones (the vendor files), so a search can name a vendor
    before the catalogue was first materialised."""
    return vendor_names(conn) | set(extra)


def build_entry(entry: AlertEntry, known: set[str]) -> tuple[SearchCriteria, NotificationSettings]:
    try:
        criteria, settings = entry.build()
    except CriteriaError as exc:
        raise ManageError(str(exc)) from None
    check_vendors(criteria, known)
    return criteria, settings


def add_search(conn: Connection, entry: AlertEntry, known: set[str], box: SecretBox) -> int:
    criteria, settings = build_entry(entry, known)
    uid = user_id(conn, entry.user)
    sealed = _seal(settings, box)
    try:
        with conn.begin_nested():
            return store.insert_saved_search(conn, user_id=uid, name=entry.name, query=entry.query,
                                             criteria=criteria.model_dump_json(),
                                             settings=sealed.model_dump_json(), active=entry.active)
    except IntegrityError:
        raise ManageError(f"{entry.user} already has a saved search named {entry.name!r}") from None


def _seal(settings: NotificationSettings, box: SecretBox,
          previous: StoredNotification | None = None) -> StoredNotification:
    try:
        return vault.seal(settings, box, previous)
    except SecretKeyError as exc:
        raise ManageError(f"notification targets are stored encrypted: {exc}") from None


def resolve_search(conn: Connection, ref: str, username: str | None = None) -> Any:
    """A saved search by id, or by name (with ``username`` when several users use that name)."""
    rows = store.saved_searches_by_ref(conn, ref, username)
    if not rows:
        raise ManageError(f"no saved search {ref!r}" + (f" for user {username}" if username else ""))
    if len(rows) > 1:
        owners = ", ".join(sorted(r.username for r in rows))
        raise ManageError(f"several saved searches are named {ref!r} (users {owners}): add --user or use the id")
    return rows[0]


def set_active(conn: Connection, search_id: int, active: bool) -> None:
    store.set_search_active(conn, search_id, active)


def remove_search(conn: Connection, search_id: int) -> None:
    """Delete a saved search with its matches and outbox rows (pending messages are dropped)."""
    store.delete_saved_search(conn, search_id)


def search_report(conn: Connection, username: str | None = None) -> list[Any]:
    return store.search_report(conn, username)


def notifications_report(conn: Connection, *, status: str | None = None, search: str | None = None,
                         limit: int = 20) -> list[Any]:
    return store.notifications_report(conn, status=status, search=search, limit=limit)


def outbox_counts(conn: Connection) -> dict[str, int]:
    return store.notification_counts(conn)


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


def sync_file(conn: Connection, spec: AlertsFile, known: set[str], box: SecretBox, *, prune: bool = False,
              only_missing: bool = False) -> SyncReport:
    """Make the database say what the file says (idempotent: a second run changes nothing).

    Users are matched by username, saved searches by (user, name). With ``prune``, saved searches
    of the users named in the file that the file does not list are removed. With ``only_missing``,
    existing users and searches are left exactly as they are (used for the demo's example search).
    """
    report = SyncReport()
    built = {(e.user, e.name): build_entry(e, known) for e in spec.alerts}
    for entry in spec.users:
        row = store.find_user(conn, entry.username)
        if row is None:
            add_user(conn, entry.username, entry.email, entry.display_name)
            report.users["created"].append(entry.username)
        elif only_missing or (row.email, row.display_name) == (entry.email, entry.display_name):
            report.users["unchanged"].append(entry.username)
        else:
            store.update_user(conn, row.id, entry.email, entry.display_name)
            report.users["updated"].append(entry.username)
    for alert in spec.alerts:
        label = f"{alert.user}/{alert.name}"
        criteria, settings = built[(alert.user, alert.name)]
        uid = user_id(conn, alert.user)
        row = store.find_user_saved_search(conn, uid, alert.name)
        if row is None:
            add_search(conn, alert, known, box)
            report.alerts["created"].append(label)
            continue
        if only_missing or _same(row, alert, criteria, settings, box):
            report.alerts["unchanged"].append(label)
            continue
        sealed = _seal(settings, box, vault.parse_stored(row.notification_settings))
        store.update_saved_search(conn, row.id, query=alert.query, criteria=criteria.model_dump_json(),
                                  settings=sealed.model_dump_json(), active=alert.active)
        report.alerts["updated"].append(label)
    if prune:
        users = {e.username for e in spec.users} | {e.user for e in spec.alerts}
        wanted = set(built)
        for r in store.saved_searches_of_users(conn, sorted(users)):
            if (r.username, r.name) not in wanted:
                remove_search(conn, r.id)
                report.alerts["removed"].append(f"{r.username}/{r.name}")
    return report


def _same(row: Any, entry: AlertEntry, criteria: SearchCriteria, settings: NotificationSettings,
          box: SecretBox) -> bool:
    try:
        stored_criteria = SearchCriteria.model_validate(row.criteria)
    except Exception:
        return False
    stored = vault.parse_stored(row.notification_settings)
    return ((row.query, row.is_active, stored_criteria) == (entry.query, entry.active, criteria)
            and stored is not None and vault.same_targets(stored, settings, box))


# --- keys -----------------------------------------------------------------------------------------


def rotate_target_keys(conn: Connection, box: SecretBox) -> tuple[int, list[str]]:
    """Re-encrypt every stored target (saved searches and outbox) with the first key of ``box``;
    returns (targets re-encrypted, rows no configured key can open: left untouched)."""
    count, unreadable = 0, []
    for row in store.sealed_search_targets(conn):
        stored = vault.parse_stored(row.notification_settings)
        if stored is None:
            unreadable.append(f"saved search {row.id}")
            continue
        try:
            targets = [t.model_copy(update={"sealed": box.rotate(t.sealed.encode("ascii")).decode("ascii")})
                       for t in stored.targets]
        except SecretKeyError:
            unreadable.append(f"saved search {row.id}")
            continue
        store.update_search_targets(conn, row.id, stored.model_copy(update={"targets": targets}).model_dump_json())
        count += len(targets)
    for row in store.sealed_notification_targets(conn):
        try:
            store.update_notification_target(conn, row.id, box.rotate(row.target.encode("ascii")).decode("ascii"))
        except (SecretKeyError, UnicodeEncodeError):
            unreadable.append(f"notification {row.id}")
            continue
        count += 1
    return count, unreadable
