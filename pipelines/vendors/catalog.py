"""Turning validated vendor files into ``vendors`` rows (pure: no database, no Dagster)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pipelines.vendors.config.vendor import VendorConfig


@dataclass(frozen=True)
class VendorRow:
    name: str
    display_name: str
    base_url: str
    country: str | None
    currency: str
    is_active: bool
    config: dict[str, Any]
    config_hash: str

    def as_params(self) -> dict[str, Any]:
        return {**self.__dict__, "config": json.dumps(self.config, sort_keys=True)}


def vendor_row(vendor: VendorConfig) -> VendorRow:
    """The row for one vendor; the hash lets the sync tell changed files from unchanged ones."""
    config = vendor.model_dump(mode="json", by_alias=True)
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    return VendorRow(
        name=vendor.name,
        display_name=vendor.display_name,
        base_url=str(vendor.base_url),
        country=vendor.country,
        currency=vendor.currency,
        is_active=vendor.enabled,
        config=config,
        config_hash=digest,
    )
