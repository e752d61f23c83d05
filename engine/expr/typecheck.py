"""Static checks of a formula against a :class:`Scope` (SPEC §3), before any SQL is built.

It checks names, functions, types, and where aggregates may and must appear. Returns a typed AST
(every node's ``type`` set, every name's ``ref`` resolved) plus diagnostics; never raises for user
mistakes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, assert_never

from kpi_engine.errors import Code, Diagnostic, KpiError, did_you_mean, error
from kpi_engine.expr import ast
from kpi_engine.expr.ast import Expr, Ref
from kpi_engine.expr.parser import Locate, parse
from kpi_engine.expr.printer import to_text
from kpi_engine.expr.scope import Scope, param_type
from kpi_engine.expr.typecheck_calls import CallChecks
from kpi_engine.expr.typecheck_calls import with_type as _typed
from kpi_engine.expr.types import Type, arithmetic, article, comparable, unify
from kpi_engine.source import Span

#: formula: a source KPI's aggregate; where: a row filter; valid_if: an aggregate condition;
#: derived: a formula over KPI ids; row: a row-level value of any type (previews, tests).
FormulaKind = Literal["formula", "where", "valid_if", "derived", "row"]

_OP_WORDS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}
_DURATION_HINT = "compare with a duration like 4h or convert with hours(...)"


@dataclass
class Checked:
    """The outcome of checking one formula; ``expr`` is None when there are errors."""

    expr: Expr | None
    type: Type | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the formula passed, so that ``expr`` is its typed AST."""
        return self.expr is not None


def check(text: str, kind: FormulaKind, scope: Scope, locate: Locate | None = None) -> Checked:
    """Parse and check a formula of the given kind; all user mistakes come back as diagnostics."""
    try:
        expr = parse(text, locate)
    except KpiError as exc:
        return Checked(None, None, _with_hints(exc.diagnostics))
    checked = check_expr(expr, kind, scope)
    return Checked(checked.expr, checked.type, _with_hints(checked.diagnostics))


_FALLBACK_HINTS = {
    Code.FORMULA_SYNTAX: "check the formula at this position; the syntax is in docs/reference/formulas.md",
    Code.UNKNOWN_NAME: "names are columns, relation paths (agent.unit), segments, $params or, in derived KPIs, KPI ids",
}


