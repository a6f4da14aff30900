"""What the vendors domain adds to the code location: the catalogue asset, the check that names
bad vendor files, and the vendor files themselves."""

from dagster import AssetSelection, Definitions, define_asset_job

from pipelines.vendors.assets import vendor_catalog, vendor_files_valid
from pipelines.vendors.resources import VendorRegistry

SYNC_VENDORS_JOB = define_asset_job(
    "sync_vendors", selection=AssetSelection.assets(vendor_catalog),
    description="Read vendors/*.yaml and sync the vendors table (what `market-pulse run` does first).")


def build_defs(registry: VendorRegistry) -> Definitions:
    return Definitions(assets=[vendor_catalog], asset_checks=[vendor_files_valid], jobs=[SYNC_VENDORS_JOB],
                       resources={"vendor_registry": registry})
