"""Which day a vendor is on, and which catalogue date a scrape may ask it for (pure).

Every function takes the current time as ``now``; left out, it is :func:`utc_now`, the one clock
of these decisions (tests set the time there instead of waiting for a time of day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from pipelines.vendors.config.requests import History
from pipelines.vendors.config.vendor import VendorConfig


class ScrapeDateError(ValueError):
    """The partition's day cannot be scraped from this vendor; the message says why."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def vendor_today(vendor: VendorConfig, now: dt.datetime | None = None) -> dt.date:
    """The vendor's calendar day at ``now``, in its own time zone."""
    now = now or utc_now()
    return now.astimezone(ZoneInfo(vendor.timezone)).date()


def scrape_days(vendors: Iterable[VendorConfig], day: dt.date | None = None,
                now: dt.datetime | None = None) -> list[tuple[dt.date, str]]:
    """(day, vendor name) to scrape: ``day`` for every vendor, or else each vendor's own today."""
    now = now or utc_now()
    return [(day or vendor_today(vendor, now), vendor.name) for vendor in vendors]


def asof_for(vendor: VendorConfig, day: dt.date, now: dt.datetime | None = None) -> dt.date | None:
    """The ``{asof}`` to request for ``day`` (None = the live catalogue), or ScrapeDateError.

    A live-only vendor shows only today's catalogue: scraping it for another day would file
    today's data under the wrong date, so that is refused instead.
    """
    today = vendor_today(vendor, now)
    if day > today + dt.timedelta(days=1):
        raise ScrapeDateError(f"{vendor.name}: {day} is in the future (today is {today} in {vendor.timezone})")
    if vendor.history == History.LIVE:
        if day != today:
            raise ScrapeDateError(
                f"{vendor.name} is live-only: it can be scraped for today ({today} in {vendor.timezone}) "
                f"but not for {day}; past days of a live-only vendor cannot be fetched after the fact")
        return None
    return day
