"""The daily rollups on a known market: one run for a whole window, equal to per-day runs, and
every statistic equal to an independent pandas computation on the same rows, to the currency's
minor unit (cents, whole rupiah, fils)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from dagster import AssetKey, materialize
from sqlalchemy import text

from pipelines.analytics.assets import search_analytics, vendor_performance
from pipelines.parsing.currencies import decimals
from pipelines.prices.assets import price_snapshots
from pipelines.prices.checks import price_snapshots_band_ordered, price_snapshots_samples_positive
from pipelines.shared.warehouse import Warehouse
from tests.support.market_data import seed_market

DAYS = [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(4)]
RANGE_TAGS = {"dagster/asset_partition_range_start": str(DAYS[0]),
              "dagster/asset_partition_range_end": str(DAYS[-1])}
ROLLUPS = [price_snapshots, vendor_performance, search_analytics]


@pytest.fixture(scope="module")
def market(warehouse: Warehouse):  # type: ignore[no-untyped-def]
    with warehouse.begin() as conn:
        return seed_market(conn, DAYS)


def _table(warehouse: Warehouse, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with warehouse.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


SNAPSHOT_ROWS = ("SELECT product_id, snapshot_date, currency, fmv_low, fmv_high, market_value, quick_sale, "
                 "patient_sale, sample_size, min_price, max_price, avg_price, volume_confidence, analyses "
                 "FROM price_snapshots ORDER BY 1, 2, 3")
VENDOR_ROWS = ("SELECT vendor_id, date, total_searches, total_listings, new_listings, sold_listings, removed_listings, "
               "avg_duration_ms, p95_duration_ms, success_rate, error_count, cache_hits, requests, bytes, "
               "browser_seconds, compute_units FROM vendor_performance ORDER BY 1, 2")
QUERY_ROWS = ("SELECT stats_date, query, searches, vendors, successful_searches, zero_result_searches, listings_found, "
              "cache_hits, cache_hit_rate, avg_duration_ms, searches_7d, searches_30d, zero_result_searches_7d, "
              "zero_result_searches_30d, popularity_rank_7d, popularity_rank_30d FROM search_query_stats ORDER BY 1, 2")
TRACKED_ROWS = ("SELECT product_id, stats_date, currency, appearances, listings, vendors, best_position, queries, "
                "priced_listings, min_price, median_price FROM tracked_product_prices ORDER BY 1, 2, 3")
ALL_ROWS = (SNAPSHOT_ROWS, VENDOR_ROWS, QUERY_ROWS, TRACKED_ROWS)


@pytest.fixture(scope="module")
def range_run(market, warehouse: Warehouse, dagster_storage_url: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The whole window materialised in one run (what a single-run backfill launches)."""
    from dagster import instance_for_test

    with instance_for_test(temp_dir=str(tmp_path_factory.mktemp("dagster")), overrides={
        "storage": {"postgres": {"postgres_url": dagster_storage_url}},
    }) as instance:
        before = len(instance.get_run_records())
        result = materialize([*ROLLUPS, price_snapshots_band_ordered, price_snapshots_samples_positive],
                             resources={"warehouse": warehouse}, instance=instance, tags=RANGE_TAGS)
        runs = len(instance.get_run_records()) - before
    return result, runs, [_table(warehouse, sql) for sql in ALL_ROWS]


