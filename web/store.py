"""The front door's SQL (``web/sql/*.sql``), loaded once."""

from __future__ import annotations

from pathlib import Path

from pipelines.analytics.rollup import SqlFiles

SQL = SqlFiles(Path(__file__).parent / "sql")
