"""Running one on-demand search: each vendor searched now, archived and published like its day.

Per vendor, concurrently (one thread each, at most `VENDORS_AT_ONCE`):

1. ``started``; the vendor's own today is the partition (its time zone, as the schedule uses);
2. the query is fetched by `scrape_vendor`, the scheduled crawl's own function: the vendor's session,
   search cache, host fence, robots.txt, rate limit, retries and circuit breaker, and its fetch lock
   (one process fetches a vendor at a time, deployment-wide; a vendor busy for longer than
   `LOCK_WAIT_SECONDS` is an ``error`` for that vendor); every page is a ``page`` event as it comes;
3. the pages go into the day's ``raw_captures`` partition as a search marked with the request
   (`replace_captures_partition` with ``request_id``: the partition's other searches stay);
4. the day's ``listings`` partition is parsed, audited and published (`write_audit_publish`), as the
   ``listings`` step would; a blocking audit stops it and is the vendor's ``error``;
5. both materialisations are reported to Dagster (the audits' verdicts in the listings metadata),
   so the partitions show them in the UI; the users' saved searches are matched against the
   partition and their alerts sent, as the listings step does, right after ``results``: what the
   search found, as published.

A vendor's failure is its own ``error`` event; the others go on. ``done`` ends the timeline.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dagster import AssetKey, AssetMaterialization, DagsterInstance, MetadataValue

from infra.secrets import SecretBox, SecretKeyError
from pipelines.alerts.admin import AdminTargets
from pipelines.alerts.immediate import alert_published_partition
from pipelines.alerts.notifier import Notifier
from pipelines.history.store import ensure_history_partitions
from pipelines.listings.assets import listings_metadata
from pipelines.listings.publish import write_audit_publish
from pipelines.listings.reporting import report_listings
from pipelines.on_demand import store
from pipelines.scraping.archive import read_captures_partition, replace_captures_partition
from pipelines.scraping.fetching import ScrapeTimedOut, SessionUnavailable, scrape_vendor
from pipelines.scraping.resources import BrowserFetcherResource, HttpFetcherResource
from pipelines.scraping.schedule_rules import ScrapeDateError, asof_for, vendor_today
from pipelines.scraping.vendor_lock import VendorBusy
from pipelines.shared.partitions import DayOutsidePartitions, check_partition_day, day_vendor_key
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import UnknownVendor, vendor_id_for

logger = logging.getLogger(__name__)

RAW_CAPTURES = AssetKey("raw_captures")
VENDORS_AT_ONCE = 4
LOCK_WAIT_SECONDS = 20.0
"""How long a vendor waits for another process's fetch of it (a scheduled scrape) before giving up."""
MAX_RUNTIME_SECONDS = 120.0
RESULTS_SHOWN = 100
"""Listings per vendor carried in its ``results`` event (the count covers them all)."""

EXPECTED = (VendorConfigError, KeyError, UnknownVendor, ScrapeDateError, DayOutsidePartitions, SessionUnavailable,
            ScrapeTimedOut, VendorBusy, SecretKeyError)
"""Failures that are the vendor's, with a message meant for the user."""

Listener = Callable[[str, str | None, dict[str, Any]], None]
"""Told each event after it is stored: (event type, vendor, data)."""


@dataclass(frozen=True)
class SearchResources:
    """What a search needs of the code location: its resources, and the instance to report to."""

    warehouse: Warehouse
    registry: VendorRegistry
    http: HttpFetcherResource
    browser: BrowserFetcherResource
    secrets: SecretBox | None = None
    admin_targets: AdminTargets | None = None
    notifier: Notifier | None = None
    """Sends the saved searches' alerts for what a search published, as the listings step does."""
    instance: DagsterInstance | None = None

    @classmethod
    def of(cls, resources: Mapping[str, Any], instance: DagsterInstance | None) -> SearchResources:
        """From the code location's built resources (by their names in the definitions)."""
        return cls(warehouse=resources["warehouse"], registry=resources["vendor_registry"],
                   http=resources["http_fetcher"], browser=resources["browser_fetcher"],
                   secrets=resources.get("vendor_secrets"), admin_targets=resources.get("admin_targets"),
                   notifier=resources.get("notifier"), instance=instance)