def _with_hints(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Every formula diagnostic carries a hint: the specific one, or where the rules are written down."""
    return [
        d
        if d.hint
        else dataclasses.replace(
            d, hint=_FALLBACK_HINTS.get(d.code, "argument and result types are in docs/reference/formulas.md")
        )
        for d in diagnostics
    ]


def check_expr(expr: Expr, kind: FormulaKind, scope: Scope) -> Checked:
    """Check an already parsed formula."""
    checker = _Checker(scope, kind)
    typed = checker.visit(expr, inside_aggregate=False)
    checker.check_result(typed)
    diagnostics = sorted(set(checker.diagnostics), key=Diagnostic.sort_key)
    if any(d.severity == "error" for d in diagnostics):
        return Checked(None, None, diagnostics)
    return Checked(typed, typed.type, diagnostics)


class _Checker(CallChecks):
    def __init__(self, scope: Scope, kind: FormulaKind) -> None:
        self.scope = scope
        self.kind = kind
        self.diagnostics: list[Diagnostic] = []
        self.aggregates = 0

    def report(self, code: Code, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diagnostics.append(error(code, message, span, hint))

    # --- result rules per kind ----------------------------------------------------------

    def check_result(self, typed: Expr) -> None:
        t = typed.type
        if t is None or self.diagnostics:
            return
        if self.kind in ("where", "valid_if") and t is not Type.BOOLEAN:
            what = "a row filter" if self.kind == "where" else "valid_if"
            self.report(
                Code.NOT_BOOLEAN,
                f"{what} must be true or false; this gives {article(t)}",
                typed.span,
                "compare it, e.g. x > 0" if t is not Type.NULL else None,
            )
        elif self.kind in ("formula", "derived") and t not in (Type.NUMBER, Type.DURATION):
            hint = "for a rate of rows use share(condition)" if t is Type.BOOLEAN else None
            self.report(
                Code.FORMULA_RESULT_TYPE,
                f"a KPI formula must give a number or a duration; this gives {article(t)}",
                typed.span,
                hint,
            )
        elif self.kind == "formula" and self.aggregates == 0:
            self.report(
                Code.NOT_AGGREGATE,
                "a KPI formula must aggregate the rows of its source",
                typed.span,
                "use an aggregate such as count(), sum(x), avg(x) or share(condition)",
            )

    # --- the walk -----------------------------------------------------------------------

    def visit(self, expr: Expr, inside_aggregate: bool) -> Expr:  # noqa: C901 - one flat case per node kind
        match expr:
            case ast.Arith() | ast.Logic():
                leaf, chain = ast.left_spine(expr)
                acc = self.visit(leaf, inside_aggregate)
                for node in chain:
                    right = self.visit(node.right, inside_aggregate)
                    acc = self.binary(node, acc, right)
                return acc
            case ast.Number():
                return _typed(expr, Type.NUMBER)
            case ast.DurationLit():
                return _typed(expr, Type.DURATION)
            case ast.String():
                return _typed(expr, Type.STRING)
            case ast.Boolean():
                return _typed(expr, Type.BOOLEAN)
            case ast.Null():
                return _typed(expr, Type.NULL)
            case ast.DateLit():
                return _typed(expr, Type.DATE)
            case ast.TimestampLit():
                return _typed(expr, Type.TIMESTAMP)
            case ast.Name():
                return self.name(expr, inside_aggregate)
            case ast.Param():
                return self.param(expr)
            case ast.Neg(operand=operand):
                inner = self.visit(operand, inside_aggregate)
                t = inner.type
                if t is not None and t not in (Type.NUMBER, Type.DURATION, Type.NULL):
                    self.report(Code.TYPE_MISMATCH, f"cannot negate {article(t)}", expr.span)
                    t = None
                return _typed(expr, t, operand=inner)
            case ast.Not(operand=operand):
                inner = self.visit(operand, inside_aggregate)
                return _typed(expr, self.boolean(inner, "`not`"), operand=inner)
            case ast.Compare(op=op, left=left, right=right):
                lhs = self.visit(left, inside_aggregate)
                rhs = self.visit(right, inside_aggregate)
                ok = self.comparison(lhs, rhs, ordered=op not in ("=", "<>"), span=expr.span)
                return _typed(expr, Type.BOOLEAN if ok else None, left=lhs, right=rhs)
            case ast.IsNull(operand=operand):
                return _typed(expr, Type.BOOLEAN, operand=self.visit(operand, inside_aggregate))
            case ast.InList(operand=operand, items=items):
                lhs = self.visit(operand, inside_aggregate)
                typed_items = tuple(self.visit(i, inside_aggregate) for i in items)
                ok = all([self.comparison(lhs, i, ordered=False, span=i.span) for i in typed_items])
                return _typed(expr, Type.BOOLEAN if ok else None, operand=lhs, items=typed_items)
            case ast.Between(operand=operand, low=low, high=high):
                lhs = self.visit(operand, inside_aggregate)
                lo, hi = self.visit(low, inside_aggregate), self.visit(high, inside_aggregate)
                ok = all([self.comparison(lhs, b, ordered=True, span=b.span) for b in (lo, hi)])
                return _typed(expr, Type.BOOLEAN if ok else None, operand=lhs, low=lo, high=hi)
            case ast.Call():
                return self.call(expr, inside_aggregate)
            case _:
                assert_never(expr)

    def boolean(self, operand: Expr, what: str) -> Type | None:
        t = operand.type
        if t is None:
            return None
        if t not in (Type.BOOLEAN, Type.NULL):
            self.report(
                Code.NOT_BOOLEAN,
                f"{what} needs true or false; found {article(t)}",
                operand.span,
                "compare it, e.g. x > 0",
            )
            return None
        return Type.BOOLEAN

    def binary(self, node: ast.Arith | ast.Logic, left: Expr, right: Expr) -> Expr:
        if isinstance(node, ast.Logic):
            lt, rt = self.boolean(left, f"`{node.op}`"), self.boolean(right, f"`{node.op}`")
            ok = lt is not None and rt is not None
            return _typed(node, Type.BOOLEAN if ok else None, left=left, right=right)
        if left.type is None or right.type is None:
            return _typed(node, None, left=left, right=right)
        result = arithmetic(left.type, node.op, right.type)
        if result is None:
            hint = None
            if Type.DURATION in (left.type, right.type) and Type.NUMBER in (left.type, right.type):
                hint = "write the number as a duration like 4h, or convert the duration with hours(...)"
            elif Type.TIMESTAMP in (left.type, right.type) and Type.NUMBER in (left.type, right.type):
                hint = "add a duration like 4h to a timestamp"
            self.report(
                Code.TYPE_MISMATCH,
                f"cannot {_OP_WORDS[node.op]} {article(left.type)} and {article(right.type)}",
                node.span,
                hint,
            )
        return _typed(node, result, left=left, right=right)

    def comparison(self, left: Expr, right: Expr, ordered: bool, span: Span | None) -> bool:
        lt, rt = left.type, right.type
        if lt is None or rt is None:
            return False
        if comparable(lt, rt, ordered):
            return True
        hint = None
        if {lt, rt} == {Type.DURATION, Type.NUMBER}:
            hint = _DURATION_HINT
        elif Type.STRING in (lt, rt) and isinstance(left if rt is Type.STRING else right, ast.Name):
            hint = "text is written in quotes: 'critical'"
        elif unify(lt, rt) is Type.BOOLEAN:
            hint = "true and false are not ordered; use = or <>"
        if unify(lt, rt) is not None:
            message = f"{article(lt)} cannot be ordered with < or >"
        else:
            message = f"cannot compare {article(lt)} with {article(rt)}"
        self.report(Code.TYPE_MISMATCH, message, span, hint)
        return False

    # --- names --------------------------------------------------------------------------

    def name(self, expr: ast.Name, inside_aggregate: bool) -> Expr:
        if self.kind == "derived":
            return self.kpi_name(expr)
        found = self.resolve(expr)
        if found is None:
            return _typed(expr, None)
        ref, t = found
        if self.kind in ("formula", "valid_if") and not inside_aggregate:
            what = "segment" if ref is Ref.SEGMENT else "column"
            shown = to_text(expr)
            examples = {
                Type.BOOLEAN: f"share({shown}) or count_if({shown})",
                Type.NUMBER: f"sum({shown}) or avg({shown})",
                Type.DURATION: f"avg({shown}) or median({shown})",
            }
            self.report(
                Code.COLUMN_OUTSIDE_AGGREGATE,
                f"the {what} `{expr.dotted}` is used outside an aggregate",
                expr.span,
                "aggregate it, e.g. " + examples.get(t, f"max({shown}) or count({shown})"),
            )
        return _typed(expr, t, ref=ref)

    def resolve(self, expr: ast.Name) -> tuple[Ref, Type] | None:
        parts, scope = expr.parts, self.scope
        if len(parts) == 1:
            name = parts[0]
            if name in scope.columns:
                return Ref.COLUMN, scope.columns[name]
            if name in scope.segments:
                return Ref.SEGMENT, Type.BOOLEAN
            if name in scope.relations:
                columns = sorted(scope.relations[name].columns)
                example = f"{name}.{columns[0]}" if columns else f"{name}.<column>"
                self.report(
                    Code.UNKNOWN_NAME,
                    f"`{name}` is a relation, not a value",
                    expr.span,
                    f"name one of its columns, e.g. {example}",
                )
                return None
        else:
            for part in parts[:-1]:
                if part not in scope.relations:
                    break
                scope = scope.relations[part]
            else:
                if parts[-1] in scope.columns:
                    return Ref.COLUMN, scope.columns[parts[-1]]
        if expr.dotted in self.scope.kpis:
            self.report(
                Code.MIXED_KPI_AND_ROWS,
                f"`{expr.dotted}` is a KPI; a formula either aggregates rows of its source or combines KPIs, not both",
                expr.span,
                "make a derived KPI (no source) to combine KPIs",
            )
            return None
        self.unknown_name(expr)
        return None

    def unknown_name(self, expr: ast.Name) -> None:
        candidates = [*self.scope.columns, *self.scope.segments, *_relation_paths(self.scope)]
        hint = did_you_mean(expr.dotted, candidates)
        spaced = [c for c in candidates if " " in c and c.startswith(expr.dotted + " ")]
        if spaced:
            hint = f"a name with spaces goes in backticks: `{spaced[0]}`"
        elif hint is None and len(expr.parts) == 1:
            hint = f"if you meant the text, write it in quotes: '{expr.parts[0]}'"
        self.report(Code.UNKNOWN_NAME, f"unknown name `{expr.dotted}`", expr.span, hint)

    def kpi_name(self, expr: ast.Name) -> Expr:
        info = self.scope.kpis.get(expr.dotted)
        if info is None:
            if expr.dotted in self.scope.columns or expr.parts[0] in self.scope.relations:
                self.report(
                    Code.MIXED_KPI_AND_ROWS,
                    f"`{expr.dotted}` is a column; a derived KPI combines other KPIs, not rows",
                    expr.span,
                )
            else:
                self.report(
                    Code.UNKNOWN_NAME,
                    f"unknown KPI `{expr.dotted}`",
                    expr.span,
                    did_you_mean(expr.dotted, self.scope.kpis),
                )
            return _typed(expr, None)
        return _typed(expr, info.type, ref=Ref.KPI)

    def param(self, expr: ast.Param) -> Expr:
        value = self.scope.params.get(expr.name)
        if value is None:
            hint = did_you_mean(expr.name, self.scope.params)
            self.report(
                Code.UNKNOWN_PARAM,
                f"unknown param `${expr.name}`",
                expr.span,
                hint.replace("`", "`$", 1) if hint else "define it under params:",
            )
            return _typed(expr, None)
        return _typed(expr, param_type(value))


def _relation_paths(scope: Scope, prefix: str = "", depth: int = 2) -> list[str]:
    """``agent.unit`` style paths through relations, a few levels deep, for suggestions."""
    paths: list[str] = []
    if depth == 0:
        return paths
    for rel, sub in sorted(scope.relations.items()):
        base = f"{prefix}{rel}."
        paths.extend(base + c for c in sorted(sub.columns))
        paths.extend(_relation_paths(sub, base, depth - 1))
    return paths
