"""``vendor_catalog``: the vendor files, synced into the ``vendors`` table."""

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.catalog import vendor_row
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import count_vendors, deactivate_missing, upsert_vendor


@asset(
    group_name="vendors",
    kinds={"postgres"},
    description="Vendor definitions from vendors/*.yaml, validated and synced into `vendors`. "
    "Vendors whose file disappeared are deactivated, never deleted, so their history stays.",
)
def vendor_catalog(context: AssetExecutionContext, warehouse: Warehouse,
                   vendor_registry: VendorRegistry) -> MaterializeResult:
    # Validate every file before writing anything: one bad file means no partial sync.
    try:
        rows = [vendor_row(vendor) for vendor in vendor_registry.load()]
    except VendorConfigError as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    inserted = updated = 0
    with warehouse.begin() as conn:
        for row in rows:
            outcome = upsert_vendor(conn, row)
            if outcome is not None:
                inserted += int(outcome)
                updated += int(not outcome)
        deactivated = deactivate_missing(conn, [r.name for r in rows])
        total = count_vendors(conn)
    context.log.info(f"{len(rows)} vendor files: {inserted} new, {updated} changed, "
                     f"{len(deactivated)} deactivated")
    preview = "\n".join(
        ["| vendor | name | country | currency | active |", "|---|---|---|---|---|"]
        + [f"| {r.name} | {r.display_name} | {r.country or ''} | {r.currency} | {r.is_active} |" for r in rows]
    )
    return MaterializeResult(metadata={
        "vendor_files": len(rows),
        "inserted": inserted,
        "updated": updated,
        "unchanged": len(rows) - inserted - updated,
        "deactivated": MetadataValue.json(deactivated),
        "row_count": MetadataValue.int(int(total)),
        "preview": MetadataValue.md(preview),
    })
