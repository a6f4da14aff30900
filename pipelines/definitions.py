"""The Market Pulse code location: every asset, check, schedule, sensor and resource."""

from dagster import Definitions, EnvVar

from pipelines.listings.assets import build_listings
from pipelines.partitions import day_vendor_partitions
from pipelines.scraping.assets import build_raw_captures
from pipelines.vendors.assets import vendor_catalog
from pipelines.vendors.resources import VendorRegistry
from resources.browser_fetcher import BrowserFetcher
from resources.http_fetcher import HttpFetcher
from resources.settings import load_settings
from resources.warehouse import Warehouse

settings = load_settings()
vendor_registry = VendorRegistry(directory=str(settings.vendors_dir), demo_url=settings.demo_url)
scrape_partitions = day_vendor_partitions(vendor_registry.load())

raw_captures = build_raw_captures(scrape_partitions)
listings = build_listings(scrape_partitions)

defs = Definitions(
    assets=[vendor_catalog, raw_captures, listings],
    resources={
        "warehouse": Warehouse(database_url=EnvVar("MARKET_PULSE_DATABASE_URL")),
        "vendor_registry": vendor_registry,
        "http_fetcher": HttpFetcher(),
        "browser_fetcher": BrowserFetcher(),
    },
)
