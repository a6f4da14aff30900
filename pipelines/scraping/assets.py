"""``raw_captures``: the only asset that touches the network."""

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from pipelines.alerts.store import saved_search_queries
from pipelines.history.store import ensure_history_partitions
from pipelines.scraping.archive import SearchRun, replace_captures_partition
from pipelines.scraping.fetching import DEFAULT_LOCK_WAIT_SECONDS, ScrapeTimedOut, SessionUnavailable, scrape_vendor
from pipelines.scraping.resources import BrowserFetcherResource, HttpFetcherResource
from pipelines.scraping.schedule_rules import ScrapeDateError, asof_for
from pipelines.scraping.schedules import crawl_budget_s
from pipelines.scraping.tracked_queries import tracked_queries
from pipelines.scraping.vendor_lock import VendorBusy
from pipelines.shared.execution import FETCH_POOL, FETCH_STEP_TAGS
from pipelines.shared.markdown import markdown_table
from pipelines.shared.partitions import split_key
from pipelines.shared.resources import SecretBoxResource
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import UnknownVendor, vendor_id_for


def build_raw_captures(partitions_def: PartitionsDefinition,
                       lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS) -> AssetsDefinition:
    """The asset; a crawl waits up to ``lock_wait_seconds`` while another process fetches the same vendor."""

    @asset(
        partitions_def=partitions_def,
        deps=["vendor_catalog"],
        group_name="scraping",
        kinds={"httpx"},
        # Network-bound: Celery sends it to the `fetch` queue; the `fetch` pool can cap such steps
        # deployment-wide. One vendor is never crawled twice at once (vendor_lock).
        op_tags=FETCH_STEP_TAGS,
        pool=FETCH_POOL,
        description="Every tracked query of the vendor for the day, all pages, each response archived "
        "(compressed, stored once per content hash) with a `searches` row per query and its timeline.",
    )
    def raw_captures(context: AssetExecutionContext, warehouse: Warehouse, vendor_registry: VendorRegistry,
                     http_fetcher: HttpFetcherResource, browser_fetcher: BrowserFetcherResource,
                     vendor_secrets: SecretBoxResource) -> MaterializeResult:
        day, name = split_key(context.partition_key.keys_by_dimension)
        try:
            vendor = vendor_registry.get(name)
        except (VendorConfigError, KeyError) as exc:  # a broken vendor file: its errors, one line each
            raise Failure(description=str(exc).strip("'\""), allow_retries=False) from None
        try:
            asof = asof_for(vendor, day)
        except ScrapeDateError as exc:
            raise Failure(description=str(exc), allow_retries=False) from None
        with warehouse.connect() as conn:
            try:
                vendor_id = vendor_id_for(conn, name)
            except UnknownVendor as exc:
                raise Failure(description=str(exc), allow_retries=False) from None
        with warehouse.begin() as conn:  # this day's month and the months ahead, before anything is written
            made = ensure_history_partitions(conn, day)
        if made:
            context.log.info(f"{made} month partitions of the history tables made")
        with warehouse.connect() as conn:
            queries = tracked_queries(name, vendor.queries, saved_search_queries(conn))
        if queries != list(vendor.queries):
            context.log.info(f"{len(queries) - len(vendor.queries)} saved-search queries join the tracked ones")
            vendor = vendor.model_copy(update={"queries": queries})
        # Fetch policy (sessions, search cache, host fence, robots, throttle, circuit breaker): fetching.py
        try:
            outcome = scrape_vendor(vendor, vendor_id=vendor_id, asof=asof, engine=warehouse.engine,
                                    http=http_fetcher, browser=browser_fetcher, secrets=vendor_secrets,
                                    max_runtime_s=crawl_budget_s(context.run.tags), warn=context.log.warning,
                                    lock_wait_seconds=lock_wait_seconds)
        except (SessionUnavailable, ScrapeTimedOut) as exc:
            raise Failure(description=str(exc), allow_retries=False) from None
        except VendorBusy as exc:
            raise Failure(description=str(exc), allow_retries=True) from None
        runs = outcome.runs
        with warehouse.begin() as conn:
            summary = replace_captures_partition(conn, vendor_id=vendor_id, partition_date=day, runs=runs)
        by_status = {s: sum(r.status == s for r in runs) for s in ("success", "partial", "failed")}
        for run in runs:
            if run.error:
                context.log.warning(f"{name} '{run.query}': {run.status}: {run.error}")
        metadata = {
            "searches": summary.searches,
            "pages": summary.pages,
            "items": sum(r.items for r in runs),
            "bytes": summary.bytes,
            "new_bodies": summary.bodies_new,
            "requests": sum(r.requests for r in runs),
            "browser_seconds": round(sum(r.browser_seconds for r in runs), 2),
            "searches_by_status": MetadataValue.json(by_status),
            "searches_table": MetadataValue.md(_search_table(runs)),
            **outcome.metadata(),
        }
        if outcome.session_error is not None:
            raise Failure(description=f"{name}: {outcome.session_error}", metadata=metadata, allow_retries=False)
        if by_status["failed"] == len(runs):
            errors = "; ".join(f"'{r.query}': {r.error}" for r in runs)
            raise Failure(description=f"{name}: every search failed ({errors})", metadata=metadata,
                          allow_retries=True)
        return MaterializeResult(metadata=metadata)

    return raw_captures


def _search_table(runs: list[SearchRun]) -> str:
    return markdown_table(["query", "status", "pages", "items", "ms", "error"],
                          [(r.query, f"{r.status}{' (cache hit)' if r.cache_hit else ''}", len(r.pages), r.items,
                            r.duration_ms, r.error or "") for r in runs])
