"""``price_snapshots``: each product's daily market, from the offers matched to it."""

from collections import defaultdict

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue

from pipelines.prices.store import price_history, replace_price_snapshots, snapshot_preview
from pipelines.products.assets import product_matches
from pipelines.shared.charts import PricePoint, price_history_png
from pipelines.shared.markdown import markdown_table, png_markdown
from pipelines.shared.rollups import (
    daily_rollup,
    record_window_metadata,
    window_of,
)
from pipelines.shared.warehouse import Warehouse

HISTORY_DAYS = 30
WATCHED_PRODUCTS = 4


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
    series: dict[str, list[PricePoint]] = defaultdict(list)
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
