"""Shared plumbing of the daily rollups: their time window, their SQL files, their metadata.

Every rollup is partitioned by the shared ``daily`` definition and backfills with
``BackfillPolicy.single_run()``: one run gets the whole window (``[start, end)``, end exclusive)
and replaces it with one pass of set-based SQL — delete the window's rows, insert them again —
inside one transaction, so re-runs are idempotent and a failure leaves the old rows in place.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from pipelines.parsing.currencies import minor_units_table


@dataclass(frozen=True)
class Window:
    """Days ``start`` (inclusive) to ``end`` (exclusive)."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def params(self) -> dict[str, dt.date]:
        return {"start": self.start, "end": self.end}

    def money_params(self) -> dict[str, Any]:
        """:meth:`params` plus ``minor_units`` (ISO code -> decimals, as JSON), for SQL that rounds
        each statistic to its currency's minor unit."""
        return {**self.params(), "minor_units": _minor_units_json()}

    def __str__(self) -> str:
        return str(self.start) if self.days == 1 else f"{self.start}..{self.last}"


@cache
def _minor_units_json() -> str:
    return json.dumps(minor_units_table())


def window_of(context: Any) -> Window:
    """The run's window of a daily-partitioned asset: one day, or a backfill's whole range."""
    tw = context.partition_time_window
    return Window(tw.start.date(), tw.end.date())


class SqlFiles:
    """The ``*.sql`` files of one folder; a file may hold several statements.

    Comments are kept on their own lines (``--``) and no statement has a ``;`` inside a literal,
    so splitting on ``;`` is safe.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @cache  # noqa: B019 - a handful of long-lived instances, one per SQL folder
    def statements(self, name: str) -> tuple[str, ...]:
        code = (self.directory / f"{name}.sql").read_text()
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("--"))
        return tuple(s.strip() for s in code.split(";") if s.strip())

    def run(self, conn: Connection, name: str, params: Mapping[str, Any]) -> int:
        """Execute every statement of ``name``; returns the rows the last one affected."""
        rowcount = 0
        for statement in self.statements(name):
            rowcount = conn.execute(text(statement), dict(params)).rowcount
        return rowcount

    def rows(self, conn: Connection, name: str, params: Mapping[str, Any]) -> list[Any]:
        (statement,) = self.statements(name)
        return list(conn.execute(text(statement), dict(params)))


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "_no rows_") -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) if len(lines) > 2 else empty


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("|", "/").replace("\n", " ")[:80]


def png_markdown(png: bytes, alt: str) -> str:
    """Markdown showing a PNG inline (a data URI): Dagster renders it on the asset page."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def figure_png(fig: Any, dpi: int = 80) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


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
