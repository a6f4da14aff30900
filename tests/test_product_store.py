"""Product matching on a real warehouse: a day matched, the next day's new listings matched
incrementally against the catalogue, people's decisions (through the CLI) surviving re-matching,
and a rules change re-matching what it touches."""

from __future__ import annotations

import copy
import datetime as dt

import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from pipelines.products.identity import DEFAULT_RULES_PATH, compile_rules, load_rules
from pipelines.products.store import match_products
from pipelines.shared.warehouse import Warehouse
from pipelines.shared.windows import Window

DAY1, DAY2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
GTIN = "0013803357905"


def _window(day: dt.date) -> Window:
    return Window(day, day + dt.timedelta(days=1))


def add(conn, vendor: str, external_id: str, title: str, days: list[dt.date], **attributes: str) -> int:  # type: ignore[no-untyped-def]
    vendor_id = conn.execute(text(
        "INSERT INTO vendors (name, display_name, base_url, currency) VALUES (:n, :n, 'http://127.0.0.1', 'USD') "
        "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id"), {"n": vendor}).scalar_one()
    seen = dt.datetime.combine(days[0], dt.time(6), tzinfo=dt.UTC)
    listing_id = conn.execute(text(
        "INSERT INTO listings (vendor_id, external_id, title, price, currency, first_seen_at, last_seen_at) "
        "VALUES (:v, :e, :t, 100, 'USD', :s, :s) RETURNING id"),
        {"v": vendor_id, "e": external_id, "t": title, "s": seen}).scalar_one()
    for day in days:
        conn.execute(text(
            "INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, "
            "price_kind, is_sold, title) VALUES (:l, :v, :d, :s, 100, 'USD', 'priced', false, :t)"),
            {"l": listing_id, "v": vendor_id, "d": day, "s": dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC),
             "t": title})
    for key, value in attributes.items():
        conn.execute(text("INSERT INTO listing_attributes (listing_id, key, value) VALUES (:l, :k, :v)"),
                     {"l": listing_id, "k": key, "v": value})
    return listing_id


def products_of(warehouse: Warehouse, *ids: int) -> list[tuple[int, str | None, float | None]]:
    with warehouse.connect() as conn:
        rows = {r.id: (r.product_id, r.match_method, r.match_score) for r in conn.execute(text(
            "SELECT id, product_id, match_method, match_score FROM listings WHERE id = ANY(:ids)"), {"ids": list(ids)})}
    return [rows[i] for i in ids]


def test_matching_is_incremental_and_decisions_survive_rematching(warehouse: Warehouse, database_url: str) -> None:
    rules = load_rules()
    with warehouse.begin() as conn:
        body = add(conn, "shop_a", "a1", "Canon EOS R8 Body 5803C002", [DAY1, DAY2], gtin=GTIN)
        kit = add(conn, "shop_b", "b1", "Canon EOS R8 Mirrorless Camera (Body Only) - 5803C002AA", [DAY1, DAY2])
        case = add(conn, "shop_b", "b2", "Leather Half Case for Canon EOS R8 Black", [DAY1])
        phones = add(conn, "shop_a", "a2", "Sony WH-1000XM5 Wireless Headphones Black - WH1000XM5/B", [DAY1],
                     mpn="WH1000XM5/B")
        first = match_products(conn, _window(DAY1), rules)
    assert (first.listings, first.listings_in_window, first.cross_vendor_products) == (4, 4, 1)
    (p_body, m_body, _), (p_kit, m_kit, s_kit), (p_case, _, _), (p_phones, _, _) = products_of(
        warehouse, body, kit, case, phones)
    assert p_body == p_kit and (m_body, m_kit, s_kit) == ("new", "mpn", 0.96)
    assert len({p_body, p_case, p_phones}) == 3  # the case for the camera is not the camera
    with warehouse.connect() as conn:
        keys = set(conn.execute(text("SELECT key FROM product_keys WHERE product_id = :p"), {"p": p_body}).scalars())
    assert {"g:00013803357905", "c:5803C002"} <= keys

    # the next day: yesterday's listings are seen again, one shop adds the camera with only a GTIN
    with warehouse.begin() as conn:
        newcomer = add(conn, "shop_c", "c1", "EOS R8 Mirrorless Camera Body", [DAY2], gtin=GTIN[1:])
        second = match_products(conn, _window(DAY2), rules)
    assert second.listings == 1 and second.listings_in_window == 3  # only the new listing is matched
    assert products_of(warehouse, newcomer)[0] == (p_body, "gtin", 1.0)

    # people correct it: the case is (wrongly, on purpose) merged, the kit listing split off
    runner = CliRunner()
    merged = runner.invoke(app, ["products", "merge", str(p_body), str(p_case), "--note", "test",
                                 "--database-url", database_url])
    assert merged.exit_code == 0, merged.output
    split = runner.invoke(app, ["products", "split", str(kit), "--database-url", database_url])
    assert split.exit_code == 0, split.output
    with warehouse.begin() as conn:
        again = match_products(conn, Window(DAY1, DAY2 + dt.timedelta(days=1)), rules, rematch_all=True)
    assert again.by_decision == 4  # body, case, newcomer (merged) and the split listing
    (pb, mb, _), (pk, _, _), (pc, mc, _) = products_of(warehouse, body, kit, case)
    assert pb == pc and mb == mc == "manual" and pk != pb
    shown = runner.invoke(app, ["products", "show", str(pb), "--database-url", database_url])
    assert shown.exit_code == 0 and "manual" in shown.output and "Leather Half Case" in shown.output
    missing = runner.invoke(app, ["products", "merge", "no-such-product", str(pb), "--database-url", database_url])
    assert missing.exit_code == 1 and "no product 'no-such-product'" in missing.output

    # new rules: every listing matched under the old ones is matched again
    raw = copy.deepcopy(yaml.safe_load(DEFAULT_RULES_PATH.read_text()))
    raw["matching"]["title_threshold"] = 0.9
    changed = compile_rules(raw)
    assert changed.version != rules.version
    with warehouse.begin() as conn:
        rematched = match_products(conn, _window(DAY1), changed)
        stale = conn.execute(text("SELECT count(*) FROM products WHERE attributes ->> 'rules' = :v "
                                  "AND attributes ? 'anchor'"), {"v": rules.version}).scalar_one()
    assert rematched.listings == 4 and stale == 0
    assert products_of(warehouse, phones)[0][0] == p_phones  # found again through its blocking keys
