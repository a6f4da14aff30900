"""What product identity, price snapshots and the analytics rollups add to the code location
(merged in ``pipelines/definitions.py``)."""

from dataclasses import dataclass

from dagster import (
    AssetChecksDefinition,
    AssetsDefinition,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
)

from pipelines.analytics.assets import search_analytics, vendor_performance
from pipelines.listings.checks import build_listings_checks, vendor_data_fresh
from pipelines.prices.assets import price_snapshots
from pipelines.prices.checks import price_snapshots_band_ordered, price_snapshots_samples_positive
from pipelines.products.assets import product_matches

ROLLUP_ASSETS: list[AssetsDefinition] = [product_matches, price_snapshots, vendor_performance, search_analytics]


@dataclass(frozen=True)
class AnalyticsDefs:
    assets: list[AssetsDefinition]
    checks: list[AssetChecksDefinition]
    sensors: list[AutomationConditionSensorDefinition]


def build_analytics_defs(scrape_partitions) -> AnalyticsDefs:  # type: ignore[no-untyped-def]
    """The rollups, the checks on listings (for the day-by-vendor partitions) and on snapshots,
    and the sensor that evaluates their automation conditions (on by default)."""
    checks = [*build_listings_checks(scrape_partitions), vendor_data_fresh,
              price_snapshots_band_ordered, price_snapshots_samples_positive]
    sensor = AutomationConditionSensorDefinition(
        "rollup_automation",
        target=AssetSelection.assets(*ROLLUP_ASSETS) | AssetSelection.checks(vendor_data_fresh),
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=60,
        description="Keeps the daily rollups (product matches, price snapshots, vendor performance, search "
        "analytics) in step with listings, and runs the vendor freshness check every 6 hours.",
    )
    return AnalyticsDefs(assets=list(ROLLUP_ASSETS), checks=checks, sensors=[sensor])
