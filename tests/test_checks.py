"""Asset checks: the audits of a staged listings partition, a failed audit keeping the rollups
waiting until a fixed re-run publishes, the vendor freshness check, and the snapshot checks."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    Definitions,
    define_asset_job,
    evaluate_automation_conditions,
    materialize,
)
from sqlalchemy import text

from infra.settings import PROJECT_ROOT
from pipelines.alerts.admin import AdminTargets
from pipelines.alerts.notifier import Notifier
from pipelines.definitions import ROLLUPS as ROLLUP_ASSETS
from pipelines.listings import audits
from pipelines.listings.assets import build_listings
from pipelines.listings.checks import vendor_data_fresh
from pipelines.listings.parse import ParsedPartition, SearchParse
from pipelines.listings.records import StagedItem, StagedPosition
from pipelines.listings.store import recent_facts, stage_listings_partition, staged_facts
from pipelines.prices.assets import price_snapshots
from pipelines.prices.checks import price_snapshots_band_ordered, price_snapshots_samples_positive
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.resources import VendorRegistry
from tests.support.market_data import seed_market
from tests.support.pipeline import ScrapingPipeline, failure_message
from tests.support.vendor_files import vendor_dir

DAY = dt.date(2025, 3, 1)
REGISTRY = VendorRegistry(directory=str(PROJECT_ROOT / "vendors"), demo_url="http://127.0.0.1:9")
PARTITIONS = REGISTRY.partitions()
LISTINGS = build_listings(PARTITIONS)
TOKO = REGISTRY.get("toko")


def _vendor(conn, name: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(text("SELECT id FROM vendors WHERE name = :n"), {"n": name}).scalar_one()


def _resources(warehouse: Warehouse) -> dict:  # type: ignore[type-arg]
    return {"warehouse": warehouse, "vendor_registry": REGISTRY, "admin_targets": AdminTargets(),
            "notifier": Notifier()}


def _item(external_id: str, price: str | None, currency: str = "IDR", kind: str = "priced") -> StagedItem:
    return StagedItem(external_id=external_id, title=f"Item {external_id}",
                      price=None if price is None else Decimal(price), currency=currency, price_kind=kind,
                      seen_at=dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC), location="Jakarta",
                      url=f"http://127.0.0.1/toko/{external_id}")


def _audit_staged(warehouse: Warehouse, items: list[StagedItem], search: SearchParse) -> dict[str, audits.Verdict]:
    """Stage ``items`` as toko's partition on a real server and audit them (nothing is published);
    ``search`` says how its page parsed (elements seen, skipped ones by field)."""
    with warehouse.begin() as conn:
        vendor_id = _vendor(conn, "toko")
        positions = [StagedPosition(search.search_id, item.external_id, n, 1) for n, item in enumerate(items, 1)]
        stage_listings_partition(conn, vendor_id=vendor_id, items=items, positions=positions)
        skipped = [{"search_id": search.search_id, "query": search.query, "page": 1, "position": 0,
                    "external_id": None, "field": name, "reason": f"{name}: missing"}
                   for name, count in search.failures.items() for _ in range(count)]
        parsed = ParsedPartition(items=items, positions=positions, items_seen=search.nodes, pages_parsed=1,
                                 item_failures=skipped, searches={search.search_id: search})
        verdicts = audits.audit_partition(TOKO, parsed, staged_facts(conn),
                                          recent_facts(conn, vendor_id=vendor_id, partition_date=DAY, days=7))
        conn.rollback()
    return {v.check: v for v in verdicts}


@pytest.fixture
def market(fresh_database: str) -> Warehouse:
    warehouse = Warehouse(database_url=fresh_database)
    with warehouse.begin() as conn:
        seed_market(conn, [DAY - dt.timedelta(days=n) for n in range(4, 0, -1)])
    return warehouse


def test_the_audits_read_the_staged_rows(market: Warehouse) -> None:
    """Prices, currencies and parse failures are judged on what is about to be published."""
    good = [_item(f"T{n}", f"{n}000") for n in range(12)]
    clean = _audit_staged(market, good, SearchParse(1, "iphone", pages=1, nodes=12, listings=12))
    assert all(v.passed for v in clean.values()), [v.message for v in clean.values() if not v.passed]

    broken = [*good[:9], _item("T-neg", "-5"), _item("T-none", None), _item("T-xqq", "7", currency="XQQ")]
    verdicts = _audit_staged(market, broken, SearchParse(1, "iphone", pages=1, nodes=12, listings=12))
    assert not verdicts[audits.PRICES].passed and verdicts[audits.PRICES].blocking
    assert verdicts[audits.PRICES].metadata["negative_prices"] == 1
    assert verdicts[audits.PRICES].metadata["priced_without_price"] == 1
    assert verdicts[audits.PRICES].metadata["examples"] == "T-neg, T-none"
    assert not verdicts[audits.CURRENCIES].passed and verdicts[audits.CURRENCIES].metadata["unknown"] == "XQQ"
    assert verdicts[audits.PARSE_FAILURES].passed
    with market.connect() as conn:  # staging never publishes: nothing of these items reached the warehouse
        assert conn.execute(text("SELECT count(*) FROM listings WHERE external_id LIKE 'T%'")).scalar_one() == 0

    failing = SearchParse(1, "iphone", pages=1, nodes=20, listings=12, failures=Counter({"title": 8}))
    parse = _audit_staged(market, good, failing)[audits.PARSE_FAILURES]
    assert not parse.passed and parse.metadata["parse_failure_rate"] == 0.4
    assert "mostly title" in parse.message and "(extract.fields.title)" in parse.message


def test_a_failed_audit_keeps_the_rollups_waiting_until_a_fixed_run_publishes(
        fresh_database: str, dagster_instance, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from demo.server import running_demo

    shops = ["cardvault", "chapin"]
    broken = {"chapin": {"extract": {"items": {"json": "results[?kind == 'offer']"}}}}  # matches nothing
    with running_demo() as demo:
        good = ScrapingPipeline(fresh_database, demo, vendors_dir=str(vendor_dir(tmp_path / "good", only=shops)),
                                instance=dagster_instance)
        bad = ScrapingPipeline(fresh_database, demo, instance=dagster_instance,
                               vendors_dir=str(vendor_dir(tmp_path / "bad", broken, only=shops)))
        assert good.sync_vendors().success
        defs = Definitions(assets=[good.listings, *ROLLUP_ASSETS], resources=good.resources)
        noon = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
        rollup_keys = [a.key for a in ROLLUP_ASSETS]

        def tick(at: dt.datetime, cursor=None):  # type: ignore[no-untyped-def]
            result = evaluate_automation_conditions(defs=defs, instance=dagster_instance, evaluation_time=at,
                                                    cursor=cursor)
            return result, {k.to_user_string(): result.get_num_requested(k) for k in rollup_keys}

        first, _ = tick(noon - dt.timedelta(minutes=10))  # the automation sensor was already running
        assert good.run(DAY, "cardvault").success
        blocked_run = bad.run(DAY, "chapin")
        assert not blocked_run.success and "layout changed" in failure_message(blocked_run)

        blocked, requested = tick(noon, first.cursor)
        assert requested == dict.fromkeys(requested, 0), "chapin's failed audit must hold every rollup of the day"

        fixed = good.run(DAY, "chapin")  # the vendor file fixed: the same partition publishes
        assert fixed.success, failure_message(fixed)
        _, requested = tick(noon + dt.timedelta(minutes=1), blocked.cursor)
        assert requested == dict.fromkeys(requested, 1), "with every audit passing, each rollup runs for the day"


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
