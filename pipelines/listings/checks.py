"""Checks on ``listings``: the audits of each (day, vendor) partition, and a freshness check per vendor.

The audits (:mod:`pipelines.listings.audits`) run inside the ``listings`` step, on the staged
rows, before anything is published (write, audit, publish). They are declared here as the
asset's check specs, so each shows in the UI as an asset check of ``listings`` with its result
per partition: the blocking ones (severity ERROR) fail the step and leave the published data as
it was; ``listings_optional_fields_present`` only warns (published, reported). The rollups'
automation waits while any upstream partition of their day has a failed blocking check
(``pipelines/shared/rollups.py``); a re-run that passes clears it.
"""

import datetime as dt
import warnings
from collections.abc import Sequence

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AutomationCondition,
    MetadataValue,
    PartitionsDefinition,
    PreviewWarning,
    asset_check,
)

from pipelines.listings import audits
from pipelines.listings.audits import Verdict
from pipelines.listings.store import latest_vendor_days
from pipelines.shared.markdown import markdown_table
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.resources import VendorRegistry

MAX_DATA_AGE_DAYS = 2
"""A vendor is stale when its newest sighted day is older than this many days before today (UTC)."""

FRESHNESS_CRON = "0 */6 * * *"
FRESHNESS_DUE: AutomationCondition[AssetCheckKey] = AutomationCondition.cron_tick_passed(FRESHNESS_CRON)

AUDITS: dict[str, tuple[bool, str]] = {
    audits.LAYOUT: (True, "Layout unchanged: on the pages that fetched fine the listing selector matched listings, "
                    f"and at least {audits.MIN_SHARE_OF_RECENT:.0%} of the same searches' trailing "
                    f"{audits.RECENT_DAYS}-day median (a selector that stopped matching)."),
    audits.FIELDS: (True, "External id, title, price and listing URL present: none of them, filled on at least "
                    f"{audits.USUALLY_FILLED:.0%} of recent listings, is filled on at most "
                    f"{audits.NOW_MISSING:.0%} of today's."),
    audits.OPTIONAL: (False, "Optional fields (condition, location, seller, images, attributes, product code) "
                      "present as usual; a field gone missing is published and reported (warning)."),
    audits.PRICES: (True, "Every priced listing (price_kind `priced`) has a price, and no price is negative "
                    "(`on_request` listings legitimately have none)."),
    audits.CURRENCIES: (True, "Every listing's currency is a known ISO 4217 code."),
    audits.PARSE_FAILURES: (True, f"At most {audits.MAX_PARSE_FAILURE_RATE:.0%} of the listing elements on the "
                            "partition's parsed pages failed to parse."),
}
"""Check name -> (blocking, description), in the order the audits run."""


def listings_check_specs(partitions_def: PartitionsDefinition) -> list[AssetCheckSpec]:
    """The audits as check specs of the ``listings`` asset, partitioned like it (a Dagster preview
    feature; it is what ties a result to exactly its (day, vendor) partition)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return [AssetCheckSpec(name, asset="listings", blocking=blocking, description=description,
                               partitions_def=partitions_def)
                for name, (blocking, description) in AUDITS.items()]


def check_results(verdicts: Sequence[Verdict]) -> list[AssetCheckResult]:
    """The verdicts as check results: a failed blocking audit is an ERROR, a failed warning a WARN."""
    return [AssetCheckResult(
        check_name=v.check, passed=v.passed, description=v.message,
        severity=AssetCheckSeverity.ERROR if v.blocking else AssetCheckSeverity.WARN,
        metadata={key: MetadataValue.json(value) if isinstance(value, dict | list) else value
                  for key, value in v.metadata.items()},
    ) for v in verdicts]


@asset_check(asset="listings", automation_condition=FRESHNESS_DUE,
             description=f"Every enabled vendor has listings sighted within the last {MAX_DATA_AGE_DAYS} days "
             f"(UTC); evaluated every 6 hours, so a vendor that silently stops scraping is flagged (warning).")
def vendor_data_fresh(warehouse: Warehouse, vendor_registry: VendorRegistry) -> AssetCheckResult:
    names = [v.name for v in vendor_registry.load() if v.enabled]
    today = dt.datetime.now(dt.UTC).date()
    with warehouse.connect() as conn:
        rows = latest_vendor_days(conn, names)
    table: list[tuple[str, object, object, object, str]] = []
    stale: list[str] = []
    for name in names:
        r = rows.get(name)
        last = r.last_sighting if r else None
        age = (today - last).days if last else None
        if age is None or age > MAX_DATA_AGE_DAYS:
            stale.append(name)
        table.append((name, last or "never", (r.last_successful_search if r else None) or "never", age,
                      "stale" if name in stale else "fresh"))
    return AssetCheckResult(
        passed=not stale, severity=AssetCheckSeverity.WARN,
        description=f"stale vendors: {', '.join(stale)}" if stale else "every vendor is fresh",
        metadata={
            "stale_vendors": ", ".join(stale) or "none",
            "max_age_days": MAX_DATA_AGE_DAYS,
            "vendors": MetadataValue.md(markdown_table(
                ["vendor", "last sighted day", "last successful search", "age (days)", "state"], table)),
        })
