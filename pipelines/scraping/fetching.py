"""One vendor's downloader, assembled from its vendor file: the single place fetch policy is wired.

`open_vendor_fetch(vendor, http, browser, ...)` opens the HTTP or browser session the vendor's
``fetch.mode`` asks for, fenced to the vendor's hosts (`fence_for`: the ``base_url`` host and
``allowed_hosts``; non-public addresses only at the ``base_url`` itself or where listed), with,
in this order (before-hooks run top-down, after-hooks bottom-up):

1. `CircuitBreaker`: after ``fetch.max_consecutive_failures`` failed pages in a row, every
   remaining request of the run is refused at once (``error_kind="blocked"``).
2. `SessionGuard` (vendors with a ``session:`` block): a login wall ends the crawl with
   "session expired: import a fresh one".
3. `RobotsPolicy` (unless ``fetch.obey_robots: false``, which is logged as a warning).
4. `AdaptiveThrottle` (``rate_limit.adaptive: true``).
5. any extra hooks: `scrape_vendor` adds the listing cache (conditional requests for detail
   pages, ``pipelines.scraping.listing_cache``) to HTTP vendors.

and the fixed per-host limits of ``rate_limit`` (`rate_limit_for`), the vendor's
``fetch.user_agent``, ``fetch.max_attempts`` and ``fetch.timeout_seconds``, and the stored
session's cookies. It yields a `VendorFetch`: ``fetch(url)`` for the crawler plus a report of
what the policies did. `scrape_vendor` bounds the whole crawl by the run's maximum run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from sqlalchemy import Engine

from downloader.browser import BrowserFetcher, BrowserSession
from downloader.cache import ConditionalCache
from downloader.circuit import CircuitBreaker
from downloader.fence import HostFence, Resolver
from downloader.hooks import FetchHook
from downloader.http import HttpFetcher, HttpSession
from downloader.limits import RateLimit
from downloader.robots import RobotsPolicy
from downloader.throttle import AdaptiveThrottle
from downloader.types import FetchedResponse
from infra.secrets import SecretBox, SecretKeyError
from pipelines.scraping.archive import SearchRun
from pipelines.scraping.crawl import Listener, crawl_vendor
from pipelines.scraping.listing_cache import listing_cache_hook
from pipelines.scraping.search_cache import find_cached_runs
from pipelines.scraping.sessions import (
    NO_SESSION,
    Cookie,
    SessionGuard,
    load_valid_session,
    mark_session_invalid,
    to_httpx_cookies,
    to_playwright_cookies,
)
from pipelines.scraping.vendor_lock import vendor_fetch_lock
from pipelines.vendors.config.vendor import VendorConfig

logger = logging.getLogger(__name__)

DEFAULT_LOCK_WAIT_SECONDS = 3600.0
"""How long a crawl waits for another process fetching the same vendor (MARKET_PULSE_VENDOR_LOCK_WAIT)."""


def robots_warning(vendor: VendorConfig) -> str:
    return f"{vendor.name}: robots.txt is NOT obeyed (fetch.obey_robots: false in its vendor file)"


def rate_limit_for(vendor: VendorConfig) -> RateLimit:
    """The vendor file's ``rate_limit:`` block as the downloader's per-host `RateLimit` (its
    adaptive keys configure `throttle_for` instead)."""
    rules = vendor.rate_limit
    return RateLimit(requests_per_second=rules.requests_per_second, max_concurrency=rules.concurrency)


def fence_for(vendor: VendorConfig, *, resolver: Resolver | None = None) -> HostFence:
    """The hosts and addresses the vendor's fetches may reach: its ``base_url`` host and its
    ``allowed_hosts``; non-public addresses only at the ``base_url``'s own host and port (the
    demo shop on loopback) or where ``allowed_hosts`` lists the address or network."""
    return HostFence(vendor.base_url, vendor.allowed_hosts, owner=vendor.name, resolver=resolver)


def throttle_for(vendor: VendorConfig) -> AdaptiveThrottle | None:
    limit = vendor.rate_limit
    if not limit.adaptive:
        return None
    floor = 1.0 / limit.requests_per_second
    return AdaptiveThrottle(min_delay_s=floor, max_delay_s=max(limit.max_delay_seconds, floor),
                            target_concurrency=limit.target_concurrency or float(limit.concurrency))


@dataclass
class VendorFetch:
    """An open vendor session: `fetch(url)` for the crawler, and the policies' state."""

    vendor: VendorConfig
    session: HttpSession | BrowserSession
    circuit: CircuitBreaker
    guard: SessionGuard | None
    robots: RobotsPolicy | None
    throttle: AdaptiveThrottle | None
    session_id: int | None = None
    extra_hooks: Sequence[FetchHook] = field(default_factory=tuple)

    async def fetch(self, url: str) -> FetchedResponse:
        if isinstance(self.session, BrowserSession):
            return await self.session.fetch(url, wait_for=self.vendor.fetch.wait_for,
                                            timeout_s=self.vendor.fetch.timeout_seconds)
        return await self.session.fetch(url, timeout_s=self.vendor.fetch.timeout_seconds)

    @property
    def session_error(self) -> str | None:
        """Set when the crawl hit a login wall (the vendor's run must fail)."""
        return self.guard.dead_reason if self.guard is not None else None

    def report(self) -> dict[str, Any]:
        """Plain values for Dagster metadata (never a cookie)."""
        out: dict[str, Any] = {
            "robots": "obeyed" if self.robots is not None else "ignored (obey_robots: false)",
            "robots_blocked": self.robots.blocked if self.robots is not None else 0,
            "circuit_open": self.circuit.is_open,
            "circuit_refused": self.circuit.refused,
        }
        if self.circuit.is_open:
            out["circuit_message"] = self.circuit.message
        if self.throttle is not None:
            out["throttle_peak_delay_s"] = round(self.throttle.peak_delay_s, 3)
            out["throttle_slowdowns"] = self.throttle.slowdowns
        for hook in self.extra_hooks:
            if isinstance(hook, ConditionalCache) and (hook.fresh_hits or hook.revalidated or hook.stored):
                out["detail_cache"] = f"{hook.fresh_hits} fresh, {hook.revalidated} revalidated, {hook.stored} stored"
        if self.guard is not None:
            out["session"] = ("expired" if self.guard.dead_reason and self.guard.has_session
                              else "missing" if self.guard.dead_reason
                              else "in use" if self.guard.has_session else "none")
        return out


