"""``listings``: the day's archived pages of one vendor, parsed into listings and price history."""

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from pipelines.listings.parse import parse_partition
from pipelines.listings.store import partition_preview, replace_listings_partition, replace_parse_report
from pipelines.scraping.archive import read_captures_partition
from pipelines.shared.partitions import split_key
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import UnknownVendor, vendor_id_for

MAX_LOGGED_FAILURES = 20
MAX_STORED_FAILURES = 200

def build_listings(partitions_def):  # type: ignore[no-untyped-def]
    @asset(
        partitions_def=partitions_def,
        deps=["raw_captures"],
        group_name="listings",
        kinds={"postgres"},
        description="Listings parsed from the partition's archived pages (no network): upserted listings, "
        "attributes, images, price history, search positions, sold and removed flags. Re-materialising "
        "a past day re-parses its archive, so a fixed extraction rule repairs history.",
    )
    def listings(context: AssetExecutionContext, warehouse: Warehouse,
                 vendor_registry: VendorRegistry) -> MaterializeResult:
        day, name = split_key(context.partition_key.keys_by_dimension)  # type: ignore[attr-defined]
        vendor = vendor_registry.get(name)
        with warehouse.begin() as conn:
            try:
                vendor_id = vendor_id_for(conn, name)
            except UnknownVendor as exc:
                raise Failure(description=str(exc), allow_retries=False) from None
            pages = read_captures_partition(conn, vendor_id=vendor_id, partition_date=day)
            if not pages:
                raise Failure(description=f"{name} {day}: no archived pages; materialize raw_captures first",
                              allow_retries=False)
            parsed = parse_partition(vendor, day, pages)
            summary = replace_listings_partition(conn, vendor_id=vendor_id, partition_date=day,
                                                 items=parsed.items, positions=parsed.positions,
                                                 removed_after=vendor.removed_after_missing)
            report = None
            if parsed.item_failures or parsed.page_errors:
                report = {"item_failures": parsed.item_failures[:MAX_STORED_FAILURES],
                          "item_failure_count": len(parsed.item_failures), "page_errors": parsed.page_errors}
            replace_parse_report(conn, vendor_id=vendor_id, partition_date=day, report=report)
            preview = partition_preview(conn, vendor_id=vendor_id, partition_date=day)
        for failure in parsed.item_failures[:MAX_LOGGED_FAILURES]:
            context.log.warning(f"skipped item: query '{failure['query']}' page {failure['page']} "
                                f"#{failure['position']} ({failure['external_id'] or 'no id'}): {failure['reason']}")
        for error in parsed.page_errors:
            context.log.warning(f"unparseable page: query '{error['query']}' page {error['page']}: {error['error']}")
        if parsed.unmapped_conditions:
            context.log.warning(f"conditions not mapped into the vocabulary (stored without a condition): "
                                f"{', '.join(sorted(parsed.unmapped_conditions))}; add them to the condition "
                                "field's map in the vendor file")
        return MaterializeResult(metadata={
            "pages": len(pages),
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
            "unmapped_conditions": MetadataValue.json(dict(sorted(parsed.unmapped_conditions.items()))),
            "preview": MetadataValue.md(_preview_table(preview)),
        })

    return listings


def _preview_table(rows) -> str:  # type: ignore[no-untyped-def]
    lines = ["| id | title | price | sold |", "|---|---|---|---|"]
    for r in rows:
        price = "—" if r.price is None else f"{r.price} {r.currency}"
        title = r.title.replace("|", "/")[:80]
        lines.append(f"| {r.external_id} | {title} | {price} | {'yes' if r.is_sold else ''} |")
    return "\n".join(lines)