def test_a_multi_day_window_is_one_run_and_equals_per_day_runs(range_run, warehouse: Warehouse,
                                                                dagster_instance) -> None:  # type: ignore[no-untyped-def]
    result, runs, tables = range_run
    assert result.success and runs == 1
    for asset in ROLLUPS:
        partitions = {e.partition for e in result.asset_materializations_for_node(asset.key.path[-1])}
        assert partitions == {str(d) for d in DAYS}
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    row_counts = {e.partition: e.metadata["dagster/row_count"].value
                  for e in result.asset_materializations_for_node("price_snapshots")}
    assert all(n > 0 for n in row_counts.values()) and sum(row_counts.values()) == len(tables[0])
    last = next(e for e in result.asset_materializations_for_node("price_snapshots") if e.partition == str(DAYS[-1]))
    assert "data:image/png;base64," in last.metadata["price_history"].value

    for day in DAYS:  # the same window, one run per day, must converge on identical rows
        materialize(ROLLUPS, partition_key=str(day), resources={"warehouse": warehouse}, instance=dagster_instance)
    assert [_table(warehouse, sql) for sql in ALL_ROWS] == tables
    assert dagster_instance.get_latest_materialization_event(AssetKey("price_snapshots")) is not None


# --- independent pandas computations --------------------------------------------------------------


def _frame(warehouse: Warehouse, sql: str) -> pd.DataFrame:
    with warehouse.connect() as conn:
        return pd.read_sql(text(sql), conn, coerce_float=False)  # keep numeric as Decimal


def _digits(prices: pd.Series, currency: str) -> int:
    """The currency's minor unit, or the offers' own decimals where they have more."""
    written = max(max(0, -Decimal(p).normalize().as_tuple().exponent) for p in prices)
    return max(decimals(currency), written)


def _half_up(mills: float, digits: int) -> Decimal:
    """A float amount in thousandths (exact or a clear non-tie) to a Decimal with ``digits``
    decimals, ties rounded up."""
    return Decimal(math.floor(mills / 10 ** (3 - digits) + 0.5)).scaleb(-digits)


def _mills(prices: pd.Series) -> np.ndarray:
    return np.array(sorted(int(Decimal(p) * 1000) for p in prices), dtype=np.int64)


def _quantiles(mills: np.ndarray, qs: list[float]) -> list[float]:
    return [float(v) for v in np.quantile(mills, qs)]  # linear interpolation, numpy/pandas default


def _stats(prices: pd.Series, currency: str, median: bool = False) -> dict:  # type: ignore[type-arg]
    mills, digits = _mills(prices), _digits(prices, currency)
    stats = {"n": len(mills), "min": Decimal(int(mills.min())) / 1000, "max": Decimal(int(mills.max())) / 1000,
             "avg": _half_up(float(mills.sum()) / len(mills), digits)}
    if median:
        stats["median"] = _half_up(_quantiles(mills, [0.5])[0], digits)
    return stats


def expected_snapshots(warehouse: Warehouse) -> dict:  # type: ignore[type-arg]
    sightings = _frame(warehouse, "SELECT listing_id, vendor_id, partition_date, price, currency, price_kind, is_sold "
                                  "FROM listing_sightings")
    listings = _frame(warehouse, "SELECT id AS listing_id, product_id, condition FROM listings")
    vendors = _frame(warehouse, "SELECT id AS vendor_id, name AS vendor FROM vendors")
    df = sightings.merge(listings, on="listing_id").merge(vendors, on="vendor_id")
    df = df[(df.price_kind == "priced") & df.price.notna() & ~df.is_sold & df.product_id.notna()].copy()
    df["condition"] = df.condition.fillna("unknown").replace("", "unknown")
    out = {}
    for (product_id, day, currency), g in df.groupby(["product_id", "partition_date", "currency"]):
        mills = _mills(g.price)
        q1, q3 = _quantiles(mills, [0.25, 0.75])
        low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        kept = mills[(mills >= low) & (mills <= high)]
        digits = _digits(g.price, currency)
        p20, p25, p50, p75, p80 = (_half_up(q, digits) for q in _quantiles(kept, [0.2, 0.25, 0.5, 0.75, 0.8]))
        whole = _stats(g.price, currency)
        n = whole["n"]
        out[(int(product_id), day, currency)] = {
            "fmv_low": p25, "fmv_high": p75, "market_value": p50, "quick_sale": p20, "patient_sale": p80,
            "sample_size": n,
            "min_price": whole["min"], "max_price": whole["max"], "avg_price": whole["avg"],
            "volume_confidence": "high" if n >= 15 else "medium" if n >= 5 else "low",
            "kept": len(kept), "trimmed": n - len(kept),
            "by_vendor": {v: _stats(x.price, currency) for v, x in g.groupby("vendor")},
            "by_condition": {c: _stats(x.price, currency) for c, x in g.groupby("condition")},
        }
    return out


