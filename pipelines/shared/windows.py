"""A rollup's window of days: plain data, so stores can take it without importing Dagster."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from pipelines.parsing.currencies import decimals_table


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
        """:meth:`params` plus ``currency_decimals`` (ISO code -> decimals, as JSON), for SQL that
        rounds each statistic to the decimals its currency is written with."""
        return {**self.params(), "currency_decimals": _decimals_json()}

    def __str__(self) -> str:
        return str(self.start) if self.days == 1 else f"{self.start}..{self.last}"


@cache
def _decimals_json() -> str:
    return json.dumps(decimals_table())
