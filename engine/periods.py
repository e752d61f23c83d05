"""Periods: parsing command-line periods, splitting them by grain, the previous period, UTC bounds.

A period is a closed range of calendar days with a *kind* and the *label* it is written as on
input and in output (SPEC §4):

=========  ===========================  ==============================================
kind       label                        days
=========  ===========================  ==============================================
year       ``2025``                     the fiscal year 2025 (see below)
quarter    ``2025-Q1``                  the first quarter of fiscal year 2025
month      ``2025-03``                  a calendar month
week       ``2025-W05``                 an ISO 8601 week, Monday to Sunday
day        ``2025-03-14``               one calendar day
range      ``2025-01-01..2025-03-31``   the days from the first to the last date, inclusive
=========  ===========================  ==============================================

Fiscal years. ``organization.fiscal_year_start`` (``MM-DD``, default ``01-01``) shifts years and
quarters only; months, ISO weeks and days are always calendar based. **A fiscal year is named by
the calendar year in which it starts**: with ``04-01``, ``2025`` is 2025-04-01..2026-03-31 and
``2025-Q1`` is April–June 2025, ``2025-Q4`` is January–March 2026. (Some organizations name a
fiscal year by the year it ends in — "FY2026" for April 2025–March 2026; this engine does not.)
Quarter ``q`` of fiscal year ``Y`` starts ``3 × (q − 1)`` months after the fiscal year start; when
the start day does not exist in that month (a fiscal year starting ``01-31``) it is clamped to the
last day of the month, so quarters always tile the year without gaps.

ISO weeks belong to the ISO week-numbering year: ``2025-W01`` is 2024-12-30..2025-01-05 and
``2020-W53`` exists (2020 has 53 ISO weeks) while ``2025-W53`` does not.

Splitting (``--grain``). :func:`split` cuts a period into the natural sub-periods of a grain
(fiscal years or quarters, calendar months, ISO weeks, days) clipped to the period; each piece keeps
the label of its whole unit, so a clipped March is still ``2025-03`` and a clipped first week is
``2025-W01``. A grain as coarse as or coarser than the period's own kind (``year`` > ``quarter`` >
``month`` > ``week`` > ``day``) gives the period itself. A range is cut into the units it touches,
except that a range lying strictly inside a single unit is returned as itself (a ``2025-03-01..
2025-03-20`` range by month stays that range; ``2025-03-01..2025-03-31`` by month is ``2025-03``).

Previous period (``previous()``, ``vs: previous``). The previous unit of the same kind: the
previous fiscal year, quarter, calendar month, ISO week or day — found from the label, so the
previous period of a clipped ``2025-03`` piece is all of ``2025-02``. For a range ``a..b`` it is the
equally long range ending the day before ``a``.

Relative periods (SPEC §10). ``this-month``, ``last-month``, ``this-quarter``, ``last-quarter``,
``this-year``, ``last-year`` (fiscal quarters and years), ``mtd``, ``qtd``, ``ytd`` (from the start
of the month, fiscal quarter or fiscal year to the as-of day, inclusive), ``last-N-days`` (the N
whole days before the as-of day, which is not one of them) and ``last-N-months`` (the N whole
months before the as-of month) resolve against an as-of date with :func:`resolve_period`, before
anything runs, to the period they name written as its natural label — ``2026-Q2``, ``2026-04``, an
ISO week when seven days happen to be one — or else as a range ``2026-01-01..2026-12-03``. Only
the resolved label reaches outputs and the ledger.

Time zones. :func:`bounds_utc` gives the half-open instant interval [first day 00:00, day after
the last day 00:00) in the organization's zone, as aware UTC datetimes; evaluation keeps a row
when its time, placed in that zone, falls inside. Days are therefore not always 24 hours long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kpi_engine.errors import Code, Diagnostic, error
from kpi_engine.names import GRAINS, Grain
from kpi_engine.source import Span

Kind = Literal["year", "quarter", "month", "week", "day", "range"]
FiscalYearStart = tuple[int, int]

KINDS: tuple[Kind, ...] = get_args(Kind)
#: Coarseness of the unit kinds, finest first (a range has no rank).
_RANK: dict[str, int] = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4}

PERIOD_HINT = "write 2025, 2025-Q1, 2025-03, 2025-W05, 2025-03-14 or 2025-01-01..2025-03-31"
GRAIN_HINT = "use year, quarter, month, week or day"

_ONE_DAY = timedelta(days=1)


class PeriodError(ValueError):
    """A period, grain, fiscal year start or time zone the user wrote that cannot be used.

    ``str(err)`` is the message; ``hint`` says how to write it instead. :meth:`diagnostic` turns it
    into an ``E417`` diagnostic for the CLI.
    """

    def __init__(self, message: str, hint: str | None = PERIOD_HINT) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostic(self, span: Span | None = None) -> Diagnostic:
        """This error as a ``BAD_PERIOD`` (E417) diagnostic, optionally pointing at ``span``."""
        return error(Code.BAD_PERIOD, self.message, span, self.hint)


@dataclass(frozen=True, order=True)
class Period:
    """Inclusive days ``start..end`` of a given kind, with the label it is written as."""

    start: date
    end: date  # inclusive
    kind: Kind
    label: str

    def __str__(self) -> str:
        return self.label

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


# --- parsing ---------------------------------------------------------------------------------

_YEAR = re.compile(r"(\d{4})")
_QUARTER = re.compile(r"(\d{4})-[Qq](\d+)")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_WEEK = re.compile(r"(\d{4})-[Ww](\d+)")
_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_RANGE = re.compile(r"(\S+)\s*\.\.\s*(\S+)")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def parse_period(text: str | int | date, fiscal_year_start: FiscalYearStart = (1, 1)) -> Period:
    """Parse a period as written on the command line or in YAML (``period: 2025-03``).

    Accepts ``2025``, ``2025-Q1``, ``2025-03``, ``2025-W05``, ``2025-03-14`` and
    ``2025-01-01..2025-03-31``; also an ``int`` year or a ``date`` (what YAML makes of an unquoted
    ``2026`` or ``2025-03-14``). Raises :class:`PeriodError` for anything else.
    """
    check_fiscal_year_start(fiscal_year_start)
    if isinstance(text, bool):
        raise PeriodError(f"`{text}` is not a period")
    if isinstance(text, datetime):
        text = text.date()
    if isinstance(text, date):
        return _day(text)
    if isinstance(text, int):
        text = str(text)
    if not isinstance(text, str):
        raise PeriodError(f"`{text}` is not a period")
    raw = text.strip()
    if not raw:
        raise PeriodError("the period is empty")
    try:
        return _parse(raw, fiscal_year_start)
    except PeriodError:
        raise
    except (OverflowError, ValueError) as exc:  # date arithmetic beyond year 9999 or before year 1
        raise PeriodError(f"`{raw}` is outside the supported dates (years 0001-9999)") from exc


def _parse(raw: str, fys: FiscalYearStart) -> Period:
    if m := _RANGE.fullmatch(raw):
        first, last = _parse_date(m.group(1), raw), _parse_date(m.group(2), raw)
        if last < first:
            raise PeriodError(
                f"the range `{raw}` ends ({last}) before it starts ({first})",
                "write the earlier date first, e.g. 2025-01-01..2025-03-31",
            )
        return _range(first, last)
    if m := _YEAR.fullmatch(raw):
        return fiscal_year(_year(m.group(1), raw), fys)
    if m := _QUARTER.fullmatch(raw):
        q = int(m.group(2))
        if not 1 <= q <= 4:
            raise PeriodError(f"`{raw}`: quarter Q{m.group(2)} does not exist (quarters are Q1 to Q4)")
        return fiscal_quarter(_year(m.group(1), raw), q, fys)
    if m := _WEEK.fullmatch(raw):
        year, week = _year(m.group(1), raw), int(m.group(2))
        weeks = iso_weeks_in_year(year)
        if not 1 <= week <= weeks:
            raise PeriodError(
                f"`{raw}`: ISO week {m.group(2)} does not exist, {year} has {weeks} ISO weeks (W01 to W{weeks})"
            )
        return iso_week(year, week)
    if m := _MONTH.fullmatch(raw):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"`{raw}`: month {m.group(2)} does not exist (months are 01 to 12)")
        return calendar_month(_year(m.group(1), raw), month)
    if _DAY.fullmatch(raw):
        return _day(_parse_date(raw, raw))
    raise PeriodError(f"`{raw}` is not a period")


def _year(digits: str, raw: str) -> int:
    year = int(digits)
    if year < 1:
        raise PeriodError(f"`{raw}`: there is no year 0000")
    return year


def _parse_date(text: str, raw: str) -> date:
    m = _DAY.fullmatch(text)
    if not m:
        what = f"`{text}` in `{raw}`" if text != raw else f"`{text}`"
        raise PeriodError(f"{what} is not a date", "write dates as YYYY-MM-DD, e.g. 2025-01-01..2025-03-31")
    year, month, day = _year(m.group(1), raw), int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12:
        raise PeriodError(
            f"`{text}` is not a date: month {m.group(2)} does not exist (months are 01 to 12)",
            "write dates as YYYY-MM-DD",
        )
    length = _month_length(year, month)
    if not 1 <= day <= length:
        raise PeriodError(
            f"`{text}` is not a date: {_MONTH_NAMES[month - 1]} {year} has {length} days", "write dates as YYYY-MM-DD"
        )
    return date(year, month, day)


def parse_fiscal_year_start(text: str) -> FiscalYearStart:
    """``"04-01"`` → ``(4, 1)``; raises :class:`PeriodError` unless it is a month and day (Feb 29 excluded)."""
    m = re.fullmatch(r"\s*(\d{1,2})-(\d{1,2})\s*", text)
    if not m:
        raise PeriodError(f"`{text}` is not a month and day", 'write MM-DD, e.g. "04-01"')
    fys = (int(m.group(1)), int(m.group(2)))
    check_fiscal_year_start(fys)
    return fys


def check_fiscal_year_start(fys: FiscalYearStart) -> None:
    """Raise :class:`PeriodError` unless ``fys`` is a (month, day) that exists in every year."""
    month, day = fys
    try:
        date(2001, month, day)  # a common year: 02-29 would not start every fiscal year
    except (TypeError, ValueError) as exc:
        raise PeriodError(
            f"fiscal year start {month:02d}-{day:02d} is not a day of every year", 'write MM-DD, e.g. "04-01"'
        ) from exc


# --- constructors of the natural units ----------------------------------------------------------


def _month_length(year: int, month: int) -> int:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (nxt - date(year, month, 1)).days


def _add_months(year: int, month: int, day: int, months: int) -> date:
    """``year-month-day`` plus ``months`` months, the day clamped to the end of the target month."""
    index = year * 12 + (month - 1) + months
    y, m0 = divmod(index, 12)
    return date(y, m0 + 1, min(day, _month_length(y, m0 + 1)))


def _fiscal_boundary(fiscal_year: int, quarters: int, fys: FiscalYearStart) -> date:
    """The first day of the quarter ``quarters`` quarters after the start of ``fiscal_year``."""
    return _add_months(fiscal_year, fys[0], fys[1], 3 * quarters)


def fiscal_year(year: int, fiscal_year_start: FiscalYearStart = (1, 1)) -> Period:
    """The fiscal year named ``year`` (the calendar year it starts in)."""
    start = _fiscal_boundary(year, 0, fiscal_year_start)
    end = _fiscal_boundary(year, 4, fiscal_year_start) - _ONE_DAY
    return Period(start, end, "year", f"{year:04d}")


def fiscal_quarter(year: int, quarter: int, fiscal_year_start: FiscalYearStart = (1, 1)) -> Period:
    """Quarter ``quarter`` (1-4) of fiscal year ``year``."""
    start = _fiscal_boundary(year, quarter - 1, fiscal_year_start)
    end = _fiscal_boundary(year, quarter, fiscal_year_start) - _ONE_DAY
    return Period(start, end, "quarter", f"{year:04d}-Q{quarter}")


def calendar_month(year: int, month: int) -> Period:
    """A calendar month."""
    start = date(year, month, 1)
    return Period(start, date(year, month, _month_length(year, month)), "month", f"{year:04d}-{month:02d}")


def iso_weeks_in_year(year: int) -> int:
    """52 or 53: the number of ISO weeks in ISO year ``year`` (Dec 28 is always in the last week)."""
    return date(year, 12, 28).isocalendar().week


def iso_week(year: int, week: int) -> Period:
    """ISO week ``week`` of ISO year ``year``, Monday to Sunday."""
    start = date.fromisocalendar(year, week, 1)
    return Period(start, start + timedelta(days=6), "week", f"{year:04d}-W{week:02d}")


def _day(day: date) -> Period:
    return Period(day, day, "day", day.isoformat())


def _range(first: date, last: date) -> Period:
    return Period(first, last, "range", f"{first.isoformat()}..{last.isoformat()}")


# --- relative periods ----------------------------------------------------------------------------

RELATIVE_NAMES = (
    "this-month",
    "last-month",
    "this-quarter",
    "last-quarter",
    "this-year",
    "last-year",
    "mtd",
    "qtd",
    "ytd",
    "last-N-days",
    "last-N-months",
)
RELATIVE_HINT = "relative periods: " + ", ".join(RELATIVE_NAMES) + " (N a whole number, e.g. last-3-months)"
_LAST_N = re.compile(r"last-(\d{1,5})-(days|months)")
_UNITS: dict[str, Grain] = {"month": "month", "quarter": "quarter", "year": "year"}
_TO_DATE: dict[str, Grain] = {"mtd": "month", "qtd": "quarter", "ytd": "year"}


def is_relative(text: str) -> bool:
    """Whether a written period is a relative name (every absolute period starts with a digit)."""
    stripped = text.strip()
    return bool(stripped) and stripped[0].isalpha()


def check_relative(text: str) -> None:
    """Raise :class:`PeriodError` (with a did-you-mean hint) unless ``text`` is a relative period name."""
    name = text.strip().lower()
    if m := _LAST_N.fullmatch(name):
        if int(m.group(1)) == 0:
            raise PeriodError(f"`{text}` is empty: N must be at least 1", RELATIVE_HINT)
        return
    if _relative_grain(name) is not None:
        return
    import difflib

    digits = re.search(r"\d+", name)
    shapes = [n.replace("-N-", f"-{digits.group(0) if digits else 3}-") for n in RELATIVE_NAMES]
    close = difflib.get_close_matches(name, shapes, n=1, cutoff=0.6)
    raise PeriodError(f"`{text}` is not a period", (f"did you mean `{close[0]}`? " if close else "") + RELATIVE_HINT)


def _relative_grain(name: str) -> tuple[str, Grain] | None:
    """``this-``/``last-`` units and the to-date names as (which, grain)."""
    if name in _TO_DATE:
        return "to-date", _TO_DATE[name]
    which, _, unit = name.partition("-")
    if which in ("this", "last") and unit in _UNITS:
        return which, _UNITS[unit]
    return None


def relative_period(text: str, as_of: date, fiscal_year_start: FiscalYearStart = (1, 1)) -> Period:
    """The period a relative name means on ``as_of``, labelled naturally (see the module docstring)."""
    check_relative(text)
    name = text.strip().lower()
    try:
        if m := _LAST_N.fullmatch(name):
            count = int(m.group(1))
            if m.group(2) == "days":
                return natural(_range(as_of - timedelta(days=count), as_of - _ONE_DAY), fiscal_year_start)
            first = _add_months(as_of.year, as_of.month, 1, -count)
            return natural(_range(first, date(as_of.year, as_of.month, 1) - _ONE_DAY), fiscal_year_start)
        which, grain = _relative_grain(name) or ("this", "month")  # check_relative has accepted the name
        unit = containing(as_of, grain, fiscal_year_start)
        if which == "to-date":
            return natural(_range(unit.start, as_of), fiscal_year_start)
        return unit if which == "this" else containing(unit.start - _ONE_DAY, grain, fiscal_year_start)
    except (OverflowError, ValueError) as exc:
        raise PeriodError(f"`{text}` on {as_of} reaches before year 0001", None) from exc


def window_start(end: date, count: int, unit: str) -> date:
    """The first day of a rolling window of ``count`` days, weeks or calendar months that ends the day before ``end``.

    Months step back by the calendar (a 3-month window ending with March starts on 1 January; one
    ending on 30 May starts on 28 February... the day clamped to the month's length).
    """
    if unit == "month":
        return _add_months(end.year, end.month, end.day, -count)
    return end - timedelta(days=count * (7 if unit == "week" else 1))


def periods_spanned(period: Period, per: Grain, fiscal_year_start: FiscalYearStart = (1, 1)) -> Decimal:
    """How many ``per`` periods (days, ISO weeks, months, fiscal quarters or years) ``period`` spans.

    Each whole one counts 1 and a partial one its share of days: February 2026 (28 days) is 1 month,
    1–14 February is 0.5 of a month, 2026-Q1 is 3 months, and a 10-day range across two months is
    the sum of its two shares. Exact fractions are carried at 28 significant digits.
    """
    total = Decimal(0)
    for piece in split(period, per, fiscal_year_start):
        unit = containing(piece.start, per, fiscal_year_start)
        total += Decimal(days(piece)) / Decimal(days(unit))
    return total


def natural(period: Period, fiscal_year_start: FiscalYearStart = (1, 1)) -> Period:
    """A range written as the day, ISO week, month, fiscal quarter or fiscal year it exactly is, if any."""
    for grain in ("day", "week", "month", "quarter", "year"):
        unit = containing(period.start, grain, fiscal_year_start)
        if (unit.start, unit.end) == (period.start, period.end):
            return unit
    return period


def resolve_period(text: str, as_of: date, fiscal_year_start: FiscalYearStart = (1, 1)) -> str:
    """A period as written, with a relative name replaced by the label of the period it means on ``as_of``."""
    if not is_relative(text):
        return text
    return relative_period(text, as_of, fiscal_year_start).label


def containing(day: date, grain: Grain, fiscal_year_start: FiscalYearStart = (1, 1)) -> Period:
    """The whole unit of ``grain`` (fiscal year or quarter, month, ISO week, day) that holds ``day``."""
    check_fiscal_year_start(fiscal_year_start)
    if grain == "day":
        return _day(day)
    if grain == "week":
        iso = day.isocalendar()
        return iso_week(iso.year, iso.week)
    if grain == "month":
        return calendar_month(day.year, day.month)
    if grain in ("year", "quarter"):
        year = day.year if day >= _fiscal_boundary(day.year, 0, fiscal_year_start) else day.year - 1
        if grain == "year":
            return fiscal_year(year, fiscal_year_start)
        quarter = next(q for q in (4, 3, 2, 1) if day >= _fiscal_boundary(year, q - 1, fiscal_year_start))
        return fiscal_quarter(year, quarter, fiscal_year_start)
    raise PeriodError(f"`{grain}` is not a grain", GRAIN_HINT)


# --- operations --------------------------------------------------------------------------------


def _clip(unit: Period, period: Period) -> Period:
    return Period(max(unit.start, period.start), min(unit.end, period.end), unit.kind, unit.label)


def split(period: Period, grain: Grain, fiscal_year_start: FiscalYearStart = (1, 1)) -> list[Period]:
    """The natural sub-periods of ``grain`` clipped to ``period``, in order, labelled as their whole unit.

    A grain at least as coarse as the period's kind gives ``[period]``; so does a range lying
    strictly inside one unit of the grain. The pieces cover the period exactly, without overlap.
    """
    if grain not in _RANK:
        raise PeriodError(f"`{grain}` is not a grain", GRAIN_HINT)
    check_fiscal_year_start(fiscal_year_start)
    if period.kind != "range" and _RANK[grain] >= _RANK[period.kind]:
        return [period]
    pieces: list[Period] = []
    cursor = period.start
    while cursor <= period.end:
        unit = containing(cursor, grain, fiscal_year_start)
        pieces.append(_clip(unit, period))
        if unit.end >= period.end:
            break
        cursor = unit.end + _ONE_DAY
    if period.kind == "range" and len(pieces) == 1:
        whole = containing(period.start, grain, fiscal_year_start)
        if pieces[0] != whole:  # strictly inside one unit: keep the range as written
            return [period]
    return pieces


def previous(period: Period, fiscal_year_start: FiscalYearStart = (1, 1)) -> Period:
    """The previous period of the same kind (see the module docstring).

    Pass the same fiscal year start the period was parsed with. Raises :class:`PeriodError` before
    year 0001.
    """
    check_fiscal_year_start(fiscal_year_start)
    try:
        if period.kind == "range":
            end = period.start - _ONE_DAY
            return _range(end - (period.end - period.start), end)
        if period.kind == "day":
            return _day(period.start - _ONE_DAY)
        whole = parse_period(period.label, fiscal_year_start)
        if whole.kind != period.kind:
            raise PeriodError(f"period `{period.label}` is labelled as a {whole.kind}, not a {period.kind}", None)
        return containing(whole.start - _ONE_DAY, period.kind, fiscal_year_start)
    except PeriodError:
        raise
    except (OverflowError, ValueError) as exc:
        raise PeriodError(f"`{period.label}` has no previous period (before year 0001)", None) from exc


def days(period: Period) -> int:
    """The number of calendar days in the period (both ends included)."""
    return (period.end - period.start).days + 1


def today(timezone: str) -> date:
    """The date it is now in ``timezone`` (the default as-of day of relative periods)."""
    return datetime.now(zone(timezone)).date()


def zone(timezone: str) -> ZoneInfo:
    """The IANA time zone ``timezone``; raises :class:`PeriodError` when it is unknown."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise PeriodError(
            f"`{timezone}` is not a known time zone", "use an IANA name such as Europe/Riga, America/New_York or UTC"
        ) from exc


def bounds_utc(period: Period, timezone: str) -> tuple[datetime, datetime]:
    """``[start 00:00, day after end 00:00)`` in ``timezone``, as aware UTC datetimes.

    Midnight is taken with ``fold=0``: where a DST gap swallows midnight the interval starts at the
    first instant of the day; where midnight repeats, at its first occurrence.
    """
    tz = zone(timezone)
    try:
        after = period.end + _ONE_DAY
    except OverflowError as exc:
        raise PeriodError(f"`{period.label}` ends on the last supported day", None) from exc
    lo = datetime.combine(period.start, time(0), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(after, time(0), tzinfo=tz).astimezone(UTC)
    return lo, hi


__all__ = [
    "GRAINS",
    "KINDS",
    "PERIOD_HINT",
    "FiscalYearStart",
    "Grain",
    "Kind",
    "Period",
    "PeriodError",
    "bounds_utc",
    "calendar_month",
    "check_fiscal_year_start",
    "containing",
    "days",
    "fiscal_quarter",
    "fiscal_year",
    "iso_week",
    "iso_weeks_in_year",
    "parse_fiscal_year_start",
    "parse_period",
    "previous",
    "split",
    "zone",
]
