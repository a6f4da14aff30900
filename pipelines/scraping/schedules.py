"""One daily schedule per vendor, on the vendor's own cron and time zone (from its YAML).

Scrape runs carry a maximum run time (Dagster's ``dagster/max_runtime`` run tag, enforced by
the daemon's run monitoring, ``run_monitoring`` in ``dagster.yaml``): a hung run is terminated
with "Exceeded maximum runtime of N seconds". The crawl itself stops earlier, at
`crawl_budget_s` of that time, with a message naming the vendor, so even a run without a
daemon (``materialize``, ``market-pulse run``) or launched from the asset graph ends.
"""

import datetime as dt
from collections.abc import Mapping
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

MAX_RUNTIME_TAG = "dagster/max_runtime"
SCRAPE_MAX_RUNTIME_S = 3600
"""One vendor-day (crawl, archive, parse) in an hour at most; change it per run in the launchpad."""
CRAWL_SHARE = 0.9


def crawl_budget_s(run_tags: Mapping[str, str]) -> float | None:
    """Seconds the crawl may take: 90% of the run's max run time (its tag, else the default),
    so the crawl stops itself, and says why, before the run monitor terminates the run.
    A tag of 0 means no limit, as it does for Dagster's run monitoring."""
    raw = run_tags.get(MAX_RUNTIME_TAG)
    try:
        limit = float(raw) if raw else float(SCRAPE_MAX_RUNTIME_S)
    except ValueError:
        limit = float(SCRAPE_MAX_RUNTIME_S)
    return max(1.0, limit * CRAWL_SHARE) if limit > 0 else None


SCRAPE_JOB = define_asset_job(
    "scrape",
    # The partition's own checks run in the same run; the all-vendor freshness check runs on its cron.
    selection=AssetSelection.assets("raw_captures", "listings")
    - AssetSelection.checks(AssetCheckKey(AssetKey("listings"), "vendor_data_fresh")),
    run_tags={MAX_RUNTIME_TAG: str(SCRAPE_MAX_RUNTIME_S)},
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
