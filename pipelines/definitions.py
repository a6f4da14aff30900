"""The Market Pulse code location: every domain's definitions, merged.

Loaded lazily (``@definitions``): importing this module reads nothing; Dagster calls
:func:`defs` when it loads the code location, which is when the vendor files are read (their
names are the vendor dimension of the scraping partitions, their crons the schedules).
"""

import os

from dagster import AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus, Definitions, EnvVar
from dagster import definitions as lazy_definitions

from infra.settings import Settings, load_settings
from pipelines.alerts import defs as alerts
from pipelines.analytics import defs as analytics
from pipelines.listings import defs as listings
from pipelines.listings.checks import vendor_data_fresh
from pipelines.prices import defs as prices
from pipelines.products import defs as products
from pipelines.scraping import defs as scraping
from pipelines.shared.execution import build_executor
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors import defs as vendors
from pipelines.vendors.assets import vendor_files_valid
from pipelines.vendors.resources import VendorRegistry

ROLLUPS = [*products.ROLLUPS, *prices.ROLLUPS, *analytics.ROLLUPS]
"""The day-partitioned rollups downstream of ``listings``, kept in step by declarative automation."""


def rollup_automation_sensor() -> AutomationConditionSensorDefinition:
    """Evaluates the rollups' automation conditions (and the crons of the vendor freshness and
    vendor files checks)."""
    return AutomationConditionSensorDefinition(
        "rollup_automation",
        target=AssetSelection.assets(*ROLLUPS) | AssetSelection.checks(vendor_data_fresh, vendor_files_valid),
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=60,
        description="Keeps the daily rollups (product matches, price snapshots, vendor performance, search "
        "analytics, API usage) in step with listings, runs the vendor freshness check every 6 hours and the vendor "
        "files check every hour.",
    )


def build_definitions(settings: Settings) -> Definitions:
    registry = VendorRegistry(directory=str(settings.vendors_dir), demo_url=settings.demo_url)
    vendor_files = registry.load()
    partitions = registry.partitions(vendor_files)
    return Definitions.merge(
        vendors.build_defs(registry),
        scraping.build_defs(vendor_files, partitions, settings.execution.vendor_lock_wait_seconds),
        listings.build_defs(partitions),
        products.defs,
        prices.defs,
        analytics.defs,
        alerts.build_defs(settings.alerts),
        Definitions(
            sensors=[rollup_automation_sensor()],
            resources={"warehouse": Warehouse(database_url=EnvVar("MARKET_PULSE_DATABASE_URL"))
                       if os.environ.get("MARKET_PULSE_DATABASE_URL") else Warehouse()},
            # MARKET_PULSE_EXECUTOR: multiprocess (default), in_process, or celery (steps on workers)
            executor=build_executor(settings.execution),
        ),
    )


@lazy_definitions
def defs() -> Definitions:
    return build_definitions(load_settings())
