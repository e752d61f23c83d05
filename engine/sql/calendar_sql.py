"""business_hours and business_days as closed-form SQL over a :class:`Calendar` (SPEC §3).

No per-row loops or lambdas: a timestamp's wall-clock time in the calendar's zone gives a
day number ``D`` (days since 1970-01-01) and seconds into the day. Working seconds from a
fixed Monday up to that instant are ``F = weeks × weekly + (this week's days before today) +
(today's windows up to now) − (holidays before now)``; business hours are ``(F(end) −
F(start)) / 3600``. Business days count working days the same way (``G``). Holidays are
constants, so they become CASE branches. Wall-clock windows mean a window of 09:00-18:00
counts 9 hours even on a DST day.
"""

from __future__ import annotations

import datetime

from sqlglot import exp

from kpi_engine.expr.scope import Calendar
from kpi_engine.expr.types import Type
from kpi_engine.sql import builders as b

_EPOCH = datetime.date(1970, 1, 1)  # a Thursday: (D + 3) mod 7 = 0 on Mondays
_DAY = 86400


def business_hours(
    start: exp.Expression,
    start_type: Type,
    end: exp.Expression,
    end_type: Type,
    calendar: Calendar,
    dialect: str = "duckdb",
) -> exp.Expression:
    """Hours of working windows between two instants; 0 when end ≤ start; null if either is null."""
    worked = b.sub(
        _working_seconds(end, end_type, calendar, dialect), _working_seconds(start, start_type, calendar, dialect)
    )
    hours = b.div(exp.Greatest(this=worked, expressions=[b.number(0)], ignore_nulls=True), b.number(3600))
    return b.case(
        [(_either_null(start, end), exp.Null()), (_not_after(start, start_type, end, end_type), b.double(0))],
        hours,
    )


def business_days(
    start: exp.Expression,
    start_type: Type,
    end: exp.Expression,
    end_type: Type,
    calendar: Calendar,
    dialect: str = "duckdb",
) -> exp.Expression:
    """Working days d with date(start) < d ≤ date(end), dates in the calendar's zone."""
    counted = b.sub(
        _working_days(end, end_type, calendar, dialect), _working_days(start, start_type, calendar, dialect)
    )
    days = exp.Greatest(this=counted, expressions=[b.number(0)], ignore_nulls=True)
    return b.case([(_either_null(start, end), exp.Null())], b.cast(days, b.DOUBLE))


