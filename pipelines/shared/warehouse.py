"""The warehouse as a Dagster resource: a pooled SQLAlchemy engine on the app database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource
from pydantic import Field
from sqlalchemy import Connection, Engine

from infra.database import engine_for


class Warehouse(ConfigurableResource):
    """Postgres holding Market Pulse's data (vendors, listings, rollups, alerts).

    Configured from ``MARKET_PULSE_DATABASE_URL`` (our commands set it to the embedded server
    when the user gave none). Every asset writes its partition inside one :meth:`begin` block,
    so a failure rolls the whole partition back.
    """

    database_url: str = Field(description="SQLAlchemy URL of the app database (password never logged).")

    @property
    def engine(self) -> Engine:
        return engine_for(self.database_url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
