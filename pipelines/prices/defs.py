"""What prices adds to the code location: daily price snapshots, with their checks."""

from dagster import Definitions

from pipelines.prices.assets import price_snapshots
from pipelines.prices.checks import price_snapshots_band_ordered, price_snapshots_samples_positive

ROLLUPS = [price_snapshots]
defs = Definitions(
    assets=ROLLUPS,
    asset_checks=[price_snapshots_band_ordered, price_snapshots_samples_positive],
)
