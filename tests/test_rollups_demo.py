"""End to end on the demo marketplace: scrape a day of three shops (listings audited before they
are published, in the same runs), then match products and roll the day up. Product matching is
scored against the demo's ground truth for exactly the listings that were scraped."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from dagster import materialize
from sqlalchemy import text

from demo.catalogue import get_catalogue
from pipelines.definitions import ROLLUPS as ROLLUP_ASSETS
from pipelines.listings.checks import AUDITS
from tests.support.pipeline import ScrapingPipeline, failure_message

DAY = dt.date(2025, 6, 1)
VENDORS = ("toko", "chapin", "cardvault")  # HTTP shops (mercado needs Chromium; fynda adds nothing here)

pytestmark = pytest.mark.slow


def test_a_scraped_day_is_matched_and_rolled_up(database_url: str, dagster_instance) -> None:  # type: ignore[no-untyped-def]
    from demo.server import running_demo

    with running_demo() as demo_url:
        pipeline = ScrapingPipeline(database_url, demo_url, instance=dagster_instance)
        assert pipeline.sync_vendors().success
        for vendor in VENDORS:
            result = pipeline.run(DAY, vendor)
            assert result.success, failure_message(result)
            assert {e.check_name for e in result.get_asset_check_evaluations() if e.passed} == set(AUDITS)

    rollups = materialize(ROLLUP_ASSETS, partition_key=str(DAY), resources={"warehouse": pipeline.warehouse},
                          instance=dagster_instance)
    assert rollups.success

    with pipeline.warehouse.connect() as conn:
        rows = conn.execute(text("SELECT v.name AS vendor, l.external_id, l.product_id FROM listings l "
                                 "JOIN vendors v ON v.id = l.vendor_id")).all()
        snapshots = conn.execute(text("SELECT count(*), count(DISTINCT currency) FROM price_snapshots "
                                      "WHERE snapshot_date = :d"), {"d": DAY}).one()
        performance = conn.execute(text("SELECT count(*), min(total_searches), min(success_rate) "
                                        "FROM vendor_performance WHERE date = :d"), {"d": DAY}).one()
        queries = conn.execute(text("SELECT count(*) FROM search_query_stats WHERE stats_date = :d"),
                               {"d": DAY}).scalar_one()
    assert rows and all(r.product_id is not None for r in rows)
    assert snapshots[0] > 50 and snapshots[1] == 3  # IDR, GTQ, USD: one snapshot per currency
    assert performance == (3, 3, 1)
    assert queries == 7  # iphone, samsung galaxy, playstation, nintendo switch, pikachu, charizard, base set

    # matching against the truth: listings of one true product (colour aside, refurbished units
    # apart: they are another product with their own price) share one product row
    catalogue = get_catalogue()
    truth: dict[tuple[str, str], str] = {}
    for r in rows:
        state = catalogue.get(r.vendor, r.external_id, DAY)
        assert state is not None
        product = state.listing.product
        refurbished = "~refurbished" if state.listing.condition.lower().startswith("reacond") else ""
        truth[(r.vendor, r.external_id)] = (product.key.removesuffix(
            "-" + "-".join(product.color.lower().replace("/", " ").split())) if product.color else product.key) \
            + refurbished
    by_truth: dict[str, Counter[int]] = defaultdict(Counter)
    for r in rows:
        by_truth[truth[(r.vendor, r.external_id)]][r.product_id] += 1
    matched = sum(c.most_common(1)[0][1] for c in by_truth.values()) / len(rows)
    assert matched >= 0.99
    vendors_by_product = defaultdict(set)
    for r in rows:
        vendors_by_product[r.product_id].add(r.vendor)
    assert sum(1 for v in vendors_by_product.values() if len(v) > 1) >= 20  # products compared across shops
    metadata = {k: v.value for k, v in rollups.asset_materializations_for_node("product_matches")[0].metadata.items()}
    assert metadata["dagster/row_count"] == len(rows) and metadata["cross_vendor_products"] >= 20
