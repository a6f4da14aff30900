"""What products adds to the code location: ``product_matches`` (listings onto products)."""

from dagster import Definitions

from pipelines.products.assets import product_matches

ROLLUPS = [product_matches]
defs = Definitions(assets=ROLLUPS)
