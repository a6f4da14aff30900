"""Checks on ``price_snapshots``, over the run's window (one day, or a whole backfill).

They are partitioned like the asset (a Dagster preview feature, hence the silenced warning).
"""

import warnings
from collections.abc import Callable
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    PreviewWarning,
    asset_check,
)

from pipelines.prices.assets import price_snapshots
from pipelines.prices.store import band_violations, sample_violations
from pipelines.shared.partitions import daily
from pipelines.shared.rollups import window_of
from pipelines.shared.warehouse import Warehouse


def _partitioned_check(
    **kwargs: Any,
) -> Callable[[Callable[..., AssetCheckResult]], AssetChecksDefinition]:
    """``@asset_check`` partitioned by ``daily``, without the preview warning."""
    def decorate(fn: Callable[..., AssetCheckResult]) -> AssetChecksDefinition:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PreviewWarning)
            return asset_check(asset=price_snapshots, partitions_def=daily, **kwargs)(fn)
    return decorate


@_partitioned_check(blocking=True,
             description="Prices are ordered: min <= quick sale <= FMV low <= market value <= FMV high <= patient "
             "sale <= max, and none of the band is missing.")
def price_snapshots_band_ordered(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
    window = window_of(context)
    with warehouse.connect() as conn:
        r = band_violations(conn, window)
    bad = r.disordered + r.missing
    return AssetCheckResult(passed=bad == 0, metadata={
        "window": str(window), "snapshots": r.snapshots, "disordered": r.disordered, "missing_band": r.missing,
        "examples": ", ".join(str(i) for i in (r.examples or [])[:10]) or "none",
    })


@_partitioned_check(blocking=True,
             description="Every snapshot has a positive sample size, kept 1..sample_size offers after "
             "trimming, and a volume confidence of low, medium or high.")
def price_snapshots_samples_positive(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
    window = window_of(context)
    with warehouse.connect() as conn:
        r = sample_violations(conn, window)
    bad = r.empty + r.bad_trim + r.bad_confidence
    return AssetCheckResult(passed=bad == 0, metadata={
        "window": str(window), "snapshots": r.snapshots, "empty_samples": r.empty, "bad_trim": r.bad_trim,
        "bad_confidence": r.bad_confidence,
    })
