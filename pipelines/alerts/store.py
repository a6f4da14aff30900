"""Alert tables in SQL: reading what to evaluate, writing matches and the outbox in one
transaction, delivering the outbox, and managing users and saved searches.

Every function takes a SQLAlchemy ``Connection``; the caller owns the transaction. Matching
itself happens in Python (:mod:`pipelines.alerts.matching`); SQL here only moves sets of rows.
The statements are the files of ``pipelines/alerts/sql/``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Row

from pipelines.alerts.criteria import SearchCriteria, StoredNotification, format_validation_error
from pipelines.alerts.matching import Listing, Market, MatchState
from pipelines.shared.sql import SqlFiles
from pipelines.vendors.store import vendor_ids

log = logging.getLogger(__name__)

SQL = SqlFiles.beside(__file__)

EVALUATION_LOCK = 0x4D50_414C  # "MPAL": one alert evaluation at a time (transaction-scoped)


@dataclass(frozen=True)
class ActiveSearch:
    id: int
    user_id: int
    name: str
    query: str
    criteria: SearchCriteria
    settings: StoredNotification
    """Targets sealed: matching copies them into the outbox without opening them."""


def lock_evaluation(conn: Connection) -> None:
    """Serialise evaluations: decisions read ``alert_matches`` and write it back in one transaction."""
    SQL.run(conn, "lock_evaluation", {"key": EVALUATION_LOCK})


def load_active_searches(conn: Connection) -> tuple[list[ActiveSearch], list[str]]:
    """Active saved searches of active users, parsed; and one line per stored search that no longer
    validates (it is skipped, never half-applied)."""
    rows = SQL.rows(conn, "select_active_searches")
    searches, problems = [], []
    for row in rows:
        if isinstance(row.notification_settings, dict) and "targets" not in row.notification_settings \
                and "urls" in row.notification_settings:
            problems.append(f"saved search {row.id} ({row.name}) skipped: its notification targets are stored "
                            "unencrypted; run `market-pulse db migrate`")
            continue
        try:
            criteria = SearchCriteria.model_validate(row.criteria)
            settings = StoredNotification.model_validate(row.notification_settings)
        except ValidationError as exc:
            problems.append(f"saved search {row.id} ({row.name}) skipped: "
                            + format_validation_error(exc).replace("\n", "; "))
            continue
        searches.append(ActiveSearch(row.id, row.user_id, row.name, row.query, criteria, settings))
    return searches, problems


def vendors_seen_on(conn: Connection, days: Sequence[dt.date]) -> list[tuple[dt.date, str]]:
    """Every (day, vendor) partition with sightings on the given days."""
    if not days:
        return []
    rows = SQL.rows(conn, "select_vendors_seen_on", {"days": list(days)})
    return [(r.partition_date, r.name) for r in rows]


def load_candidates(conn: Connection, partitions: Sequence[tuple[dt.date, str]], *,
                    with_attributes: bool) -> tuple[list[Listing], list[tuple[dt.date, str]]]:
    """Listings new or changed (a price observation that day) in each (day, vendor) partition and
    still live; and the partitions whose vendor is unknown to the warehouse.

    A listing in several evaluated partitions appears once (its state is the current one anyway);
    it counts as first seen when any of them is its first sighting.
    """
    ids = vendor_ids(conn, {vendor for _, vendor in partitions})
    unknown = [p for p in partitions if p[1] not in ids]
    by_id: dict[int, Listing] = {}
    for day, vendor in partitions:
        if vendor not in ids:
            continue
        params = {"vendor_id": ids[vendor], "day": day}
        attributes: dict[int, dict[str, str | None]] = {}
        if with_attributes:
            for a in SQL.rows(conn, "select_candidate_attributes", params):
                attributes.setdefault(a.listing_id, {})[a.key] = a.value
        no_attributes: dict[str, str | None] = {}
        for lid, vendor_name, title, price, currency, condition, location, product_id, url, first_seen in (
                SQL.rows(conn, "select_candidates", params)):
            known = by_id.get(lid)
            by_id[lid] = Listing(lid, vendor_name, title, price, currency.strip(), condition, location,
                                 attributes.get(lid, no_attributes), product_id, url,
                                 first_seen or (known is not None and known.first_seen))
    return list(by_id.values()), unknown


def load_states(conn: Connection, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], MatchState]:
    """Existing ``alert_matches`` rows for (saved search id, listing id) pairs."""
    pairs = list(pairs)
    if not pairs:
        return {}
    rows = SQL.rows(conn, "select_match_states",
                    {"searches": [p[0] for p in pairs], "listings": [p[1] for p in pairs]})
    return {(r.saved_search_id, r.listing_id): MatchState(
        rule=r.rule, last_notified_price=r.last_notified_price,
        last_notified_currency=(r.data or {}).get("last_notified_currency"),
        below_market_notified=bool((r.data or {}).get("below_market_notified")))
        for r in rows}


def load_markets(conn: Connection, product_ids: Iterable[int], as_of: dt.date) -> dict[tuple[int, str], Market]:
    """Each product's latest snapshot (on or before ``as_of``) per currency, from ``price_snapshots``."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = SQL.rows(conn, "select_latest_markets", {"ids": ids, "as_of": as_of})
    return {(r.product_id, r.currency.strip()): Market(r.market_value, r.sample_size, r.snapshot_date) for r in rows}


