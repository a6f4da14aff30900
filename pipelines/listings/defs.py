"""What listings adds to the code location: the ``listings`` asset and its checks."""

from dagster import Definitions, MultiPartitionsDefinition

from pipelines.listings.assets import build_listings
from pipelines.listings.checks import build_listings_checks, vendor_data_fresh


def build_defs(partitions: MultiPartitionsDefinition) -> Definitions:
    return Definitions(
        assets=[build_listings(partitions)],
        asset_checks=[*build_listings_checks(partitions), vendor_data_fresh],
    )
