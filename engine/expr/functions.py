"""The built-in functions of the formula language (SPEC §3): one table, one row per function.

Each row says what the function accepts (per argument: its types, whether it must be a
constant, and how a ``null`` written there is typed), what it returns, and whether it
aggregates rows; the compiler has one builder per row, keyed by name, in
:mod:`kpi_engine.sql.compile_expr`. The type checker reads only the row, never a name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kpi_engine.expr.types import ORDERED, TEMPORAL, Type, unify

ResultRule = Callable[[Sequence[Type]], Type | None]
"""The result type from the argument types; ``None`` when the arguments do not fit together
(e.g. ``coalesce(1, 'x')``), which the type checker reports."""


class Kind(StrEnum):
    """The family of a built-in function: what it works on, and where a formula may use it."""

    AGGREGATE = "aggregate"
    DURATION = "duration"
    TIME = "time"
    SCALAR = "scalar"
    PERIOD = "period"  # reads another period's value of a KPI: derived KPIs only


class Const(StrEnum):
    """Arguments that must be known when the formula is compiled."""

    FRACTION = "fraction"  # a number in 0..1: a literal, a percentage or a $param
    INTEGER = "integer"  # a whole number literal, e.g. round's digits
    CALENDAR = "calendar"  # a string literal naming a calendar
    KPI = "kpi"  # a KPI id (previous)


@dataclass(frozen=True)
class Arg:
    """One parameter of a built-in function: the types it accepts, and whether it must be a constant."""

    name: str
    types: frozenset[Type]
    const: Const | None = None
    null_as: Type | None = None  # a null written here is typed as this: sum(null) is a number


@dataclass(frozen=True)
class Function:
    """One row of the function table: kind, parameters, result rule and a line for the docs."""

    name: str
    kind: Kind
    args: tuple[Arg, ...]
    result: ResultRule
    required: int | None = None  # arguments that must be given (default: all)
    variadic: bool = False  # the last argument repeats
    doc: str = ""

    @property
    def aggregate(self) -> bool:
        """Whether the function folds the rows of a group into one value."""
        return self.kind is Kind.AGGREGATE

    @property
    def min_args(self) -> int:
        """The fewest arguments a call may give."""
        return len(self.args) if self.required is None else self.required

    @property
    def max_args(self) -> int | None:
        """The most arguments a call may give; None when the last one repeats."""
        return None if self.variadic else len(self.args)

    def signature(self) -> str:
        """``name(a, b[, c])`` for messages and docs."""
        parts = [a.name for a in self.args]
        shown = ", ".join(parts[: self.min_args])
        for extra in parts[self.min_args :]:
            shown += f"[, {extra}]" if shown else f"[{extra}]"
        if self.variadic:
            shown += ", …"
        return f"{self.name}({shown})"

    def arg(self, index: int) -> Arg:
        """The parameter the argument at ``index`` fills: the last one for the repeats of a variadic function."""
        return self.args[min(index, len(self.args) - 1)]


def fixed(t: Type) -> ResultRule:
    """A result rule that always gives ``t``: ``count`` gives a number whatever it counts."""
    return lambda _types: t


def same_as(index: int) -> ResultRule:
    """A result rule giving the type of argument ``index``: the sum of durations is a duration."""
    return lambda types: types[index] if index < len(types) else None


def unify_from(index: int) -> ResultRule:
    """A result rule giving the common type of the arguments from ``index`` on (``if``'s branches, ``coalesce``)."""

    def rule(types: Sequence[Type]) -> Type | None:
        result: Type | None = Type.NULL
        for t in types[index:]:
            result = unify(result, t) if result is not None else None
        return result

    return rule


ANY = frozenset(Type) - {Type.NULL}
NUMERIC = frozenset({Type.NUMBER, Type.DURATION})
NUMBER = frozenset({Type.NUMBER})
BOOLEAN = frozenset({Type.BOOLEAN})
STRING = frozenset({Type.STRING})
DURATION = frozenset({Type.DURATION})

_x = Arg("x", NUMERIC, null_as=Type.NUMBER)
_number = Arg("x", NUMBER, null_as=Type.NUMBER)
_ordered = Arg("x", ORDERED, null_as=Type.NUMBER)
_cond = Arg("condition", BOOLEAN)
_ts = Arg("timestamp", TEMPORAL)
_calendar_args = (Arg("start", TEMPORAL), Arg("end", TEMPORAL), Arg("calendar", STRING, Const.CALENDAR))


def _fn(name: str, kind: Kind, args: tuple[Arg, ...], result: ResultRule, **kw: object) -> Function:
    return Function(name, kind, args, result, **kw)  # type: ignore[arg-type]


_A, _D, _T, _S = Kind.AGGREGATE, Kind.DURATION, Kind.TIME, Kind.SCALAR

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        # aggregates: count family → 0 over no rows, everything else → null
        _fn("count", _A, (Arg("x", ANY),), fixed(Type.NUMBER), required=0, doc="rows, or non-null values of x"),
        _fn("count_distinct", _A, (Arg("x", ANY),), fixed(Type.NUMBER), doc="distinct non-null values"),
        _fn("count_if", _A, (_cond,), fixed(Type.NUMBER), doc="rows where the condition is true"),
        _fn("sum", _A, (_x,), same_as(0), doc="sum of non-null values"),
        _fn("sum_if", _A, (_x, _cond), same_as(0), doc="sum over rows where the condition is true"),
        _fn("avg", _A, (_x,), same_as(0), doc="mean of non-null values"),
        _fn("avg_if", _A, (_x, _cond), same_as(0), doc="mean over rows where the condition is true"),
        _fn("min", _A, (_ordered,), same_as(0), doc="smallest value"),
        _fn("max", _A, (_ordered,), same_as(0), doc="largest value"),
        _fn("median", _A, (_x,), same_as(0), doc="median (continuous)"),
        _fn("percentile", _A, (_x, Arg("p", NUMBER, Const.FRACTION)), same_as(0), doc="continuous percentile"),
        _fn("stddev", _A, (_x,), same_as(0), doc="sample standard deviation"),
        _fn("share", _A, (_cond, Arg("among", BOOLEAN)), fixed(Type.NUMBER), required=1, doc="rows where c / rows"),
        # durations → numbers
        _fn("seconds", _D, (Arg("d", DURATION),), fixed(Type.NUMBER), doc="a duration in seconds"),
        _fn("minutes", _D, (Arg("d", DURATION),), fixed(Type.NUMBER), doc="a duration in minutes"),
        _fn("hours", _D, (Arg("d", DURATION),), fixed(Type.NUMBER), doc="a duration in hours"),
        _fn("days", _D, (Arg("d", DURATION),), fixed(Type.NUMBER), doc="a duration in days"),
        _fn("business_hours", _D, _calendar_args, fixed(Type.NUMBER), required=2, doc="working hours between"),
        _fn("business_days", _D, _calendar_args, fixed(Type.NUMBER), required=2, doc="working days between"),
        # time parts, in the organization's zone
        _fn("date", _T, (_ts,), fixed(Type.DATE), doc="the calendar date"),
        _fn("year", _T, (_ts,), fixed(Type.NUMBER), doc="the year"),
        _fn("quarter", _T, (_ts,), fixed(Type.NUMBER), doc="the quarter, 1-4"),
        _fn("month", _T, (_ts,), fixed(Type.NUMBER), doc="the month, 1-12"),
        _fn("weekday", _T, (_ts,), fixed(Type.NUMBER), doc="the ISO weekday, 1 = Monday"),
        # scalars
        _fn("if", _S, (_cond, Arg("then", ANY), Arg("else", ANY)), unify_from(1), doc="a if c else b"),
        _fn("coalesce", _S, (Arg("a", ANY), Arg("b", ANY)), unify_from(0), variadic=True, doc="first non-null"),
        _fn("abs", _S, (_x,), same_as(0), doc="absolute value"),
        _fn(
            "round",
            _S,
            (_number, Arg("digits", NUMBER, Const.INTEGER)),
            same_as(0),
            required=1,
            doc="round half away from zero",
        ),
        _fn("floor", _S, (_number,), same_as(0), doc="largest whole number ≤ x"),
        _fn("ceil", _S, (_number,), same_as(0), doc="smallest whole number ≥ x"),
        _fn(
            "least",
            _S,
            (Arg("a", ORDERED), Arg("b", ORDERED)),
            unify_from(0),
            variadic=True,
            doc="smallest, nulls ignored",
        ),
        _fn(
            "greatest",
            _S,
            (Arg("a", ORDERED), Arg("b", ORDERED)),
            unify_from(0),
            variadic=True,
            doc="largest, nulls ignored",
        ),
        _fn("lower", _S, (Arg("s", STRING),), fixed(Type.STRING), doc="lower case"),
        _fn("upper", _S, (Arg("s", STRING),), fixed(Type.STRING), doc="upper case"),
        _fn("trim", _S, (Arg("s", STRING),), fixed(Type.STRING), doc="without surrounding spaces"),
        # period
        _fn("previous", Kind.PERIOD, (Arg("kpi", ANY, Const.KPI),), same_as(0), doc="the KPI in the previous period"),
    )
}


def lookup(name: str) -> Function | None:
    """The function called ``name`` (names are case-sensitive, like every name)."""
    return FUNCTIONS.get(name)
