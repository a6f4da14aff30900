"""Vendor schedules: whatever our cron check accepts also builds as a Dagster schedule.

The check parses with croniter, the parser Dagster uses, under Dagster's rules; Hypothesis writes
cron expressions out of every kind of field (numbers in and just out of range, names, lists,
ranges, steps, ``L``, ``W``, ``#``, ``?``, a seconds field, a missing field) and each one is both
checked and built as Dagster would.
"""

from __future__ import annotations

import warnings

import pytest
from dagster import DagsterInvalidDefinitionError, ScheduleDefinition
from dagster._utils.schedules import is_valid_cron_schedule
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.parsing.standards import check_cron


def builds(expression: str) -> bool:
    """True when Dagster builds a schedule on ``expression`` (what loading the code location does)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ScheduleDefinition(name="probe", cron_schedule=expression, job_name="scrape", execution_timezone="UTC")
    except DagsterInvalidDefinitionError:
        return False
    return True


def accepted(expression: str) -> bool:
    try:
        check_cron(expression)
    except ValueError:
        return False
    return True


RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
SPECIALS = (("*",), ("*",), ("*", "?", "L", "15W"), ("*", "jan", "Dec", "feb-apr"),
            ("*", "?", "mon", "FRI", "5L", "1#2"))


def field_of(index: int) -> st.SearchStrategy[str]:
    """One field at ``index``, mostly valid, sometimes just out of range or nonsense."""
    low, high = RANGES[index]
    number = st.integers(min_value=low, max_value=high + 3).map(str)
    atom = st.one_of(number, number, number, st.sampled_from(SPECIALS[index]), st.just("x"))
    part = st.one_of(atom, atom, atom, st.tuples(number, number).map("-".join),
                     st.tuples(st.sampled_from(["*", f"{low}-{high}", str(low)]),
                               st.integers(0, high + 30)).map(lambda t: f"{t[0]}/{t[1]}"))
    return st.lists(part, min_size=1, max_size=2).map(",".join)


five_fields = st.tuples(*(field_of(i) for i in range(5))).map(" ".join)
expression = st.one_of(five_fields, five_fields, five_fields,
                       five_fields.map(lambda e: "0 " + e), five_fields.map(lambda e: e.rsplit(" ", 1)[0]))


@settings(max_examples=400, deadline=None)
@given(expression)
def test_every_accepted_expression_builds_as_a_dagster_schedule(text: str) -> None:
    if accepted(text):
        assert is_valid_cron_schedule(text) and builds(check_cron(text)), text
    elif builds(text):  # Dagster would build it; we refuse only what would not run as written
        assert len(text.split()) != 5 or "never runs" in _refusal(text) or "longer than its range" in _refusal(
            text), text


def _refusal(text: str) -> str:
    try:
        check_cron(text)
    except ValueError as exc:
        return str(exc)
    return ""


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.integers(0, 59), st.integers(0, 23), st.integers(1, 31), st.integers(1, 12), st.integers(0, 7)))
def test_plain_schedules_are_accepted_exactly_when_they_can_run(fields: tuple[int, ...]) -> None:
    minute, hour, day, month, weekday = fields
    text = f"{minute} {hour} {day} {month} {weekday}"
    assert accepted(text) == builds(text)  # a weekday makes any day of any month run sometime
    daily = f"{minute} {hour} {day} {month} *"
    longest = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    assert accepted(daily) == (day <= longest), daily


@pytest.mark.parametrize(("text", "problem"), [
    ("0 0 31 2 *", "February never has a day 31"),  # passed the old check, broke the code location
    ("0 0 30 2 1", "February never has a day 30"),
    ("0 0 31 4,6 *", "never runs (no day 31 in April, June)"),
    ("0 25 * * *", "hour 25 out of range 0-23"),
    ("0 6 x * *", "day of month 'x' is not valid"),
    ("0 6 * * * *", "expected 5 fields"),
    ("*/90 * * * *", "minute step 90 is longer than its range (up to 59)"),
])
def test_refused_expressions_say_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="invalid cron expression") as refused:
        check_cron(text)
    assert problem in str(refused.value)


def test_macros_and_names_are_accepted() -> None:
    assert check_cron("@Daily") == "@daily" and builds("@daily")
    assert check_cron(" 0  6 * *  mon-fri ") == "0 6 * * mon-fri"
    assert check_cron("0 0 29 2 *") == "0 0 29 2 *"  # leap days come
