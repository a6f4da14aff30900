"""Asset checks: the blocking checks on listings partitions, the vendor freshness check, the
snapshot checks, and a failing blocking check keeping the rollups from materialising."""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    Definitions,
    define_asset_job,
    evaluate_automation_conditions,
    materialize,
)
from sqlalchemy import text

from infra.settings import PROJECT_ROOT
from pipelines.definitions import ROLLUPS as ROLLUP_ASSETS
from pipelines.listings.assets import build_listings
from pipelines.listings.checks import MAX_PARSE_FAILURE_RATE, build_listings_checks, vendor_data_fresh
from pipelines.prices.assets import price_snapshots
from pipelines.prices.checks import price_snapshots_band_ordered, price_snapshots_samples_positive
from pipelines.shared.partitions import day_vendor_key
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.resources import VendorRegistry
from tests.support.market_data import seed_market

DAY = dt.date(2025, 3, 1)
REGISTRY = VendorRegistry(directory=str(PROJECT_ROOT / "vendors"), demo_url="http://127.0.0.1:9")
PARTITIONS = REGISTRY.partitions()
LISTINGS = build_listings(PARTITIONS)
CHECKS = build_listings_checks(PARTITIONS)


def _vendor(conn, name: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(text("SELECT id FROM vendors WHERE name = :n"), {"n": name}).scalar_one()


@pytest.fixture
def bad_market(fresh_database: str) -> Warehouse:
    """One day of three vendors, each broken in one way: toko parses badly, chapin has a priced
    listing without a price, cardvault a listing in an unknown currency."""
    warehouse = Warehouse(database_url=fresh_database)
    with warehouse.begin() as conn:
        seed_market(conn, [DAY])
        chapin, cardvault, toko = (_vendor(conn, n) for n in ("chapin", "cardvault", "toko"))
        conn.execute(text("UPDATE listing_sightings SET price = NULL WHERE id = (SELECT min(id) FROM listing_sightings "
                          "WHERE vendor_id = :v AND price_kind = 'priced')"), {"v": chapin})
        conn.execute(text("UPDATE listing_sightings SET currency = 'XQQ' WHERE id = (SELECT min(id) "
                          "FROM listing_sightings WHERE vendor_id = :v)"), {"v": cardvault})
        conn.execute(text(
            "INSERT INTO search_events (search_id, vendor_id, event_type, data) SELECT min(id), :v, 'parse_report', "
            "CAST('{\"item_failure_count\": 40, \"page_errors\": []}' AS jsonb) FROM searches "
            "WHERE vendor_id = :v AND partition_date = :d"), {"v": toko, "d": DAY})
    return warehouse


def _resources(warehouse: Warehouse) -> dict:  # type: ignore[type-arg]
    return {"warehouse": warehouse, "vendor_registry": REGISTRY}


def run_listings_checks(warehouse: Warehouse, instance, vendor: str):  # type: ignore[no-untyped-def]
    """Run the blocking checks alone on one (day, vendor) partition, as a re-check after a fix."""
    job = define_asset_job("check_listings", selection=AssetSelection.checks(*CHECKS))
    defs = Definitions(assets=[LISTINGS], asset_checks=CHECKS, jobs=[job], resources=_resources(warehouse))
    key = day_vendor_key(DAY, vendor)
    tags = {"dagster/partition": str(key), **{f"dagster/partition/{d}": k for d, k in key.keys_by_dimension.items()}}
    result = defs.resolve_job_def("check_listings").execute_in_process(instance=instance, raise_on_error=False,
                                                                        tags=tags)
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_each_blocking_listings_check_catches_its_problem(bad_market: Warehouse, dagster_instance) -> None:  # type: ignore[no-untyped-def]
    toko = run_listings_checks(bad_market, dagster_instance, "toko")
    chapin = run_listings_checks(bad_market, dagster_instance, "chapin")
    cardvault = run_listings_checks(bad_market, dagster_instance, "cardvault")
    assert {k: e.passed for k, e in toko.items()} == {
        "listings_prices_valid": True, "listings_currencies_known": True, "listings_parse_failures_low": False}
    assert toko["listings_parse_failures_low"].metadata["parse_failure_rate"].value > MAX_PARSE_FAILURE_RATE
    assert {k: e.passed for k, e in chapin.items()} == {
        "listings_prices_valid": False, "listings_currencies_known": True, "listings_parse_failures_low": True}
    assert chapin["listings_prices_valid"].metadata["priced_without_price"].value == 1
    assert {k: e.passed for k, e in cardvault.items()} == {
        "listings_prices_valid": True, "listings_currencies_known": False, "listings_parse_failures_low": True}
    assert cardvault["listings_currencies_known"].metadata["unknown"].value == "XQQ"
    assert all(e.severity == AssetCheckSeverity.ERROR and e.blocking for e in chapin.values())


def test_a_failing_blocking_check_keeps_the_rollups_waiting(bad_market: Warehouse, dagster_instance) -> None:  # type: ignore[no-untyped-def]
    defs = Definitions(assets=[LISTINGS, *ROLLUP_ASSETS], asset_checks=CHECKS, resources=_resources(bad_market))
    noon = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
    rollup_keys = [a.key for a in ROLLUP_ASSETS]

    def tick(at: dt.datetime, cursor=None):  # type: ignore[no-untyped-def]
        result = evaluate_automation_conditions(defs=defs, instance=dagster_instance, evaluation_time=at,
                                                cursor=cursor)
        return result, {k.to_user_string(): result.get_num_requested(k) for k in rollup_keys}

    first, _ = tick(noon - dt.timedelta(minutes=10))  # the automation sensor was already running
    with bad_market.begin() as conn:  # toko's and cardvault's problems fixed; chapin's remains
        conn.execute(text("DELETE FROM search_events WHERE event_type = 'parse_report'"))
        conn.execute(text("UPDATE listing_sightings SET currency = 'USD' WHERE currency = 'XQQ'"))
    for vendor in ("toko", "chapin", "cardvault"):  # the day's listings land, each checked in its run
        dagster_instance.report_runless_asset_event(AssetMaterialization("listings",
                                                                         partition=day_vendor_key(DAY, vendor)))
        run_listings_checks(bad_market, dagster_instance, vendor)

    blocked, requested = tick(noon, first.cursor)
    assert requested == dict.fromkeys(requested, 0), "chapin's failed blocking check must hold every rollup"

    with bad_market.begin() as conn:  # the data is repaired and the partition re-checked
        conn.execute(text("UPDATE listing_sightings SET price = 1 WHERE price IS NULL AND price_kind = 'priced'"))
    assert run_listings_checks(bad_market, dagster_instance, "chapin")["listings_prices_valid"].passed

    _, requested = tick(noon + dt.timedelta(minutes=1), blocked.cursor)
    assert requested == dict.fromkeys(requested, 1), "with every check passing, each rollup runs for the day"


def test_vendor_freshness_flags_a_vendor_without_recent_data(fresh_database: str, dagster_instance) -> None:  # type: ignore[no-untyped-def]
    warehouse = Warehouse(database_url=fresh_database)
    today = dt.datetime.now(dt.UTC).date()
    with warehouse.begin() as conn:
        seed_market(conn, [today - dt.timedelta(days=1), today], listings_per_vendor=5)
        conn.execute(text("UPDATE listing_sightings SET partition_date = partition_date - 10 WHERE vendor_id = :v"),
                     {"v": _vendor(conn, "cardvault")})
    result = materialize([LISTINGS, vendor_data_fresh], selection=AssetSelection.checks(vendor_data_fresh),
                         resources=_resources(warehouse), instance=dagster_instance, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN
    # cardvault's newest day is 10 days old; fynda and mercado (in the vendor files) never had any data
    assert evaluation.metadata["stale_vendors"].value == "cardvault, fynda, mercado"


def test_snapshot_checks_catch_a_disordered_band(fresh_database: str, dagster_instance) -> None:  # type: ignore[no-untyped-def]
    warehouse = Warehouse(database_url=fresh_database)
    with warehouse.begin() as conn:
        seed_market(conn, [DAY], listings_per_vendor=20)
    checks = [price_snapshots_band_ordered, price_snapshots_samples_positive]
    result = materialize([price_snapshots, *checks], partition_key=str(DAY), resources={"warehouse": warehouse},
                         instance=dagster_instance)
    assert all(e.passed for e in result.get_asset_check_evaluations())

    with warehouse.begin() as conn:
        conn.execute(text("UPDATE price_snapshots SET fmv_low = market_value + 1 WHERE id = (SELECT min(id) "
                          "FROM price_snapshots)"))
    job = define_asset_job("check_snapshots", selection=AssetSelection.checks(*checks))
    defs = Definitions(assets=[price_snapshots], asset_checks=checks, jobs=[job], resources={"warehouse": warehouse})
    rerun = defs.resolve_job_def("check_snapshots").execute_in_process(
        instance=dagster_instance, raise_on_error=False, tags={"dagster/partition": str(DAY)})
    evaluations = {e.check_name: e for e in rerun.get_asset_check_evaluations()}
    assert not evaluations["price_snapshots_band_ordered"].passed
    assert evaluations["price_snapshots_band_ordered"].metadata["disordered"].value == 1
    assert evaluations["price_snapshots_samples_positive"].passed
    assert dagster_instance.get_latest_materialization_event(AssetKey("price_snapshots")) is not None
