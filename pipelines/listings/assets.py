"""``listings``: the day's archived pages of one vendor, parsed, audited and only then published."""

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    ResourceParam,
    asset,
)

from pipelines.alerts.admin import AdminTargets
from pipelines.alerts.immediate import StepAlerts, alert_published_partition
from pipelines.alerts.notifier import Notifier
from pipelines.listings.checks import check_results, listings_check_specs
from pipelines.listings.publish import PartitionOutcome, write_audit_publish
from pipelines.parsing.currencies import with_decimals
from pipelines.scraping.archive import read_captures_partition
from pipelines.shared.markdown import markdown_table
from pipelines.shared.partitions import split_key
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import UnknownVendor, vendor_id_for

MAX_LOGGED_FAILURES = 20


def build_listings(partitions_def: PartitionsDefinition) -> AssetsDefinition:
    @asset(
        partitions_def=partitions_def,
        deps=["raw_captures"],
        group_name="listings",
        kinds={"postgres"},
        check_specs=listings_check_specs(partitions_def),
        description="Listings parsed from the partition's archived pages (no network), staged and audited "
        "(layout unchanged, fields present, prices, currencies, parse failures) and only then published: "
        "listings, attributes, images, price history, search positions, sold and removed flags. A partition "
        "that fails a blocking audit publishes nothing and keeps the day's earlier data. Re-materialising "
        "a past day re-parses its archive, so a fixed extraction rule repairs history. Once published, the "
        "saved searches are matched against the partition and the first messages sent (the alert sensor "
        "catches up on anything left).",
    )
    def listings(context: AssetExecutionContext, warehouse: Warehouse, vendor_registry: VendorRegistry,
                 admin_targets: ResourceParam[AdminTargets],
                 notifier: Notifier) -> Iterator[MaterializeResult | AssetCheckResult]:
        day, name = split_key(context.partition_key.keys_by_dimension)
        try:
            vendor, vendor_file = vendor_registry.entry(name)
        except (VendorConfigError, KeyError) as exc:  # a broken vendor file: its errors, one line each
            raise Failure(description=str(exc).strip("'\""), allow_retries=False) from None
        with warehouse.begin() as conn:
            try:
                vendor_id = vendor_id_for(conn, name)
            except UnknownVendor as exc:
                raise Failure(description=str(exc), allow_retries=False) from None
            pages = read_captures_partition(conn, vendor_id=vendor_id, partition_date=day)
            if not pages:
                raise Failure(description=f"{name} {day}: no archived pages; materialize raw_captures first",
                              allow_retries=False)
            outcome = write_audit_publish(conn, vendor=vendor, vendor_id=vendor_id, day=day, pages=pages,
                                          admin_targets=admin_targets, vendor_file=vendor_file)
        _log(context, outcome)
        results = check_results(outcome.verdicts)
        if outcome.failure is not None:
            # The audits' results first (they are what the UI shows on the asset), then the failure:
            # no materialisation, so the partition's last materialisation stays the published one.
            yield from results
            raise Failure(description=outcome.failure, allow_retries=False, metadata={
                "admin_notices_queued": outcome.notices_queued,
                "parse_failures": len(outcome.parsed.item_failures),
                "listings_staged": len(outcome.parsed.items),
            })
        yield MaterializeResult(metadata=listings_metadata(len(pages), outcome), check_results=results)
        # After the yield: the materialisation is recorded (and the partition committed) before
        # alerts are matched and sent, and nothing here can fail the step.
        _log_alerts(context, alert_published_partition(warehouse, notifier, day=day, vendor=name))

    return listings


def _log_alerts(context: AssetExecutionContext, alerts: StepAlerts) -> None:
    for line in alerts.info:
        context.log.info(line)
    for line in alerts.warnings:
        context.log.warning(line)


def _log(context: AssetExecutionContext, outcome: PartitionOutcome) -> None:
    parsed = outcome.parsed
    for failure in parsed.item_failures[:MAX_LOGGED_FAILURES]:
        context.log.warning(f"skipped item: query '{failure['query']}' page {failure['page']} "
                            f"#{failure['position']} ({failure['external_id'] or 'no id'}): {failure['reason']}")
    for error in parsed.page_errors:
        context.log.warning(f"unparseable page: query '{error['query']}' page {error['page']}: {error['error']}")
    if parsed.unmapped_conditions:
        context.log.warning(f"conditions not mapped into the vocabulary (stored without a condition): "
                            f"{', '.join(sorted(parsed.unmapped_conditions))}; add them to the condition "
                            "field's map in the vendor file")
    for line in outcome.warnings:
        context.log.warning(f"published with a warning: {line}")
    if outcome.failure is not None:
        context.log.error(outcome.failure)
        if outcome.notices_queued:
            context.log.info(f"admins notified: {outcome.notices_queued} notice(s) queued")
        if outcome.notice_error:
            context.log.error(f"admins not notified: {outcome.notice_error}")


def listings_metadata(pages: int, outcome: PartitionOutcome) -> dict[str, Any]:
    parsed, summary = outcome.parsed, outcome.summary
    assert summary is not None
    return {
        "pages": pages,
        "pages_parsed": parsed.pages_parsed,
        "listings_seen": summary.seen,
        "listings_new": summary.new,
        "listings_price_changed": summary.price_changed,
        "listings_sold": summary.sold,
        "listings_removed": summary.removed,
        "listings_active": summary.active,
        "parse_failures": len(parsed.item_failures),
        "parse_failure_rate": round(parsed.failure_rate, 4),
        "page_errors": len(parsed.page_errors),
        "audit_warnings": "; ".join(outcome.warnings) or "none",
        "unmapped_conditions": MetadataValue.json(dict(sorted(parsed.unmapped_conditions.items()))),
        "preview": MetadataValue.md(markdown_table(
            ["id", "title", "price", "sold"],
            [(r.external_id, r.title, None if r.price is None else f"{with_decimals(r.price, r.currency)} {r.currency}",
              "yes" if r.is_sold else "") for r in outcome.preview])),
    }
