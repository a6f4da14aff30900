"""Matching a window's listings onto products, and people's decisions (inside the caller's transaction).

Incremental: only listings that are new, changed (title, vendor identifiers) or last matched
under other rules are matched (their *signature* differs); they are compared with the products
that share a blocking key with them (``product_keys``), never with the whole catalogue.
Decisions (``product_decisions``) pin listings to a product and are applied on every run.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row

from pipelines.listings.store import LISTINGS_LOCK_NAMESPACE
from pipelines.products.features import Features, blocking_keys, features, features_many, from_json, to_json
from pipelines.products.identity import CompiledRules, ListingText, product_name
from pipelines.products.matching import Catalogue, Match, Product, match_features
from pipelines.shared.sql import SqlFiles
from pipelines.shared.windows import Window

SQL = SqlFiles.beside(__file__)


@dataclass(frozen=True)
class MatchSummary:
    listings: int
    """Listings (re-)matched by this run; the others kept their product."""
    products: int
    by_gtin: int
    by_mpn: int
    by_rules: int
    by_title: int
    by_decision: int
    founded: int
    products_total: int
    listings_in_window: int
    products_in_window: int
    cross_vendor_products: int
    products_new: int
    seconds: dict[str, float]
    """Where the time went: select, features, catalogue, match, write, summary."""


def _text(row: Any) -> ListingText:
    return ListingText(title=row.title, vendor=row.vendor, product_code=row.product_code, condition=row.condition,
                       mpn=row.mpn, gtin=row.gtin, brand=row.brand)


def _anchor_json(t: ListingText) -> dict[str, str]:
    return {k: v for k, v in (("title", t.title), ("vendor", t.vendor), ("product_code", t.product_code),
                              ("condition", t.condition), ("mpn", t.mpn), ("gtin", t.gtin), ("brand", t.brand)) if v}


def _anchor_text(anchor: dict[str, str]) -> ListingText:
    return ListingText(title=anchor.get("title", ""), vendor=anchor.get("vendor"),
                       product_code=anchor.get("product_code"), condition=anchor.get("condition"),
                       mpn=anchor.get("mpn"), gtin=anchor.get("gtin"), brand=anchor.get("brand"))


def _load_catalogue(conn: Connection, rules: CompiledRules, listings: list[Features], pinned: set[str]) -> Catalogue:
    """The products the listings may be: first the blocking keys they share (ids only), then
    only each listing's best-ranked candidates are read in full."""
    catalogue = Catalogue(rules)
    keys = {key for f in listings for key in blocking_keys(f, rules)}
    cap, limit = rules.matching.block_cap, rules.matching.candidates
    index: dict[str, list[int]] = defaultdict(list)
    for row in SQL.rows(conn, "select_product_keys", {"keys": sorted(keys)}):
        index[row.key].append(row.product_id)
    wanted: set[int] = set()
    for f in listings:
        shared: Counter[int] = Counter()
        for key in blocking_keys(f, rules):
            ids = index.get(key)
            if not ids or (key[0] not in "gcr" and len(ids) > cap):
                continue
            for product_id in ids:
                shared[product_id] += 10 if key[0] in "gcr" else 1
        wanted.update(product_id for product_id, _ in shared.most_common(limit))
    for row in SQL.rows(conn, "select_candidate_products", {"ids": sorted(wanted), "product_keys": sorted(pinned)}):
        if not row.anchor:
            continue
        source = _anchor_text(row.anchor)
        if row.features and row.rules == rules.version:  # derived under these rules: read, not derived
            anchor = from_json(row.features, source)
        else:
            anchor = features(source, rules)
        product = Product(key=row.product_key, anchor=anchor, gtins=set(row.gtins or []) | set(anchor.gtins),
                          codes=list(anchor.codes), product_id=row.id)
        catalogue.add(product)
    return catalogue


