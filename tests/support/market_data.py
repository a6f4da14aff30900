"""A small, deterministic market written straight into the warehouse for rollup and check tests.

Everything the rollups read is there: vendors in three currencies (one listing in a second
currency, so snapshots must not mix them, and a share of one vendor's listings in a three-decimal
currency, so statistics keep the currency's minor unit), products, listings with conditions, daily sightings
with price moves, outliers, free, on-request and sold offers, searches with every status,
durations, cache hits, and search results linking listings to queries.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection, text

from pipelines.parsing.currencies import decimals

VENDORS = {"toko": "IDR", "chapin": "GTQ", "cardvault": "USD"}
QUERIES = {"toko": ["iphone", "samsung galaxy"], "chapin": ["iphone", "Nintendo Switch "],
           "cardvault": ["pikachu", "nothing matches"]}
CONDITIONS = ["new", "used", "refurbished", None]


@dataclass
class Market:
    days: list[dt.date]
    vendor_ids: dict[str, int] = field(default_factory=dict)
    product_ids: list[int] = field(default_factory=list)


def seed_market(conn: Connection, days: list[dt.date], *, seed: int = 7, products: int = 5,
                listings_per_vendor: int = 40) -> Market:
    rng = random.Random(seed)
    market = Market(days=days)
    for name, currency in VENDORS.items():
        market.vendor_ids[name] = conn.execute(text(
            "INSERT INTO vendors (name, display_name, base_url, currency) VALUES (:n, :n, 'http://127.0.0.1', :c) "
            "ON CONFLICT (name) DO UPDATE SET currency = EXCLUDED.currency RETURNING id"),
            {"n": name, "c": currency}).scalar_one()
    for i in range(products):
        market.product_ids.append(conn.execute(text(
            "INSERT INTO products (product_key, name) VALUES (:k, :n) RETURNING id"),
            {"k": f"test:product-{seed}-{i}", "n": f"Product {i}"}).scalar_one())

    sightings, searches_done = [], []
    for vendor, currency in VENDORS.items():
        vendor_id = market.vendor_ids[vendor]
        scale = {"IDR": Decimal(15000), "GTQ": Decimal("7.75"), "USD": Decimal(1)}[currency]
        listing_rows = []
        for n in range(listings_per_vendor):
            product = rng.choice([*market.product_ids, None]) if n % 9 else None
            kind = "on_request" if n % 17 == 5 else "free" if n % 23 == 7 else "priced"
            # one USD listing sold in EUR: its snapshot must be its own (product, day, EUR) row
            cur = "EUR" if vendor == "cardvault" and n == 3 else currency
            # every fifth GTQ listing priced in Kuwaiti dinars, to the fils (three decimals)
            three_decimals = vendor == "chapin" and n % 5 == 4
            cur = "KWD" if three_decimals else cur
            rate = Decimal("0.307") if three_decimals else scale
            unit = Decimal(1).scaleb(-decimals(cur))  # whole rupiah, cents, fils
            base = Decimal(rng.randint(80, 400)) + Decimal(rng.randint(0, 99)) / 100
            if n % 13 == 0:
                base *= 12  # an outlier the Tukey fences should trim
            price = None if kind == "on_request" else Decimal(0) if kind == "free" else (base * rate).quantize(unit)
            first_day = rng.randrange(len(days)) if n % 4 == 0 else 0
            sold_day = rng.randrange(first_day, len(days)) if n % 6 == 1 else None
            listing_id = conn.execute(text(
                "INSERT INTO listings (vendor_id, external_id, product_id, title, price, currency, price_kind, "
                "condition, first_seen_at, last_seen_at) VALUES (:v, :e, :p, :t, :price, :cur, :k, :c, :f, :f) "
                "RETURNING id"),
                {"v": vendor_id, "e": f"{vendor}-{seed}-{n}", "p": product, "t": f"Listing {n}", "price": price,
                 "cur": cur, "k": kind, "c": rng.choice(CONDITIONS),
                 "f": dt.datetime.combine(days[first_day], dt.time(6), tzinfo=dt.UTC)}).scalar_one()
            listing_rows.append(listing_id)
            for d in range(first_day, len(days)):
                day_price = price
                if price is not None and kind == "priced" and rng.random() < 0.3:
                    day_price = (price * Decimal(1 + rng.uniform(-0.08, 0.08))).quantize(unit)
                sold = sold_day is not None and d >= sold_day
                sightings.append({"l": listing_id, "v": vendor_id, "d": days[d],
                                  "s": dt.datetime.combine(days[d], dt.time(6), tzinfo=dt.UTC),
                                  "p": day_price, "c": cur, "k": kind, "sold": sold, "t": f"Listing {n}"})
                if sold_day is not None and d >= sold_day + 1:
                    break
            if sold_day is not None:
                conn.execute(text("UPDATE listings SET is_sold = true, sold_at = :t WHERE id = :id"),
                             {"t": dt.datetime.combine(days[sold_day], dt.time(6), tzinfo=dt.UTC), "id": listing_id})
            elif n % 11 == 2:
                conn.execute(text("UPDATE listings SET is_removed = true, removed_at = :t WHERE id = :id"),
                             {"t": dt.datetime.combine(days[-1], dt.time(0), tzinfo=dt.UTC), "id": listing_id})
        for d, day in enumerate(days):
            for q, query in enumerate(QUERIES[vendor]):
                status = rng.choice(["success"] * 6 + ["partial", "failed"])
                items = 0 if query == "nothing matches" else rng.randint(5, 30) if status != "failed" else 0
                searches_done.append((vendor_id, day, query, status, items, rng.randint(300, 9000),
                                      rng.random() < 0.25, rng.randint(1, 8), rng.randint(10_000, 500_000),
                                      round(rng.uniform(0, 20), 3), listing_rows, d, q))
    conn.execute(text(
        "INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind, "
        "is_sold, title) VALUES (:l, :v, :d, :s, :p, :c, :k, :sold, :t)"), sightings)
    for (vendor_id, day, query, status, items, ms, hit, reqs, nbytes, browser, _, _, q) in searches_done:
        search_id = conn.execute(text(
            "INSERT INTO searches (vendor_id, partition_date, query, status, pages, items, requests, bytes, "
            "browser_seconds, duration_ms, cache_hit, error) VALUES (:v, :d, :q, :s, 1, :i, :r, :b, :bs, :ms, :h, "
            ":e) RETURNING id"),
            {"v": vendor_id, "d": day, "q": query, "s": status, "i": items, "r": reqs, "b": nbytes, "bs": browser,
             "ms": ms, "h": hit, "e": None if status == "success" else "page 2: HTTP 503"}).scalar_one()
        seen = conn.execute(text("SELECT listing_id FROM listing_sightings WHERE vendor_id = :v "
                                 "AND partition_date = :d ORDER BY listing_id"),
                            {"v": vendor_id, "d": day}).scalars().all()
        found = [lid for lid in seen if (lid + q) % 3 != 0][:items]
        if found:
            conn.execute(text("INSERT INTO search_results (search_id, listing_id, position, partition_date) "
                              "VALUES (:s, :l, :p, :d)"),
                         [{"s": search_id, "l": lid, "p": pos + 1, "d": day} for pos, lid in enumerate(found)])
    return market
