"""Getting an environment ready: databases up and migrated, Dagster's home written.

Every command that runs pipelines (``dev``, ``run``, ``demo seed``) goes through
:func:`prepare`, so the UI and headless runs always share one Dagster instance and one warehouse.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from infra import migrate
from infra.database import DatabaseUrls, ensure_database, resolve_urls
from infra.settings import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class Environment:
    urls: DatabaseUrls
    settings: Settings

    def variables(self) -> dict[str, str]:
        """What child processes (dagster dev, runs) need in their environment."""
        return {
            "MARKET_PULSE_HOME": str(self.settings.home),
            "MARKET_PULSE_DATABASE_URL": self.urls.app,
            "MARKET_PULSE_DAGSTER_STORAGE_URL": self.urls.dagster,
            "MARKET_PULSE_VENDORS_DIR": str(self.settings.vendors_dir),
            "MARKET_PULSE_DEMO_URL": self.settings.demo_url,
            "DAGSTER_HOME": str(self.settings.dagster_home),
        }


def prepare_databases(settings: Settings) -> DatabaseUrls:
    """Start the embedded server if needed, create both databases, migrate the warehouse."""
    urls = resolve_urls(settings)
    ensure_database(urls.app)
    ensure_database(urls.dagster)
    migrate.upgrade(urls.app)
    return urls


def write_dagster_home(settings: Settings) -> None:
    """Copy the project's ``dagster.yaml`` into ``$DAGSTER_HOME`` (Dagster only reads it there)."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", settings.dagster_home / "dagster.yaml")


def prepare(settings: Settings) -> Environment:
    """Make the databases and Dagster's home ready and export the variables to this process."""
    env = Environment(urls=prepare_databases(settings), settings=settings)
    write_dagster_home(settings)
    os.environ.update(env.variables())
    return env
