"""Alert tables in SQL: reading what to evaluate, writing matches and the outbox in one transaction.

Every function takes a SQLAlchemy ``Connection``; the caller owns the transaction. Matching
itself happens in Python (:mod:`pipelines.alerts.matching`); SQL here only moves sets of rows.
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
from sqlalchemy import Connection, text

from pipelines.alerts.criteria import NotificationSettings, SearchCriteria, format_validation_error
from pipelines.alerts.matching import Listing, Market, MatchState

log = logging.getLogger(__name__)

EVALUATION_LOCK = 0x4D50_414C  # "MPAL": one alert evaluation at a time (transaction-scoped)


@dataclass(frozen=True)
class ActiveSearch:
    id: int
    user_id: int
    name: str
    query: str
    criteria: SearchCriteria
    settings: NotificationSettings


def lock_evaluation(conn: Connection) -> None:
    """Serialise evaluations: decisions read ``alert_matches`` and write it back in one transaction."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVALUATION_LOCK})


def load_active_searches(conn: Connection) -> tuple[list[ActiveSearch], list[str]]:
    """Active saved searches of active users, parsed; and one line per stored search that no longer
    validates (it is skipped, never half-applied)."""
    rows = conn.execute(text("""
        SELECT s.id, s.user_id, s.name, s.query, s.criteria, s.notification_settings
        FROM saved_searches s JOIN users u ON u.id = s.user_id
        WHERE s.is_active AND u.is_active ORDER BY s.id
    """)).all()
    searches, problems = [], []
    for row in rows:
        try:
            criteria = SearchCriteria.model_validate(row.criteria)
            settings = NotificationSettings.model_validate(row.notification_settings, context={"stored": True})
        except ValidationError as exc:
            problems.append(f"saved search {row.id} ({row.name}) skipped: "
                            + format_validation_error(exc).replace("\n", "; "))
            continue
        searches.append(ActiveSearch(row.id, row.user_id, row.name, row.query, criteria, settings))
    return searches, problems


