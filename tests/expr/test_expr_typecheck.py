"""Static checks (SPEC §3): each user mistake is a diagnostic with a code and a span."""

from __future__ import annotations

from decimal import Decimal

import pytest
from exprkit import OFFICE, SCOPE, scope

from kpi_engine.errors import Code
from kpi_engine.expr import ast
from kpi_engine.expr.ast import Ref
from kpi_engine.expr.functions import FUNCTIONS, Kind
from kpi_engine.expr.scope import Calendar, Scope, Type
from kpi_engine.expr.typecheck import FormulaKind, check


def _diagnostics(text: str, kind: FormulaKind = "formula", in_scope: Scope = SCOPE) -> list[tuple[Code, int]]:
    result = check(text, kind, in_scope)
    assert result.expr is None and result.type is None
    return [(d.code, d.span.col if d.span else 0) for d in result.diagnostics]


def _one(text: str, kind: FormulaKind = "formula", in_scope: Scope = SCOPE) -> tuple[Code, int, str, str | None]:
    result = check(text, kind, in_scope)
    assert len(result.diagnostics) == 1, result.diagnostics
    (d,) = result.diagnostics
    assert d.span is not None
    return d.code, d.span.col, d.message, d.hint


@pytest.mark.parametrize(
    ("text", "kind", "code", "col"),
    [
        ("avg(csta)", "formula", Code.UNKNOWN_NAME, 5),
        ("count_if(agent.unti = 'x')", "formula", Code.UNKNOWN_NAME, 10),
        ("count_if(agent.unit.x = 'x')", "formula", Code.UNKNOWN_NAME, 10),
        ("count_if(agent = 'x')", "formula", Code.UNKNOWN_NAME, 10),
        ("read_csv('/etc/passwd')", "formula", Code.UNKNOWN_FUNCTION, 1),
        ("SUM(amount)", "formula", Code.UNKNOWN_FUNCTION, 1),
        ("sum(amount, qty)", "formula", Code.WRONG_ARITY, 1),
        ("count(amount, qty)", "formula", Code.WRONG_ARITY, 1),
        ("avg(if(down, 1))", "formula", Code.WRONG_ARITY, 5),
        ("count() + coalesce(1)", "formula", Code.WRONG_ARITY, 11),
        ("avg(business_hours(created_at))", "formula", Code.WRONG_ARITY, 5),
        ("sum(priority)", "formula", Code.WRONG_TYPE_ARG, 5),
        ("count_if(upper(amount) = 'X')", "formula", Code.WRONG_TYPE_ARG, 16),
        ("sum(hours(amount))", "formula", Code.WRONG_TYPE_ARG, 11),
        ("sum(year(amount))", "formula", Code.WRONG_TYPE_ARG, 10),
        ("count_if(amount)", "formula", Code.WRONG_TYPE_ARG, 10),
        ("percentile(amount, 90)", "formula", Code.WRONG_TYPE_ARG, 20),
        ("percentile(amount, qty)", "formula", Code.WRONG_TYPE_ARG, 20),
        ("round(avg(amount), 1.5)", "formula", Code.WRONG_TYPE_ARG, 20),
        ("round(avg(amount), $vip)", "formula", Code.WRONG_TYPE_ARG, 20),
        ("sum(business_hours(created_at, resolved_at, office))", "formula", Code.WRONG_TYPE_ARG, 45),
        ("count() + coalesce(1, 'x')", "formula", Code.WRONG_TYPE_ARG, 11),
        ("count_if(priority = 1)", "formula", Code.TYPE_MISMATCH, 10),
        ("count_if(resolved_at - created_at > 4)", "formula", Code.TYPE_MISMATCH, 10),
        ("count_if(down < true)", "formula", Code.TYPE_MISMATCH, 10),
        ("sum(amount + 'x')", "formula", Code.TYPE_MISMATCH, 5),
        ("count_if(created_at + 1 > due)", "formula", Code.TYPE_MISMATCH, 10),
        ("count_if(-priority = 'x')", "formula", Code.TYPE_MISMATCH, 10),
        ("count_if(priority in ('a', 1))", "formula", Code.TYPE_MISMATCH, 28),
        ("count_if(amount between 'a' and 2)", "formula", Code.TYPE_MISMATCH, 25),
        ("amount + count()", "formula", Code.COLUMN_OUTSIDE_AGGREGATE, 1),
        ("count() * if(down, 1, 2)", "formula", Code.COLUMN_OUTSIDE_AGGREGATE, 14),
        ("count_if(critical) / count() + if(critical, 1, 0)", "formula", Code.COLUMN_OUTSIDE_AGGREGATE, 35),
        ("sum(sum(amount))", "formula", Code.NESTED_AGGREGATE, 5),
        ("amount > avg(amount)", "where", Code.AGGREGATE_IN_ROW_FILTER, 10),
        ("amount", "where", Code.NOT_BOOLEAN, 1),
        ("null", "where", Code.NOT_BOOLEAN, 1),
        ("count()", "valid_if", Code.NOT_BOOLEAN, 1),
        ("down and amount", "where", Code.NOT_BOOLEAN, 10),
        ("not amount", "where", Code.NOT_BOOLEAN, 5),
        ("1 + 2", "formula", Code.NOT_AGGREGATE, 1),
        ("$sla_hours", "formula", Code.NOT_AGGREGATE, 1),
        ("count() > 3", "formula", Code.FORMULA_RESULT_TYPE, 1),
        ("max(created_at)", "formula", Code.FORMULA_RESULT_TYPE, 1),
        ("min(priority)", "formula", Code.FORMULA_RESULT_TYPE, 1),
        ("revenue + count()", "formula", Code.MIXED_KPI_AND_ROWS, 1),
        ("count() / resolved_in_sla.critical", "formula", Code.MIXED_KPI_AND_ROWS, 11),
        ("count() - previous(revenue)", "formula", Code.MIXED_KPI_AND_ROWS, 11),
        ("revenue / sum(amount)", "derived", Code.MIXED_KPI_AND_ROWS, 11),
        ("revenu / visits", "derived", Code.UNKNOWN_NAME, 1),
        ("previous(1)", "derived", Code.WRONG_TYPE_ARG, 10),
        ("count_if(amount > $sla_hourz)", "formula", Code.UNKNOWN_PARAM, 19),
        ("$nope", "where", Code.UNKNOWN_PARAM, 1),
        ("sum(business_hours(created_at, resolved_at, 'ofice'))", "formula", Code.UNKNOWN_NAME, 45),
    ],
)
def test_static_checks(text: str, kind: FormulaKind, code: Code, col: int) -> None:
    assert (code, col) in _diagnostics(text, kind)


