"""Market Pulse's Dagster code location and its domain logic."""
