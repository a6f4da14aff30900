"""Market Pulse's Dagster code location and its domain logic."""

import warnings

# BackfillPolicy is still marked beta in Dagster 1.13; we rely on it deliberately (single-run
# rollup backfills), so its warning would only be noise in every command and run log.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`")
