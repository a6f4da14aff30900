"""The warehouse as a Dagster resource: a pooled SQLAlchemy engine on the app database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource
from pydantic import Field
from sqlalchemy import Connection, Engine

from infra.database import engine_for, resolve_urls
from infra.settings import load_settings


def _settings_url() -> str:
    """The pipeline's warehouse URL from the settings (``*_FILE`` variants included)."""
    return resolve_urls(load_settings(), start=False).app


class Warehouse(ConfigurableResource):
    """Postgres holding Market Pulse's data (vendors, listings, rollups, alerts).

    Configured from ``MARKET_PULSE_DATABASE_URL`` (our commands set it to the embedded server
    when the user gave none); without it (the URL given as ``MARKET_PULSE_DATABASE_URL_FILE``,
    say) the URL is looked up from the settings when first used, so it never sits in the
    resource's configuration. Either way it is the pipeline's app role: DML, no DDL. Every asset
    writes its partition inside one :meth:`begin` block, so a failure rolls the whole partition back.
    """

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the app database as the pipeline's role (password never "
        "logged); default: from the settings.")

    @property
    def engine(self) -> Engine:
        return engine_for(self.database_url or _settings_url())

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
