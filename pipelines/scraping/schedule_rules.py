"""Which catalogue date a scrape may ask a vendor for (pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pipelines.vendors.config.requests import History
from pipelines.vendors.config.vendor import VendorConfig


class ScrapeDateError(ValueError):
    """The partition's day cannot be scraped from this vendor; the message says why."""


def vendor_today(vendor: VendorConfig, now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(ZoneInfo(vendor.timezone)).date()


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
