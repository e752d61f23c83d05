"""Property tests: random well-typed formulas over random rows give the same result in DuckDB
as in the reference evaluator; printing then parsing any AST gives it back."""

from __future__ import annotations

import datetime
import os
from typing import Any

import duckdb
from expr_strategies import Formulas, any_ast, rows
from exprkit import SCOPE, load, oracle, run, same, scope
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kpi_engine.errors import Code
from kpi_engine.expr.ast import Expr
from kpi_engine.expr.parser import parse
from kpi_engine.expr.printer import to_text
from kpi_engine.expr.scope import Calendar
from kpi_engine.expr.typecheck import FormulaKind, check, check_expr

FORMULAS = Formulas(max_depth=3)
# CI runs 1,000 examples in all; EXPR_EXAMPLES_SCALE=20 runs twenty times as many.
SCALE = int(os.environ.get("EXPR_EXAMPLES_SCALE", "1"))
_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}


def _typed(expr: Expr, kind: FormulaKind) -> Expr:
    checked = check_expr(expr, kind, SCOPE)
    codes = {d.code for d in checked.diagnostics}
    assume(codes != {Code.NOT_AGGREGATE})
    assert checked.expr is not None, (to_text(expr), checked.diagnostics)
    return checked.expr


def _agree(
    con: duckdb.DuckDBPyConnection,
    expr: Expr,
    kind: FormulaKind,
    data: list[dict[str, Any]],
    row_filter: Expr | None = None,
) -> None:
    load(con, data)
    actual = run(con, expr, kind, row_filter)
    expected = oracle(expr, kind, data, row_filter)
    assert same(actual, expected), (
        f"{to_text(expr)}{'  [filter: ' + to_text(row_filter) + ']' if row_filter else ''}\n"
        f"duckdb:    {actual!r}\nreference: {expected!r}"
    )


@settings(max_examples=300 * SCALE, **_SETTINGS)
@given(formula=FORMULAS.formula(), data=rows(), row_filter=st.none() | FORMULAS.boolean("row", 2))
def test_formula_matches_reference(
    duck: duckdb.DuckDBPyConnection, formula: Expr, data: list[dict[str, Any]], row_filter: Expr | None
) -> None:
    typed_filter = _typed(row_filter, "where") if row_filter is not None else None
    _agree(duck, _typed(formula, "formula"), "formula", data, typed_filter)


@settings(max_examples=200 * SCALE, **_SETTINGS)
@given(value=FORMULAS.row_value(), data=rows())
def test_row_value_matches_reference(duck: duckdb.DuckDBPyConnection, value: Expr, data: list[dict[str, Any]]) -> None:
    _agree(duck, _typed(value, "row"), "row", data)


@settings(max_examples=100 * SCALE, **_SETTINGS)
@given(condition=FORMULAS.boolean("agg", 3), data=rows())
def test_valid_if_matches_reference(
    duck: duckdb.DuckDBPyConnection, condition: Expr, data: list[dict[str, Any]]
) -> None:
    _agree(duck, _typed(condition, "valid_if"), "valid_if", data)


@settings(max_examples=400 * SCALE, deadline=None)
@given(expr=any_ast())
def test_print_then_parse_round_trips(expr: Expr) -> None:
    text = to_text(expr)
    assert parse(text, max_depth=None, max_nodes=None, max_length=None) == expr, text


_WINDOW = st.tuples(st.integers(0, 47), st.integers(1, 48)).map(lambda t: (t[0] * 30, min(1440, t[0] * 30 + t[1] * 30)))


@st.composite
def calendars(draw: Any) -> Calendar:
    week = {}
    for day in range(1, 8):
        windows = sorted(draw(st.lists(_WINDOW, max_size=2)))
        merged: list[tuple[int, int]] = []
        for start, end in windows:  # calendars from the model never overlap
            if merged and start < merged[-1][1]:
                continue
            merged.append((start, end))
        if merged:
            week[day] = tuple(merged)
    holidays = draw(
        st.lists(st.integers(0, 20).map(lambda k: datetime.date(2025, 3, 24) + datetime.timedelta(k)), max_size=4)
    )
    zone = draw(st.sampled_from(("Europe/Riga", "UTC", "America/New_York", "Asia/Kolkata")))
    return Calendar("cal", zone, week, tuple(holidays))


@settings(max_examples=150 * SCALE, **_SETTINGS)
@given(
    calendar=calendars(),
    data=rows(),
    function=st.sampled_from(("business_hours", "business_days")),
    start=st.sampled_from(("created_at", "resolved_at", "due")),
    end=st.sampled_from(("created_at", "resolved_at", "due")),
)
def test_calendar_functions_match_reference(
    duck: duckdb.DuckDBPyConnection, calendar: Calendar, data: list[dict[str, Any]], function: str, start: str, end: str
) -> None:
    in_scope = scope({"cal": calendar})
    text = f"{function}({start}, {end}, 'cal')"
    checked = check(text, "row", in_scope)
    assert checked.expr is not None, checked.diagnostics
    load(duck, data)
    actual = run(duck, checked.expr, "row", calendars={"cal": calendar})
    expected = oracle(checked.expr, "row", data, calendars={"cal": calendar})
    assert same(actual, expected), f"{text} with {calendar}\nduckdb:    {actual!r}\nreference: {expected!r}"
