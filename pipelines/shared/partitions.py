"""Partitions shared by every domain.

All daily assets use the one ``daily`` definition (same start date): Dagster then runs a
backfill of the day-partitioned rollups as a single run instead of chunks (dagster#19625).
Scraping is partitioned by day-by-vendor, the vendor dimension coming from ``vendors/*.yaml``.

A day is the vendor's own calendar day, in its time zone. So the calendar of partitions runs in
the time zone where each day begins first (UTC+14): whatever a vendor's zone, its today is
already a partition (a Zurich shop at 23:30 UTC is on tomorrow's date, a Jakarta shop's 06:00
run happens at 23:00 UTC the day before).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from dagster import (
    DailyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
    partition_loading_context,
)

HISTORY_START = "2025-01-01"
"""First day with data (the demo marketplace's epoch); backfills start here at the earliest."""

CALENDAR_TIMEZONE = "Pacific/Kiritimati"
"""UTC+14 all year (no daylight saving): the first place on Earth where each day begins."""

daily = DailyPartitionsDefinition(start_date=HISTORY_START, timezone=CALENDAR_TIMEZONE, end_offset=1)
"""Days up to and including today where it is latest (``end_offset=1``), so every vendor's
today has a partition."""


class DayOutsidePartitions(ValueError):
    """A day before the first partition or after the latest one; the message is one line."""


def partition_days(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The first and the latest day with a partition, at ``now`` (default: the current time)."""
    with partition_loading_context(now):
        first, last = daily.get_first_partition_key(), daily.get_last_partition_key()
    assert first is not None and last is not None
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)


def check_partition_day(day: dt.date, now: dt.datetime | None = None) -> dt.date:
    """``day`` if it has a partition at ``now``, else :class:`DayOutsidePartitions`."""
    first, last = partition_days(now)
    if day < first:
        raise DayOutsidePartitions(f"{day} is before the first day with data ({first})")
    if day > last:
        raise DayOutsidePartitions(
            f"{day} has not begun anywhere yet: the latest day is {last} (today in {CALENDAR_TIMEZONE}, UTC+14)")
    return day


def day_vendor_partitions(vendor_names: Iterable[str]) -> MultiPartitionsDefinition:
    """Day by vendor: one partition per enabled vendor file and day."""
    return MultiPartitionsDefinition({"date": daily, "vendor": StaticPartitionsDefinition(list(vendor_names))})


def day_vendor_key(day: dt.date | str, vendor: str) -> MultiPartitionKey:
    return MultiPartitionKey({"date": str(day), "vendor": vendor})


def split_key(keys_by_dimension: dict[str, str]) -> tuple[dt.date, str]:
    """(day, vendor name) of a day-by-vendor partition."""
    return dt.date.fromisoformat(keys_by_dimension["date"]), keys_by_dimension["vendor"]
