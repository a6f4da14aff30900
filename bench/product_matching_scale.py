"""Speed of product matching: a first match of 100,000 listings, then a day's increment.

``uv run python -m bench.product_matching_scale [--listings 100000] [--new 2000]``

A warehouse (embedded PostgreSQL, or ``MARKET_PULSE_BENCH_DATABASE_URL``) is filled with
listings of synthetic electronics in five shops' title styles: part numbers written with and
without dashes and region suffixes, brand-less titles without part numbers, GTINs in one shop.
Then, through the real ``match_products`` (the asset's own code, one transaction each):

1. **first match**: day 1, every listing new (the whole catalogue is built);
2. **a day's increment**: day 2 shows every day-1 listing again plus ``--new`` new listings
   (half new offers of known products, half new products); only those are matched, against the
   products sharing a blocking key with them;
3. **baseline, same run**: the increment's new listings compared with *every* product of the
   catalogue (no blocking), timed on a sample and scaled - what "all against all" would cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time

from sqlalchemy import text

from bench.rollups import bench_database
from infra.database import engine_for
from pipelines.products.features import features
from pipelines.products.identifiers import gtin_check_digit_ok
from pipelines.products.identity import ListingText, load_rules
from pipelines.products.matching import Product, compare
from pipelines.products.store import _anchor_text, match_products
from pipelines.shared.windows import Window

BRANDS = ["Sony", "Samsung", "LG", "Canon", "Nikon", "Logitech", "Razer", "Corsair", "Bose", "JBL", "Apple", "Dell",
          "HP", "Lenovo", "ASUS", "Acer", "Panasonic", "Philips", "TP-Link", "Netgear", "Seagate", "SanDisk", "Crucial",
          "Kingston", "Garmin", "Fujifilm", "Sennheiser", "Anker", "Belkin", "Xiaomi"]
FAMILIES = ["Wireless Mouse", "Mechanical Keyboard", "Noise Cancelling Headphones", "Bluetooth Speaker", "4K Smart TV",
            "Mirrorless Camera", "Portable SSD", "WiFi 6 Router", "Gaming Monitor", "Smartwatch", "Soundbar",
            "Action Camera", "Laptop", "Tablet", "Webcam", "Power Bank", "USB-C Charger", "NVMe SSD", "Drone",
            "Earbuds"]
COLOURS = ["Black", "White", "Silver", "Blue", "Graphite", "Red", ""]
SPECS = ['55"', "1TB", "2TB", "128GB", "256GB", "65W", "27 in", "", "", ""]
DAY1, DAY2 = dt.date(2026, 5, 1), dt.date(2026, 5, 2)


def _gtin(rng: random.Random) -> str:
    body = "0" + "".join(rng.choice("0123456789") for _ in range(10))
    return next(body + d for d in "0123456789" if gtin_check_digit_ok(body + d))


def _product(rng: random.Random, n: int) -> dict[str, str]:
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(2, 3)))
    code = f"{letters}{n:05d}{rng.choice('ABCDEFGHJK')}"
    return {"brand": rng.choice(BRANDS), "family": rng.choice(FAMILIES), "model": f"{letters[:2]}{n % 997}",
            "code": code, "colour": rng.choice(COLOURS), "spec": rng.choice(SPECS), "gtin": _gtin(rng)}


def _title(p: dict[str, str], shop: int) -> tuple[str, dict[str, str]]:
    dashed = f"{p['code'][:2]}-{p['code'][2:]}"
    styles = [
        (f"{p['brand']} {p['family']} {p['model']} {p['spec']} {p['colour']} - {p['code']}", {}),
        (f"{p['brand']} {dashed} {p['family']} {p['spec']}", {}),
        (f"{p['family']} {p['model']} {p['spec']} {p['colour']}", {}),
        (f"{p['brand']} {p['family']} {p['model']} {p['spec']} {p['code']}AA", {}),
        (f"{p['brand']} {p['family']} {p['model']} {p['colour']}", {"gtin": p["gtin"]}),
    ]
    title, attributes = styles[shop]
    return " ".join(title.split()), attributes


def _seed(url: str, products: list[dict[str, str]], offers: list[tuple[int, int]], day: dt.date,
          first_id: int) -> None:
    engine = engine_for(url)
    with engine.begin() as conn:
        for shop in range(5):
            conn.execute(text("INSERT INTO vendors (name, display_name, base_url, currency) VALUES (:n, :n, "
                              "'http://127.0.0.1', 'USD') ON CONFLICT (name) DO NOTHING"), {"n": f"shop{shop}"})
        vendor_ids = {r.name: r.id for r in conn.execute(text("SELECT id, name FROM vendors"))}
        raw = conn.connection.driver_connection
        seen = dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)
        with raw.cursor() as cursor:
            with cursor.copy("COPY listings (id, vendor_id, external_id, title, price, currency, first_seen_at, "
                             "last_seen_at) FROM STDIN") as copy:
                for i, (p, shop) in enumerate(offers):
                    title, _ = _title(products[p], shop)
                    copy.write_row((first_id + i, vendor_ids[f"shop{shop}"], f"{p}-{shop}", title, 100, "USD",
                                    seen, seen))
            with cursor.copy("COPY listing_attributes (listing_id, key, value) FROM STDIN") as copy:
                for i, (p, shop) in enumerate(offers):
                    for key, value in _title(products[p], shop)[1].items():
                        copy.write_row((first_id + i, key, value))
        _sightings(conn, day, f"id >= {first_id}")
        conn.execute(text("SELECT setval(pg_get_serial_sequence('listings', 'id'), (SELECT max(id) FROM listings))"))


def _sightings(conn, day: dt.date, where: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text(
        "INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind, "
        f"is_sold, title) SELECT id, vendor_id, :d, :s, price, currency, 'priced', false, title FROM listings "
        f"WHERE {where}"), {"d": day, "s": dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)})


def _cpu_seconds(database: str) -> float:
    """CPU spent so far by this process, its finished children (feature workers) and the
    PostgreSQL backends serving the bench database: what the work costs, whatever else runs."""
    import resource

    import psutil

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(database in part for part in process.info["cmdline"] or []):
                times = process.cpu_times()
                total += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def _match(url: str, day: dt.date) -> tuple[float, float, object]:
    rules = load_rules()
    database = url.rsplit("/", 1)[-1]
    with engine_for(url).connect() as warm:  # the pooled connection the run will use: its backend is counted
        warm.exec_driver_sql("SELECT 1")
    cpu, started = _cpu_seconds(database), time.perf_counter()
    with engine_for(url).begin() as conn:
        summary = match_products(conn, Window(day, day + dt.timedelta(days=1)), rules)
    return time.perf_counter() - started, _cpu_seconds(database) - cpu, summary


def _brute_force_seconds(url: str, new_titles: list[ListingText], sample: int = 20) -> float:
    """The increment's listings compared with every product (no blocking): a sample, scaled."""
    rules = load_rules()
    with engine_for(url).connect() as conn:
        rows = conn.execute(text("SELECT product_key, attributes -> 'anchor' AS anchor FROM products")).all()
    started = time.perf_counter()
    catalogue = [Product(key=r.product_key, anchor=features(_anchor_text(r.anchor), rules)) for r in rows]
    load = time.perf_counter() - started
    started = time.perf_counter()
    for listing in new_titles[:sample]:
        f = features(listing, rules)
        for product in catalogue:
            compare(f, product, rules)
    per_listing = (time.perf_counter() - started) / sample
    return load + per_listing * len(new_titles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(11)
    products: list[dict[str, str]] = []
    offers: list[tuple[int, int]] = []
    while len(offers) < args.listings:
        products.append(_product(rng, len(products)))
        offers += [(len(products) - 1, s) for s in rng.sample(range(5), rng.randint(2, 4))]
    offers = offers[: args.listings]
    n_products = len(products)
    products += [_product(rng, n_products + i) for i in range(args.new)]
    taken = set(offers)
    new: list[tuple[int, int]] = []
    while len(new) < args.new // 2:  # new offers of known products
        candidate = (rng.randrange(n_products), rng.randrange(5))
        if candidate not in taken:
            taken.add(candidate)
            new.append(candidate)
    new += [(n_products + i, rng.randrange(5)) for i in range(args.new - len(new))]  # new products

    with bench_database("mp_bench_identity") as url:
        _seed(url, products, offers, DAY1, 1)
        first, first_cpu, s1 = _match(url, DAY1)
        with engine_for(url).begin() as conn:
            _sightings(conn, DAY2, "true")
        _seed(url, products, new, DAY2, args.listings + 1)
        increment, increment_cpu, s2 = _match(url, DAY2)
        baseline = _brute_force_seconds(url, [ListingText(_title(products[p], s)[0], f"shop{s}")
                                              for p, s in new])
    print(f"product matching, {args.listings:,} listings in 5 shops ({n_products:,} products), x86_64, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  first match (day 1, all new)                {first:7.2f} s wall, {first_cpu:7.2f} s CPU  "
          f"({s1.listings:,} matched, "
          f"{s1.products_total:,} products, {s1.cross_vendor_products:,} in 2+ shops)  target < 60 s")
    print(f"    {s1.seconds}")
    print(f"  a day's increment ({args.new:,} new of {s2.listings_in_window:,} seen)  {increment:7.2f} s wall, "
          f"{increment_cpu:6.2f} s CPU  "
          f"({s2.listings:,} matched, {s2.products_new:,} new products)  target < 5 s")
    print(f"    {s2.seconds}")
    print(f"  baseline: the same new listings against every product (no blocking)  {baseline:7.2f} s  "
          f"-> blocking is {baseline / increment:.0f}x faster; increment / first match = {increment / first:.3f}")


if __name__ == "__main__":
    main()
