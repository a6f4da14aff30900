"""The scraping pipeline end to end through Dagster: demo marketplace → raw_captures → listings.

Ground truth comes from the demo's own catalogue (``demo.catalogue``): what a correct scraper
must find on each day, with the exact prices the shops rendered.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text

from demo.catalogue import get_catalogue
from demo.server import running_demo
from demo.shops import TRACKED_QUERIES
from infra.settings import PROJECT_ROOT
from pipelines.parsing.text import clean_text
from tests.support.pipeline import ScrapingPipeline, failure_message, metadata

DAY1 = dt.date(2026, 10, 1)
DAYS = [DAY1 + dt.timedelta(days=i) for i in range(4)]
COUNTED_TABLES = ("searches", "raw_captures", "capture_bodies", "search_events", "search_results", "listings",
                  "listing_sightings", "listing_attributes", "listing_images", "price_observations")


def truth(shop: str, day: dt.date) -> dict[str, object]:
    """Every listing the tracked queries of ``shop`` show on ``day``, by id."""
    catalogue = get_catalogue(42)
    found = {}
    for query in TRACKED_QUERIES[shop]:
        for state in catalogue.search(shop, query, day):
            found.setdefault(state.id, state)
    return found


def counts(pipeline: ScrapingPipeline) -> dict[str, int]:
    with pipeline.warehouse.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED_TABLES}


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as url:
        yield url


@pytest.fixture(scope="module")
def pipeline(database_url: str, demo_url: str) -> ScrapingPipeline:
    pipeline = ScrapingPipeline(database_url, demo_url)
    assert pipeline.sync_vendors().success
    return pipeline


@pytest.mark.parametrize("shop", [
    "toko", "chapin", "cardvault", "fynda", pytest.param("mercado", marks=pytest.mark.browser)])
def test_each_shop_kind_yields_exactly_the_demo_listings(pipeline: ScrapingPipeline, shop: str) -> None:
    """HTML with page numbers, JSON with a cursor, HTML with next links, JSON inside the page
    (Next.js), JS in a real browser."""
    result = pipeline.run(DAY1, shop)
    assert result.success, failure_message(result)
    expected = truth(shop, DAY1)
    captured = metadata(result, "raw_captures")
    assert captured["searches_by_status"] == {"success": 3, "partial": 0, "failed": 0}
    listed = metadata(result, "listings")
    assert listed["parse_failures"] == 0 and listed["listings_seen"] == len(expected)

    with pipeline.warehouse.connect() as conn:
        rows = conn.execute(text("""
            SELECT l.external_id, l.price, l.currency, l.price_kind, l.is_sold, l.title, l.url,
                   (SELECT count(*) FROM listing_images i WHERE i.listing_id = l.id) AS images
            FROM listings l JOIN vendors v ON v.id = l.vendor_id WHERE v.name = :shop
        """), {"shop": shop}).all()
    assert {r.external_id for r in rows} == set(expected)
    for row in rows:
        state = expected[row.external_id]
        assert row.price == state.price, (row.external_id, state.price_text)  # every price format, exactly
        assert row.currency == state.currency
        assert row.is_sold == state.sold
        assert row.price_kind == {"amount": "priced", "free": "free", "contact": "on_request"}.get(
            state.listing.price_kind, row.price_kind)
        assert row.url and row.url.startswith("http://127.0.0.1:")
        assert row.images == len(state.listing.images)
    kinds = {r.price_kind for r in rows}
    assert "priced" in kinds


FYNDA_CONDITIONS = {"Ny": "new", "Som ny": "like_new", "Begagnad": "used", "Renoverad": "refurbished",
                    "Reservdelar": "for_parts"}


def _stored_listings(pipeline: ScrapingPipeline, vendor: str) -> dict[str, dict[str, object]]:
    """Every stored field of ``vendor``'s listings, images and attributes in their stored order."""
    with pipeline.warehouse.connect() as conn:
        rows = conn.execute(text("""
            SELECT l.external_id, l.title, l.price, l.currency, l.price_kind, l.is_sold, l.url, l.condition,
                   l.location, l.seller, l.product_code, l.metadata,
                   (SELECT coalesce(array_agg(i.url ORDER BY i.position), '{}') FROM listing_images i
                    WHERE i.listing_id = l.id) AS images,
                   (SELECT coalesce(jsonb_object_agg(a.key, a.value), '{}'::jsonb) FROM listing_attributes a
                    WHERE a.listing_id = l.id) AS attributes
            FROM listings l JOIN vendors v ON v.id = l.vendor_id WHERE v.name = :vendor
        """), {"vendor": vendor}).mappings().all()
    return {r["external_id"]: dict(r) for r in rows}