# --- writing events and the outbox ------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    seq: int
    saved_search_id: int
    listing_id: int
    user_id: int
    action: str
    rule: str
    price: Decimal | None
    currency: str
    expected_price: Decimal | None
    below_market_notified: bool


@dataclass(frozen=True)
class OutboxRow:
    seq: int | None
    """The event this message is about (None for a digest, which is about several)."""
    saved_search_id: int
    user_id: int
    dedupe_key: str
    target: str
    """Sealed (a Fernet token), as stored in the saved search."""
    target_label: str
    title: str
    body: str
    data: dict[str, Any]


@dataclass(frozen=True)
class WriteResult:
    matches_written: int
    notifications_queued: int


def write_events(conn: Connection, events: Sequence[EventRow], outbox: Sequence[OutboxRow]) -> WriteResult:
    """Apply match inserts/updates and queue their notifications, in the caller's transaction.

    A match insert that meets an existing row, or an update whose ``last_notified_price`` moved
    since the decision, does not fire: its notifications are not queued. Notifications whose
    ``dedupe_key`` exists already are skipped (``ON CONFLICT DO NOTHING``).
    """
    if not events:
        return WriteResult(0, 0)
    SQL.run(conn, "create_alert_staging")
    SQL.copy(conn, "copy_alert_events", ((e.seq, e.saved_search_id, e.listing_id, e.user_id, e.action, e.rule,
                                          e.price, e.currency, e.expected_price, e.below_market_notified)
                                         for e in events))
    SQL.copy(conn, "copy_alert_outbox", ((o.seq, o.saved_search_id, o.user_id, o.dedupe_key, o.target,
                                          o.target_label, o.title, o.body, json.dumps(o.data, default=str))
                                         for o in outbox))
    SQL.run(conn, "insert_alert_matches")
    SQL.run(conn, "update_alert_matches")
    fired = SQL.scalar(conn, "count_fired_matches")
    queued = SQL.run(conn, "insert_notifications")
    return WriteResult(int(fired), int(queued))


def queue_admin_notification(conn: Connection, *, dedupe_key: str, target: str, target_label: str, title: str,
                             body: str, data: dict[str, Any]) -> bool:
    """Queue one admin notice in the outbox (``target`` sealed, ``target_label`` masked); False when
    its ``dedupe_key`` was queued before."""
    return bool(SQL.run(conn, "insert_admin_notification", {
        "dedupe_key": dedupe_key, "target": target, "target_label": target_label, "title": title, "body": body,
        "data": json.dumps(data, default=str)}))


