"""Evaluating saved searches against the listings new or changed in some listings partitions.

Called by the alert sensor (and by tests and the benchmark) with the (day, vendor) partitions
whose materialisations it has not consumed yet. Everything happens in the caller's transaction:
candidates are read, matched in Python, and the resulting ``alert_matches`` changes and
``notifications`` outbox rows are written together, so either both exist or neither does.
Re-evaluating a partition finds the match rows it wrote and queues nothing new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from pipelines.alerts import store
from pipelines.alerts.matching import CriteriaIndex, Event, Listing, Prepared, decide
from pipelines.alerts.messages import digest_message, event_data, idempotency_key, single_message
from pipelines.parsing.currencies import with_decimals

Partition = tuple[dt.date, str]
DayOrPartition = tuple[dt.date, str | None]
"""(day, vendor), or (day, None) for every vendor seen that day."""


@dataclass
class EvaluationSummary:
    partitions: list[Partition] = field(default_factory=list)
    unknown_partitions: list[Partition] = field(default_factory=list)
    searches: int = 0
    listings: int = 0
    matched_pairs: int = 0
    events: Counter[str] = field(default_factory=Counter)
    matches_written: int = 0
    notifications_queued: int = 0
    pending_due: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    match_seconds: float = 0.0

    def describe(self) -> str:
        """One line for sensor ticks and logs (no URLs, no secrets)."""
        days = ", ".join(f"{vendor} {day}" for day, vendor in self.partitions[:6])
        more = f" +{len(self.partitions) - 6} more" if len(self.partitions) > 6 else ""
        notified = {k: v for k, v in self.events.items() if k in ("new_match", "price_drop", "below_market")}
        rules = ", ".join(f"{k} {v}" for k, v in sorted(notified.items())) or "none"
        text = (f"{len(self.partitions)} partition(s) [{days}{more}]: {self.listings} listings new or changed, "
                f"{self.searches} active saved searches, {self.matched_pairs} matching pairs, "
                f"{self.matches_written} match rows written (alerts: {rules}), "
                f"{self.notifications_queued} notifications queued, {self.pending_due} due for delivery "
                f"({self.seconds:.2f}s)")
        if self.unknown_partitions:
            text += f"; skipped unknown vendors: {sorted({v for _, v in self.unknown_partitions})}"
        return text

    def tags(self) -> dict[str, str]:
        return {"market_pulse/alerts_listings_evaluated": str(self.listings),
                "market_pulse/alerts_matches": str(self.matches_written),
                "market_pulse/alerts_notifications_queued": str(self.notifications_queued),
                "market_pulse/alerts_partitions": str(len(self.partitions))}


def dedupe_key(search_id: int, listing: Listing, event: Event, target_id: str) -> str:
    """Deterministic per (search, listing, rule, price, target): the same event is never queued twice.
    The price is written with the currency's decimals, whatever scale the warehouse returned it in;
    ``target_id`` is the stored target's random id (never derived from the URL)."""
    price = "none" if event.price is None else f"{with_decimals(event.price, event.currency):f}"
    return f"alert:{search_id}:{listing.id}:{event.rule}:{price}:{event.currency}:{target_id}"


def _price_key(event: Event) -> str:
    return "None" if event.price is None else f"{with_decimals(event.price, event.currency):f}"


def digest_key(search_id: int, items: Sequence[tuple[Listing, Event]], target_id: str) -> str:
    content = "|".join(sorted(f"{listing.id}:{event.rule}:{_price_key(event)}" for listing, event in items))
    return f"digest:{search_id}:{hashlib.sha256(content.encode()).hexdigest()[:24]}:{target_id}"


