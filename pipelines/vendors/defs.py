"""What the vendors domain adds to the code location: the catalogue asset and the vendor files."""

from dagster import AssetSelection, Definitions, define_asset_job

from pipelines.vendors.assets import vendor_catalog
from pipelines.vendors.resources import VendorRegistry

SYNC_VENDORS_JOB = define_asset_job(
    "sync_vendors", selection=AssetSelection.assets(vendor_catalog),
    description="Read vendors/*.yaml and sync the vendors table (what `market-pulse run` does first).")


def build_defs(registry: VendorRegistry) -> Definitions:
    return Definitions(assets=[vendor_catalog], jobs=[SYNC_VENDORS_JOB], resources={"vendor_registry": registry})
