"""Product matches and price snapshots in SQL: writing them for a window of days (inside the
caller's transaction), and what the assets' previews and checks read back."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row

from pipelines.listings.store import LISTINGS_LOCK_NAMESPACE
from pipelines.products.identity import (
    CompiledRules,
    Identity,
    ListingText,
    gtin_lookup_forms,
    normalise_gtin,
    resolve,
)
from pipelines.shared.sql import SqlFiles
from pipelines.shared.windows import Window

SQL = SqlFiles.beside(__file__)


@dataclass(frozen=True)
class MatchSummary:
    listings: int
    products: int
    by_gtin: int
    by_card_number: int
    by_title: int
    products_total: int
    cross_vendor_products: int
    reassigned: int
    products_new: int


def _text(row: Any) -> ListingText:
    return ListingText(title=row.title, vendor=row.vendor, product_code=row.product_code, condition=row.condition)


def match_products(conn: Connection, window: Window, rules: CompiledRules) -> MatchSummary:
    """Derive the product of every listing seen in ``window``; upsert products, set product_id."""
    rows = SQL.rows(conn, "select_listings_to_match", window.params())
    listings = {row.id: _text(row) for row in rows}
    codes = sorted({form for text in listings.values() if (gtin := normalise_gtin(text.product_code))
                    for form in gtin_lookup_forms(gtin)})
    evidence = {row.id: _text(row) for row in SQL.rows(conn, "select_gtin_evidence", {"codes": codes})} if codes else {}
    identities = resolve(listings, rules, extra_gtin_evidence=evidence)

    products = _products(identities, rules)
    before = SQL.scalar(conn, "count_products")
    SQL.run(conn, "create_match_staging")
    SQL.copy(conn, "copy_staged_products", products)
    SQL.copy(conn, "copy_staged_matches", ((listing_id, identity.key, identity.method)
                                           for listing_id, identity in identities.items()))
    SQL.rows(conn, "lock_vendors", {"namespace": LISTINGS_LOCK_NAMESPACE})
    SQL.run(conn, "upsert_products")
    reassigned = SQL.run(conn, "assign_products")
    summary = SQL.one(conn, "match_summary")
    return MatchSummary(**summary._mapping, reassigned=reassigned, products_new=summary.products_total - before)


def _products(identities: dict[int, Identity], rules: CompiledRules) -> list[tuple[Any, ...]]:
    """One staged row per product key: the most common display name (ties: shortest, then
    alphabetical), the vendor code it was matched on, and the GTINs seen for it."""
    by_key: dict[str, list[Identity]] = defaultdict(list)
    for listing_id in sorted(identities):
        by_key[identities[listing_id].key].append(identities[listing_id])
    out = []
    for key, group in sorted(by_key.items()):
        names = Counter(i.name for i in group if i.name)
        name = min(names.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0] if names else key
        first = group[0]
        category = rules.by_slug.get(first.category) or rules.categories[-1]
        gtins = sorted({i.code for i in group if i.method == "gtin" and i.code})
        codes = Counter(i.code for i in group if i.code)
        code = min(codes.items(), key=lambda kv: (-kv[1], kv[0]))[0] if codes else None
        brand = next((i.brand for i in group if i.brand), None)
        attributes: dict[str, Any] = {"category": category.spec.slug, **first.attributes}
        if gtins:
            attributes["gtins"] = gtins
        out.append((key, name, brand, category.spec.slug, category.spec.name, code, json.dumps(attributes)))
    return out


@dataclass(frozen=True)
class SnapshotDay:
    day: Any
    snapshots: int
    products: int
    currencies: int
    offers: int
    high_confidence: int


def rebuild_price_snapshots(conn: Connection, window: Window) -> None:
    """Delete and re-insert the window's snapshots: one SQL pass over the whole window."""
    SQL.run(conn, "delete_price_snapshots_window", window.params())
    SQL.run(conn, "insert_price_snapshots", window.money_params())


def replace_price_snapshots(conn: Connection, window: Window) -> list[SnapshotDay]:
    """:func:`rebuild_price_snapshots`, then the per-day totals of what was written."""
    rebuild_price_snapshots(conn, window)
    return [SnapshotDay(**r._mapping) for r in SQL.rows(conn, "snapshot_summary", window.params())]


# --- what the assets' previews and the checks read ---------------------------------------------


def matched_listings_per_day(conn: Connection, window: Window) -> list[Row[Any]]:
    """(day, listings) of the window's sightings whose listing has a product."""
    return SQL.rows(conn, "listings_per_day", window.params())


def product_preview(conn: Connection, window: Window) -> list[Row[Any]]:
    """The window's products with the most listings and vendors."""
    return SQL.rows(conn, "product_preview", window.params())


def snapshot_preview(conn: Connection, day: dt.date) -> list[Row[Any]]:
    """The day's snapshots of the most offered products."""
    return SQL.rows(conn, "snapshot_preview", {"day": day})


def price_history(conn: Connection, day: dt.date, *, days: int, top: int) -> list[Row[Any]]:
    """Market value and FMV band over ``days`` days to ``day`` of the ``top`` most offered products."""
    return SQL.rows(conn, "price_history", {"day": day, "days": days, "top": top})


def band_violations(conn: Connection, window: Window) -> Row[Any]:
    """Snapshots of the window, and how many have disordered prices or a missing FMV band."""
    return SQL.one(conn, "select_band_violations", window.params())


def sample_violations(conn: Connection, window: Window) -> Row[Any]:
    """Snapshots of the window, and how many have a bad sample size, trim count or confidence."""
    return SQL.one(conn, "select_sample_violations", window.params())