@dataclass(frozen=True)
class VendorOutcome:
    vendor: str
    pages: int = 0
    results: int = 0
    error: str | None = None


@dataclass(frozen=True)
class SearchSummary:
    request_id: int
    status: str
    pages: int
    results: int
    errors: list[str]


class VendorFailed(Exception):
    """The vendor's search did not get to results; the message says why."""


class Timeline:
    """Stores each event (its own transaction, so the stream sees it at once), then tells ``listener``."""

    def __init__(self, warehouse: Warehouse, request_id: int, listener: Listener | None = None) -> None:
        self.warehouse, self.request_id, self.listener = warehouse, request_id, listener

    def __call__(self, event_type: str, data: dict[str, Any], vendor: str | None = None) -> None:
        with self.warehouse.begin() as conn:
            store.add_event(conn, self.request_id, event_type, data, vendor)
        if self.listener is not None:
            self.listener(event_type, vendor, data)


def run_search(res: SearchResources, request_id: int, listener: Listener | None = None) -> SearchSummary:
    """Search every vendor of the request now (see the module doc); the request ends ``done`` (some
    vendor reached results or none was asked) or ``failed`` (every vendor failed)."""
    with res.warehouse.connect() as conn:
        request = store.request(conn, request_id)
    if request is None:
        raise LookupError(f"no on-demand search {request_id}")
    timeline = Timeline(res.warehouse, request_id, listener)
    vendors = list(request.vendors) or [v.name for v in res.registry.load() if v.enabled]
    with ThreadPoolExecutor(max_workers=max(1, min(len(vendors), VENDORS_AT_ONCE)),
                            thread_name_prefix="on-demand") as pool:
        outcomes = list(pool.map(lambda name: _one_vendor(res, request_id, request.query, name, timeline), vendors))
    errors = [o.error for o in outcomes if o.error]
    status = "failed" if outcomes and len(errors) == len(outcomes) else store.DONE
    pages, results = sum(o.pages for o in outcomes), sum(o.results for o in outcomes)
    with res.warehouse.begin() as conn:
        store.finish_request(conn, request_id, status=status, pages=pages, results=results,
                             error="; ".join(errors) or None)
    timeline("done", {"status": status, "vendors": len(outcomes), "failed": len(errors), "pages": pages,
                      "results": results})
    return SearchSummary(request_id, status, pages, results, errors)


def fail_request(warehouse: Warehouse, request_id: int, message: str) -> None:
    """End a request that could not run at all (its ``done`` says so)."""
    with warehouse.begin() as conn:
        store.finish_request(conn, request_id, status="failed", pages=0, results=0, error=message)
    Timeline(warehouse, request_id)("done", {"status": "failed", "error": message, "pages": 0, "results": 0})