class _SessionOptions(TypedDict):
    """What both fetchers' sessions take alike from a vendor's file."""

    rate_limit: RateLimit | None
    headers: Mapping[str, str] | None
    hooks: Sequence[FetchHook]
    fence: HostFence | None
    user_agent: str | None
    max_attempts: int | None


@contextlib.asynccontextmanager
async def open_vendor_fetch(
    vendor: VendorConfig,
    http: HttpFetcher,
    browser: BrowserFetcher,
    *,
    cookies: Sequence[Cookie] | None = None,
    session_id: int | None = None,
    extra_hooks: Sequence[FetchHook] = (),
    fence: HostFence | None = None,
    warn: Any = None,
) -> AsyncIterator[VendorFetch]:
    """Open the vendor's session with every policy of its file (see module doc).

    ``fence`` replaces `fence_for(vendor)` (tests give one with their own host names).
    """
    say = warn or logger.warning
    fence = fence or fence_for(vendor)
    circuit = CircuitBreaker(vendor.name, vendor.fetch.max_consecutive_failures)
    guard = (SessionGuard(vendor, vendor.session, has_session=bool(cookies))
             if vendor.session is not None else None)
    robots_agent = vendor.fetch.user_agent or http.user_agent
    robots: RobotsPolicy | None = RobotsPolicy(robots_agent, fence=fence,
                                               timeout_s=min(vendor.fetch.timeout_seconds, 10.0))
    if not vendor.fetch.obey_robots:
        say(robots_warning(vendor))
        robots = None
    throttle = throttle_for(vendor)
    hooks: list[FetchHook] = [circuit]
    hooks += [h for h in (guard, robots, throttle) if h is not None]
    hooks += list(extra_hooks)
    headers = dict(vendor.search.headers)
    if vendor.locale and not any(name.lower() == "accept-language" for name in headers):
        headers["Accept-Language"] = vendor.locale  # shops pick their language and formats from it
    common: _SessionOptions = {
        "rate_limit": rate_limit_for(vendor), "headers": headers, "hooks": hooks, "fence": fence,
        "user_agent": vendor.fetch.user_agent, "max_attempts": vendor.fetch.max_attempts}
    opened: HttpSession | BrowserSession
    if vendor.fetch.mode == "browser":
        opened = browser.session(cookies=to_playwright_cookies(cookies) if cookies else None, **common)
    else:
        opened = http.session(cookies=to_httpx_cookies(cookies) if cookies else None,
                              require_html_end=vendor.fetch.require_html_end, **common)
    async with opened as session:
        yield VendorFetch(vendor=vendor, session=session, circuit=circuit, guard=guard, robots=robots,
                          throttle=throttle, session_id=session_id, extra_hooks=tuple(extra_hooks))


# -- one vendor's scrape: sessions, search cache, crawl with every policy ---------------------------


class SessionUnavailable(RuntimeError):
    """The vendor needs a login and no valid session is stored (or it cannot be decrypted)."""


class ScrapeTimedOut(RuntimeError):
    """The crawl did not finish within its time budget and was stopped (nothing is archived)."""


