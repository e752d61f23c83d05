"""A plain-Python evaluator of typed formula ASTs over rows (lists of dicts): the oracle the
SQL compiler is tested against. It shares nothing with engine/sql; it follows SPEC §3 and the
numeric representation documented in engine/sql/compile_expr.py:

* numbers and durations are Python floats (IEEE doubles, the same as DuckDB's DOUBLE);
* sums round each value to 12 decimal places (value × 1e12 rounded half away from zero)
  and add exactly; avg is that sum / count;
* timestamps are aware datetimes; naive literals and dates are wall-clock time in the session
  zone; calendars are walked day by day (the SQL uses a closed form).
"""

from __future__ import annotations

import datetime
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kpi_engine.expr import ast
from kpi_engine.expr.ast import Expr, Ref
from kpi_engine.expr.scope import Calendar, Duration, ParamValue
from kpi_engine.expr.types import Type

Row = Mapping[str, Any]
Value = Any


@dataclass
class Env:
    timezone: str = "Europe/Riga"
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    segments: Mapping[str, Expr] = field(default_factory=dict)  # typed row conditions
    kpis: Mapping[str, float | None] = field(default_factory=dict)
    previous: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class _Group:
    """The rows an aggregate sees."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows


def evaluate(expr: Expr, rows: Sequence[Row], env: Env, row_filter: Expr | None = None) -> Value:
    """Value of an aggregate formula over ``rows`` (only rows where ``row_filter`` is true)."""
    if row_filter is not None:
        rows = [r for r in rows if _eval(row_filter, r, env) is True]
    return _eval(expr, _Group(rows), env)


def evaluate_row(expr: Expr, row: Row, env: Env) -> Value:
    """Value of a row-level expression for one row."""
    return _eval(expr, row, env)


# --- scalar helpers ---------------------------------------------------------------------


def _half_away(x: float) -> float:
    return float(Decimal(x).to_integral_value(rounding=ROUND_HALF_UP))


def round_like_duckdb(x: float, digits: int) -> float:
    if digits == 0:
        return _half_away(x)
    if digits > 0:
        modifier = 10.0**digits
        result = _half_away(x * modifier) / modifier
    else:
        modifier = 10.0 ** (-digits)
        result = _half_away(x / modifier) * modifier
    return x if math.isinf(result) or math.isnan(result) else result


def _to_instant(value: Value, t: Type | None, env: Env) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=env.zone)
    return datetime.datetime.combine(value, datetime.time(0), tzinfo=env.zone)


def _epoch(value: datetime.datetime) -> float:
    return value.timestamp()


def _and(a: Value, b: Value) -> Value:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: Value, b: Value) -> Value:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _compare(op: str, a: Value, b: Value) -> Value:
    if a is None or b is None:
        return None
    match op:
        case "=":
            return a == b
        case "<>":
            return a != b
        case "<":
            return a < b
        case "<=":
            return a <= b
        case ">":
            return a > b
        case ">=":
            return a >= b
    raise AssertionError(op)


def _aligned(nodes: Sequence[Expr], values: Sequence[Value], env: Env) -> list[Value]:
    """Promote dates to instants when a timestamp is among the values."""
    if any(n.type is Type.TIMESTAMP for n in nodes):
        return [_to_instant(v, n.type, env) for n, v in zip(nodes, values, strict=True)]
    return list(values)


def _param(value: ParamValue) -> Value:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, Duration):
        return float(value.seconds)
    return float(value)


# --- the evaluator ------------------------------------------------------------------------


def _eval(expr: Expr, scope: Row | _Group, env: Env) -> Value:
    match expr:
        case ast.Number(value=value):
            return float(value)
        case ast.DurationLit(seconds=seconds):
            return float(seconds)
        case ast.String(value=value) | ast.Boolean(value=value):
            return value
        case ast.Null():
            return None
        case ast.DateLit(value=value):
            return value
        case ast.TimestampLit(value=value):
            return value if value.tzinfo is not None else value.replace(tzinfo=env.zone)
        case ast.Param(name=name):
            return _param(env.params[name])
        case ast.Name():
            return _name(expr, scope, env)
        case ast.Neg(operand=operand):
            v = _eval(operand, scope, env)
            return None if v is None else -v
        case ast.Not(operand=operand):
            v = _eval(operand, scope, env)
            return None if v is None else not v
        case ast.Logic(op=op, left=left, right=right):
            a, b = _eval(left, scope, env), _eval(right, scope, env)
            return _and(a, b) if op == "and" else _or(a, b)
        case ast.Arith():
            return _arith(expr, _eval(expr.left, scope, env), _eval(expr.right, scope, env), env)
        case ast.Compare(op=op, left=left, right=right):
            a, b = _aligned((left, right), (_eval(left, scope, env), _eval(right, scope, env)), env)
            return _compare(op, a, b)
        case ast.IsNull(operand=operand, negated=negated):
            return (_eval(operand, scope, env) is None) != negated
        case ast.InList(operand=operand, items=items, negated=negated):
            nodes = (operand, *items)
            x, *values = _aligned(nodes, [_eval(n, scope, env) for n in nodes], env)
            result: Value
            if x is None:
                result = None
            elif any(v is not None and v == x for v in values):
                result = True
            elif any(v is None for v in values):
                result = None
            else:
                result = False
            return None if result is None else result != negated
        case ast.Between(operand=operand, low=low, high=high, negated=negated):
            nodes = (operand, low, high)
            x, lo, hi = _aligned(nodes, [_eval(n, scope, env) for n in nodes], env)
            inside = _and(_compare(">=", x, lo), _compare("<=", x, hi))
            return None if inside is None else inside != negated
        case ast.Call():
            return _call(expr, scope, env)
    raise AssertionError(expr)


def _name(expr: ast.Name, scope: Row | _Group, env: Env) -> Value:
    if expr.ref is Ref.KPI:
        return env.kpis.get(expr.dotted)
    assert not isinstance(scope, _Group), f"`{expr.dotted}` outside an aggregate"
    if expr.ref is Ref.SEGMENT:
        return _eval(env.segments[expr.dotted], scope, env)
    value = scope.get(expr.dotted)
    if value is None:
        return None
    if expr.type is Type.NUMBER:
        return float(value)
    return value


def _arith(expr: ast.Arith, a: Value, b: Value, env: Env) -> Value:
    if a is None or b is None:
        return None
    lt, rt = expr.left.type, expr.right.type
    temporal = (Type.DATE, Type.TIMESTAMP)
    if lt in temporal and rt in temporal:
        if lt is Type.DATE and rt is Type.DATE:
            return float((a - b).days * 86400)
        return _epoch(_to_instant(a, lt, env)) - _epoch(_to_instant(b, rt, env))  # type: ignore[arg-type]
    if expr.type is Type.TIMESTAMP:
        if lt in temporal:
            base = _epoch(_to_instant(a, lt, env))  # type: ignore[arg-type]
            seconds = base + b if expr.op == "+" else base - b
        else:
            seconds = a + _epoch(_to_instant(b, rt, env))  # type: ignore[arg-type]
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    match expr.op:
        case "+":
            return a + b
        case "-":
            return a - b
        case "*":
            return a * b
        case "/":
            return None if b == 0 else a / b
    raise AssertionError(expr.op)


# --- functions ------------------------------------------------------------------------------


def _sum12(values: Sequence[float]) -> Decimal:
    """Each value rounded to 12 decimals the way a DOUBLE → DECIMAL(38, 12) cast does, added exactly."""
    return sum((Decimal(_half_away(v * 1e12)) / Decimal(10**12) for v in values), Decimal(0))


def _quantile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rn = (len(ordered) - 1) * p
    lo, hi = math.floor(rn), math.ceil(rn)
    if lo == hi:
        return ordered[lo]
    return ordered[lo] + (rn - lo) * (ordered[hi] - ordered[lo])


def _aggregate(expr: ast.Call, group: _Group, env: Env) -> Value:
    name, args = expr.name, expr.args

    def column(i: int, rows: Sequence[Row] = group.rows) -> list[Value]:
        return [_eval(args[i], r, env) for r in rows]

    def where(i: int) -> list[Row]:
        return [r for r in group.rows if _eval(args[i], r, env) is True]

    match name:
        case "count":
            return float(len(group.rows)) if not args else float(sum(v is not None for v in column(0)))
        case "count_distinct":
            return float(len({v for v in column(0) if v is not None}))
        case "count_if":
            return float(len(where(0)))
        case "share":
            among = where(1) if len(args) > 1 else list(group.rows)
            hits = [r for r in among if _eval(args[0], r, env) is True]
            return None if not among else len(hits) / len(among)
    rows = where(1) if name in ("sum_if", "avg_if") else group.rows
    values = [v for v in column(0, rows) if v is not None]
    if not values:
        return None
    match name:
        case "sum" | "sum_if":
            return float(_sum12(values))
        case "avg" | "avg_if":
            return float(_sum12(values)) / len(values)
        case "min":
            return min(values)
        case "max":
            return max(values)
        case "median":
            return _quantile(values, 0.5)
        case "percentile":
            return _quantile(values, float(_constant(args[1], env)))
        case "stddev":
            return None if len(values) < 2 else statistics.stdev(values)
    raise AssertionError(name)


def _constant(arg: Expr, env: Env) -> Decimal:
    match arg:
        case ast.Number(value=value):
            return value
        case ast.Neg(operand=ast.Number(value=value)):
            return -value
        case ast.Param(name=name):
            value = env.params[name]
            assert isinstance(value, Decimal)
            return value
    raise AssertionError(arg)


_AGGREGATES = {
    "count",
    "count_distinct",
    "count_if",
    "sum",
    "sum_if",
    "avg",
    "avg_if",
    "min",
    "max",
    "median",
    "percentile",
    "stddev",
    "share",
}


def _call(expr: ast.Call, scope: Row | _Group, env: Env) -> Value:
    name, args = expr.name, expr.args
    if name in _AGGREGATES:
        assert isinstance(scope, _Group), f"{name}() on one row"
        return _aggregate(expr, scope, env)
    if name == "previous":
        arg = args[0]
        assert isinstance(arg, ast.Name)
        return env.previous.get(arg.dotted)
    if name in ("business_hours", "business_days"):
        return _business(expr, scope, env)
    values = [_eval(a, scope, env) for a in args]
    match name:
        case "if":
            chosen = values[1] if values[0] is True else values[2]
            return _to_instant(chosen, None, env) if expr.type is Type.TIMESTAMP else chosen
        case "coalesce":
            aligned = _aligned(args, values, env) if expr.type is Type.TIMESTAMP else values
            return next((v for v in aligned if v is not None), None)
        case "least" | "greatest":
            aligned = [
                v for v in (_aligned(args, values, env) if expr.type is Type.TIMESTAMP else values) if v is not None
            ]
            return (min if name == "least" else max)(aligned) if aligned else None
    if values[0] is None:
        return None
    x = values[0]
    match name:
        case "seconds" | "minutes" | "hours" | "days":
            return x / {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}[name]
        case "abs":
            return abs(x)
        case "floor":
            return float(math.floor(x)) if math.isfinite(x) else x
        case "ceil":
            return float(math.ceil(x)) if math.isfinite(x) else x
        case "round":
            digits = int(_constant(args[1], env)) if len(args) > 1 else 0
            return round_like_duckdb(x, digits) if math.isfinite(x) else x
        case "lower":
            return x.lower()
        case "upper":
            return x.upper()
        case "trim":
            return x.strip(" ")
        case "date" | "year" | "quarter" | "month" | "weekday":
            day = x if not isinstance(x, datetime.datetime) else _to_instant(x, Type.TIMESTAMP, env)
            local = day.astimezone(env.zone).date() if isinstance(day, datetime.datetime) else day
            return {
                "date": lambda: local,
                "year": lambda: float(local.year),
                "quarter": lambda: float((local.month - 1) // 3 + 1),
                "month": lambda: float(local.month),
                "weekday": lambda: float(local.isoweekday()),
            }[name]()
    raise AssertionError(name)


# --- calendars, walked day by day ------------------------------------------------------------


def _local(value: Value, t: Type | None, calendar: Calendar, env: Env) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        instant = _to_instant(value, t, env)
        assert instant is not None
        return instant.astimezone(ZoneInfo(calendar.timezone)).replace(tzinfo=None)
    return datetime.datetime.combine(value, datetime.time(0))


def _business(expr: ast.Call, scope: Row | _Group, env: Env) -> Value:
    start, end = _eval(expr.args[0], scope, env), _eval(expr.args[1], scope, env)
    if start is None or end is None:
        return None
    calendar_name = expr.args[2].value if len(expr.args) > 2 and isinstance(expr.args[2], ast.String) else None
    calendar = env.calendars[calendar_name] if calendar_name else next(iter(env.calendars.values()))
    st, et = expr.args[0].type, expr.args[1].type
    local_start, local_end = _local(start, st, calendar, env), _local(end, et, calendar, env)
    holidays = set(calendar.holidays)
    if expr.name == "business_days":
        count, day = 0, local_start.date() + datetime.timedelta(days=1)
        while day <= local_end.date():
            if day not in holidays and any(b > a for a, b in calendar.week.get(day.isoweekday(), ())):
                count += 1
            day += datetime.timedelta(days=1)
        return float(count)
    a, b = _aligned(expr.args[:2], [start, end], env) if st != et else (start, end)
    if b <= a:
        return 0.0
    total, day = 0.0, local_start.date()
    while day <= local_end.date():
        if day not in holidays:
            midnight = datetime.datetime.combine(day, datetime.time(0))
            for lo, hi in calendar.week.get(day.isoweekday(), ()):
                window_start = midnight + datetime.timedelta(minutes=lo)
                window_end = midnight + datetime.timedelta(minutes=hi)
                overlap = (min(window_end, local_end) - max(window_start, local_start)).total_seconds()
                total += max(overlap, 0.0)
        day += datetime.timedelta(days=1)
    return total / 3600