def rekey_stale_products(conn: Connection, rules: CompiledRules) -> int:
    """Blocking keys derived under other rules are derived again (after a rules change)."""
    rows = SQL.rows(conn, "stale_products", {"rules": rules.version})
    if not rows:
        return 0
    catalogue = Catalogue(rules)
    SQL.run(conn, "delete_product_keys", {"ids": [r.id for r in rows]})
    anchors = features_many([_anchor_text(r.anchor) for r in rows], rules, workers=_workers())
    keys: list[tuple[str, int]] = []
    for r, anchor in zip(rows, anchors, strict=True):
        product = Product(key=r.product_key, anchor=anchor, gtins=set(r.gtins or []) | set(anchor.gtins),
                          codes=list(anchor.codes))
        keys.extend((key, r.id) for key in catalogue.product_keys(product))
    SQL.copy(conn, "copy_product_keys", keys)
    SQL.run(conn, "create_rekeyed")
    SQL.copy(conn, "copy_rekeyed",
             ((r.id, json.dumps(to_json(anchor))) for r, anchor in zip(rows, anchors, strict=True)))
    SQL.run(conn, "mark_products_rekeyed", {"rules": rules.version})
    return len(rows)


def _workers() -> int:
    """Processes for deriving features in bulk (a first match, a rules change): the CPUs we have."""
    return max(1, min(4, os.cpu_count() or 1))


def match_products(conn: Connection, window: Window, rules: CompiledRules, *,
                   rematch_all: bool = False) -> MatchSummary:
    """Match the window's new and changed listings onto products; store method, score, keys."""
    clock = _Clock()
    rekey_stale_products(conn, rules)
    clock.lap("rekey")
    rows = SQL.rows(conn, "select_listings_to_match", {**window.params(), "rules": rules.version,
                                                        "all": rematch_all})
    clock.lap("select")
    signatures = {row.id: row.signature for row in rows}
    pins = {row.id: row.pinned_key for row in rows if row.pinned_key}
    todo = [row.id for row in rows]
    derived = features_many([_text(row) for row in rows], rules, workers=_workers())
    feats: dict[int, Features] = {row.id: f for row, f in zip(rows, derived, strict=True)}
    clock.lap("features")

    catalogue = _load_catalogue(conn, rules, list(feats.values()), set(pins.values()))
    existing = {p.key for p in catalogue.products}
    clock.lap("catalogue")
    matches = match_features(feats.items(), catalogue, {i: pins[i] for i in todo if i in pins})
    renamed = _avoid_taken_keys(conn, catalogue, existing)
    matches = {i: Match(renamed.get(m.key, m.key), m.method, m.score) for i, m in matches.items()}

    clock.lap("match")
    before = SQL.scalar(conn, "count_products")
    SQL.run(conn, "create_match_staging")
    changed = sorted(catalogue.changed)
    SQL.copy(conn, "copy_staged_products", (_product_row(catalogue.products[i], rules) for i in changed))
    SQL.copy(conn, "copy_staged_matches", ((listing_id, m.key, m.method, m.score, signatures[listing_id])
                                           for listing_id, m in matches.items()))
    SQL.copy(conn, "copy_staged_keys", ((catalogue.products[i].key, key) for i in changed
                                        for key in catalogue.keys_of[i]))
    SQL.rows(conn, "lock_vendors", {"namespace": LISTINGS_LOCK_NAMESPACE})
    SQL.run(conn, "upsert_products")
    SQL.run(conn, "insert_product_keys")
    SQL.run(conn, "assign_products")
    clock.lap("write")
    run = SQL.one(conn, "match_summary")
    seen = SQL.one(conn, "window_summary", window.params())
    clock.lap("summary")
    return MatchSummary(**run._mapping, listings_in_window=seen.listings, products_in_window=seen.products,
                        cross_vendor_products=seen.cross_vendor_products, products_new=run.products_total - before,
                        seconds=clock.laps)


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


def _avoid_taken_keys(conn: Connection, catalogue: Catalogue, loaded: set[str]) -> dict[str, str]:
    """New products whose natural key another (unloaded) product already has get ``#n``."""
    new = [catalogue.products[i] for i in sorted(catalogue.changed) if catalogue.products[i].key not in loaded]
    if not new:
        return {}
    taken = {r.product_key for r in SQL.rows(conn, "existing_product_keys", {"keys": [p.key for p in new]})}
    renamed: dict[str, str] = {}
    for p in new:
        if p.key not in taken:
            continue
        base = re.sub(r" #\d+$", "", p.key)
        n = 2
        while True:
            candidate = f"{base} #{n}"
            exists = SQL.rows(conn, "existing_product_keys", {"keys": [candidate]})
            if not exists and candidate not in catalogue.by_key:
                break
            n += 1
        renamed[p.key] = candidate
        catalogue.by_key[candidate] = catalogue.by_key.pop(p.key)
        p.key = candidate
    return renamed


