"""Shared plumbing of the daily rollups: their time window, automation, backfill policy and metadata.

Every rollup is partitioned by the shared ``daily`` definition and backfills with
``BackfillPolicy.single_run()``: one run gets the whole window (``[start, end)``, end exclusive)
and replaces it with one pass of set-based SQL — delete the window's rows, insert them again —
inside one transaction, so re-runs are idempotent and a failure leaves the old rows in place.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from dagster import (
    AssetDep,
    AssetsDefinition,
    AutomationCondition,
    BackfillPolicy,
    BetaWarning,
    MultiToSingleDimensionPartitionMapping,
    asset,
)

from pipelines.shared.partitions import daily
from pipelines.shared.windows import Window


def window_of(context: Any) -> Window:
    """The run's window of a daily-partitioned asset: one day, or a backfill's whole range."""
    tw = context.partition_time_window
    return Window(tw.start.date(), tw.end.date())


def day_counts(rows: Iterable[Any]) -> dict[dt.date, int]:
    """``{day: n}`` from rows of (day, n)."""
    return {row[0]: int(row[1]) for row in rows}


def record_window_metadata(context: Any, window: Window, row_counts: Mapping[dt.date, int],
                           latest: Mapping[str, Any]) -> None:
    """Per-partition metadata of a (possibly multi-day) run: each day gets its own
    ``dagster/row_count`` (so the asset's row-count chart stays per day), and only the window's
    last day gets the heavier previews and charts (a 365-day backfill stores them once, not
    365 times)."""
    day = window.start
    while day < window.end:
        context.add_asset_metadata({"dagster/row_count": row_counts.get(day, 0)}, partition_key=day.isoformat())
        day += dt.timedelta(days=1)
    context.add_asset_metadata(dict(latest), partition_key=window.last.isoformat())

with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)
    LISTINGS_BY_DAY = AssetDep(
        "listings", partition_mapping=MultiToSingleDimensionPartitionMapping(partition_dimension_name="date"))
"""A day of a rollup reads that day of every vendor's listings (date dimension of day-by-vendor)."""

ROLLUP_BACKFILL = BackfillPolicy.single_run()
"""A backfill of any number of days is one run: the asset gets the whole window at once."""

LOOKBACK = dt.timedelta(days=3)
"""The latest three days: the partition calendar runs at UTC+14, where a UTC-12 vendor's today
is two days behind, and a day keeps changing until its last vendor has scraped it."""

# A day of a rollup maps to several listings partitions (one per vendor), and a deps condition
# is true when *any* mapped partition matches; "every partition is fine" is written as "no
# partition is bad".
_any_dep_present = AutomationCondition.any_deps_match(~AutomationCondition.missing()).with_label("any_dep_present")
_any_dep_failed_blocking_check = AutomationCondition.any_deps_match(
    AutomationCondition.any_checks_match(AutomationCondition.check_failed(), blocking_only=True)
).with_label("any_dep_failed_blocking_check")

ROLLUP_AUTOMATION = (
    AutomationCondition.eager()
    # Vendors scrape at different hours in their own time zones: the last days may still change.
    .replace("in_latest_time_window", AutomationCondition.in_latest_time_window(LOOKBACK))
    # Refresh as each vendor's day lands instead of waiting for every vendor (one failing shop
    # must not freeze the others' numbers); a day without any data waits.
    # (replace() is typed to return the base class; eager() is an AND, which has without())
    .without(~AutomationCondition.any_deps_missing())  # type: ignore[attr-defined]
    & _any_dep_present
    # Bad data never reaches a rollup: no upstream partition of the day has a failed blocking
    # check (a failure inside the same run stops the run before its downstream steps).
    & ~_any_dep_failed_blocking_check
).with_label("eager rollup")
"""Declarative automation of every daily rollup: ``eager()`` adapted as documented inline."""


def daily_rollup(
    *, group_name: str, description: str, deps: Sequence[AssetDep | AssetsDefinition | str] = ()
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """The one way a daily rollup is declared: the shared ``daily`` partitions, a day of every
    vendor's ``listings`` as input, eager automation, and one run per backfill whatever its length.

    ``BackfillPolicy`` is still marked beta in Dagster 1.13; single-run backfills are what we rely
    on, so its warning is silenced here, where it is used, rather than for the whole process.
    """

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=BetaWarning, message=r"Parameter `backfill_policy`")
            return asset(
                partitions_def=daily,
                deps=[LISTINGS_BY_DAY, *deps],
                group_name=group_name,
                kinds={"postgres"},
                backfill_policy=ROLLUP_BACKFILL,
                automation_condition=ROLLUP_AUTOMATION,
                description=description,
            )(fn)

    return decorate
