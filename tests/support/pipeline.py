"""Running the real assets with real resources in tests (no mocks of our own database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from dagster import AssetsDefinition, ExecuteInProcessResult, materialize

from infra.settings import PROJECT_ROOT
from pipelines.alerts.admin import AdminTargets
from pipelines.alerts.notifier import Notifier
from pipelines.listings.assets import build_listings
from pipelines.platform.runner import failure_summary
from pipelines.scraping.assets import build_raw_captures
from pipelines.scraping.resources import BrowserFetcherResource, HttpFetcherResource
from pipelines.shared.partitions import day_vendor_key
from pipelines.shared.resources import SecretBoxResource
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.assets import vendor_catalog
from pipelines.vendors.resources import VendorRegistry


class ScrapingPipeline:
    """vendor_catalog → raw_captures → listings against a warehouse URL and a demo URL."""

    def __init__(self, database_url: str, demo_url: str, vendors_dir: str | None = None,
                 instance: Any = None, admin_targets: Sequence[str] = (), notifier: Notifier | None = None) -> None:
        self.registry = VendorRegistry(directory=vendors_dir or str(PROJECT_ROOT / "vendors"), demo_url=demo_url)
        self.partitions = self.registry.partitions()
        self.raw_captures = build_raw_captures(self.partitions)
        self.listings = build_listings(self.partitions)
        self.warehouse = Warehouse(database_url=database_url)
        self.instance = instance
        self.resources = {
            "warehouse": self.warehouse,
            "vendor_registry": self.registry,
            "http_fetcher": HttpFetcherResource(backoff_initial_s=0.05, backoff_max_s=0.2),
            "browser_fetcher": BrowserFetcherResource(),
            "vendor_secrets": SecretBoxResource(),  # tests with vendor sessions put a keyed box here
            "admin_targets": AdminTargets.from_urls(admin_targets),
            # listings matches saved searches and sends right after publishing (the product's default)
            "notifier": notifier or Notifier(timeout_seconds=5),
        }

    def sync_vendors(self) -> ExecuteInProcessResult:
        return materialize([vendor_catalog], resources=self.resources, instance=self.instance)

    def run(self, day: dt.date | str, vendor: str, assets: Sequence[AssetsDefinition] | None = None,
            raise_on_error: bool = False, tags: dict[str, str] | None = None) -> ExecuteInProcessResult:
        selected = list(assets) if assets is not None else [self.raw_captures, self.listings]
        return materialize(selected, partition_key=day_vendor_key(day, vendor), resources=self.resources,
                           instance=self.instance, raise_on_error=raise_on_error, tags=tags)


def metadata(result: ExecuteInProcessResult, node: str) -> dict[str, Any]:
    """The metadata values of a node's (single) materialisation."""
    events = result.asset_materializations_for_node(node)
    assert events, f"{node} was not materialised"
    return {key: value.value for key, value in events[-1].metadata.items()}


def failure_message(result: ExecuteInProcessResult) -> str:
    """The failed step and its innermost error, as `market-pulse run` prints it."""
    return failure_summary(result) or ""
