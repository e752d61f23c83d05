"""Typed formula AST → sqlglot expression (SPEC §3), built only with ``exp.*`` builders.

Numeric representation (what DuckDB computes, and what the tests check):

* Every number is a DOUBLE: numeric columns are read ``CAST(col AS DOUBLE)``, literals are
  ``CAST(12 AS DOUBLE)``, so integer overflow and DECIMAL scale growth cannot happen and
  ``/`` is always true division. Division is ``a / NULLIF(b, 0)``: by zero it is null.
* Durations are DOUBLE seconds. ``b - a`` of two timestamps is ``epoch(b) - epoch(a)``,
  exact elapsed time across DST (timestamps are TIMESTAMPTZ; the session TimeZone is the
  organization's zone, which also places dates, years, weekdays and timestamp literals).
  ``date - date`` counts calendar days × 86400. A date next to a timestamp is midnight.
* Sums are deterministic whatever the thread count: each value is rounded to 12 decimal
  places (``DECIMAL(38, 12)``) and added exactly, then read back as DOUBLE; ``avg`` is
  DuckDB's AVG over the same decimals (an exact sum divided once). ``stddev`` runs over the
  sorted list of values. Counts are exact; min, max, median and percentiles do not depend on
  order. (Measured: DOUBLE ``sum``, ``fsum``, ``avg`` and ``stddev_samp`` over 5M rows each
  gave several different last digits across thread counts; these forms gave one.)
* ``row_filter``: every aggregate only sees rows where it holds (``FILTER (WHERE …)``; sqlglot
  turns that into ``IFF``/``IF`` inside the aggregate for dialects without FILTER), so the
  planner can put KPIs with different ``where``/segments into one scan.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from decimal import Decimal
from typing import assert_never

from sqlglot import exp

from kpi_engine.errors import Code, Diagnostic, KpiError, error
from kpi_engine.expr import ast
from kpi_engine.expr.ast import Expr, Ref
from kpi_engine.expr.functions import FUNCTIONS, Function
from kpi_engine.expr.scope import Duration, ParamValue
from kpi_engine.expr.types import Type
from kpi_engine.sql import builders as b
from kpi_engine.sql import calendar_sql
from kpi_engine.sql.context import CompileContext, TableContext
from kpi_engine.sql.dialects import (
    CAST_DIVIDEND,
    DIALECTS,
    EXACT_SUMS,
    NULL_SENSITIVE_GREATEST,
    SPELLED_ROUND,
    TYPED_NULLS,
    refusal,
)
from kpi_engine.sql.render import to_sql

__all__ = ["CompileContext", "TableContext", "compile_expr", "to_sql"]

_COMPARE: dict[str, type[exp.Binary]] = {
    "=": exp.EQ,
    "<>": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
_DURATION_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_SQL_TYPES = {
    Type.NUMBER: b.DOUBLE,
    Type.DURATION: b.DOUBLE,
    Type.DATE: b.DATE,
    Type.TIMESTAMP: b.TIMESTAMPTZ,
    Type.STRING: exp.DataType.build("VARCHAR"),
    Type.BOOLEAN: exp.DataType.build("BOOLEAN"),
}


def compile_expr(expr: Expr, ctx: CompileContext, row_filter: exp.Expression | None = None) -> exp.Expression:
    """Compile a type-checked formula.

    Raises :class:`KpiError` (E312) when ``ctx.dialect`` cannot express part of it exactly.
    """
    if ctx.dialect not in DIALECTS:
        raise KpiError(
            [
                error(
                    Code.DIALECT_UNSUPPORTED,
                    f"unknown SQL dialect `{ctx.dialect}`",
                    expr.span,
                    "choose one of " + ", ".join(DIALECTS),
                )
            ]
        )
    compiler = _Compiler(ctx, row_filter)
    result = compiler.compile(expr)
    if compiler.problems:
        raise KpiError(sorted(set(compiler.problems), key=Diagnostic.sort_key))
    return result


def _type(node: Expr) -> Type:
    if node.type is None:
        raise ValueError(f"compile_expr needs a type-checked expression; {type(node).__name__} has no type")
    return node.type


class _Compiler:
    def __init__(self, ctx: CompileContext, row_filter: exp.Expression | None) -> None:
        self.ctx = ctx
        self.dialect = ctx.dialect
        self.row_filter = row_filter
        self.problems: list[Diagnostic] = []

    def refuse_if(self, feature: str, node: Expr) -> None:
        reason = refusal(feature, self.dialect)
        if reason is not None:
            self.problems.append(
                error(
                    Code.DIALECT_UNSUPPORTED,
                    f"cannot compile this for {self.dialect}: {reason}",
                    node.span,
                    "evaluate it with DuckDB (the default dialect)",
                )
            )

    # --- the walk -----------------------------------------------------------------------

    def compile(self, node: Expr) -> exp.Expression:  # noqa: C901 - one flat case per node kind
        match node:
            case ast.Arith() | ast.Logic():
                leaf, chain = ast.left_spine(node)
                acc, acc_type = self.compile(leaf), _type(leaf)
                for link in chain:
                    right = self.compile(link.right)
                    if isinstance(link, ast.Logic):
                        acc = b.binary(exp.And if link.op == "and" else exp.Or, acc, right)
                    else:
                        acc = self.arith(link, acc, acc_type, right, _type(link.right))
                    acc_type = _type(link)
                return acc
            case ast.Number(value=value):
                return b.double(value)
            case ast.DurationLit(seconds=seconds):
                return b.double(seconds)
            case ast.String(value=value):
                return b.string(value)
            case ast.Boolean(value=value):
                return exp.true() if value else exp.false()
            case ast.Null():
                return exp.Null()
            case ast.DateLit(value=value):
                return b.cast(b.string(value.isoformat()), b.DATE)
            case ast.TimestampLit(value=value):
                self.refuse_if("local_time", node)
                return b.cast(b.string(value.isoformat(sep=" ")), b.TIMESTAMPTZ)
            case ast.Name():
                return self.name(node)
            case ast.Param(name=name):
                return _param_literal(self.ctx.param(name))
            case ast.Neg(operand=operand):
                return b.neg(self.compile(operand))
            case ast.Not(operand=operand):
                return b.not_(self.compile(operand))
            case ast.Compare(op=op, left=left, right=right):
                lhs, rhs = self.promoted(left, right)
                return b.binary(_COMPARE[op], lhs, rhs)
            case ast.IsNull(operand=operand, negated=negated):
                test = b.is_null(self.compile(operand))
                return b.not_(test) if negated else test
            case ast.InList(operand=operand, items=items, negated=negated):
                timestamp = any(_type(e) is Type.TIMESTAMP for e in (operand, *items))
                lhs = self.temporal(operand, timestamp)
                test = exp.In(this=b.operand(lhs, 5), expressions=[self.temporal(i, timestamp) for i in items])
                return b.not_(test) if negated else test
            case ast.Between(operand=operand, low=low, high=high, negated=negated):
                timestamp = any(_type(e) is Type.TIMESTAMP for e in (operand, low, high))
                parts = [b.operand(self.temporal(e, timestamp), 5) for e in (operand, low, high)]
                test = exp.Between(this=parts[0], low=parts[1], high=parts[2])
                return b.not_(test) if negated else test
            case ast.Call():
                return self.call(node)
            case _:
                assert_never(node)

    def name(self, node: ast.Name) -> exp.Expression:
        match node.ref:
            case Ref.COLUMN:
                column = self.ctx.column(node.parts)
                return b.cast(column, b.DOUBLE) if node.type is Type.NUMBER else column
            case Ref.SEGMENT:
                return b.operand(self.ctx.segment(node.dotted), b.ATOM)
            case Ref.KPI:
                return self.ctx.kpi(node.dotted)
        raise ValueError(f"compile_expr needs a type-checked expression; `{node.dotted}` is not resolved")

    def temporal(self, node: Expr, as_timestamp: bool) -> exp.Expression:
        """``node`` compiled, with a date promoted to a timestamp (midnight) if asked."""
        sql = self.compile(node)
        if as_timestamp and _type(node) is Type.DATE:
            self.refuse_if("local_time", node)
            return b.cast(sql, b.TIMESTAMPTZ)
        return sql

    def promoted(self, left: Expr, right: Expr) -> tuple[exp.Expression, exp.Expression]:
        timestamp = Type.TIMESTAMP in (_type(left), _type(right))
        return self.temporal(left, timestamp), self.temporal(right, timestamp)

    # --- arithmetic ---------------------------------------------------------------------

    def arith(self, node: ast.Arith, left: exp.Expression, lt: Type, right: exp.Expression, rt: Type) -> exp.Expression:
        result = _type(node)
        if Type.NULL in (lt, rt):
            return b.cast(exp.Null(), _SQL_TYPES[result]) if result in _SQL_TYPES else exp.Null()
        temporal = {Type.DATE, Type.TIMESTAMP}
        if lt in temporal and rt in temporal:
            if lt is Type.DATE and rt is Type.DATE:
                days = exp.DateDiff(this=left, expression=right, unit=exp.var("DAY"))
                return b.mul(b.cast(days, b.DOUBLE), b.number(86400))
            return b.sub(self.epoch(node, left, lt), self.epoch(node, right, rt))
        if result is Type.TIMESTAMP:
            self.refuse_if("shift_timestamp", node)
            if lt in temporal:
                shifted = (b.add if node.op == "+" else b.sub)(self.epoch(node, left, lt), right)
            else:
                shifted = b.add(left, self.epoch(node, right, rt))
            if self.dialect == "spark":  # FROM_UNIXTIME would drop fractions: whole microseconds instead
                micros = exp.Round(this=b.mul(shifted, b.double(1_000_000)))
                return b.func("TIMESTAMP_MICROS", b.cast(micros, exp.DataType.build("BIGINT")))
            return exp.UnixToTime(this=shifted)
        match node.op:
            case "+":
                return b.add(left, right)
            case "-":
                return b.sub(left, right)
            case "*":
                return b.mul(left, right)
            case "/":
                if _nonzero_constant(node.right, self.ctx):
                    return b.div(left, right)
                return self.divide(left, right)
        raise AssertionError(node.op)  # pragma: no cover

    def divide(self, left: exp.Expression, right: exp.Expression) -> exp.Expression:
        if self.dialect in CAST_DIVIDEND:
            left = b.cast(left, b.DOUBLE)
        return b.safe_div(left, right)

    def epoch(self, node: Expr, value: exp.Expression, t: Type) -> exp.Expression:
        """Seconds since 1970 of an instant (a date is midnight in the session zone)."""
        if t is Type.DATE:
            self.refuse_if("local_time", node)
            value = b.cast(value, b.TIMESTAMPTZ)
        return b.epoch_seconds(value, self.dialect)

    # --- calls --------------------------------------------------------------------------

    def call(self, node: ast.Call) -> exp.Expression:
        fn = FUNCTIONS[node.name]
        self.refuse_if(fn.name, node)
        builder = _BUILDERS.get(fn.name)
        if builder is None:  # pragma: no cover - the table and the builders are tested together
            raise AssertionError(f"no SQL builder for {fn.name}")
        return builder(self, node, fn)

    def args(self, node: ast.Call) -> list[exp.Expression]:
        return [self.compile(a) for a in node.args]

    def filtered(self, aggregate: exp.Expression, condition: exp.Expression | None = None) -> exp.Expression:
        """``aggregate FILTER (WHERE condition AND row_filter)``."""
        where = b.and_(condition, self.row_filter.copy() if self.row_filter is not None else None)
        if where is None:
            return aggregate
        if self.dialect == "spark" and isinstance(where, exp.Null):
            where = b.cast(where, exp.DataType.build("BOOLEAN"))  # Spark's FILTER refuses an untyped NULL
        return exp.Filter(this=aggregate, expression=exp.Where(this=where))

    def count_star(self, condition: exp.Expression | None) -> exp.Expression:
        return self.filtered(exp.Count(this=exp.Star()), condition)

    def number_arg(self, node: Expr) -> exp.Expression:
        """A numeric argument; a null literal typed DOUBLE where the dialect cannot type it itself."""
        value = self.compile(node)
        if _type(node) is Type.NULL and self.dialect in TYPED_NULLS:
            return b.cast(value, b.DOUBLE)
        return value

    def sum(self, value: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
        if self.dialect not in EXACT_SUMS:
            return self.filtered(exp.Sum(this=value), condition)
        exact = self.filtered(exp.Sum(this=b.cast(value, b.SUM_DECIMAL)), condition)
        return b.cast(exact, b.DOUBLE)

    def avg(self, value: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
        if self.dialect not in EXACT_SUMS:
            return self.filtered(exp.Avg(this=value), condition)
        # AVG over DECIMAL keeps an exact sum and divides once: deterministic (DuckDB returns DOUBLE)
        mean = self.filtered(exp.Avg(this=b.cast(value, b.SUM_DECIMAL)), condition)
        return mean if self.dialect == "duckdb" else b.cast(mean, b.DOUBLE)


def _nonzero_constant(node: Expr, ctx: CompileContext) -> bool:
    """A divisor known not to be zero needs no NULLIF."""
    match node:
        case ast.Number(value=value) | ast.DurationLit(seconds=value):
            return value != 0
        case ast.Param(name=name):
            param = ctx.param(name)
            seconds = param.seconds if isinstance(param, Duration) else param
            return isinstance(seconds, Decimal) and not isinstance(seconds, bool) and seconds != 0
    return False


def _param_literal(value: ParamValue) -> exp.Expression:
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, Duration):
        return b.double(value.seconds)
    if isinstance(value, str):
        return b.string(value)
    return b.double(value)


def _const_number(c: _Compiler, arg: Expr) -> Decimal:
    value = ast.constant_number(arg, c.ctx.param)
    if value is None:
        raise ValueError("a constant argument must be a number or a $param")
    return value


# --- one builder per function of the table, by name ---------------------------------------

Builder = Callable[[_Compiler, ast.Call, Function], exp.Expression]


def _count(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    if not node.args:
        return c.count_star(None)
    return c.filtered(exp.Count(this=c.compile(node.args[0])))


def _count_distinct(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    return c.filtered(exp.Count(this=exp.Distinct(expressions=[c.compile(node.args[0])])))


def _count_if(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    return c.count_star(c.compile(node.args[0]))


def _share(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    condition = c.compile(node.args[0])
    among = c.compile(node.args[1]) if len(node.args) > 1 else None
    numerator = c.count_star(condition if _implies(condition, among) else b.and_(condition, among))
    denominator = c.count_star(among.copy() if among is not None else None)
    return c.divide(numerator, denominator)


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def _implies(condition: exp.Expression, among: exp.Expression | None) -> bool:
    """Whether rows where ``condition`` is true all pass ``among``: ``share(csat >= 4, csat is not null)``.

    A comparison with a null operand is null, never true, so when ``among`` is ``x is not null`` and
    the condition compares ``x`` itself, the numerator needs no second test (each costs a little on
    every row the scan reads).
    """
    while isinstance(condition, exp.Paren):
        condition = condition.this
    if not (
        isinstance(among, exp.Not)
        and isinstance(among.this, exp.Is)
        and isinstance(among.this.expression, exp.Null)
        and isinstance(condition, _COMPARISONS)
    ):
        return False
    operand = among.this.this
    return operand == condition.this or operand == condition.expression


def _sum(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    condition = c.compile(node.args[1]) if len(node.args) > 1 else None
    return c.sum(c.number_arg(node.args[0]), condition)


def _avg(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    condition = c.compile(node.args[1]) if len(node.args) > 1 else None
    return c.avg(c.number_arg(node.args[0]), condition)


def _min(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    return c.filtered(exp.Min(this=c.compile(node.args[0])))


def _max(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    return c.filtered(exp.Max(this=c.compile(node.args[0])))


def _median(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    return c.filtered(exp.Median(this=c.number_arg(node.args[0])))


def _percentile(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    value, p = c.number_arg(node.args[0]), b.number(_const_number(c, node.args[1]))
    if c.dialect == "spark":  # Spark's exact PERCENTILE; its PERCENTILE_CONT(x, p) form does not exist
        return c.filtered(exp.Quantile(this=value, quantile=p))
    return c.filtered(exp.PercentileCont(this=value, expression=p))


def _stddev(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    value = c.number_arg(node.args[0])
    if c.dialect != "duckdb":
        return c.filtered(exp.StddevSamp(this=value))
    values = c.filtered(b.func("LIST", value))
    return b.func("LIST_AGGREGATE", b.func("LIST_SORT", values), b.string("stddev_samp"))


def _duration_part(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    value = c.compile(node.args[0])
    unit = _DURATION_UNITS[fn.name]
    return value if unit == 1 else b.div(value, b.double(unit))


def _calendar(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    start, end = c.compile(node.args[0]), c.compile(node.args[1])
    name = node.args[2].value if len(node.args) > 2 and isinstance(node.args[2], ast.String) else None
    calendar = c.ctx.calendar(name)
    lower = calendar_sql.business_hours if fn.name == "business_hours" else calendar_sql.business_days
    return lower(start, _type(node.args[0]), end, _type(node.args[1]), calendar, c.dialect)


def _date(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    value = c.compile(node.args[0])
    if _type(node.args[0]) is Type.DATE:
        return value
    c.refuse_if("local_time", node)
    return b.cast(value, b.DATE)


def _date_part(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    value = c.compile(node.args[0])
    if _type(node.args[0]) is Type.TIMESTAMP:
        c.refuse_if("local_time", node)
    if fn.name == "weekday" and c.dialect in ("postgres", "spark"):
        field = "ISODOW" if c.dialect == "postgres" else "DAYOFWEEK_ISO"
        return exp.Extract(this=exp.var(field), expression=value)
    if fn.name == "quarter" and c.dialect == "postgres":
        return exp.Extract(this=exp.var("QUARTER"), expression=value)
    cls: type[exp.Func] = {"year": exp.Year, "quarter": exp.Quarter, "month": exp.Month, "weekday": exp.DayOfWeekIso}[
        fn.name
    ]
    return typing.cast(exp.Expression, cls(this=value))


def _if(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    timestamp = _type(node) is Type.TIMESTAMP
    condition = c.compile(node.args[0])
    return b.case([(condition, c.temporal(node.args[1], timestamp))], c.temporal(node.args[2], timestamp))


def _coalesce(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    timestamp = _type(node) is Type.TIMESTAMP
    first, *rest = [c.temporal(a, timestamp) for a in node.args]
    return exp.Coalesce(this=first, expressions=rest)


def _extreme(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    timestamp = _type(node) is Type.TIMESTAMP
    args = [c.temporal(a, timestamp) for a in node.args]
    cls = exp.Greatest if fn.name == "greatest" else exp.Least
    if c.dialect in NULL_SENSITIVE_GREATEST:
        # null only when every argument is: each argument falls back on the others
        args = [exp.Coalesce(this=a, expressions=[o.copy() for o in args if o is not a]) for a in args]
    return cls(this=args[0], expressions=args[1:], ignore_nulls=True)


def _round(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    value = c.compile(node.args[0])
    digits = int(_const_number(c, node.args[1])) if len(node.args) > 1 else None
    if c.dialect in SPELLED_ROUND:
        return _spelled_round(value, digits or 0)
    if digits is None:
        return exp.Round(this=value)
    return exp.Round(this=value, decimals=b.number(digits))


def _spelled_round(value: exp.Expression, digits: int) -> exp.Expression:
    """DuckDB's ROUND in DOUBLE arithmetic: x × 10^n rounded half away from zero, divided by 10^n.

    (For n < 0: x ÷ 10^-n, rounded, times 10^-n.) The fraction ``y - trunc(y)`` is exact, so the
    half-way test is too; identical aggregates inside are computed once.
    """
    scale = b.double(10 ** abs(digits))
    scaled = value if digits == 0 else (b.mul if digits > 0 else b.div)(value, scale)
    whole: exp.Expression = exp.Trunc(this=scaled.copy())
    half = b.binary(exp.GTE, exp.Abs(this=b.sub(scaled.copy(), whole.copy())), b.double(Decimal("0.5")))
    rounded = b.add(whole, b.case([(half, exp.Sign(this=scaled.copy()))], b.double(0)))
    if digits == 0:
        return rounded
    return (b.div if digits > 0 else b.mul)(rounded, scale.copy())


def _simple(cls: type[exp.Func]) -> Builder:
    def build(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
        return typing.cast(exp.Expression, cls(this=c.compile(node.args[0])))

    return build


def _previous(c: _Compiler, node: ast.Call, fn: Function) -> exp.Expression:
    arg = node.args[0]
    assert isinstance(arg, ast.Name)
    return c.ctx.previous(arg.dotted)


_BUILDERS: dict[str, Builder] = {
    "count": _count,
    "count_distinct": _count_distinct,
    "count_if": _count_if,
    "share": _share,
    "sum": _sum,
    "sum_if": _sum,
    "avg": _avg,
    "avg_if": _avg,
    "min": _min,
    "max": _max,
    "median": _median,
    "percentile": _percentile,
    "stddev": _stddev,
    "seconds": _duration_part,
    "minutes": _duration_part,
    "hours": _duration_part,
    "days": _duration_part,
    "business_hours": _calendar,
    "business_days": _calendar,
    "date": _date,
    "year": _date_part,
    "quarter": _date_part,
    "month": _date_part,
    "weekday": _date_part,
    "if": _if,
    "coalesce": _coalesce,
    "least": _extreme,
    "greatest": _extreme,
    "round": _round,
    "abs": _simple(exp.Abs),
    "floor": _simple(exp.Floor),
    "ceil": _simple(exp.Ceil),
    "lower": _simple(exp.Lower),
    "upper": _simple(exp.Upper),
    "trim": _simple(exp.Trim),
    "previous": _previous,
}