def test_did_you_mean_column() -> None:
    assert _one("avg(csta)")[3] == "did you mean `csat`?"


def test_did_you_mean_relation_path() -> None:
    hint = _one("count_if(agent.unti = 'x')")[3]
    assert hint is not None and "`agent.unit`" in hint


def test_did_you_mean_segment() -> None:
    assert _one("share(critcal)")[3] == "did you mean `critical`?"


def test_did_you_mean_function() -> None:
    assert _one("cout()")[3] == "did you mean `count` or `count_if`?"
    assert _one("SUM(amount)")[3] == "did you mean `sum`?"


def test_did_you_mean_param() -> None:
    assert _one("count_if(amount > $sla_hourz)")[3] == "did you mean `$sla_hours`?"


def test_did_you_mean_kpi() -> None:
    assert _one("revenu / visits", "derived")[3] == "did you mean `revenue`?"


def test_name_with_spaces_suggests_backticks() -> None:
    code, _, message, hint = _one("avg(First)")
    assert code is Code.UNKNOWN_NAME and message == "unknown name `First`"
    assert hint == "a name with spaces goes in backticks: `First Response (min)`"


def test_unknown_word_suggests_quotes() -> None:
    assert _one("count_if(priority = urgent)")[3] == "if you meant the text, write it in quotes: 'urgent'"


def test_file_system_functions_are_just_unknown() -> None:
    for name in ("read_csv", "read_text", "glob", "read_parquet", "query", "getenv"):
        code, col, message, _ = _one(f"{name}('/etc/passwd')")
        assert (code, col, message) == (Code.UNKNOWN_FUNCTION, 1, f"unknown function `{name}`")


def test_duration_hint() -> None:
    hint = _one("count_if(resolved_at - created_at > 4)")[3]
    assert hint == "compare with a duration like 4h or convert with hours(...)"


def test_column_outside_aggregate_hint() -> None:
    assert _one("amount + count()")[3] == "aggregate it, e.g. sum(amount) or avg(amount)"
    assert _one("count() * if(down, 1, 2)")[3] == "aggregate it, e.g. share(down) or count_if(down)"


def test_relation_alone() -> None:
    code, _, message, hint = _one("count_if(agent = 'x')")
    assert message == "`agent` is a relation, not a value" and hint == "name one of its columns, e.g. agent.id"


def test_every_mistake_is_reported_once() -> None:
    codes = _diagnostics("sum(csta) + avg(qyt) + cout()")
    assert codes == [(Code.UNKNOWN_NAME, 5), (Code.UNKNOWN_NAME, 17), (Code.UNKNOWN_FUNCTION, 24)]


def test_no_cascade_after_unknown_name() -> None:
    assert _diagnostics("sum(csta * 2 + 1) / count()") == [(Code.UNKNOWN_NAME, 5)]


def test_syntax_errors_come_back_as_diagnostics() -> None:
    assert _diagnostics("sum(amount") == [(Code.FORMULA_SYNTAX, 11)]


