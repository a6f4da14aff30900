"""What scraping adds to the code location: ``raw_captures`` (the only asset that touches the
network), the ``scrape`` job with one schedule per vendor, the listing-cache pruning job, and the
fetchers and the key ring that decrypts vendor sessions."""

import os
from collections.abc import Sequence

from dagster import Definitions, EnvVar, MultiPartitionsDefinition

from infra.secrets import SECRET_KEY_ENV
from pipelines.scraping.assets import build_raw_captures
from pipelines.scraping.cache_jobs import prune_listing_cache, prune_listing_cache_schedule
from pipelines.scraping.fetching import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.scraping.resources import BrowserFetcherResource, HttpFetcherResource
from pipelines.scraping.schedules import SCRAPE_JOB, build_vendor_schedule
from pipelines.shared.resources import SecretBoxResource
from pipelines.vendors.config.vendor import VendorConfig


def build_defs(vendors: Sequence[VendorConfig], partitions: MultiPartitionsDefinition,
               lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS) -> Definitions:
    # Without $MARKET_PULSE_SECRET_KEY only the vendors that need a login fail (with a message saying so).
    secrets = (SecretBoxResource(secret_key=EnvVar(SECRET_KEY_ENV)) if os.environ.get(SECRET_KEY_ENV)
               else SecretBoxResource())
    return Definitions(
        assets=[build_raw_captures(partitions, lock_wait_seconds)],
        jobs=[SCRAPE_JOB, prune_listing_cache],
        schedules=[*(build_vendor_schedule(vendor) for vendor in vendors), prune_listing_cache_schedule],
        resources={"http_fetcher": HttpFetcherResource(), "browser_fetcher": BrowserFetcherResource(),
                   "vendor_secrets": secrets},
    )
