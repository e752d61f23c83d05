"""Periods: parsing, fiscal years, ISO weeks, grain splits, previous periods, UTC bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_engine.errors import Code
from kpi_engine.periods import (
    Period,
    PeriodError,
    bounds_utc,
    containing,
    days,
    iso_weeks_in_year,
    parse_fiscal_year_start,
    parse_period,
    previous,
    split,
)

D = date
APRIL = (4, 1)


def labels(periods: list[Period]) -> list[str]:
    return [p.label for p in periods]


def spans(periods: list[Period]) -> list[tuple[date, date]]:
    return [(p.start, p.end) for p in periods]


# --- parsing every kind -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("2025", D(2025, 1, 1), D(2025, 12, 31), "year"),
        ("2025-Q1", D(2025, 1, 1), D(2025, 3, 31), "quarter"),
        ("2025-Q4", D(2025, 10, 1), D(2025, 12, 31), "quarter"),
        ("2025-03", D(2025, 3, 1), D(2025, 3, 31), "month"),
        ("2025-02", D(2025, 2, 1), D(2025, 2, 28), "month"),
        ("2025-W05", D(2025, 1, 27), D(2025, 2, 2), "week"),
        ("2025-03-14", D(2025, 3, 14), D(2025, 3, 14), "day"),
        ("2025-01-01..2025-03-31", D(2025, 1, 1), D(2025, 3, 31), "range"),
        ("2025-03-14..2025-03-14", D(2025, 3, 14), D(2025, 3, 14), "range"),
    ],
)
def test_parse_every_kind(text: str, start: date, end: date, kind: str) -> None:
    p = parse_period(text)
    assert (p.start, p.end, p.kind, p.label) == (start, end, kind, text)
    assert str(p) == text


def test_labels_are_canonical() -> None:
    assert parse_period(" 2025-q1 ").label == "2025-Q1"
    assert parse_period("2025-w5").label == "2025-W05"
    assert parse_period("2025-3").label == "2025-03"
    assert parse_period("2025-01-01 .. 2025-01-31").label == "2025-01-01..2025-01-31"


def test_yaml_values_are_accepted() -> None:
    assert parse_period(2026) == parse_period("2026")
    assert parse_period(D(2025, 3, 14)) == parse_period("2025-03-14")
    assert parse_period(datetime(2025, 3, 14, 10, 0)) == parse_period("2025-03-14")


def test_fiscal_year_starting_april() -> None:
    year = parse_period("2025", APRIL)
    assert (year.start, year.end, year.label) == (D(2025, 4, 1), D(2026, 3, 31), "2025")
    q1 = parse_period("2025-Q1", APRIL)
    assert (q1.start, q1.end) == (D(2025, 4, 1), D(2025, 6, 30))
    q4 = parse_period("2025-Q4", APRIL)
    assert (q4.start, q4.end, q4.label) == (D(2026, 1, 1), D(2026, 3, 31), "2025-Q4")
    # months, weeks and days ignore the fiscal year
    assert parse_period("2025-03", APRIL) == parse_period("2025-03")
    assert parse_period("2025-W05", APRIL) == parse_period("2025-W05")


def test_fiscal_year_january_is_the_calendar_year() -> None:
    assert parse_period("2025", (1, 1)) == parse_period("2025")
    assert spans(split(parse_period("2025"), "quarter")) == [
        (D(2025, 1, 1), D(2025, 3, 31)),
        (D(2025, 4, 1), D(2025, 6, 30)),
        (D(2025, 7, 1), D(2025, 9, 30)),
        (D(2025, 10, 1), D(2025, 12, 31)),
    ]


def test_fiscal_year_with_mid_month_and_month_end_starts() -> None:
    p = parse_period("2024", (7, 15))
    assert (p.start, p.end) == (D(2024, 7, 15), D(2025, 7, 14))
    assert spans(split(p, "quarter", (7, 15)))[1] == (D(2024, 10, 15), D(2025, 1, 14))
    # a start day missing from some months is clamped to the month's last day
    q = split(parse_period("2024", (1, 31)), "quarter", (1, 31))
    assert spans(q) == [
        (D(2024, 1, 31), D(2024, 4, 29)),
        (D(2024, 4, 30), D(2024, 7, 30)),
        (D(2024, 7, 31), D(2024, 10, 30)),
        (D(2024, 10, 31), D(2025, 1, 30)),
    ]


def test_leap_years() -> None:
    assert parse_period("2024-02").end == D(2024, 2, 29)
    assert days(parse_period("2024")) == 366
    assert days(parse_period("2025")) == 365
    assert days(parse_period("2023", APRIL)) == 366  # 2023-04-01..2024-03-31 holds 2024-02-29
    assert days(parse_period("2000-02")) == 29
    assert days(parse_period("1900-02")) == 28
    assert parse_period("2024-02-29").kind == "day"
    with pytest.raises(PeriodError, match="February 2025 has 28 days"):
        parse_period("2025-02-29")


def test_iso_weeks() -> None:
    w53 = parse_period("2020-W53")
    assert (w53.start, w53.end) == (D(2020, 12, 28), D(2021, 1, 3))
    w01 = parse_period("2025-W01")
    assert (w01.start, w01.end) == (D(2024, 12, 30), D(2025, 1, 5))
    assert w01.start.weekday() == 0 and w01.end.weekday() == 6
    assert iso_weeks_in_year(2020) == 53
    assert iso_weeks_in_year(2025) == 52
    assert iso_weeks_in_year(2026) == 53


def test_days() -> None:
    assert days(parse_period("2025-03-14")) == 1
    assert days(parse_period("2025-W10")) == 7
    assert days(parse_period("2025-Q1")) == 90
    assert days(parse_period("2025-01-01..2025-03-31")) == 90


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-13", "month 13 does not exist"),
        ("2025-00", "month 00 does not exist"),
        ("2025-Q5", "quarter Q5 does not exist"),
        ("2025-Q0", "quarter Q0 does not exist"),
        ("2025-W54", "2025 has 52 ISO weeks"),
        ("2025-W53", "2025 has 52 ISO weeks"),
        ("2025-W00", "ISO week 00 does not exist"),
        ("2025-02-30", "`2025-02-30` is not a date: February 2025 has 28 days"),
        ("2025-04-31", "April 2025 has 30 days"),
        ("2025-03-31..2025-01-01", "ends (2025-01-01) before it starts (2025-03-31)"),
        ("2025-01-01..2025-02-30", "February 2025 has 28 days"),
        ("2025-01..2025-03", "`2025-01` in `2025-01..2025-03` is not a date"),
        ("March", "`March` is not a period"),
        ("25", "`25` is not a period"),
        ("2025-H1", "`2025-H1` is not a period"),
        ("", "the period is empty"),
        ("0000", "no year 0000"),
        ("9999", "outside the supported dates"),
    ],
)
def test_bad_periods(text: str, message: str) -> None:
    fys = APRIL if text == "9999" else (1, 1)
    with pytest.raises(PeriodError) as info:
        parse_period(text, fys)
    assert message in str(info.value)
    assert info.value.hint
    assert isinstance(info.value, ValueError)


def test_error_hint_and_diagnostic() -> None:
    with pytest.raises(PeriodError) as info:
        parse_period("2025-13")
    err = info.value
    assert err.hint == "write 2025, 2025-Q1, 2025-03, 2025-W05, 2025-03-14 or 2025-01-01..2025-03-31"
    d = err.diagnostic()
    assert d.code is Code.BAD_PERIOD and d.code.value == "E417"
    assert d.message == str(err) and d.hint == err.hint


def test_fiscal_year_start_parsing() -> None:
    assert parse_fiscal_year_start("04-01") == (4, 1)
    assert parse_fiscal_year_start("1-1") == (1, 1)
    for bad in ("02-29", "13-01", "04-31", "April", "04/01"):
        with pytest.raises(PeriodError):
            parse_fiscal_year_start(bad)
    with pytest.raises(PeriodError):
        parse_period("2025", (2, 29))


def test_bad_grain_and_timezone() -> None:
    with pytest.raises(PeriodError, match="not a grain"):
        split(parse_period("2025"), "fortnight")  # type: ignore[arg-type]
    with pytest.raises(PeriodError, match="not a known time zone"):
        bounds_utc(parse_period("2025"), "Mars/Olympus")
    with pytest.raises(PeriodError):
        bounds_utc(parse_period("2025"), "")


def test_previous_before_year_one() -> None:
    with pytest.raises(PeriodError, match="no previous period"):
        previous(parse_period("0001"))
    with pytest.raises(PeriodError, match="no previous period"):
        previous(parse_period("0001-01-01"))


# --- split ------------------------------------------------------------------------------------


def test_split_range_by_month_clips_and_keeps_month_labels() -> None:
    p = parse_period("2025-01-15..2025-03-10")
    pieces = split(p, "month")
    assert labels(pieces) == ["2025-01", "2025-02", "2025-03"]
    assert spans(pieces) == [
        (D(2025, 1, 15), D(2025, 1, 31)),
        (D(2025, 2, 1), D(2025, 2, 28)),
        (D(2025, 3, 1), D(2025, 3, 10)),
    ]
    assert [q.kind for q in pieces] == ["month"] * 3


def test_split_range_by_week_clips_and_keeps_week_labels() -> None:
    pieces = split(parse_period("2025-01-15..2025-03-10"), "week")
    assert pieces[0] == Period(D(2025, 1, 15), D(2025, 1, 19), "week", "2025-W03")
    assert pieces[-1] == Period(D(2025, 3, 10), D(2025, 3, 10), "week", "2025-W11")
    assert labels(pieces) == [f"2025-W{w:02d}" for w in range(3, 12)]
    assert all(q.start.weekday() == 0 for q in pieces[1:])


def test_split_year_by_week_starts_with_week_of_previous_iso_year_clipped() -> None:
    pieces = split(parse_period("2025"), "week")
    assert pieces[0] == Period(D(2025, 1, 1), D(2025, 1, 5), "week", "2025-W01")
    assert pieces[-1] == Period(D(2025, 12, 29), D(2025, 12, 31), "week", "2026-W01")
    assert len(pieces) == 53


def test_split_fiscal_year() -> None:
    year = parse_period("2025", APRIL)
    assert labels(split(year, "quarter", APRIL)) == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    months = split(year, "month", APRIL)
    assert labels(months)[0] == "2025-04" and labels(months)[-1] == "2026-03" and len(months) == 12


def test_split_range_by_fiscal_quarter_keeps_fiscal_labels() -> None:
    p = parse_period("2025-02-15..2025-05-10")
    pieces = split(p, "quarter", APRIL)
    assert pieces == [
        Period(D(2025, 2, 15), D(2025, 3, 31), "quarter", "2024-Q4"),
        Period(D(2025, 4, 1), D(2025, 5, 10), "quarter", "2025-Q1"),
    ]
    assert labels(split(parse_period("2025-01-01..2025-12-31"), "year", APRIL)) == ["2024", "2025"]


def test_split_by_a_grain_as_coarse_or_coarser_gives_the_period() -> None:
    for text, grain in [
        ("2025-03", "year"),
        ("2025-03", "quarter"),
        ("2025-03", "month"),
        ("2025-W05", "month"),
        ("2025-Q1", "year"),
        ("2025-03-14", "week"),
        ("2025", "year"),
    ]:
        p = parse_period(text)
        assert split(p, grain) == [p]  # type: ignore[arg-type]


def test_split_range_inside_one_unit() -> None:
    inside = parse_period("2025-03-01..2025-03-20")
    assert split(inside, "month") == [inside]
    whole = parse_period("2025-03-01..2025-03-31")
    assert split(whole, "month") == [parse_period("2025-03")]


def test_split_by_day() -> None:
    pieces = split(parse_period("2025-W05"), "day")
    assert labels(pieces) == [f"2025-01-{d}" for d in range(27, 32)] + ["2025-02-01", "2025-02-02"]
    assert all(q.kind == "day" for q in pieces)


def test_split_quarter_by_month_and_week() -> None:
    assert labels(split(parse_period("2025-Q1", APRIL), "month", APRIL)) == ["2025-04", "2025-05", "2025-06"]
    weeks = split(parse_period("2025-Q2"), "week")
    assert weeks[0] == Period(D(2025, 4, 1), D(2025, 4, 6), "week", "2025-W14")
    assert weeks[-1] == Period(D(2025, 6, 30), D(2025, 6, 30), "week", "2025-W27")


# --- previous ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fys", "expected"),
    [
        ("2025", (1, 1), "2024"),
        ("2025", APRIL, "2024"),
        ("2025-Q1", (1, 1), "2024-Q4"),
        ("2025-Q3", (1, 1), "2025-Q2"),
        ("2025-Q1", APRIL, "2024-Q4"),
        ("2025-01", (1, 1), "2024-12"),
        ("2025-03", (1, 1), "2025-02"),
        ("2025-W01", (1, 1), "2024-W52"),
        ("2021-W01", (1, 1), "2020-W53"),
        ("2025-W10", (1, 1), "2025-W09"),
        ("2025-03-01", (1, 1), "2025-02-28"),
        ("2024-03-01", (1, 1), "2024-02-29"),
        ("2025-01-01", (1, 1), "2024-12-31"),
        ("2025-01-01..2025-03-31", (1, 1), "2024-10-03..2024-12-31"),
        ("2025-03-14..2025-03-14", (1, 1), "2025-03-13..2025-03-13"),
    ],
)
def test_previous(text: str, fys: tuple[int, int], expected: str) -> None:
    p = parse_period(text, fys)
    prev = previous(p, fys)
    assert prev == parse_period(expected, fys)
    assert prev.kind == p.kind
    assert prev.end == p.start - timedelta(days=1)


def test_previous_fiscal_year_dates() -> None:
    prev = previous(parse_period("2025", APRIL), APRIL)
    assert (prev.start, prev.end) == (D(2024, 4, 1), D(2025, 3, 31))


def test_previous_of_a_clipped_piece_is_the_whole_previous_unit() -> None:
    march = split(parse_period("2025-01-15..2025-03-10"), "month")[-1]
    assert previous(march) == parse_period("2025-02")
    first_week = split(parse_period("2025"), "week")[0]
    assert previous(first_week) == parse_period("2024-W52")


def test_previous_range_has_same_length() -> None:
    p = parse_period("2024-02-01..2024-03-31")
    prev = previous(p)
    assert days(prev) == days(p) == 60
    assert prev.label == "2023-12-03..2024-01-31"


# --- bounds in the organization's zone ---------------------------------------------------------


def test_bounds_utc_riga_dst() -> None:
    lo, hi = bounds_utc(parse_period("2025-03"), "Europe/Riga")
    assert lo == datetime(2025, 2, 28, 22, 0, tzinfo=UTC)  # EET, UTC+2
    assert hi == datetime(2025, 3, 31, 21, 0, tzinfo=UTC)  # EEST from 2025-03-30, UTC+3
    assert lo.utcoffset() == timedelta(0) and hi.tzinfo is UTC
    # the DST day itself is 23 hours long
    lo, hi = bounds_utc(parse_period("2025-03-30"), "Europe/Riga")
    assert hi - lo == timedelta(hours=23)
    lo, hi = bounds_utc(parse_period("2025-10-26"), "Europe/Riga")
    assert hi - lo == timedelta(hours=25)


def test_bounds_utc_utc_and_fiscal_year() -> None:
    assert bounds_utc(parse_period("2025"), "UTC") == (
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    lo, hi = bounds_utc(parse_period("2025", APRIL), "America/New_York")
    assert lo == datetime(2025, 4, 1, 4, 0, tzinfo=UTC)  # EDT
    assert hi == datetime(2026, 4, 1, 4, 0, tzinfo=UTC)


def test_bounds_utc_when_dst_gap_swallows_midnight() -> None:
    # Chile springs forward at 24:00 → 01:00 on 2024-09-07/08: the day starts at 01:00 local.
    lo, _ = bounds_utc(parse_period("2024-09-08"), "America/Santiago")
    assert lo == datetime(2024, 9, 8, 4, 0, tzinfo=UTC)
    _, hi = bounds_utc(parse_period("2024-09-07"), "America/Santiago")
    assert hi == lo


def test_row_belongs_to_period_by_local_time() -> None:
    lo, hi = bounds_utc(parse_period("2025-03"), "Europe/Riga")
    late_feb_utc_is_march_in_riga = datetime(2025, 2, 28, 22, 30, tzinfo=UTC)
    assert lo <= late_feb_utc_is_march_in_riga < hi
    assert not lo <= datetime(2025, 3, 31, 21, 0, tzinfo=UTC) < hi


# --- containing -------------------------------------------------------------------------------


def test_containing() -> None:
    assert containing(D(2025, 3, 31), "year", APRIL).label == "2024"
    assert containing(D(2025, 4, 1), "quarter", APRIL).label == "2025-Q1"
    assert containing(D(2025, 3, 31), "quarter", APRIL).label == "2024-Q4"
    assert containing(D(2025, 1, 1), "week").label == "2025-W01"
    assert containing(D(2021, 1, 3), "week").label == "2020-W53"


# --- properties -------------------------------------------------------------------------------

fiscal_starts = st.sampled_from([(1, 1), (4, 1), (7, 1), (10, 1), (2, 28), (1, 31), (7, 15), (12, 31)])
years = st.integers(min_value=1990, max_value=2100)


@st.composite
def periods(draw: st.DrawFn) -> tuple[Period, tuple[int, int]]:
    fys = draw(fiscal_starts)
    kind = draw(st.sampled_from(["year", "quarter", "month", "week", "day", "range"]))
    year = draw(years)
    if kind == "year":
        text = f"{year}"
    elif kind == "quarter":
        text = f"{year}-Q{draw(st.integers(1, 4))}"
    elif kind == "month":
        text = f"{year}-{draw(st.integers(1, 12)):02d}"
    elif kind == "week":
        text = f"{year}-W{draw(st.integers(1, iso_weeks_in_year(year))):02d}"
    elif kind == "day":
        text = draw(st.dates(D(1990, 1, 1), D(2100, 12, 31))).isoformat()
    else:
        a = draw(st.dates(D(1990, 1, 1), D(2100, 12, 31)))
        b = a + timedelta(days=draw(st.integers(0, 800)))
        text = f"{a}..{b}"
    p = parse_period(text, fys)
    assert p.label == text and p.kind == kind
    return p, fys


grains = st.sampled_from(["year", "quarter", "month", "week", "day"])


@settings(max_examples=300, deadline=None)
@given(periods(), grains)
def test_split_covers_the_period_exactly(pf: tuple[Period, tuple[int, int]], grain: str) -> None:
    p, fys = pf
    pieces = split(p, grain, fys)  # type: ignore[arg-type]
    assert pieces
    assert pieces[0].start == p.start and pieces[-1].end == p.end
    for before, after in zip(pieces, pieces[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
    for piece in pieces:
        assert piece.start <= piece.end
        # each piece lies inside the unit its label names
        whole = parse_period(piece.label, fys)
        assert whole.kind == piece.kind
        assert whole.start <= piece.start <= piece.end <= whole.end
    assert sum(days(q) for q in pieces) == days(p)


@settings(max_examples=300, deadline=None)
@given(periods())
def test_previous_ends_the_day_before(pf: tuple[Period, tuple[int, int]]) -> None:
    p, fys = pf
    prev = previous(p, fys)
    assert prev.kind == p.kind
    assert prev.end == p.start - timedelta(days=1)
    assert parse_period(prev.label, fys) == prev
    if p.kind in ("range", "day", "week"):
        assert days(prev) == days(p)


@settings(max_examples=200, deadline=None)
@given(periods(), st.sampled_from(["UTC", "Europe/Riga", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]))
def test_bounds_are_contiguous_across_splits(pf: tuple[Period, tuple[int, int]], tz: str) -> None:
    p, fys = pf
    lo, hi = bounds_utc(p, tz)
    assert lo < hi and lo.tzinfo is UTC
    pieces = split(p, "month", fys)
    assert bounds_utc(pieces[0], tz)[0] == lo and bounds_utc(pieces[-1], tz)[1] == hi
    for before, after in zip(pieces, pieces[1:], strict=False):
        assert bounds_utc(before, tz)[1] == bounds_utc(after, tz)[0]