@dataclass
class ScrapeOutcome:
    """What `scrape_vendor` did: one `SearchRun` per query (in the vendor's order) and a report."""

    runs: list[SearchRun]
    report: dict[str, Any]
    cache_hits: int = 0
    session_error: str | None = None  # set when a login wall ended the crawl: fail the run

    def metadata(self) -> dict[str, Any]:
        return {**self.report, "cache_hits": self.cache_hits}


def scrape_vendor(
    vendor: VendorConfig,
    *,
    vendor_id: int,
    asof: dt.date | None,
    engine: Engine,
    http: HttpFetcher,
    browser: BrowserFetcher,
    secrets: SecretBox | None = None,
    max_runtime_s: float | None = None,
    warn: Any = None,
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
    listener: Listener | None = None,
) -> ScrapeOutcome:
    """Every tracked query of `vendor`: reused from the search cache when fresh, else crawled
    through `open_vendor_fetch` with the vendor's stored session. Blocking (runs its own loop).

    The crawl holds the vendor's fetch lock (`vendor_lock`): while another process fetches the
    same vendor it waits, up to ``lock_wait_seconds``, then raises `VendorBusy`.

    Raises `SessionUnavailable` before any request when the vendor needs a login and has no
    usable session, and `ScrapeTimedOut` when the crawl takes longer than ``max_runtime_s``
    (every request in flight is cancelled, the sessions are closed, nothing is returned). A
    login wall met during the crawl marks the session invalid and is returned as
    `session_error` (the archive still records what happened to every search).

    ``listener`` hears each fetched page as it comes (an on-demand search streams them).
    """
    say = warn or logger.warning
    cookies: list[Cookie] | None = None
    session_id: int | None = None
    if vendor.session is not None:
        with engine.begin() as conn:
            try:
                stored = load_valid_session(conn, secrets or SecretBox(), vendor_id)
            except SecretKeyError as exc:
                raise SessionUnavailable(f"{vendor.name}: cannot read its session: {exc}") from None
        if stored is not None:
            cookies, session_id = stored.cookies, stored.id
        elif vendor.session.required:
            raise SessionUnavailable(
                f"{vendor.name}: {NO_SESSION}; log in with a browser, export the cookies and run "
                f"`market-pulse sessions import {vendor.name} FILE` (not scraping it logged out)")
    with engine.connect() as conn:
        cached = find_cached_runs(conn, vendor=vendor, vendor_id=vendor_id, queries=list(vendor.queries), asof=asof)
    to_fetch = [q for q in vendor.queries if q not in cached]

    # Detail pages fetched through this session are revalidated against the listing cache
    # (search pages are not: the hook lets them through without a lookup).
    extra = [listing_cache_hook(engine, vendor_id, vendor)] if vendor.fetch.mode == "http" else []

    async def crawl() -> tuple[list[SearchRun], VendorFetch | None]:
        async with open_vendor_fetch(vendor, http, browser, cookies=cookies, session_id=session_id,
                                     extra_hooks=extra, warn=say) as opened:
            return await crawl_vendor(vendor, opened.fetch, asof=asof, queries=to_fetch, listener=listener), opened

    async def bounded() -> tuple[list[SearchRun], VendorFetch | None]:
        budget = asyncio.timeout(max_runtime_s)
        try:
            async with budget:
                return await crawl()
        except TimeoutError:
            if not budget.expired():
                raise
            raise ScrapeTimedOut(
                f"{vendor.name}: the crawl of {len(to_fetch)} search(es) did not finish within its maximum run "
                f"time of {max_runtime_s:g} s and was stopped; nothing was archived for this partition "
                "(a hung or very slow shop: see the previous runs' timelines, or allow more time with the run's "
                "dagster/max_runtime tag)") from None

    fetched: list[SearchRun] = []
    opened: VendorFetch | None = None
    if to_fetch:
        with vendor_fetch_lock(engine, vendor_id=vendor_id, vendor=vendor.name, wait_seconds=lock_wait_seconds,
                               hold_after_seconds=1.0 / vendor.rate_limit.requests_per_second, say=say):
            fetched, opened = asyncio.run(bounded())
    by_query = {**cached, **{run.query: run for run in fetched}}
    runs = [by_query[q] for q in vendor.queries]
    report = opened.report() if opened is not None else {}
    session_error = opened.session_error if opened is not None else None
    if opened is not None and opened.circuit.is_open:
        for run in fetched:
            if run.error and "circuit open" in run.error:
                run.events.append(("circuit_open", {"message": opened.circuit.message}))
    if session_error is not None and session_id is not None:
        with engine.begin() as conn:
            mark_session_invalid(conn, session_id, session_error)
    return ScrapeOutcome(runs=runs, report=report, cache_hits=len(cached), session_error=session_error)