def test_snapshot_statistics_equal_pandas_to_the_minor_unit(range_run, warehouse: Warehouse) -> None:  # type: ignore[no-untyped-def]
    expected = expected_snapshots(warehouse)
    rows = {(r.product_id, r.snapshot_date, r.currency): r for r in _frame(warehouse, SNAPSHOT_ROWS).itertuples()}
    assert set(rows) == set(expected) and len(rows) > 40
    assert any(k[2] == "EUR" for k in rows), "the EUR listing of a USD shop gets its own snapshot"
    kwd = [k for k in rows if k[2] == "KWD"]
    assert kwd and any(Decimal(str(rows[k].market_value)) % Decimal("0.01") for k in kwd), "fils are kept"
    idr = [Decimal(str(getattr(rows[k], c))) for k in rows if k[2] == "IDR" for c in ("market_value", "avg_price")]
    assert idr and all(v == v.to_integral_value() for v in idr), "whole rupiah, as the offers"
    assert any(e["trimmed"] > 0 for e in expected.values()), "the data has outliers to trim"
    for key, want in expected.items():
        got = rows[key]
        for column in ("fmv_low", "fmv_high", "market_value", "quick_sale", "patient_sale", "min_price", "max_price",
                       "avg_price"):
            assert Decimal(str(getattr(got, column))) == want[column], (key, column)
        assert (got.sample_size, got.volume_confidence) == (want["sample_size"], want["volume_confidence"])
        assert (got.analyses["kept"], got.analyses["trimmed"]) == (want["kept"], want["trimmed"])
        assert Decimal(str(got.analyses["fence_low"])) <= want["fmv_low"] <= want["fmv_high"] <= Decimal(
            str(got.analyses["fence_high"]))
        for part in ("by_vendor", "by_condition"):
            assert set(got.analyses[part]) == set(want[part]), (key, part)
            for name, stats in want[part].items():
                for stat, value in stats.items():
                    assert Decimal(str(got.analyses[part][name][stat])) == value, (key, part, name, stat)


def test_vendor_performance_equals_pandas(range_run, warehouse: Warehouse) -> None:  # type: ignore[no-untyped-def]
    searches = _frame(warehouse, "SELECT * FROM searches")
    sightings = _frame(warehouse, "SELECT listing_id, vendor_id, partition_date FROM listing_sightings")
    listings = _frame(warehouse, "SELECT vendor_id, sold_at, removed_at FROM listings")
    first_day = sightings.groupby("listing_id").partition_date.min()
    rows = {(r.vendor_id, r.date): r for r in _frame(warehouse, VENDOR_ROWS).itertuples()}
    assert len(rows) == 3 * len(DAYS)
    for (vendor_id, day), s in searches.groupby(["vendor_id", "partition_date"]):
        got = rows[(vendor_id, day)]
        seen = sightings[(sightings.vendor_id == vendor_id) & (sightings.partition_date == day)]
        assert got.total_searches == len(s)
        assert got.total_listings == len(seen)
        assert got.new_listings == int((first_day.loc[seen.listing_id] == day).sum())
        for column, stamp in (("sold_listings", "sold_at"), ("removed_listings", "removed_at")):
            stamps = listings[listings.vendor_id == vendor_id][stamp].dropna()
            assert getattr(got, column) == int((stamps.dt.tz_convert("UTC").dt.date == day).sum())
        assert got.avg_duration_ms == pytest.approx(s.duration_ms.mean())
        assert got.p95_duration_ms == pytest.approx(float(np.quantile(s.duration_ms, 0.95)))
        assert Decimal(str(got.success_rate)) == (Decimal(int((s.status == "success").sum())) / len(s)).quantize(
            Decimal("0.0001"), ROUND_HALF_UP)
        assert got.error_count == int((s.status != "success").sum())
        assert got.cache_hits == int(s.cache_hit.sum())
        assert (got.requests, got.bytes) == (s.requests.sum(), s.bytes.sum())
        assert got.browser_seconds == pytest.approx(s.browser_seconds.sum())
        assert Decimal(str(got.compute_units)) == (Decimal(int(s.duration_ms.sum())) / 60000).quantize(
            Decimal("0.0001"), ROUND_HALF_UP)