def _expected_fields(state: object, demo_url: str, condition: str | None) -> dict[str, object]:
    listing = state.listing  # type: ignore[attr-defined]
    return {
        "title": clean_text(listing.title), "price": state.price, "currency": state.currency,  # type: ignore[attr-defined]
        "price_kind": {"amount": "priced", "free": "free", "contact": "on_request"}[listing.price_kind],
        "is_sold": state.sold, "condition": condition, "location": listing.location,  # type: ignore[attr-defined]
        "seller": listing.seller, "product_code": listing.gtin,
        "url": f"{demo_url}/{listing.shop}/annons/{listing.id}",
        "images": [f"{demo_url}{path}" for path in listing.images],
        "attributes": dict(listing.attributes),
    }


def test_next_data_shop_every_field_exact(pipeline: ScrapingPipeline, demo_url: str) -> None:
    """fynda serves its results only as __NEXT_DATA__ JSON (prices in öre, a hasNextPage flag):
    read from YAML alone, every field of every listing is the demo's, and no page past the last
    one is requested (its robots.txt disallows the API, which is never asked)."""
    httpx.post(f"{demo_url}/_stats/reset")
    result = pipeline.run(DAY1, "fynda")
    assert result.success, failure_message(result)
    stats = httpx.get(f"{demo_url}/_stats").json()["shops"]["fynda"]
    expected_pages = sum(-(-len(get_catalogue(42).search("fynda", q, DAY1)) // 24) for q in TRACKED_QUERIES["fynda"])
    assert stats == {"search": expected_pages}
    assert metadata(result, "listings")["unmapped_conditions"] == {}
    stored = _stored_listings(pipeline, "fynda")
    expected = truth("fynda", DAY1)
    assert set(stored) == set(expected)
    kinds = set()
    for external_id, state in expected.items():
        row = stored[external_id]
        want = _expected_fields(state, demo_url, FYNDA_CONDITIONS[state.listing.condition])
        assert {key: row[key] for key in want} == want, external_id
        kinds.add(row["price_kind"])
    assert kinds == {"priced", "free", "on_request"}


def test_product_pages_read_from_json_ld_every_field_exact(database_url: str, demo_url: str,
                                                         tmp_path: Path) -> None:
    """vendors/examples/fynda-annons.yaml: one product page per query, read from its JSON-LD."""
    catalogue = get_catalogue(42)
    listings = catalogue.listings("fynda", DAY1)
    picked = [next(s for s in listings if s.listing.price_kind == kind) for kind in ("amount", "free", "contact")]
    picked += [next(s for s in listings if s.sold), next(s for s in listings if s.listing.gtin)]
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    data = yaml.safe_load((PROJECT_ROOT / "vendors" / "examples" / "fynda-annons.yaml").read_text())
    data["queries"] = [s.id for s in picked]
    (vendors / "fynda-annons.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    pages = ScrapingPipeline(database_url, demo_url, vendors_dir=str(vendors))
    assert pages.sync_vendors().success
    result = pages.run(DAY1, "fynda-annons")
    assert result.success, failure_message(result)
    assert metadata(result, "listings")["parse_failures"] == 0
    stored = _stored_listings(pages, "fynda-annons")
    assert set(stored) == {s.id for s in picked}
    for state in picked:
        want = _expected_fields(state, demo_url, JSON_LD_CONDITIONS[state.listing.condition])
        assert {key: stored[state.id][key] for key in want} == want, state.id


JSON_LD_CONDITIONS = {"Ny": "new", "Som ny": "used", "Begagnad": "used", "Renoverad": "refurbished",
                      "Reservdelar": "for_parts"}  # what schema.org's itemCondition can say


def test_history_sold_removed_and_price_changes_follow_the_demo(pipeline: ScrapingPipeline) -> None:
    for day in DAYS:
        result = pipeline.run(day, "toko")
        assert result.success, failure_message(result)
    last = DAYS[-1]
    seen = {day: truth("toko", day) for day in DAYS}
    with pipeline.warehouse.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(text("""
            SELECT l.external_id, l.first_seen_at, l.last_seen_at, l.is_sold, l.is_removed, l.removed_at, l.id
            FROM listings l JOIN vendors v ON v.id = l.vendor_id WHERE v.name = 'toko'"""))}
        observations = conn.execute(text("""
            SELECT l.external_id, p.observed_date, p.price FROM price_observations p
            JOIN listings l ON l.id = p.listing_id JOIN vendors v ON v.id = l.vendor_id
            WHERE v.name = 'toko' ORDER BY p.observed_date""")).all()
    assert set(rows) == set().union(*seen.values())
    for external_id, row in rows.items():
        days_seen = [d for d in DAYS if external_id in seen[d]]
        assert row.first_seen_at.date() == days_seen[0] and row.last_seen_at.date() == days_seen[-1]
        missed = sum(1 for d in DAYS if d > days_seen[-1])
        latest = seen[days_seen[-1]][external_id]
        assert row.is_sold == latest.sold
        assert row.is_removed == (not latest.sold and missed >= 2), external_id
        if row.is_removed:
            assert row.removed_at.date() == days_seen[-1] + dt.timedelta(days=2)
    # price history: a row on the first day and on every day the demo price changed
    expected_obs = []
    for external_id in rows:
        previous: object = "none"
        for day in DAYS:
            state = seen[day].get(external_id)
            if state is not None and state.price != previous:
                expected_obs.append((external_id, day, state.price))
                previous = state.price
    assert sorted(observations, key=lambda r: (r[0], r[1])) == sorted(expected_obs, key=lambda r: (r[0], r[1]))
    assert any(r.is_removed for r in rows.values()) and any(r.is_sold for r in rows.values())
    assert len({o[0] for o in observations}) < len(observations)  # some prices moved
    assert last in {o[1] for o in observations}


def test_rerunning_a_partition_changes_nothing(pipeline: ScrapingPipeline) -> None:
    assert pipeline.run(DAYS[1], "chapin").success
    before = counts(pipeline)
    with pipeline.warehouse.connect() as conn:
        snapshot = conn.execute(text(
            "SELECT external_id, price, first_seen_at, last_seen_at, is_sold, is_removed FROM listings "
            "ORDER BY vendor_id, external_id")).all()
    again = pipeline.run(DAYS[1], "chapin")
    assert again.success
    assert counts(pipeline) == before
    with pipeline.warehouse.connect() as conn:
        assert conn.execute(text(
            "SELECT external_id, price, first_seen_at, last_seen_at, is_sold, is_removed FROM listings "
            "ORDER BY vendor_id, external_id")).all() == snapshot
    assert metadata(again, "raw_captures")["new_bodies"] == 0  # identical bodies are stored once


def test_reparse_with_the_demo_stopped_repairs_history(database_url: str, tmp_path: Path) -> None:
    """A broken extraction rule publishes nothing (its audits fail); fixed later, the day is parsed
    from the archive alone."""
    vendors = tmp_path / "vendors"
    shutil.copytree(PROJECT_ROOT / "vendors", vendors, ignore=shutil.ignore_patterns("*.md"))
    good = (vendors / "cardvault.yaml").read_text()
    broken = good.replace("price: {css: td.amount}", "price: {css: td.grade}")
    assert broken != good, "the test needs the price rule of cardvault.yaml"
    (vendors / "cardvault.yaml").write_text(broken)
    day = dt.date(2026, 9, 1)
    with running_demo() as url:
        pipeline = ScrapingPipeline(database_url, url, vendors_dir=str(vendors))
        pipeline.sync_vendors()
        result = pipeline.run(day, "cardvault")
    assert not result.success  # a third of the items unparseable: the day is not published
    assert "listing elements unparseable" in failure_message(result)
    assert "css 'td.grade' (extract.fields.price)" in failure_message(result)
    with pipeline.warehouse.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM listing_sightings WHERE partition_date = :day"),
                            {"day": day}).scalar_one() == 0

    (vendors / "cardvault.yaml").write_text(good)  # the fix; the demo server is gone now
    fixed = ScrapingPipeline(database_url, "http://127.0.0.1:9", vendors_dir=str(vendors))
    again = fixed.run(day, "cardvault", assets=[fixed.listings])
    assert again.success, failure_message(again)
    repaired = metadata(again, "listings")
    assert repaired["parse_failures"] == 0 and repaired["listings_seen"] == len(truth("cardvault", day))
    with fixed.warehouse.connect() as conn:
        reports = conn.execute(text("""
            SELECT count(*) FROM search_events e JOIN searches s ON s.id = e.search_id
            JOIN vendors v ON v.id = s.vendor_id
            WHERE v.name = 'cardvault' AND s.partition_date = :day AND e.event_type = 'parse_report'"""),
            {"day": day}).scalar_one()
    assert reports == 0  # the failed parse stored no report; the published one has no failures


def test_a_live_only_vendor_refuses_a_past_day(database_url: str, tmp_path: Path, demo_url: str) -> None:
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    live = (PROJECT_ROOT / "vendors" / "toko.yaml").read_text()
    live = live.replace("name: toko", "name: toko-live").replace("history: asof", "history: live")
    live = live.replace("&asof={asof}", "")
    (vendors / "toko-live.yaml").write_text(live)
    pipeline = ScrapingPipeline(database_url, demo_url, vendors_dir=str(vendors))
    assert pipeline.sync_vendors().success
    result = pipeline.run(dt.date(2026, 1, 5), "toko-live")
    assert not result.success
    message = failure_message(result)
    assert "live-only" in message and "2026-01-05" in message
    with pipeline.warehouse.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM searches s JOIN vendors v ON v.id = s.vendor_id "
                                 "WHERE v.name = 'toko-live'")).scalar_one() == 0


def test_a_crash_mid_partition_leaves_the_previous_state(pipeline: ScrapingPipeline,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert pipeline.run(DAYS[2], "chapin").success
    before = counts(pipeline)
    import pipelines.listings.store as store

    original = store.SQL.run

    def explode_after_merge(conn, name, params=None):  # type: ignore[no-untyped-def]
        if name == "derive_listing_state":
            raise RuntimeError("injected crash between writes")
        return original(conn, name, params)

    monkeypatch.setattr(store.SQL, "run", explode_after_merge)
    crashed = pipeline.run(DAYS[2], "chapin", assets=[pipeline.listings])
    assert not crashed.success and "injected crash" in failure_message(crashed)
    assert counts(pipeline) == before


def test_prices_are_stored_as_exact_decimals(pipeline: ScrapingPipeline) -> None:
    with pipeline.warehouse.connect() as conn:
        prices = conn.execute(text("SELECT price FROM listings WHERE price IS NOT NULL LIMIT 50")).scalars().all()
    assert prices and all(isinstance(p, Decimal) and p == p.quantize(Decimal("0.01")) for p in prices)