def touch_searches(conn: Connection, checked: Sequence[int], matched: Sequence[int]) -> None:
    if checked:
        SQL.run(conn, "touch_saved_searches", {"checked": list(checked), "matched": list(matched)})


def pending_due(conn: Connection) -> int:
    """Notifications a delivery run would send now (pending and due, or a lapsed ``sending`` lease)."""
    return int(SQL.scalar(conn, "count_due_notifications"))


# --- the crawler's view --------------------------------------------------------------------------


def saved_search_queries(conn: Connection) -> dict[str | None, list[str]]:
    """Queries of active saved searches, for the crawler to track beside each vendor's own queries.

    Keyed by vendor name when a search is limited to some vendors, by ``None`` for searches that
    want every vendor (the crawler adds those to every vendor). Queries are stripped, de-duplicated
    case-insensitively and sorted; searches of inactive users are left out.
    """
    rows = SQL.rows(conn, "select_tracked_search_queries")
    out: dict[str | None, dict[str, str]] = {}
    for row in rows:
        query = " ".join(row.query.split())
        vendors: list[str | None] = [v for v in (row.vendors or []) if isinstance(v, str)] or [None]
        for vendor in vendors:
            out.setdefault(vendor, {}).setdefault(query.casefold(), query)
    return {vendor: sorted(queries.values(), key=str.casefold) for vendor, queries in out.items()}


# --- delivering the outbox (pipelines.alerts.delivery) ---------------------------------------------


def expire_exhausted(conn: Connection, max_attempts: int) -> int:
    """Fail the lapsed ``sending`` rows with no attempts left; how many."""
    return SQL.run(conn, "expire_exhausted_notifications", {"max_attempts": max_attempts})


def claim_due(conn: Connection, *, claim: str, limit: int, lease_seconds: float, max_attempts: int) -> list[Row[Any]]:
    """Claim up to ``limit`` due notifications for the run holding the token ``claim``."""
    return SQL.rows(conn, "claim_due_notifications", {"max_attempts": max_attempts, "limit": limit,
                                                      "lease": lease_seconds, "claim": claim})


def mark_sent(conn: Connection, notification_id: int, claim: str) -> bool:
    """Record a send (and mark the matches it was about notified); False when the claim was lost."""
    done = SQL.run(conn, "mark_notification_sent", {"id": notification_id, "claim": claim})
    if done:
        SQL.run(conn, "mark_matches_notified", {"id": notification_id})
    return bool(done)


def mark_failed(conn: Connection, notification_id: int, claim: str, *, error: str, permanent: bool,
                backoff_seconds: float, max_attempts: int) -> str | None:
    """Record a failed send; the new status (``pending`` or ``failed``), None when the claim was lost."""
    return SQL.scalar(conn, "mark_notification_failed", {
        "id": notification_id, "claim": claim, "max_attempts": max_attempts, "permanent": permanent,
        "error": error, "backoff": backoff_seconds})


def release(conn: Connection, notification_id: int, claim: str) -> int:
    """Give a claimed, unsent notification back for the next run; 1 when it was still ours."""
    return SQL.run(conn, "release_notification", {"id": notification_id, "claim": claim})


def due_notifications(conn: Connection) -> Row[Any]:
    """``due`` (count) and ``fingerprint`` (ids and attempts) of what is due now."""
    return SQL.one(conn, "select_due_fingerprint")


def notification_counts(conn: Connection) -> dict[str, int]:
    """Outbox rows per status."""
    return {r.status: r.n for r in SQL.rows(conn, "count_notifications_by_status")}


# --- users and saved searches (pipelines.alerts.manage) ---------------------------------------------


def find_user_clash(conn: Connection, username: str, email: str) -> Row[Any] | None:
    """A user with this username or (case-insensitively) this e-mail address."""
    return SQL.one_or_none(conn, "select_user_clash", {"u": username, "e": email})