def evaluate_partitions(conn: Connection, partitions: Sequence[DayOrPartition]) -> EvaluationSummary:
    """Match every active saved search against the partitions' new or changed listings; write the
    resulting matches and outbox rows (in ``conn``'s transaction); return what happened.

    ``(day, None)`` stands for every vendor's partition of that day (what a new ``price_snapshots``
    day asks for: below-market prices can only be judged once products and snapshots exist)."""
    started = time.perf_counter()
    days = sorted({day for day, vendor in partitions if vendor is None})
    expanded = [(day, vendor) for day, vendor in partitions if vendor is not None]
    expanded += store.vendors_seen_on(conn, days)
    summary = EvaluationSummary(partitions=sorted(set(expanded)))
    store.lock_evaluation(conn)
    searches, summary.problems = store.load_active_searches(conn)
    summary.searches = len(searches)
    if searches and summary.partitions:
        _evaluate(conn, summary, searches)
    summary.pending_due = store.pending_due(conn)
    summary.seconds = time.perf_counter() - started
    return summary


def _evaluate(conn: Connection, summary: EvaluationSummary, searches: list[store.ActiveSearch]) -> None:
    by_id = {s.id: s for s in searches}
    with_attributes = any(s.criteria.attributes for s in searches)
    listings, summary.unknown_partitions = store.load_candidates(conn, summary.partitions,
                                                                 with_attributes=with_attributes)
    summary.listings = len(listings)
    clock = time.perf_counter()
    index = CriteriaIndex((s.id, s.criteria) for s in searches)
    matched: list[tuple[int, Listing]] = []
    for listing in listings:
        for sid in index.match(Prepared.of(listing)):
            matched.append((sid, listing))
    summary.match_seconds = time.perf_counter() - clock
    summary.matched_pairs = len(matched)
    if not matched:
        store.touch_searches(conn, list(by_id), [])
        return
    states = store.load_states(conn, ((sid, listing.id) for sid, listing in matched))
    markets = {}
    if any(s.criteria.rule("below_market") for s in searches):
        as_of = max(day for day, _ in summary.partitions)
        markets = store.load_markets(conn, (lst.product_id for _, lst in matched if lst.product_id is not None),
                                     as_of)
    events: list[store.EventRow] = []
    outbox: list[store.OutboxRow] = []
    digests: dict[int, list[tuple[Listing, Event]]] = {}
    for sid, listing in matched:
        search = by_id[sid]
        market = markets.get((listing.product_id, listing.currency)) if listing.product_id is not None else None
        event = decide(search.criteria, listing, states.get((sid, listing.id)), market)
        if event is None:
            continue
        seq = len(events)
        events.append(store.EventRow(seq, sid, listing.id, search.user_id, event.action, event.rule, event.price,
                                     event.currency, event.expected_price, event.below_market_notified))
        summary.events[event.rule] += 1
        if not event.notify:
            continue
        if search.settings.digest:
            digests.setdefault(sid, []).append((listing, event))
            continue
        for target in search.settings.targets:
            key = dedupe_key(sid, listing, event, target.id)
            ref = idempotency_key(key)
            title, body = single_message(search.name, listing, event, ref)
            data = {**event_data(sid, search.name, listing, event), "idempotency_key": ref}
            outbox.append(store.OutboxRow(seq, sid, search.user_id, key, target.sealed, target.label, title, body,
                                          data))
    for sid, items in digests.items():
        search = by_id[sid]
        for target in search.settings.targets:
            key = digest_key(sid, items, target.id)
            ref = idempotency_key(key)
            title, body = digest_message(search.name, items, ref)
            data = {"saved_search_id": sid, "saved_search": search.name, "digest": True, "idempotency_key": ref,
                    "listing_ids": [listing.id for listing, _ in items],
                    "items": [event_data(sid, search.name, listing, event) for listing, event in items[:200]]}
            outbox.append(store.OutboxRow(None, sid, search.user_id, key, target.sealed, target.label, title, body,
                                          data))
    written = store.write_events(conn, events, outbox)
    summary.matches_written = written.matches_written
    summary.notifications_queued = written.notifications_queued
    notified = sorted({e.saved_search_id for e in events if e.rule in ("new_match", "price_drop", "below_market")})
    store.touch_searches(conn, list(by_id), notified)
