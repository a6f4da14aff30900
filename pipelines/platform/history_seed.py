"""Many days of history at once: what the first start's demo seed runs instead of a run per partition.

A Dagster run per (day, vendor) partition costs a run record, a dozen events and, for a browser
vendor, a Chromium launch, each time: 150 partitions of a 30-day demo history took ~5 minutes on
two cores. Here one process does the same work as ``raw_captures`` and ``listings`` with the same
code and the same resources (the code location's), and with the same politeness:

- each vendor is crawled through **one** session (`open_vendor_fetch`: one browser for a browser
  vendor, its fence, robots, rate limit and concurrency shared by all its days), several of its
  days at once, while holding the vendor's fetch lock; the vendors are crawled concurrently;
- each (day, vendor) is archived as it completes (`replace_captures_partition`, one transaction);
- once a vendor's days are archived, they are parsed, audited and published in day order
  (`write_audit_publish`: history depends on the day before) in a worker process, so publishing
  overlaps the other vendors' crawls;
- every partition's outcome is recorded on the Dagster instance as the assets would record it: a
  materialisation of ``raw_captures`` and of ``listings`` (with their metadata) and the listings
  audits' check results, so the UI shows each partition materialised and its checks. Each event is
  a write with a new connection (~0.5 s of wall per partition on a busy machine); they are written
  from one thread of their own, in order, so the event loop keeps crawling the other vendors.

What a run per partition gives and this does not: a run to open per partition in the UI (the
materialisations say "reported" instead), and retries of a failed partition by the run's retry
policy (a failed partition is listed; re-run it with ``market-pulse run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dagster import AssetKey, AssetMaterialization, DagsterInstance

from infra.secrets import SecretBox
from pipelines.alerts.admin import AdminTargets
from pipelines.alerts.store import saved_search_queries
from pipelines.history.store import ensure_history_partitions
from pipelines.listings.assets import listings_metadata
from pipelines.listings.publish import write_audit_publish
from pipelines.listings.reporting import Verdict, plain_verdicts, report_listings
from pipelines.platform.runner import PartitionOutcome
from pipelines.scraping.archive import SearchRun, read_captures_partition, replace_captures_partition
from pipelines.scraping.crawl import crawl_vendor
from pipelines.scraping.fetching import DEFAULT_LOCK_WAIT_SECONDS, SessionUnavailable, open_vendor_fetch
from pipelines.scraping.listing_cache import listing_cache_hook
from pipelines.scraping.schedule_rules import ScrapeDateError, asof_for
from pipelines.scraping.sessions import NO_SESSION, Cookie, load_valid_session
from pipelines.scraping.tracked_queries import tracked_queries
from pipelines.scraping.vendor_lock import vendor_fetch_lock
from pipelines.shared.partitions import day_vendor_key
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.config.vendor import VendorConfig
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import vendor_id_for

logger = logging.getLogger(__name__)

RAW_CAPTURES = AssetKey("raw_captures")
DAYS_AT_ONCE = 4
"""Days of one vendor crawled at once; the vendor's rate limit and concurrency still hold (one session)."""


@dataclass
class _Vendor:
    name: str
    config: VendorConfig
    file: str
    vendor_id: int