def insert_user(conn: Connection, username: str, email: str, display_name: str | None) -> int:
    return int(SQL.scalar(conn, "insert_user", {"u": username, "e": email, "d": display_name}))


def find_user(conn: Connection, username: str) -> Row[Any] | None:
    """``id``, ``email`` and ``display_name`` of a user."""
    return SQL.one_or_none(conn, "select_user", {"u": username})


def update_user(conn: Connection, user_id: int, email: str, display_name: str | None) -> None:
    SQL.run(conn, "update_user", {"e": email, "d": display_name, "id": user_id})


def list_users(conn: Connection) -> list[Row[Any]]:
    """Every user with the number of their saved searches."""
    return SQL.rows(conn, "select_users_with_search_counts")


def insert_saved_search(conn: Connection, *, user_id: int, name: str, query: str, criteria: str, settings: str,
                        active: bool) -> int:
    """A new saved search (``criteria`` and ``settings`` as JSON); its id."""
    return int(SQL.scalar(conn, "insert_saved_search", {"uid": user_id, "name": name, "query": query,
                                                        "criteria": criteria, "settings": settings,
                                                        "active": active}))


def saved_searches_by_ref(conn: Connection, ref: str, username: str | None) -> list[Row[Any]]:
    """The saved search with id ``ref`` (a number, when no user is given), else those named ``ref``;
    only ``username``'s when given."""
    params = {"ref": ref, "user": username}
    if ref.isdigit() and username is None:
        return SQL.rows(conn, "select_saved_search_by_id", params)
    return SQL.rows(conn, "select_saved_searches_by_name", params)


def find_user_saved_search(conn: Connection, user_id: int, name: str) -> Row[Any] | None:
    return SQL.one_or_none(conn, "select_user_saved_search", {"uid": user_id, "name": name})


def update_saved_search(conn: Connection, search_id: int, *, query: str, criteria: str, settings: str,
                        active: bool) -> None:
    SQL.run(conn, "update_saved_search", {"id": search_id, "query": query, "criteria": criteria,
                                          "settings": settings, "active": active})


def set_search_active(conn: Connection, search_id: int, active: bool) -> None:
    SQL.run(conn, "set_saved_search_active", {"a": active, "id": search_id})


def delete_saved_search(conn: Connection, search_id: int) -> None:
    """Delete a saved search with its matches and outbox rows (pending messages are dropped)."""
    SQL.run(conn, "delete_saved_search", {"id": search_id})


def saved_searches_of_users(conn: Connection, usernames: Sequence[str]) -> list[Row[Any]]:
    """``id``, ``username`` and ``name`` of every saved search of these users."""
    return SQL.rows(conn, "select_saved_searches_of_users", {"users": list(usernames)})


def search_report(conn: Connection, username: str | None = None) -> list[Row[Any]]:
    """Each saved search (of ``username``, when given) with its matches and outbox state."""
    return SQL.rows(conn, "select_search_report", {"user": username})


def sealed_search_targets(conn: Connection) -> list[Row[Any]]:
    """``id`` and ``notification_settings`` of every saved search, locked for re-keying."""
    return SQL.rows(conn, "select_sealed_search_targets")


def update_search_targets(conn: Connection, search_id: int, settings: str) -> None:
    SQL.run(conn, "update_search_targets", {"id": search_id, "settings": settings})


def sealed_notification_targets(conn: Connection) -> list[Row[Any]]:
    """``id`` and sealed ``target`` of every outbox row, locked for re-keying."""
    return SQL.rows(conn, "select_sealed_notification_targets")


def update_notification_target(conn: Connection, notification_id: int, target: str) -> None:
    SQL.run(conn, "update_notification_target", {"id": notification_id, "target": target})


def notifications_report(conn: Connection, *, status: str | None, search: str | None, limit: int) -> list[Row[Any]]:
    """The latest ``limit`` notifications, optionally of one status and one saved search (id or name)."""
    return SQL.rows(conn, "select_notifications_report", {"status": status, "search": search, "limit": limit})
