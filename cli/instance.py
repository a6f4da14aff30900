"""Pointing this process at the deployment's Dagster instance."""

from __future__ import annotations

import os

from cli.errors import EXPECTED_ERRORS
from infra.database import resolve_urls
from infra.settings import Settings


def export_dagster_env(settings: Settings) -> None:
    """Point this process at the Dagster instance without starting or migrating anything."""
    try:
        urls = resolve_urls(settings, start=False)
    except EXPECTED_ERRORS:
        return
    os.environ.setdefault("MARKET_PULSE_DAGSTER_STORAGE_URL", urls.dagster)
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
