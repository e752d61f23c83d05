"""Wall-clock times to instants in the organization's zone: ICU once per hour of a file's span, not per value.

A timestamp written without an offset is a wall-clock time in the organization's zone. DuckDB
turns it into an instant (TIMESTAMPTZ) through ICU, about 0.3 µs a value, and the check for a
time in the spring-forward gap converts back again: two calls per value, most of the typing time
of a file with three timestamp columns.

A zone's offset from UTC changes only at its transitions. Over the hours a file's wall-clock
times span, ICU is asked once per local hour `h`; an hour is *clean* when `h + 1 hour` has the
same offset as `h` — no transition falls inside it, so every time in it exists exactly once and
its instant is the wall-clock reading minus that offset. Consecutive hours with the same offset
form a run; the runs compile into a small CASE (a binary search over the runs' starts) that gives
a wall-clock TIMESTAMP's offset in microseconds, or NULL where ICU must decide: the hours holding
a transition (the spring gap, the hour before an autumn fold) and times outside the span. Those
go through ICU as before, with the round-trip gap check (`engine/data/column_types.py`).

The instants are ICU's own: the offsets are ICU's, read at the hours' boundaries. A repeated
autumn hour is clean (both its ends have the standard-time offset), which is ICU's choice for the
times in it too. The table is built only when it pays: at least `MIN_VALUES` wall-clock values
and a span of at most one hour per `VALUES_PER_HOUR` of them, within 1900–2200 (a reading beyond,
such as a typo 20225, goes through ICU and does not stretch the span).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
from sqlglot import exp

from kpi_engine.sql.render import to_sql

HOUR_US = 3_600_000_000
MIN_VALUES = 50_000  # below this, ICU for every value costs less than the table
VALUES_PER_HOUR = 4  # the table's ICU calls (two per hour) stay under half the per-value ones
MAX_RUNS = 256  # a binary search of depth 8 at most
# The span a table may cover: beyond these years ICU decides every value (a typo such as 20225).
_WINDOW = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
WINDOW_US = tuple(int(d.timestamp()) * 1_000_000 for d in _WINDOW)
_DUCKDB = "duckdb"


@dataclass(frozen=True)
class Zone:
    """Runs of local hours sharing one UTC offset: run k covers [starts[k], starts[k+1]) (the last: to `end`).

    Times are wall-clock readings as microseconds since 1970-01-01 00:00 (the TIMESTAMP's own value);
    an offset is None where the run's hours hold a transition and ICU decides each value.
    """

    starts: tuple[int, ...]
    offsets: tuple[int | None, ...]
    end: int

    def offset(self, wall: exp.Expr) -> exp.Expr:
        """The offset in microseconds (BIGINT) of a wall-clock TIMESTAMP, or NULL where ICU must decide."""
        inside = exp.and_(
            exp.GTE(this=wall.copy(), expression=_timestamp(self.starts[0])),
            exp.LT(this=wall.copy(), expression=_timestamp(self.end)),
        )
        return exp.cast(exp.Case(ifs=[exp.If(this=inside, true=self._search(wall, 0, len(self.starts) - 1))]), "BIGINT")

    def _search(self, wall: exp.Expr, low: int, high: int) -> exp.Expr:
        if low == high:
            found = self.offsets[low]
            return exp.null() if found is None else exp.Literal.number(found)
        middle = (low + high + 1) // 2
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.LT(this=wall.copy(), expression=_timestamp(self.starts[middle])),
                    true=self._search(wall, low, middle - 1),
                )
            ],
            default=self._search(wall, middle, high),
        )


def instant(wall: exp.Expr, offset: exp.Expr | None) -> exp.Expr:
    """The TIMESTAMPTZ of a wall-clock TIMESTAMP: by its zone offset when known, else through ICU."""
    icu = exp.TryCast(this=wall.copy(), to=exp.DataType.build("TIMESTAMPTZ", dialect=_DUCKDB))
    if offset is None:
        return icu
    shifted = exp.Anonymous(
        this="make_timestamptz",
        expressions=[exp.Sub(this=exp.Anonymous(this="epoch_us", expressions=[wall.copy()]), expression=offset.copy())],
    )
    return exp.Case(
        ifs=[exp.If(this=exp.not_(exp.Is(this=offset.copy(), expression=exp.null())), true=shifted)], default=icu
    )


def in_window(wall: exp.Expr) -> exp.Expr:
    """Whether a wall-clock TIMESTAMP lies in the years a table may cover."""
    return exp.and_(
        exp.GTE(this=wall.copy(), expression=_timestamp(WINDOW_US[0])),
        exp.LT(this=wall.copy(), expression=_timestamp(WINDOW_US[1])),
    )


def inside(spans: Sequence[tuple[int | None, int | None]]) -> bool:
    """Whether every (first, last) span of readings lies in the years a table may cover (or is empty)."""
    return all(
        (first is None and last is None)
        or (first is not None and last is not None and WINDOW_US[0] <= first and last < WINDOW_US[1])
        for first, last in spans
    )


def zone_for(
    conn: duckdb.DuckDBPyConnection, spans: Sequence[tuple[int | None, int | None]], values: int
) -> Zone | None:
    """The zone's runs over the hours of the (first, last) spans of about `values` wall-clock readings, if it pays.

    `first` and `last` are microseconds of wall-clock readings (None when there is none), kept within
    the window; the session's time zone is the organization's.
    """
    found = [(first, last) for first, last in spans if first is not None and last is not None]
    if not found or values < MIN_VALUES:
        return None
    low = max(min(first for first, _ in found), WINDOW_US[0]) // HOUR_US * HOUR_US
    high = min(max(last for _, last in found), WINDOW_US[1] - 1) // HOUR_US * HOUR_US
    if high < low:
        return None
    if (high - low) // HOUR_US + 1 > values // VALUES_PER_HOUR:
        return None
    rows = conn.execute(_runs_sql(), {"low": low, "high": high, "limit": MAX_RUNS + 1}).fetchall()
    if not rows or len(rows) > MAX_RUNS:
        return None
    return Zone(tuple(int(start) for start, _ in rows), tuple(_int(off) for _, off in rows), high + HOUR_US)


def _runs_sql() -> str:
    """Offsets per local hour from ICU, clean hours kept, runs of equal offsets: (start, offset) per run."""
    hour = exp.column("us")
    icu = exp.TryCast(
        this=exp.Anonymous(this="make_timestamp", expressions=[hour.copy()]),
        to=exp.DataType.build("TIMESTAMPTZ", dialect=_DUCKDB),
    )
    by_hour = exp.Window(this=exp.Anonymous(this="lead", expressions=[exp.column("off")]), order=_order())
    hours = (
        exp.select(exp.column("range").as_("us"))
        .from_(
            exp.Anonymous(
                this="range",
                expressions=[
                    exp.Placeholder(this="low"),
                    exp.Add(this=exp.Placeholder(this="high"), expression=exp.Literal.number(2 * HOUR_US)),
                    exp.Literal.number(HOUR_US),
                ],
            )
        )
        .subquery("hours")
    )
    offsets = exp.select(
        hour.copy(),
        exp.Sub(this=hour.copy(), expression=exp.Anonymous(this="epoch_us", expressions=[icu])).as_("off"),
    ).from_(hours)
    clean = exp.select(
        hour.copy(),
        exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column("off"), expression=by_hour), true=exp.column("off"))]).as_(
            "off"
        ),
    ).from_(offsets.subquery("offsets"))
    previous = exp.Window(this=exp.Anonymous(this="lag", expressions=[exp.column("off")]), order=_order())
    first = exp.EQ(
        this=exp.Window(this=exp.Anonymous(this="row_number", expressions=[]), order=_order()),
        expression=exp.Literal.number(1),
    )
    runs = (
        exp.select(
            hour.copy(),
            exp.column("off"),
            exp.or_(first, exp.NullSafeNEQ(this=exp.column("off"), expression=previous)).as_("new"),
        )
        .from_(clean.subquery("clean"))
        .where(exp.LTE(this=hour.copy(), expression=exp.Placeholder(this="high")))
    )
    query = (
        exp.select(hour.copy(), exp.column("off"))
        .from_(runs.subquery("runs"))
        .where(exp.column("new"))
        .order_by(hour.copy())
        .limit(exp.Placeholder(this="limit"))
    )
    return to_sql(query, _DUCKDB)


def _order() -> exp.Order:
    return exp.Order(expressions=[exp.Ordered(this=exp.column("us"))])


def _timestamp(us: int) -> exp.Expr:
    return exp.Anonymous(this="make_timestamp", expressions=[exp.Literal.number(us)])


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]
