"""``product_matches`` and ``price_snapshots``: from listings to products and their daily market."""

import datetime as dt
from collections import defaultdict

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue

from pipelines.prices.store import (
    match_products,
    matched_listings_per_day,
    price_history,
    product_preview,
    replace_price_snapshots,
    snapshot_preview,
)
from pipelines.products.identity import DEFAULT_RULES_PATH, RulesError, load_rules
from pipelines.shared.charts import price_history_png
from pipelines.shared.markdown import markdown_table, png_markdown
from pipelines.shared.rollups import (
    daily_rollup,
    day_counts,
    record_window_metadata,
    window_of,
)
from pipelines.shared.warehouse import Warehouse

HISTORY_DAYS = 30
WATCHED_PRODUCTS = 4


@daily_rollup(
    group_name="prices",
    description="Listings of the same real product across vendors matched onto one `products` row "
    "(`listings.product_id`): vendor GTIN/EAN or card number first, else a normalised title key; "
    f"rules in `{DEFAULT_RULES_PATH.relative_to(DEFAULT_RULES_PATH.parents[1])}`. Covers every listing "
    "seen in the window; re-materialise after editing the rules.",
)
def product_matches(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    window = window_of(context)
    try:
        rules = load_rules()
    except RulesError as exc:
        raise Failure(description=f"invalid product rules: {exc}", allow_retries=False) from None
    with warehouse.begin() as conn:
        summary = match_products(conn, window, rules)
        per_day = day_counts(matched_listings_per_day(conn, window))
        preview = product_preview(conn, window)
    context.log.info(f"{window}: {summary.listings} listings on {summary.products} products "
                     f"({summary.products_new} new, {summary.reassigned} listings re-assigned)")
    record_window_metadata(context, window, per_day, {
        "preview": MetadataValue.md(markdown_table(
            ["product", "key", "listings", "vendors"],
            [(r.name, r.product_key, r.listings, r.vendors) for r in preview])),
    })
    return MaterializeResult(metadata={
        "window": str(window),
        "listings_matched": summary.listings,
        "products": summary.products,
        "products_new": summary.products_new,
        "products_total": summary.products_total,
        "cross_vendor_products": summary.cross_vendor_products,
        "matched_by_gtin": summary.by_gtin,
        "matched_by_card_number": summary.by_card_number,
        "matched_by_title": summary.by_title,
        "listings_reassigned": summary.reassigned,
    })


@daily_rollup(
    group_name="prices",
    deps=[product_matches],
    description="Each product's market per day and currency, from the offers sighted that day (priced, not "
    "sold): sample size, min/max/mean, market value (median), FMV band (25th-75th percentile after "
    "trimming outliers with 1.5 IQR Tukey fences), quick sale (20th pct) and patient sale (80th pct), "
    "volume confidence (low < 5 offers <= medium < 15 <= high), breakdowns by vendor and condition. "
    "Set-based SQL over the whole window (`pipelines/prices/sql/insert_price_snapshots.sql`).",
)
def price_snapshots(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    window = window_of(context)
    with warehouse.begin() as conn:
        days = replace_price_snapshots(conn, window)
        preview = snapshot_preview(conn, window.last)
        history = price_history(conn, window.last, days=HISTORY_DAYS, top=WATCHED_PRODUCTS)
    series: dict[str, list[tuple[dt.date, object, object, object]]] = defaultdict(list)
    for r in history:
        series[f"{r.name} ({r.currency})"].append((r.snapshot_date, r.market_value, r.fmv_low, r.fmv_high))
    chart = price_history_png(series, f"Market value and FMV band, {HISTORY_DAYS} days to {window.last}")
    last = next((d for d in days if d.day == window.last), None)
    record_window_metadata(context, window, {d.day: d.snapshots for d in days}, {
        "products": last.products if last else 0,
        "currencies": last.currencies if last else 0,
        "offers": last.offers if last else 0,
        "high_confidence_snapshots": last.high_confidence if last else 0,
        "preview": MetadataValue.md(f"**{window.last}**, most offered products\n\n" + markdown_table(
            ["product", "cur", "n", "min", "quick", "fmv low", "market", "fmv high", "patient", "max", "conf."],
            [tuple(r) for r in preview])),
        "price_history": MetadataValue.md(png_markdown(chart, "price history of the most-watched products")),
    })
    return MaterializeResult(metadata={"window": str(window), "snapshots_in_window": sum(d.snapshots for d in days)})