def _one_vendor(res: SearchResources, request_id: int, query: str, name: str, timeline: Timeline) -> VendorOutcome:
    clock = time.perf_counter()
    pages = 0

    def page_fetched(_query: str, _kind: str, data: dict[str, Any]) -> None:
        nonlocal pages
        pages += 1
        timeline("page", {key: data[key] for key in ("page", "status", "items", "error")}, name)

    try:
        config, vendor_file = res.registry.entry(name)
        if not config.enabled:
            raise VendorFailed(f"{name} is switched off in its vendor file (enabled: false)")
        day = check_partition_day(vendor_today(config))
        timeline("started", {"query": query, "partition": str(day_vendor_key(day, name))}, name)
        asof = asof_for(config, day)
        with res.warehouse.connect() as conn:
            vendor_id = vendor_id_for(conn, name)
        with res.warehouse.begin() as conn:
            ensure_history_partitions(conn, day)
        outcome = scrape_vendor(config.model_copy(update={"queries": [query]}), vendor_id=vendor_id, asof=asof,
                                engine=res.warehouse.engine, http=res.http, browser=res.browser, secrets=res.secrets,
                                max_runtime_s=MAX_RUNTIME_SECONDS, lock_wait_seconds=LOCK_WAIT_SECONDS,
                                listener=page_fetched, warn=lambda message: logger.warning("%s", message))
        if outcome.session_error is not None:
            raise VendorFailed(f"{name}: {outcome.session_error}")
        with res.warehouse.begin() as conn:
            archived = replace_captures_partition(conn, vendor_id=vendor_id, partition_date=day, runs=outcome.runs,
                                                  request_id=request_id)
        run = outcome.runs[0]
        pages = archived.pages
        _report_captures(res.instance, day, name, query, request_id, archived.pages, run.items, run.cache_hit)
        if run.status == "failed":
            raise VendorFailed(f"{name}: {run.error}")
        with res.warehouse.begin() as conn:
            captured = read_captures_partition(conn, vendor_id=vendor_id, partition_date=day)
            published = write_audit_publish(conn, vendor=config, vendor_id=vendor_id, day=day, pages=captured,
                                            admin_targets=res.admin_targets or AdminTargets(),
                                            vendor_file=vendor_file)
        if res.instance is not None and published.failure is None:
            # The audits' verdicts go in the metadata, not as check evaluations: Dagster keeps one
            # runless evaluation per check and partition, and a day may be searched many times.
            report_listings(res.instance, str(day_vendor_key(day, name)), [],
                            {**listings_metadata(len(captured), published), "trigger": "on-demand search",
                             "search_request": request_id,
                             "audits": MetadataValue.json({v.check: v.message for v in published.verdicts})})
        if published.failure is not None:
            raise VendorFailed(published.failure)
        with res.warehouse.connect() as conn:
            found = store.search_listings(conn, request_id=request_id, vendor_id=vendor_id, partition_date=day,
                                          limit=10_000)
        timeline("results", {"count": len(found), "pages": pages, "status": run.status, "error": run.error,
                             "cache_hit": run.cache_hit, "seconds": round(time.perf_counter() - clock, 3),
                             "listings": [_listing(row) for row in found[:RESULTS_SHOWN]]}, name)
        if res.notifier is not None:  # as the listings step: match saved searches and send now (never raises)
            alerts = alert_published_partition(res.warehouse, res.notifier, day=day, vendor=name)
            for line in alerts.warnings:
                logger.warning("on-demand search %s: %s: %s", request_id, name, line)
        return VendorOutcome(name, pages=pages, results=len(found))
    except (*EXPECTED, VendorFailed) as exc:
        message = str(exc).strip("'\"")
    except Exception as exc:  # not the user's to fix: logged with its trace, told in one line
        logger.exception("on-demand search %s: %s failed", request_id, name)
        message = f"{name}: the search failed ({type(exc).__name__}); the server logged the details"
    timeline("error", {"message": message, "seconds": round(time.perf_counter() - clock, 3)}, name)
    return VendorOutcome(name, pages=pages, error=message)


def _report_captures(instance: DagsterInstance | None, day: dt.date, vendor: str, query: str, request_id: int,
                     pages: int, items: int, cache_hit: bool) -> None:
    if instance is None:
        return
    instance.report_runless_asset_event(AssetMaterialization(
        RAW_CAPTURES, partition=str(day_vendor_key(day, vendor)),
        metadata={"trigger": "on-demand search", "search_request": request_id, "query": query, "searches": 1,
                  "pages": pages, "items": items, "cache_hit": cache_hit}))


def _listing(row: Any) -> dict[str, Any]:
    price = row.price
    return {"id": row.id, "title": row.title, "price": str(price) if isinstance(price, Decimal) else price,
            "currency": row.currency, "url": row.url, "condition": row.condition, "sold": row.is_sold,
            "position": row.position}
