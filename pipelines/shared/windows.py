"""A rollup's window of days: plain data, so stores can take it without importing Dagster."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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

    def __str__(self) -> str:
        return str(self.start) if self.days == 1 else f"{self.start}..{self.last}"
