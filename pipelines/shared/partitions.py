"""Partitions shared by every domain.

All daily assets use the one ``daily`` definition (same start date): Dagster then runs a
backfill of the day-partitioned rollups as a single run instead of chunks (dagster#19625).
Scraping is partitioned by day-by-vendor, the vendor dimension coming from ``vendors/*.yaml``.
"""

from __future__ import annotations

import datetime as dt

from dagster import DailyPartitionsDefinition, MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

from pipelines.vendors.config.vendor import VendorConfig

HISTORY_START = "2025-01-01"
"""First day with data (the demo marketplace's epoch); backfills start here at the earliest."""

daily = DailyPartitionsDefinition(start_date=HISTORY_START, timezone="UTC", end_offset=1)
"""Days up to and including today (``end_offset=1``), so today's scrape has a partition."""


def vendor_partitions(vendors: list[VendorConfig]) -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition([v.name for v in vendors if v.enabled])


def day_vendor_partitions(vendors: list[VendorConfig]) -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition({"date": daily, "vendor": vendor_partitions(vendors)})


def day_vendor_key(day: dt.date | str, vendor: str) -> MultiPartitionKey:
    return MultiPartitionKey({"date": str(day), "vendor": vendor})


def split_key(keys_by_dimension: dict[str, str]) -> tuple[dt.date, str]:
    """(day, vendor name) of a day-by-vendor partition."""
    return dt.date.fromisoformat(keys_by_dimension["date"]), keys_by_dimension["vendor"]
