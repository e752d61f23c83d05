"""Type checks of function calls against the function table.

Arity, argument types, constants (percentiles, digits, calendars), and where aggregates may appear.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from kpi_engine.errors import Code, did_you_mean
from kpi_engine.expr import ast
from kpi_engine.expr.ast import Expr
from kpi_engine.expr.functions import FUNCTIONS, Const, Function, Kind, lookup
from kpi_engine.expr.scope import Scope
from kpi_engine.expr.types import Type, article
from kpi_engine.source import Span

_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def with_type(node: Expr, t: Type | None, **changes: object) -> Expr:
    """A copy of ``node`` with its type (and any other fields) set."""
    return dataclasses.replace(node, type=t, **changes)  # type: ignore[arg-type]


class CallChecks:
    """The call half of the type checker; the name/operator half lives in typecheck.py."""

    scope: Scope
    kind: str
    aggregates: int

    def report(self, code: Code, message: str, span: Span | None, hint: str | None = None) -> None:
        """Record a diagnostic about the formula being checked (the type checker implements it)."""
        raise NotImplementedError

    def visit(self, expr: Expr, inside_aggregate: bool) -> Expr:
        """Type-check a sub-expression, such as an argument, with the whole walk (the type checker implements it)."""
        raise NotImplementedError

    def kpi_name(self, expr: ast.Name) -> Expr:
        """Type-check a KPI id given as an argument, as ``previous(csat)`` (the type checker implements it)."""
        raise NotImplementedError

    def call(self, expr: ast.Call, inside_aggregate: bool) -> Expr:
        """A call checked against its function's row: known, allowed here, arity, argument types, constants."""
        fn = lookup(expr.name)
        if fn is None:
            self.report(
                Code.UNKNOWN_FUNCTION,
                f"unknown function `{expr.name}`",
                expr.span,
                did_you_mean(expr.name, FUNCTIONS) or "functions are listed in docs/reference/formulas.md",
            )
            args = tuple(self.visit(a, True) for a in expr.args)  # unknown: no follow-on placement errors
            return with_type(expr, None, args=args)
        if fn.aggregate:
            self.aggregate_placement(expr, inside_aggregate)
        if fn.kind is Kind.PERIOD and self.kind != "derived":
            message = f"{fn.name}() is for derived KPIs, which combine other KPIs"
            self.report(Code.MIXED_KPI_AND_ROWS, message, expr.span)
            return with_type(expr, None)
        count = len(expr.args)
        if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
            self.report(
                Code.WRONG_ARITY, f"{fn.name} takes {_arity(fn)}; found {count}", expr.span, f"write {fn.signature()}"
            )
            args = tuple(self.visit(a, inside_aggregate or fn.aggregate) for a in expr.args)
            return with_type(expr, None, args=args)
        typed_args: list[Expr] = []
        ok = True
        for i, arg in enumerate(expr.args):
            spec = fn.arg(i)
            if spec.const is Const.KPI:
                typed = self.kpi_name(arg) if isinstance(arg, ast.Name) else self.visit(arg, inside_aggregate)
                if not isinstance(arg, ast.Name):
                    self.report(Code.WRONG_TYPE_ARG, f"{fn.name}() takes a KPI id", arg.span)
                    ok = False
                typed_args.append(typed)
                ok = ok and typed.type is not None
                continue
            if spec.const is Const.CALENDAR and isinstance(arg, ast.Name):
                self.report(
                    Code.WRONG_TYPE_ARG,
                    f"the calendar of {fn.name} is written as a string",
                    arg.span,
                    f"write '{arg.dotted}'",
                )
                typed_args.append(with_type(arg, None))
                ok = False
                continue
            typed = self.visit(arg, inside_aggregate or fn.aggregate)
            typed_args.append(typed)
            ok = self.argument(fn, i, typed) and ok
        if any(a.const is Const.CALENDAR for a in fn.args[len(typed_args) :]):  # calendar left out
            ok = self.default_calendar(expr) and ok
        if not ok:
            return with_type(expr, None, args=tuple(typed_args))
        types = [a.type for a in typed_args]
        assert all(t is not None for t in types)
        result = fn.result([_as_written(fn, i, t) for i, t in enumerate(types) if t is not None])
        if result is None:
            self.report(
                Code.WRONG_TYPE_ARG,
                f"the arguments of {fn.name} must have the same type; found "
                + ", ".join(article(t) for t in types if t is not None),
                expr.span,
            )
        return with_type(expr, result, args=tuple(typed_args))

    def aggregate_placement(self, expr: ast.Call, inside_aggregate: bool) -> None:
        """Count an aggregate; report one in a row filter, in a derived KPI or inside another aggregate."""
        self.aggregates += 1
        if self.kind in ("where", "row"):
            self.report(
                Code.AGGREGATE_IN_ROW_FILTER,
                f"{expr.name}() aggregates rows; a row filter looks at one row at a time",
                expr.span,
                "move the condition into valid_if, or into the formula",
            )
        elif self.kind == "derived":
            self.report(
                Code.MIXED_KPI_AND_ROWS,
                f"{expr.name}() aggregates rows; a derived KPI combines other KPIs",
                expr.span,
                "give the KPI a source, or use KPI ids",
            )
        elif inside_aggregate:
            self.report(
                Code.NESTED_AGGREGATE,
                f"{expr.name}() is inside another aggregate",
                expr.span,
                "an aggregate's argument is computed per row",
            )

    def argument(self, fn: Function, index: int, arg: Expr) -> bool:
        """Whether an argument has a type its parameter accepts, and is a valid constant where one is needed."""
        spec = fn.arg(index)
        t = arg.type
        if t is None:
            return False
        if t is not Type.NULL and t not in spec.types:
            allowed = " or ".join(article(a) for a in sorted(spec.types, key=list(Type).index))
            if len(spec.types) > 4:
                allowed = "a value that can be ordered" if spec.types != frozenset(Type) - {Type.NULL} else "a value"
            hint = "convert it with hours(...) or minutes(...)" if t is Type.DURATION else None
            self.report(
                Code.WRONG_TYPE_ARG,
                f"the {_ordinal(index)} argument of {fn.name} ({spec.name}) must be {allowed}; found {article(t)}",
                arg.span,
                hint,
            )
            return False
        if spec.const is not None:
            return self.constant(fn, spec.const, arg)
        return True

    def constant(self, fn: Function, const: Const, arg: Expr) -> bool:
        """Whether a constant argument is valid: a defined calendar, a fraction in 0..1, digits in -15..15."""
        if const is Const.CALENDAR:
            if not isinstance(arg, ast.String):
                self.report(
                    Code.WRONG_TYPE_ARG,
                    f"the calendar of {fn.name} must be written as a string, e.g. 'office'",
                    arg.span,
                )
                return False
            if arg.value not in self.scope.calendars:
                self.report(
                    Code.UNKNOWN_NAME,
                    f"unknown calendar '{arg.value}'",
                    arg.span,
                    did_you_mean(arg.value, self.scope.calendars) or "define it under calendars:",
                )
                return False
            return True
        value = self.constant_value(arg)
        if value is None:
            self.report(Code.WRONG_TYPE_ARG, f"{fn.name} needs a constant here: a number or a $param", arg.span)
            return False
        if const is Const.FRACTION and not Decimal(0) <= value <= Decimal(1):
            self.report(
                Code.WRONG_TYPE_ARG,
                f"{fn.name}'s p must be between 0 and 1; found {value}",
                arg.span,
                "write a percentage like 90% or a fraction like 0.9",
            )
            return False
        if const is Const.INTEGER and (value != value.to_integral_value() or abs(value) > 15):
            self.report(
                Code.WRONG_TYPE_ARG,
                f"{fn.name}'s digits must be a whole number from -15 to 15; found {value}",
                arg.span,
            )
            return False
        return True

    def constant_value(self, arg: Expr) -> Decimal | None:
        """The value of a constant argument (a number, a negated number or a numeric ``$param``), or None."""
        return ast.constant_number(arg, self.scope.params.get)

    def default_calendar(self, expr: ast.Call) -> bool:
        """Whether a call that names no calendar can use the only one defined."""
        count = len(self.scope.calendars)
        if count == 1:
            return True
        names = ", ".join(f"'{c}'" for c in sorted(self.scope.calendars))
        message = "no calendar is defined" if count == 0 else f"{count} calendars are defined ({names})"
        self.report(
            Code.WRONG_ARITY,
            f"{expr.name} needs a calendar: {message}",
            expr.span,
            f"name it: {expr.name}(start, end, 'office')" if count else "define one under calendars:",
        )
        return False


def _as_written(fn: Function, index: int, t: Type) -> Type:
    """The type the result rule sees: a null argument is typed as its row says (``null_as``)."""
    null_as = fn.arg(index).null_as
    return null_as if t is Type.NULL and null_as is not None else t


def _ordinal(index: int) -> str:
    return _ORDINALS[index] if index < len(_ORDINALS) else f"#{index + 1}"


def _arity(fn: Function) -> str:
    low, high = fn.min_args, fn.max_args
    if high is None:
        return f"at least {low} arguments"
    if low == high:
        return "no arguments" if low == 0 else f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"
