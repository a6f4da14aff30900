"""Ages as people write them (``18mo``, ``90d``, ``2y``, ``6w``) and the cutoff day they mean."""

from __future__ import annotations

import datetime as dt
import re

AGE = re.compile(r"^\s*(\d+)\s*(d|w|mo|y)\s*$")
UNITS = {"d": "days", "w": "weeks", "mo": "months", "y": "years"}


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months (clamped to the month's last day: 31 Mar - 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (next_first - dt.timedelta(days=1)).day))


def cutoff(age: str, today: dt.date) -> dt.date:
    """The first day that is *not* older than ``age`` on ``today``: rows before it are older.

    A clear ``ValueError`` for anything but a positive number followed by d, w, mo or y.
    """
    match = AGE.match(age.lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"age {age!r}: expected a positive number and a unit, e.g. 90d, 6w, 18mo or 2y")
    n, unit = int(match.group(1)), match.group(2)
    if unit == "d":
        return today - dt.timedelta(days=n)
    if unit == "w":
        return today - dt.timedelta(weeks=n)
    return add_months(today, -n * (12 if unit == "y" else 1))