def seed_history(resources: dict[str, Any], instance: DagsterInstance, days: Sequence[dt.date],
                 vendors: Sequence[str], *, workers: int = 2,
                 on_done: Callable[[PartitionOutcome], None] = lambda _: None,
                 lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS) -> list[PartitionOutcome]:
    """Scrape and publish every (day, vendor) of ``days`` x ``vendors``; one outcome per partition.

    ``resources`` are the code location's (warehouse, vendor_registry, http_fetcher, browser_fetcher,
    vendor_secrets, admin_targets). A vendor that cannot be crawled fails its partitions only."""
    warehouse: Warehouse = resources["warehouse"]
    registry: VendorRegistry = resources["vendor_registry"]
    ordered = sorted(days)
    outcomes: list[PartitionOutcome] = []
    picked: list[_Vendor] = []
    for name in vendors:
        try:
            config, file = registry.entry(name)
            with warehouse.connect() as conn:
                vendor_id = vendor_id_for(conn, name)
                queries = tracked_queries(name, config.queries, saved_search_queries(conn))
        except Exception as exc:  # a broken vendor file or an unknown vendor: its partitions fail
            for day in ordered:
                outcomes.append(_failed(day, name, str(exc).strip("'\"")))
                on_done(outcomes[-1])
            continue
        if queries != list(config.queries):
            config = config.model_copy(update={"queries": queries})
        picked.append(_Vendor(name, config, file, vendor_id))

    context = multiprocessing.get_context("spawn")
    with (contextlib.ExitStack() as locks, ProcessPoolExecutor(max_workers=max(workers, 1), mp_context=context) as pool,
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-reports") as reporter):
        for vendor in picked:  # one fetch of a vendor at a time, across the deployment
            locks.enter_context(vendor_fetch_lock(
                warehouse.engine, vendor_id=vendor.vendor_id, vendor=vendor.name, wait_seconds=lock_wait_seconds,
                hold_after_seconds=1.0 / vendor.config.rate_limit.requests_per_second))

        def finished(outcome: PartitionOutcome) -> None:
            outcomes.append(outcome)
            on_done(outcome)

        asyncio.run(_all_vendors(picked, ordered, resources, instance, pool, reporter, finished))
    return outcomes


async def _all_vendors(vendors: list[_Vendor], days: list[dt.date], resources: dict[str, Any],
                       instance: DagsterInstance, pool: ProcessPoolExecutor, reporter: ThreadPoolExecutor,
                       finished: Callable[[PartitionOutcome], None]) -> None:
    await asyncio.gather(*(_one_vendor(v, days, resources, instance, pool, reporter, finished) for v in vendors))


async def _one_vendor(vendor: _Vendor, days: list[dt.date], resources: dict[str, Any], instance: DagsterInstance,
                      pool: ProcessPoolExecutor, reporter: ThreadPoolExecutor,
                      finished: Callable[[PartitionOutcome], None]) -> None:
    """Crawl and archive every day through one session, then publish them in order in a worker."""
    warehouse: Warehouse = resources["warehouse"]
    archived: dict[dt.date, dict[str, Any]] = {}
    extra = ([listing_cache_hook(warehouse.engine, vendor.vendor_id, vendor.config)]
             if vendor.config.fetch.mode == "http" else [])
    gate = asyncio.Semaphore(DAYS_AT_ONCE)

    async def one_day(fetch: Any, day: dt.date) -> None:
        try:
            asof = asof_for(vendor.config, day)
        except ScrapeDateError as exc:
            finished(_failed(day, vendor.name, str(exc)))
            return
        async with gate:
            runs = await crawl_vendor(vendor.config, fetch, asof=asof)
        captures = await asyncio.to_thread(_archive, warehouse, vendor, day, runs)
        if captures.get("error"):
            finished(_failed(day, vendor.name, captures["error"], captures))
        else:
            archived[day] = captures

    try:
        async with open_vendor_fetch(vendor.config, resources["http_fetcher"], resources["browser_fetcher"],
                                     cookies=await asyncio.to_thread(_cookies, resources, vendor),
                                     extra_hooks=extra) as opened:
            await asyncio.gather(*(one_day(opened.fetch, day) for day in days))
    except Exception as exc:  # the session could not be opened: every day not archived fails
        logger.exception("%s: crawl failed", vendor.name)
        for day in days:
            if day not in archived:
                finished(_failed(day, vendor.name, f"{vendor.name}: {exc}"))
    ready = [day for day in days if day in archived]
    loop = asyncio.get_running_loop()

    def report_captures() -> None:
        for day in ready:
            instance.report_runless_asset_event(AssetMaterialization(
                RAW_CAPTURES, partition=day_vendor_key(day, vendor.name), metadata=archived[day]))

    captures_reported = loop.run_in_executor(reporter, report_captures)
    if not ready:
        await captures_reported
        return
    admin: AdminTargets = resources.get("admin_targets") or AdminTargets()
    published = await loop.run_in_executor(pool, publish_days, warehouse.database_url, vendor.config, vendor.file,
                                           vendor.vendor_id, ready, admin)
    await captures_reported

    def report_published() -> None:
        for day, (failure, metadata, verdicts) in zip(ready, published, strict=True):
            report_listings(instance, str(day_vendor_key(day, vendor.name)), verdicts,
                            metadata if failure is None else None)

    await loop.run_in_executor(reporter, report_published)
    for day, (failure, metadata, _) in zip(ready, published, strict=True):
        finished(PartitionOutcome(day=day, vendor=vendor.name, success=failure is None, run_id="", error=failure,
                                  captures=archived[day], listings=_plain(metadata)))


def _cookies(resources: dict[str, Any], vendor: _Vendor) -> list[Cookie] | None:
    """The vendor's stored session, as ``raw_captures`` uses it (`SessionUnavailable` when one is required)."""
    if vendor.config.session is None:
        return None
    with resources["warehouse"].begin() as conn:
        stored = load_valid_session(conn, resources.get("vendor_secrets") or SecretBox(), vendor.vendor_id)
    if stored is None and vendor.config.session.required:
        raise SessionUnavailable(f"{vendor.name}: {NO_SESSION}; import one with `market-pulse sessions import`")
    return stored.cookies if stored is not None else None


def _archive(warehouse: Warehouse, vendor: _Vendor, day: dt.date, runs: list[SearchRun]) -> dict[str, Any]:
    """``raw_captures``' work and metadata for one day (an ``error`` when every search failed)."""
    with warehouse.begin() as conn:  # the day's month first, as raw_captures does
        ensure_history_partitions(conn, day)
    with warehouse.begin() as conn:
        summary = replace_captures_partition(conn, vendor_id=vendor.vendor_id, partition_date=day, runs=runs)
    captures: dict[str, Any] = {"searches": summary.searches, "pages": summary.pages,
                                "items": sum(r.items for r in runs), "bytes": summary.bytes,
                                "new_bodies": summary.bodies_new, "requests": sum(r.requests for r in runs)}
    if runs and all(r.status == "failed" for r in runs):
        captures["error"] = f"{vendor.name}: every search failed (" + "; ".join(
            f"'{r.query}': {r.error}" for r in runs) + ")"
    return captures


Published = tuple[str | None, dict[str, Any], list[Verdict]]
"""One day's listings step: (failure or None, the asset's metadata, the audits' verdicts)."""


def publish_days(database_url: str | None, vendor: VendorConfig, vendor_file: str, vendor_id: int,
                 days: list[dt.date], admin_targets: AdminTargets) -> list[Published]:
    """``listings``' work for each day in order (in a worker process): (failure, metadata, verdicts)."""
    warehouse = Warehouse(database_url=database_url)
    out: list[Published] = []
    for day in days:
        with warehouse.begin() as conn:
            pages = read_captures_partition(conn, vendor_id=vendor_id, partition_date=day)
            outcome = write_audit_publish(conn, vendor=vendor, vendor_id=vendor_id, day=day, pages=pages,
                                          admin_targets=admin_targets, vendor_file=vendor_file)
        verdicts = plain_verdicts(outcome.verdicts)
        metadata = listings_metadata(len(pages), outcome) if outcome.failure is None else {}
        out.append((outcome.failure, metadata, verdicts))
    return out


def _plain(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in metadata.items() if k != "preview"}


def _failed(day: dt.date, vendor: str, error: str, captures: dict[str, Any] | None = None) -> PartitionOutcome:
    return PartitionOutcome(day=day, vendor=vendor, success=False, run_id="", error=error, captures=captures or {})
