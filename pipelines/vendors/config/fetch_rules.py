"""How pages are fetched: HTTP or browser, politeness limits, caching and logged-in sessions.

These are rules read from the vendor file; ``pipelines/scraping/fetching.py`` turns them into
the downloader's own policy objects.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import Field, TypeAdapter, field_validator, model_validator

from pipelines.parsing.selectors import check_css
from pipelines.vendors.config.base import FieldError, StrictModel, check_regex
from pipelines.vendors.config.selectors import Selector


class FetchRules(StrictModel):
    """How to fetch pages: plain ``http`` or a headless ``browser`` for JS-rendered shops.

    ``wait_for`` (browser only) is a CSS selector that appears once rendering is done; the page
    is archived after it matches or after ``timeout_seconds``.

    ``obey_robots`` (default true): honour the host's robots.txt; false is logged as a warning.
    ``user_agent``: this vendor's User-Agent (default: the fetcher resource's). ``max_attempts``:
    tries per page for dropped connections, 429 and 5xx (default: the resource's).
    ``max_consecutive_failures`` (default 5): failed pages in a row after which the rest of the
    run's requests to this vendor are skipped (circuit breaker). ``require_html_end`` (default
    true, http mode): an HTML page without a closing ``</html>`` counts as truncated and is
    fetched again; turn it off for a shop whose pages never close the tag.
    """

    mode: Literal["http", "browser"] = "http"
    wait_for: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    obey_robots: bool = True
    user_agent: str | None = Field(default=None, min_length=1, max_length=500)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    max_consecutive_failures: int = Field(default=5, ge=1, le=1000)
    require_html_end: bool = True

    @field_validator("user_agent")
    @classmethod
    def _check_user_agent(cls, value: str | None) -> str | None:
        if value is not None and (value != value.strip() or any(ord(c) < 32 for c in value)):
            raise ValueError("must be one line without leading/trailing spaces")
        return value

    @field_validator("wait_for")
    @classmethod
    def _compile_wait_for(cls, value: str | None) -> str | None:
        return None if value is None else check_css(value)

    @model_validator(mode="after")
    def _wait_for_needs_browser(self) -> FetchRules:
        if self.wait_for is not None and self.mode != "browser":
            raise FieldError("wait_for", "only used with mode browser")
        return self


class RateLimitRules(StrictModel):
    """Politeness: at most ``requests_per_second`` and ``concurrency`` requests in flight, per host.

    ``adaptive: true`` adds an AutoThrottle-like delay that grows when the server slows down
    or answers 429/503 (and honours Retry-After for the whole host), and shrinks back to the
    ``requests_per_second`` pace when it recovers; ``target_concurrency`` (default
    ``concurrency``) is how many requests it aims to keep in flight at the server,
    ``max_delay_seconds`` the most it waits between two requests.
    """

    requests_per_second: float = Field(default=1.0, gt=0, le=100)
    concurrency: int = Field(default=1, ge=1, le=64)
    adaptive: bool = False
    target_concurrency: float | None = Field(default=None, gt=0, le=64)
    max_delay_seconds: float = Field(default=30.0, gt=0, le=600)


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> dt.timedelta | None:
    """``30m``, ``1h30m``, ``45s``, ``7d``, a number of seconds, or ``off``/``0`` (None)."""
    if value is None or value is False:
        return None
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text in ("off", "none", "0", ""):
            return None
        if text.startswith("p"):  # ISO 8601, as model_dump(mode="json") writes it
            seconds = TypeAdapter(dt.timedelta).validate_python(value.strip()).total_seconds()
            return dt.timedelta(seconds=seconds) if seconds > 0 else None
        if not re.fullmatch(r"(\d+(?:\.\d+)?(d|h|m|s))+", text):
            raise ValueError(f"invalid duration {value!r}; use e.g. 30m, 2h, 1h30m, 45s, 7d or off")
        seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_RE.findall(text))
    else:
        raise ValueError(f"invalid duration {value!r}; use e.g. 30m, 2h, 45s or off")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return dt.timedelta(seconds=seconds) if seconds > 0 else None


class CacheRules(StrictModel):
    """Not fetching what we already have.

    ``search_max_age``: a search for the same query (same first-page URL) fetched successfully
    within this age is reused instead of fetched again: its archived pages are copied into the
    new partition and the search is recorded with ``cache_hit``. Default off.
    ``detail_max_age``: a cached detail page younger than this is used without asking the
    server; older ones are revalidated with a conditional request (ETag / Last-Modified).
    Default off (always revalidate). ``listing_ttl``: how long a cached detail page is kept
    before the ``prune_listing_cache`` job deletes it (default 7d).
    ``detail_url_pattern``: regex of the URLs that are detail pages (default: any URL that is
    not a search page).
    """

    search_max_age: dt.timedelta | None = None
    detail_max_age: dt.timedelta | None = None
    listing_ttl: dt.timedelta | None = dt.timedelta(days=7)
    detail_url_pattern: str | None = None

    check_durations = field_validator("search_max_age", "detail_max_age", "listing_ttl", mode="before")(
        parse_duration)
    check_detail_url_pattern = field_validator("detail_url_pattern")(check_regex)


class SessionRules(StrictModel):
    """For shops that need a login: a session imported with ``market-pulse sessions import``.

    ``login_marker`` matches on a page served to a logged-out session (e.g. the login form);
    ``login_redirect_pattern`` is a regex matching the URL logged-out requests are sent to.
    Either one seen in a response marks the stored session invalid and fails the vendor's run
    ("session expired: import a fresh one"): a vendor is never scraped logged out. With
    ``required: true`` (default) a run without a valid stored session fails before any request.
    """

    login_marker: Selector | None = None
    login_redirect_pattern: str | None = None
    required: bool = True

    check_login_redirect_pattern = field_validator("login_redirect_pattern")(check_regex)
