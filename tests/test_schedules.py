"""Vendor schedules: cron and time zone from the YAML, the vendor's own day as the partition."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dagster import build_schedule_context

from infra.settings import PROJECT_ROOT
from pipelines.scraping.schedules import build_vendor_schedule
from pipelines.shared.partitions import day_vendor_key
from pipelines.vendors.resources import VendorRegistry


def test_each_vendor_gets_its_cron_and_zone_and_scrapes_its_own_day() -> None:
    vendors = {v.name: v for v in VendorRegistry(directory=str(PROJECT_ROOT / "vendors")).load()}
    toko = build_vendor_schedule(vendors["toko"])
    assert (toko.cron_schedule, toko.execution_timezone) == (vendors["toko"].schedule, "Asia/Jakarta")

    # 06:00 in Jakarta on 25 November is still 24 November in UTC: the partition is Jakarta's day.
    scheduled = dt.datetime(2026, 11, 25, 6, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert scheduled.astimezone(dt.UTC).date() == dt.date(2026, 11, 24)
    request = toko(build_schedule_context(scheduled_execution_time=scheduled))
    assert request.partition_key == day_vendor_key("2026-11-25", "toko")
    assert request.run_key == "toko:2026-11-25"

    cardvault = build_vendor_schedule(vendors["cardvault"])
    late = dt.datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo(vendors["cardvault"].timezone))
    request = cardvault(build_schedule_context(scheduled_execution_time=late))
    assert request.partition_key == day_vendor_key("2026-11-25", "cardvault")  # already the 26th in UTC