def _product_row(p: Product, rules: CompiledRules) -> tuple[Any, ...]:
    f = p.anchor
    category = rules.by_slug.get(f.identity.category) or rules.categories[-1]
    attributes: dict[str, Any] = {"category": category.spec.slug, **f.identity.attributes,
                                  "gtins": sorted(p.gtins), "rules": rules.version}
    if f.codes:
        attributes["mpns"] = [pn.raw for pn in f.codes]
    attributes["anchor"] = _anchor_json(f.source) if f.source is not None else {}
    attributes["features"] = to_json(f)
    code = f.codes[0].raw if f.codes else (min(p.gtins) if p.gtins else f.identity.code)
    name = product_name(f.source, f.identity, rules) if f.source is not None else f.identity.name
    return (p.key, name or p.key, f.brand or f.identity.brand, category.spec.slug, category.spec.name,
            code, json.dumps(attributes))


# --- people's decisions ---------------------------------------------------------------------------


class DecisionError(ValueError):
    """A merge or split that cannot be done (unknown product or listing); the message says why."""


def _product(conn: Connection, ref: str) -> Any:
    row = SQL.one_or_none(conn, "select_product_by_ref", {"r": ref})
    if row is None:
        raise DecisionError(f"no product {ref!r} (give its id or its key)")
    return row


def _record(conn: Connection, listing_ids: list[int], product_id: int, key: str, action: str,
            note: str | None) -> None:
    SQL.run(conn, "upsert_decisions", {"ids": listing_ids, "key": key, "action": action, "note": note})
    SQL.run(conn, "assign_decided_listings", {"p": product_id, "ids": listing_ids})


def merge_products(conn: Connection, target: str, sources: list[str], note: str | None = None) -> int:
    """Every listing of ``sources`` belongs to ``target`` from now on (and its own listings stay
    there, whatever new rules say). Returns the number of listings moved or pinned."""
    into = _product(conn, target)
    ids = [into.id] + [_product(conn, s).id for s in sources]
    listing_ids = [r.id for r in SQL.rows(conn, "select_listings_of_products", {"ids": ids})]
    _record(conn, listing_ids, into.id, into.product_key, "merge", note)
    return len(listing_ids)


def split_listings(conn: Connection, listing_ids: list[int], note: str | None = None) -> str:
    """The listings form a product of their own (kept apart on every re-match); returns its key."""
    rows = SQL.rows(conn, "select_listings_to_split", {"ids": listing_ids})
    missing = sorted(set(listing_ids) - {r.id for r in rows})
    if missing:
        raise DecisionError(f"no listing with id {', '.join(map(str, missing))}")
    first = rows[0]
    base = (first.product_key or "other:listing").split(" #")[0]
    key = f"{base} ~split-{first.id}"
    product_id = SQL.scalar(conn, "insert_split_product", {
        "key": key, "category": first.category_id, "first": first.id,
        "attrs": json.dumps({"split_from": first.product_key})})
    _record(conn, [r.id for r in rows], product_id, key, "split", note)
    return key


def product_report(conn: Connection, ref: str) -> tuple[Any, list[Any]]:
    """A product and its listings, each with vendor, how it was matched and any decision."""
    product = SQL.one_or_none(conn, "select_product_report", {"r": ref})
    if product is None:
        raise DecisionError(f"no product {ref!r} (give its id or its key)")
    listings = SQL.rows(conn, "select_product_listings", {"p": product.id})
    return product, listings


# --- what the asset's previews read -----------------------------------------------------------------


def matched_listings_per_day(conn: Connection, window: Window) -> list[Row[Any]]:
    """(day, listings) of the window's sightings whose listing has a product."""
    return SQL.rows(conn, "listings_per_day", window.params())


def product_preview(conn: Connection, window: Window) -> list[Row[Any]]:
    """The window's products with the most listings and vendors."""
    return SQL.rows(conn, "product_preview", window.params())
