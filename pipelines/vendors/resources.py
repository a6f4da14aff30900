"""The vendor files as a Dagster resource, so assets and tests can point at any folder."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from pipelines.scraping.vendor_config import VendorConfig, load_vendors


class VendorRegistry(ConfigurableResource):
    """Reads and validates ``vendors/*.yaml``; any invalid file fails the whole load."""

    directory: str = Field(description="Folder holding one YAML file per vendor.")

    def load(self) -> list[VendorConfig]:
        return load_vendors(Path(self.directory))

    def get(self, name: str) -> VendorConfig:
        for vendor in self.load():
            if vendor.name == name:
                return vendor
        raise KeyError(f"no vendor named {name!r} in {self.directory}")
