"""``product_matches``: listings of the same real product, across vendors, onto one ``products`` row."""

from dagster import AssetExecutionContext, Config, Failure, MaterializeResult, MetadataValue

from pipelines.products.identity import DEFAULT_RULES_PATH, RulesError, load_rules
from pipelines.products.store import match_products, matched_listings_per_day, product_preview
from pipelines.shared.markdown import markdown_table
from pipelines.shared.rollups import daily_rollup, day_counts, record_window_metadata, window_of
from pipelines.shared.warehouse import Warehouse


class ProductMatchesConfig(Config):
    rematch_all: bool = False
    """Match every listing of the window again, not only new and changed ones (rules changes are
    picked up without it: a listing matched under other rules counts as changed)."""


@daily_rollup(
    group_name="prices",
    description="Listings of the same real product across vendors matched onto one `products` row "
    "(`listings.product_id`, with `match_method` and `match_score`): GTIN, then manufacturer part number, "
    "then the rule-based title key, then title similarity - each listing compared with the products "
    "sharing a blocking key with it, never chained through one member; refurbished units, accessories "
    "and bundles stay apart; people's decisions (`market-pulse products merge|split`) first. Rules in "
    f"`{DEFAULT_RULES_PATH.relative_to(DEFAULT_RULES_PATH.parents[1])}`; re-materialise after editing "
    "them (listings matched under other rules are matched again).",
)
def product_matches(context: AssetExecutionContext, config: ProductMatchesConfig,
                    warehouse: Warehouse) -> MaterializeResult:
    window = window_of(context)
    try:
        rules = load_rules()
    except RulesError as exc:
        raise Failure(description=f"invalid product rules: {exc}", allow_retries=False) from None
    with warehouse.begin() as conn:
        summary = match_products(conn, window, rules, rematch_all=config.rematch_all)
        per_day = day_counts(matched_listings_per_day(conn, window))
        preview = product_preview(conn, window)
    context.log.info(f"{window}: {summary.listings} listings matched ({summary.products_new} new products); "
                     f"{summary.listings_in_window} listings on {summary.products_in_window} products, "
                     f"{summary.cross_vendor_products} offered by several vendors")
    record_window_metadata(context, window, per_day, {
        "preview": MetadataValue.md(markdown_table(
            ["product", "key", "listings", "vendors"],
            [(r.name, r.product_key, r.listings, r.vendors) for r in preview])),
    })
    return MaterializeResult(metadata={
        "window": str(window),
        "listings_matched": summary.listings,
        "listings_in_window": summary.listings_in_window,
        "products": summary.products_in_window,
        "products_new": summary.products_new,
        "products_total": summary.products_total,
        "cross_vendor_products": summary.cross_vendor_products,
        "matched_by_gtin": summary.by_gtin,
        "matched_by_mpn": summary.by_mpn,
        "matched_by_rules": summary.by_rules,
        "matched_by_title": summary.by_title,
        "matched_by_decision": summary.by_decision,
        "founded_products": summary.founded,
    })
