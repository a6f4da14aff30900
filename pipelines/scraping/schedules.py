"""One daily schedule per vendor, on the vendor's own cron and time zone (from its YAML)."""

import datetime as dt
from zoneinfo import ZoneInfo

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from pipelines.shared.partitions import day_vendor_key
from pipelines.vendors.config.vendor import VendorConfig


def build_scrape_job(raw_captures, listings, partitions_def):  # type: ignore[no-untyped-def]
    return define_asset_job(
        "scrape", selection=[raw_captures, listings], partitions_def=partitions_def,
        description="raw_captures → listings for one (day, vendor) partition.")


def scrape_day(vendor: VendorConfig, scheduled: dt.datetime) -> dt.date:
    """The vendor's own calendar day at the scheduled time (a 06:00 Jakarta run is that day there)."""
    return scheduled.astimezone(ZoneInfo(vendor.timezone)).date()


def build_vendor_schedule(vendor: VendorConfig, job) -> ScheduleDefinition:  # type: ignore[no-untyped-def]
    @schedule(
        name=f"scrape_{vendor.name.replace('-', '_')}",
        cron_schedule=vendor.schedule,
        execution_timezone=vendor.timezone,
        job=job,
        default_status=DefaultScheduleStatus.RUNNING if vendor.enabled else DefaultScheduleStatus.STOPPED,
        description=f"Scrape {vendor.display_name} daily ({vendor.schedule}, {vendor.timezone}).",
    )
    def vendor_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        day = scrape_day(vendor, context.scheduled_execution_time)
        return RunRequest(run_key=f"{vendor.name}:{day}", partition_key=day_vendor_key(day, vendor.name),
                          tags={"market_pulse/vendor": vendor.name})

    return vendor_schedule
