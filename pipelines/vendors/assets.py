"""``vendor_catalog``: the vendor files, synced into the ``vendors`` table, and a check naming the bad ones."""

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AutomationCondition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from pipelines.shared.markdown import markdown_table
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.catalog import vendor_row
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.config.loading import VendorFileProblem
from pipelines.vendors.resources import VendorRegistry
from pipelines.vendors.store import count_vendors, deactivate_missing, upsert_vendor

FILES_CHECK_CRON = "5 * * * *"
FILES_CHECK_DUE: AutomationCondition[AssetCheckKey] = AutomationCondition.cron_tick_passed(FILES_CHECK_CRON)
"""Hourly (at :05, off the hour other jobs favour): a file broken on disk shows within the hour."""


@asset(
    group_name="vendors",
    kinds={"postgres"},
    description="Vendor definitions from vendors/*.yaml, validated and synced into `vendors`. "
    "Vendors whose file disappeared are deactivated, never deleted, so their history stays; a vendor "
    "whose file is broken is left as it was (see the `vendor_files_valid` check).",
)
def vendor_catalog(context: AssetExecutionContext, warehouse: Warehouse,
                   vendor_registry: VendorRegistry) -> MaterializeResult:
    try:
        folder = vendor_registry.read()
    except VendorConfigError as exc:  # the folder itself is missing: nothing to sync
        raise Failure(description=str(exc), allow_retries=False) from None
    rows = [vendor_row(vendor) for vendor in folder.configs]
    broken = [p.name for p in folder.problems if p.name is not None]
    inserted = updated = 0
    with warehouse.begin() as conn:
        for row in rows:
            outcome = upsert_vendor(conn, row)
            if outcome is not None:
                inserted += int(outcome)
                updated += int(not outcome)
        # A broken file is not a removed one: its vendor keeps its row (and active flag) as it was.
        deactivated = deactivate_missing(conn, [r.name for r in rows] + broken)
        total = count_vendors(conn)
    context.log.info(f"{len(rows)} vendor files: {inserted} new, {updated} changed, "
                     f"{len(deactivated)} deactivated, {len(folder.problems)} invalid")
    for problem in folder.problems:
        for line in problem.errors:
            context.log.error(line)
    preview = markdown_table(["vendor", "name", "country", "currency", "active"],
                             [(r.name, r.display_name, r.country, r.currency, r.is_active) for r in rows])
    return MaterializeResult(metadata={
        "vendor_files": len(rows),
        "invalid_files": len(folder.problems),
        "inserted": inserted,
        "updated": updated,
        "unchanged": len(rows) - inserted - updated,
        "deactivated": MetadataValue.json(deactivated),
        "row_count": MetadataValue.int(int(total)),
        "preview": MetadataValue.md(preview),
    })


@asset_check(
    asset=vendor_catalog,
    automation_condition=FILES_CHECK_DUE,
    description="Every file in vendors/ is a valid vendor file. A bad one (malformed YAML, an unknown key, a cron "
    "or selector that does not work) fails this check naming the file and the field; its vendor is left out (no "
    "schedule, no partitions) and every other vendor runs as usual. Runs with every vendor_catalog "
    "materialisation and every hour, so a broken file shows here even before anyone syncs the catalogue.",
)
def vendor_files_valid(vendor_registry: VendorRegistry) -> AssetCheckResult:
    try:
        problems = vendor_registry.problems()
    except VendorConfigError as exc:  # the folder itself is missing
        return AssetCheckResult(passed=False, severity=AssetCheckSeverity.ERROR, description=str(exc))
    return files_check_result(problems)


def files_check_result(problems: tuple[VendorFileProblem, ...]) -> AssetCheckResult:
    """Failed (ERROR, not blocking: the good vendors go on) while any vendor file is invalid; the
    description is the first problem's line, the metadata every line."""
    lines = [line for problem in problems for line in problem.errors]
    description = "every vendor file is valid"
    if problems:
        more = f" (and {len(lines) - 1} more problem{'s' if len(lines) > 2 else ''})" if len(lines) > 1 else ""
        description = f"{len(problems)} invalid vendor file{'s' if len(problems) > 1 else ''}: {lines[0]}{more}"
    return AssetCheckResult(
        passed=not problems, severity=AssetCheckSeverity.ERROR,
        description=description,
        metadata={"invalid_files": MetadataValue.json([p.path for p in problems]),
                  "problems": MetadataValue.md("\n".join(f"- `{line}`" for line in lines) or "none")})
