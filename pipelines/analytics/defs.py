"""What analytics adds to the code location: the vendor-performance and search-analytics rollups."""

from dagster import Definitions

from pipelines.analytics.assets import search_analytics, vendor_performance

ROLLUPS = [vendor_performance, search_analytics]
defs = Definitions(assets=ROLLUPS)
