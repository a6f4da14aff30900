"""``vendor_performance``, ``search_analytics`` and ``api_usage``: daily rollups of how scraping went, what was
searched and how the HTTP API was used."""

import datetime as dt
from collections import defaultdict

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue

from pipelines.analytics.store import (
    api_usage_preview,
    popular_queries,
    replace_api_usage,
    replace_search_analytics,
    replace_vendor_performance,
    tracked_price_history,
    vendor_performance_preview,
    vendor_success_history,
)
from pipelines.shared.charts import PricePoint, price_history_png, success_rate_png
from pipelines.shared.markdown import markdown_table, png_markdown
from pipelines.shared.rollups import (
    daily_rollup,
    record_window_metadata,
    window_of,
)
from pipelines.shared.warehouse import Warehouse

CHART_DAYS = 30
WATCHED_PRODUCTS = 4


@daily_rollup(
    group_name="analytics",
    description="Each vendor's day: searches, listings seen / new / sold / removed, average and p95 search "
    "duration, success rate (share of searches ending `success`), error count (searches ending `partial` "
    "or `failed`), cache hits, requests, bytes, browser seconds, and compute units (1 CU = 1 minute of "
    "fetch time = sum of search durations / 60 000 ms). SQL: `pipelines/analytics/sql/`.",
)
def vendor_performance(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    window = window_of(context)
    with warehouse.begin() as conn:
        days = replace_vendor_performance(conn, window)
        preview = vendor_performance_preview(conn, window.last)
        history = vendor_success_history(conn, window.last, days=CHART_DAYS)
    series: dict[str, list[tuple[dt.date, float | None]]] = defaultdict(list)
    for r in history:
        series[r.name].append((r.date, None if r.success_rate is None else float(r.success_rate)))
    chart = success_rate_png(series, f"Search success rate by vendor, {CHART_DAYS} days to {window.last}")
    record_window_metadata(context, window, {r.day: r.vendors for r in days}, {
        "preview": MetadataValue.md(f"**{window.last}**\n\n" + markdown_table(
            ["vendor", "searches", "success", "errors", "listings", "new", "sold", "removed", "avg ms", "p95 ms",
             "requests", "bytes", "cache hits", "CU"], [tuple(r) for r in preview])),
        "success_rate": MetadataValue.md(png_markdown(chart, "search success rate by vendor")),
    })
    return MaterializeResult(metadata={
        "window": str(window),
        "searches": int(sum(r.searches or 0 for r in days)),
        "errors": int(sum(r.errors or 0 for r in days)),
        "compute_units": float(sum(r.compute_units or 0 for r in days)),
    })


@daily_rollup(
    group_name="analytics",
    deps=["product_matches"],
    description="What the tracked queries found: per query and day (`search_query_stats`) searches, vendors, "
    "zero-result searches, listings found, cache-hit rate, and popularity over the trailing 7 and 30 days; "
    "per product, day and currency (`tracked_product_prices`) appearances in results, best position, "
    "queries, and min / median offered price, i.e. the price history of every tracked product.",
)
def search_analytics(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    window = window_of(context)
    with warehouse.begin() as conn:
        days = replace_search_analytics(conn, window)
        popular = popular_queries(conn, window.last)
        history = tracked_price_history(conn, window.last, days=CHART_DAYS, top=WATCHED_PRODUCTS)
    last = next((r for r in days if r.day == window.last), None)
    searches = sum(r.searches or 0 for r in days)
    cache_hits = sum(r.cache_hits or 0 for r in days)
    series: dict[str, list[PricePoint]] = defaultdict(list)
    for r in history:
        series[f"{r.name} ({r.currency})"].append((r.stats_date, r.median_price, r.min_price, r.median_price))
    chart = price_history_png(series, f"Median offer of the most-watched products, {CHART_DAYS} days")
    zero = [r for r in popular if r.zero_result_searches_7d]
    record_window_metadata(context, window, {r.day: r.queries + r.tracked_products for r in days}, {
        "tracked_products": last.tracked_products if last else 0,
        "zero_result_queries": last.zero_result_queries if last else 0,
        "popular_queries": MetadataValue.md(f"**{window.last}**\n\n" + markdown_table(
            ["query", "rank 7d", "searches 7d", "rank 30d", "searches 30d", "searches", "found", "zero",
             "zero 7d", "cache hit rate"], [tuple(r) for r in popular])),
        "zero_result_queries_7d": MetadataValue.md(markdown_table(
            ["query", "zero-result searches (7d)"], [(r.query, r.zero_result_searches_7d) for r in zero],
            empty="_none: every query found listings_")),
        "watched_price_history": MetadataValue.md(png_markdown(chart, "median offer of the most-watched products")),
    })
    return MaterializeResult(metadata={
        "window": str(window),
        "searches": int(searches),
        "cache_hit_rate": round(cache_hits / searches, 4) if searches else 0.0,
    })


@daily_rollup(
    group_name="analytics",
    description="The HTTP API's use per user and day (`api_usage_daily`), over all of the user's keys: keys "
    "used, requests, on-demand searches started, pages fetched for them and compute units (1 CU = one minute "
    "of server time), from the per-key counts the front door keeps in `api_key_usage` "
    "(`market-pulse keys usage` shows those).",
)
def api_usage(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    window = window_of(context)
    with warehouse.begin() as conn:
        days = replace_api_usage(conn, window)
        preview = api_usage_preview(conn, window.last)
    record_window_metadata(context, window, {r.day: r.users for r in days}, {
        "preview": MetadataValue.md(f"**{window.last}**\n\n" + markdown_table(
            ["user", "keys", "requests", "searches", "pages", "CU"], [tuple(r) for r in preview])),
    })
    return MaterializeResult(metadata={
        "window": str(window),
        "requests": int(sum(r.requests or 0 for r in days)),
        "compute_units": float(sum(r.compute_units or 0 for r in days)),
    })
