"""Checks on ``listings``: blocking ones per (day, vendor) partition, so bad data never reaches
the rollups, and a freshness check per vendor.

The blocking checks run in the same run as the listings partition they check (Dagster includes
an asset's checks when the asset is selected). A failure (severity ERROR) stops downstream assets
in that run, and the rollups' automation condition waits for every materialised upstream
partition to have passed its blocking checks (``pipelines/shared/rollups.py``).
"""

import datetime as dt
import warnings

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AutomationCondition,
    MetadataValue,
    PreviewWarning,
    asset_check,
)

from pipelines.listings.store import currency_counts, latest_vendor_days, parse_outcome, price_problems
from pipelines.parsing.standards import ISO_4217_CURRENCIES
from pipelines.shared.partitions import split_key
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import find_vendor_id

MAX_PARSE_FAILURE_RATE = 0.05
"""Largest share of listing elements on parsed pages that may fail to parse (per vendor and day)."""

MAX_DATA_AGE_DAYS = 2
"""A vendor is stale when its newest sighted day is older than this many days before today (UTC)."""

FRESHNESS_CRON = "0 */6 * * *"

def _partition(context: AssetCheckExecutionContext, warehouse: Warehouse) -> tuple[dt.date, str, int | None]:
    day, vendor = split_key(context.partition_key.keys_by_dimension)  # type: ignore[attr-defined]
    with warehouse.connect() as conn:
        vendor_id = find_vendor_id(conn, vendor)
    return day, vendor, vendor_id


def build_listings_checks(partitions_def) -> list[AssetChecksDefinition]:  # type: ignore[no-untyped-def]
    """The checks of ``listings`` for its day-by-vendor partitions (the definition is built from
    the vendor files, like the asset). Partitioned checks are a Dagster preview feature; they are
    what lets a failure block exactly the failing (day, vendor) partition."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return _build_listings_checks(partitions_def)


def _build_listings_checks(partitions_def) -> list[AssetChecksDefinition]:  # type: ignore[no-untyped-def]

    @asset_check(asset="listings", blocking=True, partitions_def=partitions_def,
                 description="Every priced listing (price_kind `priced`) of the partition has a price, and no "
                 "price is negative (`on_request` listings legitimately have none).")
    def listings_prices_valid(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
        day, vendor, vendor_id = _partition(context, warehouse)
        with warehouse.connect() as conn:
            r = price_problems(conn, vendor_id, day)
        bad = r.priced_without_price + r.negative
        return AssetCheckResult(passed=bad == 0, metadata={
            "sightings": r.sightings, "priced": r.priced, "priced_without_price": r.priced_without_price,
            "negative_prices": r.negative, "examples": ", ".join((r.examples or [])[:10]) or "none",
        }, description=None if bad == 0 else f"{vendor} {day}: {bad} listings with a missing or negative price")

    @asset_check(asset="listings", blocking=True, partitions_def=partitions_def,
                 description="Every listing's currency is a known ISO 4217 code.")
    def listings_currencies_known(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
        day, vendor, vendor_id = _partition(context, warehouse)
        with warehouse.connect() as conn:
            counts = currency_counts(conn, vendor_id, day)
        unknown = sorted(c for c in counts if c not in ISO_4217_CURRENCIES)
        return AssetCheckResult(passed=not unknown, metadata={
            "currencies": MetadataValue.json(counts), "unknown": ", ".join(unknown) or "none",
        }, description=f"{vendor} {day}: unknown currencies {unknown}" if unknown else None)

    @asset_check(asset="listings", blocking=True, partitions_def=partitions_def,
                 description=f"At most {MAX_PARSE_FAILURE_RATE:.0%} of the listing elements on the partition's "
                 "parsed pages failed to parse (from the `parse_report` search events).")
    def listings_parse_failures_low(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
        day, vendor, vendor_id = _partition(context, warehouse)
        with warehouse.connect() as conn:
            report, parsed = parse_outcome(conn, vendor_id, day)
        seen = parsed + report.failures
        rate = report.failures / seen if seen else 0.0
        return AssetCheckResult(passed=rate <= MAX_PARSE_FAILURE_RATE, metadata={
            "items_seen": seen, "parse_failures": report.failures, "parse_failure_rate": round(rate, 4),
            "threshold": MAX_PARSE_FAILURE_RATE, "page_errors": report.page_errors,
        }, description=None if rate <= MAX_PARSE_FAILURE_RATE else
            f"{vendor} {day}: {rate:.1%} of items unparseable (threshold {MAX_PARSE_FAILURE_RATE:.0%})")

    return [listings_prices_valid, listings_currencies_known, listings_parse_failures_low]


@asset_check(asset="listings", automation_condition=AutomationCondition.cron_tick_passed(FRESHNESS_CRON),
             description=f"Every enabled vendor has listings sighted within the last {MAX_DATA_AGE_DAYS} days "
             f"(UTC); evaluated every 6 hours, so a vendor that silently stops scraping is flagged (warning).")
def vendor_data_fresh(warehouse: Warehouse, vendor_registry: VendorRegistry) -> AssetCheckResult:
    names = [v.name for v in vendor_registry.load() if v.enabled]
    today = dt.datetime.now(dt.UTC).date()
    with warehouse.connect() as conn:
        rows = latest_vendor_days(conn, names)
    table, stale = [], []
    for name in names:
        r = rows.get(name)
        last = r.last_sighting if r else None
        age = (today - last).days if last else None
        if age is None or age > MAX_DATA_AGE_DAYS:
            stale.append(name)
        table.append(f"| {name} | {last or 'never'} | {(r.last_successful_search if r else None) or 'never'} | "
                     f"{'—' if age is None else age} | {'stale' if name in stale else 'fresh'} |")
    return AssetCheckResult(
        passed=not stale, severity=AssetCheckSeverity.WARN,
        description=f"stale vendors: {', '.join(stale)}" if stale else "every vendor is fresh",
        metadata={
            "stale_vendors": ", ".join(stale) or "none",
            "max_age_days": MAX_DATA_AGE_DAYS,
            "vendors": MetadataValue.md("| vendor | last sighted day | last successful search | age (days) | state |\n"
                                        "|---|---|---|---|---|\n" + "\n".join(table)),
        })
