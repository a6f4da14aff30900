"""``vendor_catalog``: the vendor files, synced into the ``vendors`` table."""

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset
from sqlalchemy import text

from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.catalog import vendor_row
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.resources import VendorRegistry

UPSERT_VENDOR = text("""
    INSERT INTO vendors (name, display_name, base_url, country, currency, is_active, config, config_hash)
    VALUES (:name, :display_name, :base_url, :country, :currency, :is_active,
            CAST(:config AS jsonb), :config_hash)
    ON CONFLICT (name) DO UPDATE SET
        display_name = EXCLUDED.display_name, base_url = EXCLUDED.base_url,
        country = EXCLUDED.country, currency = EXCLUDED.currency, is_active = EXCLUDED.is_active,
        config = EXCLUDED.config, config_hash = EXCLUDED.config_hash
    WHERE (vendors.config_hash, vendors.is_active) IS DISTINCT FROM (EXCLUDED.config_hash, EXCLUDED.is_active)
    RETURNING (xmax = 0) AS inserted
""")

DEACTIVATE_MISSING = text("""
    UPDATE vendors SET is_active = false
    WHERE is_active AND NOT (name = ANY(:names))
    RETURNING name
""")


@asset(
    group_name="vendors",
    compute_kind="postgres",
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
            result = conn.execute(UPSERT_VENDOR, row.as_params()).first()
            if result is not None:
                inserted += int(result.inserted)
                updated += int(not result.inserted)
        deactivated = [r.name for r in conn.execute(DEACTIVATE_MISSING, {"names": [r.name for r in rows]})]
        total = conn.execute(text("SELECT count(*) FROM vendors")).scalar_one()
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