def _either_null(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    return b.or_(b.is_null(start.copy()), b.is_null(end.copy()))


def _not_after(start: exp.Expression, start_type: Type, end: exp.Expression, end_type: Type) -> exp.Expression:
    s, e = start.copy(), end.copy()
    if start_type != end_type:
        s = b.cast(s, b.TIMESTAMPTZ) if start_type is Type.DATE else s
        e = b.cast(e, b.TIMESTAMPTZ) if end_type is Type.DATE else e
    return b.binary(exp.LTE, e, s)


def _local_seconds(value: exp.Expression, t: Type, tz: str, dialect: str) -> exp.Expression:
    """Seconds since 1970-01-01 00:00 on the calendar's wall clock."""
    if dialect == "spark":
        # Spark's FROM_UTC_TIMESTAMP adds the zone's offset at that instant to the instant's own
        # microseconds, whatever the session zone: the wall clock's microseconds since 1970.
        if t is Type.DATE:
            return b.mul(b.func("UNIX_DATE", value.copy()), b.number(_DAY))
        local_micros = b.func("UNIX_MICROS", b.func("FROM_UTC_TIMESTAMP", value.copy(), b.string(tz)))
        return b.div(local_micros, b.double(1_000_000))
    if t is Type.DATE:
        local: exp.Expression = b.cast(value.copy(), b.TIMESTAMP)
    else:
        local = exp.AtTimeZone(this=b.operand(value.copy(), b.ATOM), zone=b.string(tz))
    return b.epoch_seconds(local, dialect)


def _day_parts(
    value: exp.Expression, t: Type, tz: str, dialect: str
) -> tuple[exp.Expression, exp.Expression, exp.Expression, exp.Expression]:
    """(day number D, week number W, weekday index r with 0 = Monday, seconds into the day)."""
    seconds = _local_seconds(value, t, tz, dialect)
    day = exp.Floor(this=b.div(seconds, b.number(_DAY)))
    week = exp.Floor(this=b.div(b.add(day.copy(), b.number(3)), b.number(7)))
    weekday = b.sub(b.add(day.copy(), b.number(3)), b.mul(b.number(7), week.copy()))
    into_day = b.sub(seconds.copy(), b.mul(day.copy(), b.number(_DAY)))
    return day, week, weekday, into_day


def _windows(calendar: Calendar, index: int) -> tuple[tuple[int, int], ...]:
    return tuple(calendar.week.get(index + 1, ()))


def _day_seconds(calendar: Calendar, index: int) -> int:
    return sum(max(0, end - start) * 60 for start, end in _windows(calendar, index))


def _holidays(calendar: Calendar) -> list[tuple[int, int]]:
    """(day number, weekday index) of holidays that fall on a working weekday, sorted."""
    days = sorted({(h - _EPOCH).days for h in calendar.holidays})
    return [(d, (d + 3) % 7) for d in days if _day_seconds(calendar, (d + 3) % 7) > 0]


def _working_seconds(value: exp.Expression, t: Type, calendar: Calendar, dialect: str) -> exp.Expression:
    day, week, weekday, into_day = _day_parts(value, t, calendar.timezone, dialect)
    holidays = _holidays(calendar)
    weekly = sum(_day_seconds(calendar, i) for i in range(7))
    branches: list[tuple[exp.Expression, exp.Expression]] = []
    before = 0
    for index in range(7):
        value_today: exp.Expression = b.number(before)
        windows = _windows(calendar, index)
        if _day_seconds(calendar, index):
            part = _partial_day(into_day, windows)
            own = [d for d, i in holidays if i == index]
            if own:
                is_holiday = exp.In(this=day.copy(), expressions=[b.number(d) for d in own])
                part = b.case([(is_holiday, b.number(0))], part)
            value_today = b.add(value_today, part) if before else part
        branches.append((b.number(index), value_today))
        before += _day_seconds(calendar, index)
    total = b.add(b.mul(week, b.number(weekly)), b.case(branches, subject=weekday))
    if holidays:
        cumulative, steps = 0, []
        for d, i in holidays:
            cumulative += _day_seconds(calendar, i)
            steps.append((b.binary(exp.GT, day.copy(), b.number(d)), b.number(cumulative)))
        total = b.sub(total, b.case(list(reversed(steps)), b.number(0)))
    return total


def _partial_day(into_day: exp.Expression, windows: tuple[tuple[int, int], ...]) -> exp.Expression:
    """Worked seconds of today's windows up to ``into_day`` seconds after midnight."""
    result: exp.Expression | None = None
    for start, end in windows:
        if end <= start:
            continue
        elapsed = exp.Greatest(
            this=b.sub(into_day.copy(), b.number(start * 60)), expressions=[b.number(0)], ignore_nulls=True
        )
        term = exp.Least(this=elapsed, expressions=[b.number((end - start) * 60)], ignore_nulls=True)
        result = term if result is None else b.add(result, term)
    return result if result is not None else b.number(0)


def _working_days(value: exp.Expression, t: Type, calendar: Calendar, dialect: str) -> exp.Expression:
    day, week, weekday, _ = _day_parts(value, t, calendar.timezone, dialect)
    working = [_day_seconds(calendar, i) > 0 for i in range(7)]
    branches = [(b.number(i), b.number(sum(working[: i + 1]))) for i in range(7)]
    total = b.add(b.mul(week, b.number(sum(working))), b.case(branches, subject=weekday))
    holidays = _holidays(calendar)
    if holidays:
        steps = [(b.binary(exp.GTE, day.copy(), b.number(d)), b.number(n)) for n, (d, _) in enumerate(holidays, 1)]
        total = b.sub(total, b.case(list(reversed(steps)), b.number(0)))
    return total
