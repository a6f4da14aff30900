"""What analytics adds to the code location: the vendor-performance, search-analytics and API-usage rollups."""

from dagster import Definitions

from pipelines.analytics.assets import api_usage, search_analytics, vendor_performance

ROLLUPS = [vendor_performance, search_analytics, api_usage]
defs = Definitions(assets=ROLLUPS)
