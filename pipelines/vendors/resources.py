"""The vendor files as a Dagster resource, so assets and tests can point at any folder."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource, MultiPartitionsDefinition
from pydantic import Field

from pipelines.shared.partitions import day_vendor_partitions
from pipelines.vendors.config.loading import load_vendors
from pipelines.vendors.config.vendor import VendorConfig

DEMO_DEFAULT_URL = "http://127.0.0.1:8765"
"""Where the bundled vendor files expect the demo marketplace."""


class VendorRegistry(ConfigurableResource):
    """Reads and validates ``vendors/*.yaml``; any invalid file fails the whole load.

    Vendor files of the bundled demo point at ``http://127.0.0.1:8765``; when the demo runs
    elsewhere (``MARKET_PULSE_DEMO_URL``, or a test's free port) those URLs are rebased onto it.
    """

    directory: str = Field(description="Folder holding one YAML file per vendor.")
    demo_url: str = Field(default=DEMO_DEFAULT_URL, description="Where the demo marketplace listens.")

    def load(self) -> list[VendorConfig]:
        vendors = load_vendors(Path(self.directory))
        demo = self.demo_url.rstrip("/")
        if demo == DEMO_DEFAULT_URL:
            return vendors
        return [rebase(v, DEMO_DEFAULT_URL, demo) for v in vendors]

    def partitions(self, vendors: list[VendorConfig] | None = None) -> MultiPartitionsDefinition:
        """Day-by-vendor partitions of the scraping assets: one vendor dimension key per enabled vendor."""
        return day_vendor_partitions(v.name for v in (self.load() if vendors is None else vendors) if v.enabled)

    def get(self, name: str) -> VendorConfig:
        for vendor in self.load():
            if vendor.name == name:
                return vendor
        raise KeyError(f"no vendor named {name!r} in {self.directory}")


def rebase(vendor: VendorConfig, old: str, new: str) -> VendorConfig:
    """The same vendor with its base URL moved from under ``old`` to under ``new``."""
    if not vendor.base_url.startswith(old):
        return vendor
    return vendor.with_base_url(new + vendor.base_url[len(old):])
