"""What listings adds to the code location: the ``listings`` asset (its audits are its own check
specs) and the vendor freshness check."""

from dagster import Definitions, MultiPartitionsDefinition

from pipelines.listings.assets import build_listings
from pipelines.listings.checks import vendor_data_fresh


def build_defs(partitions: MultiPartitionsDefinition) -> Definitions:
    return Definitions(assets=[build_listings(partitions)], asset_checks=[vendor_data_fresh])
