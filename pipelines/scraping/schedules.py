"""One daily schedule per vendor, on the vendor's own cron and time zone (from its YAML)."""

import datetime as dt
from zoneinfo import ZoneInfo

from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from pipelines.shared.partitions import day_vendor_key
from pipelines.vendors.config.vendor import VendorConfig

SCRAPE_JOB = define_asset_job(
    "scrape",
    # The partition's own checks run in the same run; the all-vendor freshness check runs on its cron.
    selection=AssetSelection.assets("raw_captures", "listings")
    - AssetSelection.checks(AssetCheckKey(AssetKey("listings"), "vendor_data_fresh")),
    description="raw_captures → listings for one (day, vendor) partition.")
"""Fetch and parse one (day, vendor) partition; its partitions are those of the two assets."""


def scrape_day(vendor: VendorConfig, scheduled: dt.datetime) -> dt.date:
    """The vendor's own calendar day at the scheduled time (a 06:00 Jakarta run is that day there)."""
    return scheduled.astimezone(ZoneInfo(vendor.timezone)).date()


def build_vendor_schedule(vendor: VendorConfig) -> ScheduleDefinition:
    @schedule(
        name=f"scrape_{vendor.name.replace('-', '_')}",
        cron_schedule=vendor.schedule,
        execution_timezone=vendor.timezone,
        job_name=SCRAPE_JOB.name,
        default_status=DefaultScheduleStatus.RUNNING if vendor.enabled else DefaultScheduleStatus.STOPPED,
        description=f"Scrape {vendor.display_name} daily ({vendor.schedule}, {vendor.timezone}).",
    )
    def vendor_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        day = scrape_day(vendor, context.scheduled_execution_time)
        return RunRequest(run_key=f"{vendor.name}:{day}", partition_key=day_vendor_key(day, vendor.name),
                          tags={"market_pulse/vendor": vendor.name})

    return vendor_schedule
