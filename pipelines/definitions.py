"""The Market Pulse code location: every asset, check, schedule, sensor and resource."""

from __future__ import annotations

from dagster import Definitions, EnvVar

from pipelines.vendors.assets import vendor_catalog
from pipelines.vendors.resources import VendorRegistry
from resources.settings import load_settings
from resources.warehouse import Warehouse

settings = load_settings()

defs = Definitions(
    assets=[vendor_catalog],
    resources={
        "warehouse": Warehouse(database_url=EnvVar("MARKET_PULSE_DATABASE_URL")),
        "vendor_registry": VendorRegistry(directory=str(settings.vendors_dir)),
    },
)
