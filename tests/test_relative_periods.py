"""Relative periods (SPEC §10): each name on a fixed as-of day, worked out by hand on a calendar, and
the properties every resolution keeps whatever the day and fiscal year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_engine.periods import PeriodError, parse_period, relative_period, resolve_period

# Thursday 3 December 2026 (ISO week 49). Calendar quarter Q4 = Oct–Dec; with a fiscal year starting
# 1 April, fiscal 2026 is Apr 2026–Mar 2027 and December is in its Q3 (Oct–Dec).
AS_OF = date(2026, 12, 3)
BY_HAND = [
    ("this-month", (1, 1), "2026-12"),
    ("last-month", (1, 1), "2026-11"),
    ("this-quarter", (1, 1), "2026-Q4"),
    ("last-quarter", (1, 1), "2026-Q3"),
    ("this-quarter", (4, 1), "2026-Q3"),
    ("last-quarter", (4, 1), "2026-Q2"),
    ("this-year", (1, 1), "2026"),
    ("last-year", (1, 1), "2025"),
    ("this-year", (4, 1), "2026"),
    ("mtd", (1, 1), "2026-12-01..2026-12-03"),
    ("qtd", (1, 1), "2026-10-01..2026-12-03"),
    ("ytd", (1, 1), "2026-01-01..2026-12-03"),
    ("ytd", (4, 1), "2026-04-01..2026-12-03"),
    ("last-7-days", (1, 1), "2026-11-26..2026-12-02"),  # the seven days before Thursday, not Thursday
    ("last-1-days", (1, 1), "2026-12-02"),  # one day is a day
    ("last-3-months", (1, 1), "2026-09-01..2026-11-30"),
    ("last-1-months", (1, 1), "2026-11"),
    ("last-12-months", (1, 1), "2025-12-01..2026-11-30"),
    ("LAST-MONTH", (1, 1), "2026-11"),
]


@pytest.mark.parametrize(("name", "fys", "label"), BY_HAND)
def test_each_relative_name_on_a_fixed_day(name: str, fys: tuple[int, int], label: str) -> None:
    assert resolve_period(name, AS_OF, fys) == label


def test_a_relative_period_that_is_a_whole_unit_takes_its_natural_name() -> None:
    assert resolve_period("last-3-months", date(2026, 4, 10)) == "2026-Q1"  # January to March
    assert resolve_period("last-7-days", date(2026, 11, 30)) == "2026-W48"  # Monday: the week before
    assert resolve_period("mtd", date(2026, 2, 28)) == "2026-02"  # the last day: the whole month
    assert resolve_period("ytd", date(2026, 12, 31)) == "2026"
    assert resolve_period("mtd", date(2026, 3, 1)) == "2026-03-01"  # the first day: that day
    assert resolve_period("last-month", date(2026, 1, 15)) == "2025-12"  # across the year


def test_absolute_periods_pass_through_unchanged() -> None:
    for text in ("2026", "2026-Q1", "2026-03", "2026-W05", "2026-03-14", "2026-01-01..2026-03-31"):
        assert resolve_period(text, AS_OF) == text


@pytest.mark.parametrize(
    ("written", "suggested"),
    [("lst-month", "last-month"), ("lastmonth", "last-month"), ("last-3-month", "last-3-months"), ("ytdd", "ytd")],
)
def test_a_misspelt_name_suggests_the_right_one(written: str, suggested: str) -> None:
    with pytest.raises(PeriodError) as caught:
        resolve_period(written, AS_OF)
    assert f"did you mean `{suggested}`?" in str(caught.value.hint)


def test_no_empty_window_and_nothing_before_year_one() -> None:
    with pytest.raises(PeriodError, match="at least 1"):
        resolve_period("last-0-days", AS_OF)
    with pytest.raises(PeriodError, match="before year 0001"):
        resolve_period("last-99999-months", date(2, 1, 1))


@settings(max_examples=300, deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2300, 12, 31)),
    st.sampled_from([(1, 1), (4, 1), (7, 1), (10, 1), (2, 15)]),
    st.integers(min_value=1, max_value=400),
)
def test_resolutions_keep_their_promises(as_of: date, fys: tuple[int, int], n: int) -> None:
    """Every label parses back to the same days; windows end where the spec says and are as long."""
    for name in ("this-month", "last-month", "this-quarter", "last-quarter", "this-year", "last-year"):
        period = relative_period(name, as_of, fys)
        assert parse_period(period.label, fys) == period
        assert (as_of in period) == name.startswith("this-")
    for name in ("mtd", "qtd", "ytd"):
        period = relative_period(name, as_of, fys)
        assert period.end == as_of and parse_period(period.label, fys).start == period.start
    days = relative_period(f"last-{n}-days", as_of, fys)
    assert days.end == as_of - timedelta(days=1) and (days.end - days.start).days + 1 == n
    assert parse_period(days.label, fys) == days
    months = relative_period(f"last-{n}-months", as_of, fys)
    assert months.end == as_of.replace(day=1) - timedelta(days=1) and months.start.day == 1
    assert (as_of.year * 12 + as_of.month) - (months.start.year * 12 + months.start.month) == n