def vendor_ids(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    rows = conn.execute(text("SELECT name, id FROM vendors WHERE name = ANY(:names)"), {"names": list(names)})
    return {r.name: r.id for r in rows}


def vendors_seen_on(conn: Connection, days: Sequence[dt.date]) -> list[tuple[dt.date, str]]:
    """Every (day, vendor) partition with sightings on the given days."""
    if not days:
        return []
    rows = conn.execute(text("""
        SELECT DISTINCT s.partition_date, v.name FROM listing_sightings s JOIN vendors v ON v.id = s.vendor_id
        WHERE s.partition_date = ANY(:days)
    """), {"days": list(days)})
    return [(r.partition_date, r.name) for r in rows]


CANDIDATES = text("""
    SELECT l.id, v.name AS vendor, l.title, l.price, l.currency, l.condition, l.location, l.product_id, l.url,
           NOT EXISTS (SELECT 1 FROM listing_sightings e
                       WHERE e.listing_id = l.id AND e.partition_date < s.partition_date) AS first_seen
    FROM listing_sightings s
    JOIN listings l ON l.id = s.listing_id
    JOIN vendors v ON v.id = l.vendor_id
    WHERE s.vendor_id = :vendor_id AND s.partition_date = :day
      AND NOT l.is_sold AND NOT l.is_removed
      AND EXISTS (SELECT 1 FROM price_observations p WHERE p.listing_id = s.listing_id AND p.observed_date = :day)
""")
CANDIDATE_ATTRIBUTES = text("""
    SELECT a.listing_id, a.key, a.value
    FROM listing_sightings s JOIN listing_attributes a ON a.listing_id = s.listing_id
    WHERE s.vendor_id = :vendor_id AND s.partition_date = :day
""")


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
            for a in conn.execute(CANDIDATE_ATTRIBUTES, params):
                attributes.setdefault(a.listing_id, {})[a.key] = a.value
        no_attributes: dict[str, str | None] = {}
        for lid, vendor_name, title, price, currency, condition, location, product_id, url, first_seen in (
                conn.execute(CANDIDATES, params)):
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
    rows = conn.execute(text("""
        SELECT m.saved_search_id, m.listing_id, m.rule, m.last_notified_price, m.data
        FROM alert_matches m
        JOIN unnest(CAST(:searches AS bigint[]), CAST(:listings AS bigint[])) AS p(saved_search_id, listing_id)
          ON m.saved_search_id = p.saved_search_id AND m.listing_id = p.listing_id
    """), {"searches": [p[0] for p in pairs], "listings": [p[1] for p in pairs]})
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
    rows = conn.execute(text("""
        SELECT DISTINCT ON (product_id, currency) product_id, currency, market_value, sample_size, snapshot_date
        FROM price_snapshots
        WHERE product_id = ANY(:ids) AND snapshot_date <= :as_of AND market_value IS NOT NULL
        ORDER BY product_id, currency, snapshot_date DESC
    """), {"ids": ids, "as_of": as_of})
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
    title: str
    body: str
    data: dict[str, Any]


STAGING = """
DROP TABLE IF EXISTS pg_temp.alert_events, pg_temp.alert_outbox, pg_temp.alert_fired;
CREATE TEMP TABLE alert_events (
    seq bigint PRIMARY KEY, saved_search_id bigint NOT NULL, listing_id bigint NOT NULL, user_id bigint NOT NULL,
    action text NOT NULL, rule text NOT NULL, price numeric(16, 3), currency text NOT NULL,
    expected_price numeric(16, 3), below_market_notified boolean NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE alert_outbox (
    seq bigint, saved_search_id bigint NOT NULL, user_id bigint NOT NULL, dedupe_key text NOT NULL,
    target text NOT NULL, title text NOT NULL, body text NOT NULL, data jsonb NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE alert_fired (seq bigint PRIMARY KEY, match_id bigint NOT NULL) ON COMMIT DROP
"""
MATCH_DATA = """jsonb_build_object('last_notified_currency', e.currency, 'below_market_notified',
                                   e.below_market_notified)
    || CASE WHEN e.rule IN ('new_match', 'price_drop', 'below_market')
            THEN jsonb_build_object('last_rule', e.rule, 'last_event_at', now()) ELSE '{}'::jsonb END"""
INSERT_MATCHES = f"""
WITH inserted AS (
    INSERT INTO alert_matches AS m
        (saved_search_id, listing_id, user_id, rule, price_at_match, last_notified_price, data)
    SELECT e.saved_search_id, e.listing_id, e.user_id, e.rule, e.price, e.price, {MATCH_DATA}
    FROM alert_events e WHERE e.action = 'insert'
    ON CONFLICT (saved_search_id, listing_id) DO NOTHING
    RETURNING m.id, m.saved_search_id, m.listing_id
)
INSERT INTO alert_fired (seq, match_id)
SELECT e.seq, i.id FROM inserted i
JOIN alert_events e ON e.saved_search_id = i.saved_search_id AND e.listing_id = i.listing_id AND e.action = 'insert'
"""
UPDATE_MATCHES = f"""
WITH updated AS (
    UPDATE alert_matches m SET last_notified_price = e.price, data = m.data || {MATCH_DATA}
    FROM alert_events e
    WHERE e.action = 'update' AND m.saved_search_id = e.saved_search_id AND m.listing_id = e.listing_id
      AND m.last_notified_price IS NOT DISTINCT FROM e.expected_price
    RETURNING e.seq, m.id
)
INSERT INTO alert_fired (seq, match_id) SELECT seq, id FROM updated
"""
INSERT_OUTBOX = """
INSERT INTO notifications (user_id, saved_search_id, alert_match_id, dedupe_key, target, title, body, data)
SELECT o.user_id, o.saved_search_id, f.match_id, o.dedupe_key, o.target, o.title, o.body, o.data
FROM alert_outbox o LEFT JOIN alert_fired f ON f.seq = o.seq
WHERE o.seq IS NULL OR f.match_id IS NOT NULL
ORDER BY o.saved_search_id, o.seq NULLS LAST, o.dedupe_key
ON CONFLICT (dedupe_key) DO NOTHING
"""


def _copy(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


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
    for statement in STAGING.split(";"):
        conn.execute(text(statement))
    _copy(conn, "alert_events", ("seq", "saved_search_id", "listing_id", "user_id", "action", "rule", "price",
                                 "currency", "expected_price", "below_market_notified"),
          ((e.seq, e.saved_search_id, e.listing_id, e.user_id, e.action, e.rule, e.price, e.currency,
            e.expected_price, e.below_market_notified) for e in events))
    _copy(conn, "alert_outbox", ("seq", "saved_search_id", "user_id", "dedupe_key", "target", "title", "body", "data"),
          ((o.seq, o.saved_search_id, o.user_id, o.dedupe_key, o.target, o.title, o.body,
            json.dumps(o.data, default=str)) for o in outbox))
    conn.execute(text(INSERT_MATCHES))
    conn.execute(text(UPDATE_MATCHES))
    fired = conn.execute(text("SELECT count(*) FROM alert_fired")).scalar_one()
    queued = conn.execute(text(INSERT_OUTBOX)).rowcount
    return WriteResult(int(fired), int(queued))


def touch_searches(conn: Connection, checked: Sequence[int], matched: Sequence[int]) -> None:
    if checked:
        conn.execute(text("""
            UPDATE saved_searches SET last_checked_at = now(),
                   last_matched_at = CASE WHEN id = ANY(:matched) THEN now() ELSE last_matched_at END
            WHERE id = ANY(:checked)
        """), {"checked": list(checked), "matched": list(matched)})


def pending_due(conn: Connection) -> int:
    """Notifications a delivery run would send now (pending and due, or a lapsed ``sending`` lease)."""
    return int(conn.execute(text("""
        SELECT count(*) FROM notifications
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
    """)).scalar_one())


# --- the crawler's view --------------------------------------------------------------------------


def saved_search_queries(conn: Connection) -> dict[str | None, list[str]]:
    """Queries of active saved searches, for the crawler to track beside each vendor's own queries.

    Keyed by vendor name when a search is limited to some vendors, by ``None`` for searches that
    want every vendor (the crawler adds those to every vendor). Queries are stripped, de-duplicated
    case-insensitively and sorted; searches of inactive users are left out.
    """
    rows = conn.execute(text("""
        SELECT s.query, s.criteria -> 'vendors' AS vendors
        FROM saved_searches s JOIN users u ON u.id = s.user_id
        WHERE s.is_active AND u.is_active AND btrim(s.query) <> ''
    """)).all()
    out: dict[str | None, dict[str, str]] = {}
    for row in rows:
        query = " ".join(row.query.split())
        vendors = [v for v in (row.vendors or []) if isinstance(v, str)] or [None]
        for vendor in vendors:
            out.setdefault(vendor, {}).setdefault(query.casefold(), query)
    return {vendor: sorted(queries.values(), key=str.casefold) for vendor, queries in out.items()}
