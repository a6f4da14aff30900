"""Housekeeping of the fetch caches: the scheduled ``prune_listing_cache`` job."""

from dagster import OpExecutionContext, ScheduleDefinition, job, op

from pipelines.scraping.listing_cache import prune_expired
from pipelines.shared.warehouse import Warehouse


@op(description="Delete listing_cache rows past their expires_at (the vendor's cache.listing_ttl).")
def prune_expired_listing_cache(context: OpExecutionContext, warehouse: Warehouse) -> int:
    deleted = prune_expired(warehouse.engine)
    context.log.info(f"pruned {deleted} expired listing cache row(s)")
    return deleted


@job(description="Prune expired cached detail pages (listing_cache).")
def prune_listing_cache() -> None:
    prune_expired_listing_cache()


prune_listing_cache_schedule = ScheduleDefinition(
    name="prune_listing_cache_hourly", job=prune_listing_cache, cron_schedule="17 * * * *",
    execution_timezone="UTC", description="Hourly: drop cached detail pages past their TTL.")
