"""The Market Pulse code location: every asset, check, schedule, sensor and resource."""

import os

from dagster import Definitions, EnvVar

from infra.secrets import SECRET_KEY_ENV
from infra.settings import load_settings
from pipelines.alerts.defs import ALERT_JOBS, ALERT_RESOURCES, ALERT_SENSORS  # saved searches → alerts
from pipelines.analytics.defs import build_analytics_defs  # products, price snapshots, rollups, checks
from pipelines.listings.assets import build_listings
from pipelines.scraping.assets import build_raw_captures
from pipelines.scraping.cache_jobs import prune_listing_cache, prune_listing_cache_schedule
from pipelines.scraping.resources import BrowserFetcherResource, HttpFetcherResource
from pipelines.scraping.schedules import build_scrape_job, build_vendor_schedule
from pipelines.shared.partitions import day_vendor_partitions
from pipelines.shared.resources import SecretBoxResource
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.assets import vendor_catalog
from pipelines.vendors.resources import VendorRegistry

settings = load_settings()
vendor_registry = VendorRegistry(directory=str(settings.vendors_dir), demo_url=settings.demo_url)
vendors = vendor_registry.load()
scrape_partitions = day_vendor_partitions(vendors)

raw_captures = build_raw_captures(scrape_partitions)
listings = build_listings(scrape_partitions)
analytics = build_analytics_defs(scrape_partitions)
scrape_job = build_scrape_job(raw_captures, listings, scrape_partitions)
scrape_schedules = [build_vendor_schedule(vendor, scrape_job) for vendor in vendors]

defs = Definitions(
    assets=[vendor_catalog, raw_captures, listings, *analytics.assets],
    asset_checks=[*analytics.checks],
    jobs=[scrape_job, *ALERT_JOBS, prune_listing_cache],
    schedules=[*scrape_schedules, prune_listing_cache_schedule],
    sensors=[*ALERT_SENSORS, *analytics.sensors],
    resources={
        "warehouse": Warehouse(database_url=EnvVar("MARKET_PULSE_DATABASE_URL")),
        "vendor_registry": vendor_registry,
        "http_fetcher": HttpFetcherResource(),
        "browser_fetcher": BrowserFetcherResource(),
        # Decrypts vendor sessions; without $MARKET_PULSE_SECRET_KEY only vendors needing a login fail.
        "vendor_secrets": SecretBoxResource(secret_key=EnvVar(SECRET_KEY_ENV)) if os.environ.get(SECRET_KEY_ENV)
        else SecretBoxResource(),
        **ALERT_RESOURCES,
    },
)
