"""A vendor is scraped for its own local day, whatever the time is in UTC.

The clock is set, never waited for: the pure rules take ``now``; the end-to-end run freezes
Dagster's clock and the scrape rules' clock (``schedule_rules.utc_now``) at the same instant.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import build_schedule_context, partition_loading_context
from dagster._core.test_utils import freeze_time  # Dagster's own clock, as its tests set it
from sqlalchemy import text

from demo.server import running_demo
from infra.settings import PROJECT_ROOT
from pipelines.scraping import schedule_rules
from pipelines.scraping.schedule_rules import ScrapeDateError, asof_for, scrape_days, vendor_today
from pipelines.scraping.schedules import build_vendor_schedule
from pipelines.shared.partitions import (
    CALENDAR_TIMEZONE,
    DayOutsidePartitions,
    check_partition_day,
    day_vendor_key,
    day_vendor_partitions,
    partition_days,
)
from pipelines.vendors.config.vendor import VendorConfig
from pipelines.vendors.resources import VendorRegistry
from tests.support.pipeline import ScrapingPipeline, failure_message
from tests.support.vendor_files import vendor_dir

D = dt.date(2026, 11, 26)
UTC_PLUS_14, UTC_MINUS_12, ZURICH = "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Zurich"
TOKO = next(v for v in VendorRegistry(directory=str(PROJECT_ROOT / "vendors")).load() if v.name == "toko")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def shop(timezone: str, history: str = "live", name: str = "shop") -> VendorConfig:
    return TOKO.model_copy(update={"name": name, "timezone": timezone, "history": history})


@pytest.mark.parametrize(
    ("now", "timezone", "today"),
    [
        (at(D, 23, 30), UTC_PLUS_14, D + dt.timedelta(days=1)),  # 13:30 tomorrow there
        (at(D + dt.timedelta(days=1), 0, 30), UTC_PLUS_14, D + dt.timedelta(days=1)),
        (at(D, 9, 59), UTC_PLUS_14, D),  # 23:59 there: the last minute before the calendar turns
        (at(D, 10, 0), UTC_PLUS_14, D + dt.timedelta(days=1)),
        (at(D, 23, 30), UTC_MINUS_12, D),  # 11:30 there
        (at(D + dt.timedelta(days=1), 0, 30), UTC_MINUS_12, D),  # still yesterday there
        (at(D, 11, 30), UTC_MINUS_12, D - dt.timedelta(days=1)),  # two days behind the calendar's today
        (at(D, 23, 30), ZURICH, D + dt.timedelta(days=1)),  # the reported case: 00:30 in Zurich
    ],
)
def test_a_live_vendor_s_today_is_a_partition_around_midnight_utc(now: dt.datetime, timezone: str,
                                                                  today: dt.date) -> None:
    vendor = shop(timezone)
    assert vendor_today(vendor, now) == today
    assert scrape_days([vendor], now=now) == [(today, "shop")]  # `run` without --date
    assert check_partition_day(today, now) == today
    assert asof_for(vendor, today, now) is None  # the live catalogue, for the vendor's today
    with pytest.raises(ScrapeDateError, match="live-only"):
        asof_for(vendor, today - dt.timedelta(days=1), now)


@pytest.mark.parametrize("minute", range(0, 24 * 60, 30))
def test_the_calendar_reaches_every_time_zone_s_today_and_no_further(minute: int) -> None:
    now = at(D, 0) + dt.timedelta(minutes=minute)
    first, last = partition_days(now)
    todays = {now.astimezone(ZoneInfo(zone)).date() for zone in zoneinfo.available_timezones()}
    assert first == dt.date(2025, 1, 1)
    assert max(todays) == last  # the first place where the day begins decides the latest partition
    assert min(todays) >= last - dt.timedelta(days=2)


def test_a_day_outside_the_partitions_is_one_line() -> None:
    now = at(D, 23, 30)
    _, last = partition_days(now)
    assert last == D + dt.timedelta(days=1)
    with pytest.raises(DayOutsidePartitions) as early:
        check_partition_day(dt.date(2024, 12, 31), now)
    assert str(early.value) == "2024-12-31 is before the first day with data (2025-01-01)"
    with pytest.raises(DayOutsidePartitions) as late:
        check_partition_day(last + dt.timedelta(days=1), now)
    assert str(late.value) == (f"{last + dt.timedelta(days=1)} has not begun anywhere yet: the latest day is "
                               f"{last} (today in {CALENDAR_TIMEZONE}, UTC+14)")


def test_run_without_a_date_takes_each_vendor_s_own_today() -> None:
    now = at(D, 23, 30)
    vendors = [shop(UTC_PLUS_14, name="kiritimati"), shop(ZURICH, name="zurich"), shop("UTC", name="utc"),
               shop("America/Los_Angeles", name="la"), shop(UTC_MINUS_12, name="baker")]
    tomorrow = D + dt.timedelta(days=1)
    assert scrape_days(vendors, now=now) == [(tomorrow, "kiritimati"), (tomorrow, "zurich"), (D, "utc"), (D, "la"),
                                             (D, "baker")]
    assert scrape_days(vendors, D, now) == [(D, v.name) for v in vendors]  # --date: the same day for all


@pytest.mark.parametrize("timezone", [UTC_PLUS_14, "Asia/Jakarta", ZURICH, "America/Guatemala", UTC_MINUS_12])
def test_every_scheduled_run_asks_for_a_partition_that_exists(timezone: str) -> None:
    vendor = shop(timezone, name="early")
    partitions = day_vendor_partitions([vendor.name])
    schedule = build_vendor_schedule(vendor)
    for hour in (0, 6, 23):  # 06:00 at UTC+14 is 16:00 UTC the day before
        scheduled = dt.datetime.combine(D, dt.time(hour), tzinfo=ZoneInfo(timezone))
        request = schedule(build_schedule_context(scheduled_execution_time=scheduled))
        assert request.partition_key == day_vendor_key(D, "early")
        with partition_loading_context(scheduled):
            assert partitions.has_partition_key(request.partition_key), (timezone, hour)


# -- end to end: a live-only Zurich shop at 23:30 UTC ------------------------------------------------


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as url:
        yield url


def test_a_zurich_vendor_is_scrapable_at_2330_utc(database_url: str, tmp_path: Path, demo_url: str,
                                                 monkeypatch: pytest.MonkeyPatch, dagster_instance) -> None:  # type: ignore[no-untyped-def]
    """At 23:30 UTC on the 26th it is 00:30 on the 27th in Zurich: the run is for the 27th, that
    partition exists, and the live catalogue is scraped into it."""
    vendors = vendor_dir(tmp_path / "vendors", {"toko": {"name": "toko-zurich", "timezone": ZURICH,
                                                         "history": "live",
                                                         "search": {"url": "/search?q={query}&page={page}"}}},
                         only=["toko"])
    now = at(D, 23, 30)
    monkeypatch.setattr(schedule_rules, "utc_now", lambda: now)
    pipeline = ScrapingPipeline(database_url, demo_url, vendors_dir=str(vendors), instance=dagster_instance)
    with freeze_time(now):
        assert pipeline.sync_vendors().success
        ((day, name),) = scrape_days(pipeline.registry.load())
        assert (day, name) == (D + dt.timedelta(days=1), "toko-zurich")
        check_partition_day(day)
        result = pipeline.run(day, name)
        assert result.success, failure_message(result)

        utc_day = pipeline.run(D, name)  # the UTC date is yesterday in Zurich: refused, in one line
        assert not utc_day.success
        assert "live-only: it can be scraped for today (2026-11-27 in Europe/Zurich) but not for 2026-11-26" in (
            failure_message(utc_day))
    with pipeline.warehouse.connect() as conn:
        listed = conn.execute(text(
            "SELECT count(*) FROM listing_sightings s JOIN vendors v ON v.id = s.vendor_id "
            "WHERE v.name = 'toko-zurich' AND s.partition_date = :day"), {"day": day}).scalar_one()
    assert listed > 0
