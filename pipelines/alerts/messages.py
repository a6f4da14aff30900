"""What a notification says: title, plain-text body and structured data, from match events. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pipelines.alerts.matching import Event, Listing
from pipelines.parsing.currencies import format_money, with_decimals

MAX_DIGEST_LINES = 50
RULE_LABELS = {"new_match": "New match", "price_drop": "Price drop", "below_market": "Below market"}


def money(amount: Decimal | None, currency: str) -> str:
    """``8,499,000 IDR``, ``12.345 KWD``, ``10 USD``: the currency's own decimals."""
    return "price on request" if amount is None else format_money(amount, currency)


def _amount(amount: Decimal | None, currency: str) -> str | None:
    """The amount as a string for JSON targets, with the currency's decimals ("5000.00", "12.345")."""
    return None if amount is None else str(with_decimals(amount, currency))


def idempotency_key(dedupe_key: str) -> str:
    """The key sent with every attempt of one notification (header ``X-Idempotency-Key`` on webhook
    and e-mail targets, ``idempotency_key`` in JSON payloads, ``ref:`` in the text): a receiver that
    remembers it can drop the duplicate a retried delivery may produce."""
    return "mp-" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]


def headline(event: Event) -> str:
    if event.rule == "price_drop":
        return f"Price drop -{event.drop_percent}%"
    if event.rule == "below_market":
        return f"{event.below_percent}% below market"
    return RULE_LABELS.get(event.rule, event.rule)


def event_data(search_id: int, search_name: str, listing: Listing, event: Event) -> dict[str, Any]:
    """Structured facts of one event (stored in ``notifications.data`` and sent to JSON targets)."""
    data: dict[str, Any] = {
        "saved_search_id": search_id, "saved_search": search_name, "rule": event.rule,
        "listing_id": listing.id, "vendor": listing.vendor, "title": listing.title, "url": listing.url,
        "price": _amount(event.price, event.currency), "currency": event.currency,
    }
    if event.rule == "price_drop":
        data.update(previous_price=_amount(event.expected_price, event.currency), drop_percent=str(event.drop_percent))
    if event.market is not None and event.below_percent is not None:
        data.update(market_value=_amount(event.market.market_value, event.currency),
                    market_sample_size=event.market.sample_size,
                    below_market_percent=str(event.below_percent))
    return data


def _details(listing: Listing, event: Event) -> str:
    line = f"{money(event.price, event.currency)} at {listing.vendor}"
    if event.rule == "price_drop":
        line += f" (was {money(event.expected_price, event.currency)}, -{event.drop_percent}%)"
    if event.market is not None and event.below_percent is not None:
        line += (f"; market value {money(event.market.market_value, event.currency)} from "
                 f"{event.market.sample_size} listings, {event.below_percent}% below")
    return line


def single_message(search_name: str, listing: Listing, event: Event, ref: str) -> tuple[str, str]:
    """(title, body) of a one-match notification."""
    title = f"{headline(event)}: {listing.title}"[:250]
    lines = [listing.title, _details(listing, event)]
    extra = " · ".join(x for x in (listing.condition, listing.location) if x)
    if extra:
        lines.append(extra)
    if listing.url:
        lines.append(listing.url)
    lines += ["", f"Saved search: {search_name}", f"ref: {ref}"]
    return title, "\n".join(lines)


def digest_message(search_name: str, items: Sequence[tuple[Listing, Event]], ref: str) -> tuple[str, str]:
    """(title, body) of a digest: every event of one evaluation for one search."""
    counts: dict[str, int] = {}
    for _, event in items:
        counts[event.rule] = counts.get(event.rule, 0) + 1
    order = list(RULE_LABELS)
    summary = ", ".join(f"{counts[rule]} {RULE_LABELS.get(rule, rule).lower()}"
                        for rule in sorted(counts, key=lambda r: order.index(r) if r in order else len(order)))
    title = f"{search_name}: {len(items)} alert{'s' if len(items) != 1 else ''} ({summary})"[:250]
    lines = []
    for listing, event in items[:MAX_DIGEST_LINES]:
        line = f"• {headline(event)}: {listing.title} — {_details(listing, event)}"
        lines.append(f"{line}\n  {listing.url}" if listing.url else line)
    if len(items) > MAX_DIGEST_LINES:
        lines.append(f"… and {len(items) - MAX_DIGEST_LINES} more")
    lines += ["", f"Saved search: {search_name}", f"ref: {ref}"]
    return title, "\n".join(lines)
