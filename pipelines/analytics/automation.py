"""How the daily rollups are wired to ``listings``: partition mapping, automation, backfills."""

import datetime as dt
import warnings

from dagster import AssetDep, AutomationCondition, BackfillPolicy, BetaWarning, MultiToSingleDimensionPartitionMapping

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
    .without(~AutomationCondition.any_deps_missing())
    & _any_dep_present
    # Bad data never reaches a rollup: no upstream partition of the day has a failed blocking
    # check (a failure inside the same run stops the run before its downstream steps).
    & ~_any_dep_failed_blocking_check
).with_label("eager rollup")
"""Declarative automation of every daily rollup: ``eager()`` adapted as documented inline."""