def test_search_analytics_equals_pandas(range_run, warehouse: Warehouse) -> None:  # type: ignore[no-untyped-def]
    searches = _frame(warehouse, "SELECT * FROM searches")
    searches["q"] = searches["query"].str.strip().str.lower()
    rows = {(r.stats_date, r.query): r for r in _frame(warehouse, QUERY_ROWS).itertuples()}
    assert {q for _, q in rows} == {"iphone", "samsung galaxy", "nintendo switch", "pikachu", "nothing matches"}
    for day in DAYS:
        window7 = searches[(searches.partition_date > day - dt.timedelta(days=7)) & (searches.partition_date <= day)]
        today = searches[searches.partition_date == day]
        ranking = window7.groupby("q").agg(n=("id", "size"), found=("items", "sum")).reset_index()
        ranking = ranking.sort_values(["n", "found", "q"], ascending=[False, False, True]).reset_index(drop=True)
        for rank, r in ranking.iterrows():
            got = rows[(day, r.q)]
            t = today[today.q == r.q]
            assert got.popularity_rank_7d == rank + 1
            assert got.searches_7d == r.n and got.searches == len(t)
            assert got.zero_result_searches == int(((t.status == "success") & (t["items"] == 0)).sum())
            assert got.cache_hits == int(t.cache_hit.sum()) and got.listings_found == int(t["items"].sum())
            assert got.vendors == t.vendor_id.nunique()
    assert rows[(DAYS[-1], "nothing matches")].zero_result_searches_7d > 0

    hits = _frame(warehouse, "SELECT s.partition_date AS day, lower(btrim(s.query)) AS q, r.listing_id, r.position "
                             "FROM search_results r JOIN searches s ON s.id = r.search_id")
    sightings = _frame(warehouse, "SELECT listing_id, partition_date AS day, vendor_id, currency, price, price_kind, "
                                  "is_sold FROM listing_sightings")
    listings = _frame(warehouse, "SELECT id AS listing_id, product_id FROM listings WHERE product_id IS NOT NULL")
    df = hits.merge(listings, on="listing_id").merge(sightings, on=["listing_id", "day"])
    tracked = {(r.product_id, r.stats_date, r.currency): r for r in _frame(warehouse, TRACKED_ROWS).itertuples()}
    assert len(tracked) == df.groupby(["product_id", "day", "currency"]).ngroups > 0
    for (product_id, day, currency), g in df.groupby(["product_id", "day", "currency"]):
        got = tracked[(product_id, day, currency)]
        per_listing = g.drop_duplicates("listing_id")
        offers = per_listing[(per_listing.price_kind == "priced") & ~per_listing.is_sold].price
        assert (got.appearances, got.listings, got.vendors) == (len(g), len(per_listing), g.vendor_id.nunique())
        assert got.best_position == g.position.min() and got.queries == sorted(g.q.unique())
        assert got.priced_listings == len(offers)
        if len(offers):
            assert Decimal(str(got.min_price)) == min(Decimal(p) for p in offers)
            assert Decimal(str(got.median_price)) == _stats(offers, currency, median=True)["median"]
