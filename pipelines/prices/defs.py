"""What prices adds to the code location: product matches and daily price snapshots, with checks."""

from dagster import Definitions

from pipelines.prices.assets import price_snapshots, product_matches
from pipelines.prices.checks import price_snapshots_band_ordered, price_snapshots_samples_positive

ROLLUPS = [product_matches, price_snapshots]
defs = Definitions(
    assets=ROLLUPS,
    asset_checks=[price_snapshots_band_ordered, price_snapshots_samples_positive],
)
