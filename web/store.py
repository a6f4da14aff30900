"""The front door's SQL (``web/sql/*.sql``), loaded once."""

from __future__ import annotations

from pipelines.shared.sql import SqlFiles

SQL = SqlFiles.beside(__file__)