def test_default_calendar() -> None:
    assert check("sum(business_hours(created_at, resolved_at))", "formula", scope({"office": OFFICE})).ok
    code, col, message, hint = _one("sum(business_hours(created_at, resolved_at))")
    assert (code, col) == (Code.WRONG_ARITY, 5) and "2 calendars are defined ('night', 'office')" in message
    code, _, message, _ = _one("sum(business_days(created_at, resolved_at))", in_scope=scope({}))
    assert code is Code.WRONG_ARITY and "no calendar is defined" in message


def test_kinds_and_result_types() -> None:
    assert check("median(minutes(resolved_at - created_at))", "formula", SCOPE).type is Type.NUMBER
    assert check("median(resolved_at - created_at)", "formula", SCOPE).type is Type.DURATION
    assert check("share(critical) < 10%", "valid_if", SCOPE).type is Type.BOOLEAN
    assert check("priority = 'critical' or down", "where", SCOPE).type is Type.BOOLEAN
    assert check("revenue / previous(revenue)", "derived", SCOPE).type is Type.NUMBER
    assert check("handle_time * 2", "derived", SCOPE).type is Type.DURATION
    assert check("created_at + $sla", "row", SCOPE).type is Type.TIMESTAMP
    assert check("if(down, due, created_at)", "row", SCOPE).type is Type.TIMESTAMP
    assert check("`First Response (min)` / 60", "row", SCOPE).type is Type.NUMBER
    assert check("$strict", "valid_if", SCOPE).ok


def test_typed_tree_is_complete() -> None:
    result = check(
        "share(hours(resolved_at - created_at) <= $sla_hours, critical) + count_if(agent.unit in ('north', null))",
        "formula",
        SCOPE,
    )
    assert result.expr is not None
    nodes = list(ast.walk(result.expr))
    assert all(n.type is not None for n in nodes)
    refs = {n.dotted: n.ref for n in nodes if isinstance(n, ast.Name)}
    assert refs == {
        "resolved_at": Ref.COLUMN,
        "created_at": Ref.COLUMN,
        "critical": Ref.SEGMENT,
        "agent.unit": Ref.COLUMN,
    }


def test_typed_tree_equals_parsed_tree() -> None:
    from kpi_engine.expr.parser import parse

    text = "sum(amount) / count()"
    checked = check(text, "formula", SCOPE)
    assert checked.expr == parse(text)


def test_kpi_type_of_previous() -> None:
    assert check("previous(handle_time)", "derived", SCOPE).type is Type.DURATION


def test_param_types() -> None:
    in_scope = Scope(columns={"x": Type.NUMBER}, params={"n": Decimal(1), "s": "a", "b": True})
    assert check("x > $n and $b and 'a' = $s", "where", in_scope).ok
    assert _one("x = $s", "where", in_scope)[0] is Code.TYPE_MISMATCH


def test_calendar_must_be_a_literal() -> None:
    calendars = {"office": Calendar("office", "UTC", {1: ((0, 60),)})}
    in_scope = scope(calendars)
    assert _one("sum(business_days(created_at, resolved_at, priority))", in_scope=in_scope)[0] is Code.WRONG_TYPE_ARG


_NULL_TYPED_AS_NUMBER = sorted(n for n, f in FUNCTIONS.items() if f.args and f.args[0].null_as is Type.NUMBER)


def test_functions_that_type_a_null_as_a_number() -> None:
    # the rule lives in the table rows; this list is what the rows say today
    assert _NULL_TYPED_AS_NUMBER == [
        "abs",
        "avg",
        "avg_if",
        "ceil",
        "floor",
        "max",
        "median",
        "min",
        "percentile",
        "round",
        "stddev",
        "sum",
        "sum_if",
    ]


@pytest.mark.parametrize("name", _NULL_TYPED_AS_NUMBER)
def test_a_null_argument_types_like_sum_null(name: str) -> None:
    fn = FUNCTIONS[name]
    args = ["null"] + [{"condition": "down", "p": "0.5", "digits": "1"}[a.name] for a in fn.args[1 : fn.min_args]]
    call = f"{name}({', '.join(args)})"
    text = call if fn.kind is Kind.AGGREGATE else f"count() + {call}"
    result = check(text, "formula", SCOPE)
    assert result.ok, result.diagnostics
    assert result.type is Type.NUMBER
    # a number, so it does not fit next to a string
    assert _one(f"count() + if(true, {call}, 'x')" if fn.kind is not Kind.AGGREGATE else f"if(true, {call}, 'x')")[
        0
    ] in (Code.WRONG_TYPE_ARG, Code.FORMULA_RESULT_TYPE)


def test_stddev_null_types_as_sum_null() -> None:
    assert check("stddev(null)", "formula", SCOPE).type is check("sum(null)", "formula", SCOPE).type is Type.NUMBER


def test_unifying_functions_keep_a_null() -> None:
    # if, coalesce, least and greatest take the type of their other arguments
    assert check("coalesce(null, null)", "row", SCOPE).type is Type.NULL
    assert check("if(down, null, 'x')", "row", SCOPE).type is Type.STRING
