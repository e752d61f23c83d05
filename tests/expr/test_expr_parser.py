"""Parser: the grammar, spans, syntax errors in the user's words, limits, and the printer."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from exprkit import SCOPE, sql_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from kpi_engine.errors import Code, KpiError
from kpi_engine.expr import ast
from kpi_engine.expr.parser import MAX_DEPTH, MAX_LENGTH, MAX_LITERAL_DIGITS, MAX_NODES, _lark, parse
from kpi_engine.expr.printer import to_text
from kpi_engine.expr.typecheck import check
from kpi_engine.source import Span


def _error(text: str, **limits: int | None) -> tuple[Code, int, str, str | None]:
    with pytest.raises(KpiError) as caught:
        parse(text, **limits)  # type: ignore[arg-type]
    (diag,) = caught.value.diagnostics
    assert diag.span is not None
    return diag.code, diag.span.col, diag.message, diag.hint


@contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# --- the language --------------------------------------------------------------------------

N = ast.Name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", ast.Number(Decimal(12))),
        ("0.5", ast.Number(Decimal("0.5"))),
        ("80%", ast.Number(Decimal("0.8"))),
        ("30s", ast.DurationLit(Decimal(30))),
        ("15min", ast.DurationLit(Decimal(900))),
        ("4h", ast.DurationLit(Decimal(14400))),
        ("3d", ast.DurationLit(Decimal(259200))),
        ("2w", ast.DurationLit(Decimal(1209600))),
        ("1.5h", ast.DurationLit(Decimal(5400))),
        ("'it''s'", ast.String("it's")),
        ("''", ast.String("")),
        ("true", ast.Boolean(True)),
        ("FALSE", ast.Boolean(False)),
        ("Null", ast.Null()),
        ("date '2025-01-31'", ast.DateLit(datetime.date(2025, 1, 31))),
        ("DATE '2025-01-31'", ast.DateLit(datetime.date(2025, 1, 31))),
        ("timestamp '2025-01-31 10:00'", ast.TimestampLit(datetime.datetime(2025, 1, 31, 10))),
        (
            "timestamp '2025-01-31T10:00:05.25Z'",
            ast.TimestampLit(datetime.datetime(2025, 1, 31, 10, 0, 5, 250000, tzinfo=datetime.UTC)),
        ),
        ("priority", N(("priority",))),
        ("agent.unit", N(("agent", "unit"))),
        ("`First Response (min)`", N(("First Response (min)",))),
        ("`a``b`", N(("a`b",))),
        ("agent.`odd name`", N(("agent", "odd name"))),
        ("$sla_hours", ast.Param("sla_hours")),
        ("android or in_progress", ast.Logic("or", N(("android",)), N(("in_progress",)))),
        ("a or b and c", ast.Logic("or", N(("a",)), ast.Logic("and", N(("b",)), N(("c",))))),
        ("not a = b", ast.Not(ast.Compare("=", N(("a",)), N(("b",))))),
        ("not not a", ast.Not(ast.Not(N(("a",))))),
        ("a != b", ast.Compare("<>", N(("a",)), N(("b",)))),
        ("a + b * c", ast.Arith("+", N(("a",)), ast.Arith("*", N(("b",)), N(("c",))))),
        ("a - b - c", ast.Arith("-", ast.Arith("-", N(("a",)), N(("b",))), N(("c",)))),
        ("-a * b", ast.Arith("*", ast.Neg(N(("a",))), N(("b",)))),
        ("a--b", ast.Arith("-", N(("a",)), ast.Neg(N(("b",))))),
        ("a is null", ast.IsNull(N(("a",)))),
        ("a IS NOT NULL", ast.IsNull(N(("a",)), True)),
        ("a in (1, 2)", ast.InList(N(("a",)), (ast.Number(Decimal(1)), ast.Number(Decimal(2))))),
        ("a not in ('x')", ast.InList(N(("a",)), (ast.String("x"),), True)),
        (
            "a between 1 and 2 and b",
            ast.Logic("and", ast.Between(N(("a",)), ast.Number(Decimal(1)), ast.Number(Decimal(2))), N(("b",))),
        ),
        ("a not between 1 and 2", ast.Between(N(("a",)), ast.Number(Decimal(1)), ast.Number(Decimal(2)), True)),
        ("count()", ast.Call("count", ())),
        ("date(created_at)", ast.Call("date", (N(("created_at",)),))),
        ("timestamp + 1", ast.Arith("+", N(("timestamp",)), ast.Number(Decimal(1)))),
        ("f(a, (b))", ast.Call("f", (N(("a",)), N(("b",))))),
        ("a\n  + b", ast.Arith("+", N(("a",)), N(("b",)))),
    ],
)
def test_parses(text: str, expected: ast.Expr) -> None:
    assert parse(text) == expected


def test_percent_keeps_its_spelling_but_compares_by_value() -> None:
    assert parse("80%") == parse("0.8")
    assert to_text(parse("80%")) == "80%"
    assert hash(parse("sum(x) / 4h")) == hash(parse("sum( x )/14400s"))


def test_spans_are_located_in_the_formula() -> None:
    expr = parse("sum(x) + avg(y)")
    assert isinstance(expr, ast.Arith)
    assert expr.right.span == Span("<formula>", 1, 10, 1, 16)
    assert isinstance(expr.right, ast.Call) and expr.right.args[0].span == Span("<formula>", 1, 14, 1, 15)


def test_multiline_spans() -> None:
    expr = parse("sum(x)\n  + avg(y)")
    assert isinstance(expr, ast.Arith) and expr.right.span is not None
    assert (expr.right.span.line, expr.right.span.col) == (2, 5)


def test_locate_shifts_into_the_yaml_file() -> None:
    def locate(offset: int, length: int) -> Span:
        return Span("kpis.yaml", 12, 14 + offset, 12, 14 + offset + length)

    with pytest.raises(KpiError) as caught:
        parse("count( + 1", locate)
    (diag,) = caught.value.diagnostics
    assert diag.span is not None and (diag.span.file, diag.span.line, diag.span.col) == ("kpis.yaml", 12, 21)


# --- syntax errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "col", "words"),
    [
        ("1 +", 4, "found the end of the formula, expected a number, a name or `(`"),
        ("(1 + 2", 7, "expected `)`"),
        ("sum(x,)", 7, "found `)`, expected a number, a name or `(`"),
        ("a + * b", 5, "found `*`"),
        ("x == 1", 4, "found `=`"),
        ("1 2", 3, "found the number `2`, expected an operator or the end of the formula"),
        ("x < 1 < 2", 7, "found `<`"),
        ("x is 1", 6, "expected `null` or `not null`"),
        ("a.", 3, "expected a name"),
        ("not", 4, "found the end of the formula"),
        ("f(a) g", 6, "found the name `g`"),
        ("4m", 1, "`4m` is not a number or a duration"),
        ("10 hours", 4, "found the name `hours`"),
        ("4hours", 1, "`4hours` is not a number or a duration"),
        ("x = 'abc", 5, "a string is not closed"),
        ("`abc + 1", 1, "a backtick name is not closed"),
        ('x = "a"', 5, 'found `"`'),
        ("$ + 1", 1, "found `$` without a param name"),
        ("ümsatz + 1", 1, "U+00FC"),
        ("a\u00a0+ b", 2, "U+00A0"),
        ("x = １", 5, "U+FF11"),
        ("priority 'critical'", 1, "found the name `priority` followed by the string 'critical'"),
        ("date '2025-02-30'", 6, "'2025-02-30' is not a valid date"),
        ("date '31.01.2025'", 6, "not a valid date"),
        ("timestamp 'tomorrow'", 11, "not a valid timestamp"),
        ("timestamp '2025-01-31 25:00'", 11, "not a valid timestamp"),
        ("", 1, "the formula is empty"),
        ("   ", 1, "the formula is empty"),
        ("a b", 3, "found the name `b`"),
        ("1; DROP TABLE t", 2, "found `;`"),
        ("x /* c */", 4, "found `*`"),
        ("x # c", 3, "found `#`"),
        ("COPY t TO 'x'", 6, "found the name `t`"),
    ],
)
def test_syntax_errors(text: str, col: int, words: str) -> None:
    code, at, message, _ = _error(text)
    assert code is Code.FORMULA_SYNTAX
    assert at == col, message
    assert words in message


def test_name_with_spaces_hint() -> None:
    _, col, message, hint = _error("avg(First Response)")
    assert col == 11 and "`Response`" in message
    assert hint == "a name with spaces goes in backticks: `First Response`"


def test_unclosed_parenthesis_hint() -> None:
    assert _error("sum(x")[3] == "a `(` is not closed"


def test_m_is_ambiguous_hint() -> None:
    hint = _error("x > 15m")[3]
    assert hint is not None and "15min" in hint


# --- limits: clean errors, never a RecursionError ---------------------------------------------


def test_length_limit() -> None:
    ok = "x" * MAX_LENGTH
    assert parse(ok) == ast.Name((ok,))
    code, col, _, _ = _error("x" * (MAX_LENGTH + 1))
    assert (code, col) == (Code.FORMULA_TOO_LONG, MAX_LENGTH + 1)


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH])
def test_nesting_at_the_limit(depth: int) -> None:
    assert parse("(" * depth + "x" + ")" * depth) == ast.Name(("x",))
    nested: ast.Expr = ast.Name(("x",))
    for _ in range(depth):
        nested = ast.Call("abs", (nested,))
    assert parse("abs(" * depth + "x" + ")" * depth) == nested


def test_nesting_over_the_limit() -> None:
    depth = MAX_DEPTH + 1
    code, col, _, _ = _error("(" * depth + "x" + ")" * depth)
    assert (code, col) == (Code.FORMULA_TOO_DEEP, depth)
    assert _error("abs(" * depth + "x" + ")" * depth)[0] is Code.FORMULA_TOO_DEEP


def test_parentheses_in_strings_do_not_count() -> None:
    parsed = parse("x = '" + "(" * 100 + "'")
    assert isinstance(parsed, ast.Compare) and parsed.right == ast.String("(" * 100)


def test_ten_thousand_nested_parentheses() -> None:
    text = "(" * 10_000 + "x" + ")" * 10_000
    assert _error(text)[0] is Code.FORMULA_TOO_LONG
    with recursion_limit(200):
        assert _error(text, max_length=None)[0] is Code.FORMULA_TOO_DEEP


@pytest.mark.parametrize("prefix", ["-", "not ", "- ", "-("])
def test_unary_chains_are_capped(prefix: str) -> None:
    suffix = ")" * (MAX_DEPTH + 1) if prefix.endswith("(") else ""
    assert _error(prefix * (MAX_DEPTH + 1) + "x" + suffix)[0] is Code.FORMULA_TOO_DEEP
    below = prefix * (MAX_DEPTH - 1) + "x" + suffix[: MAX_DEPTH - 1]
    node, depth = parse(below), 0  # just under the cap parses, every level kept
    while isinstance(node, ast.Neg | ast.Not):
        node, depth = node.operand, depth + 1
    assert node == ast.Name(("x",)) and depth == MAX_DEPTH - 1


def test_two_thousand_term_chain() -> None:
    text = "+".join(["x"] * 2000)
    assert len(text) <= MAX_LENGTH
    code, _, message, _ = _error(text)
    assert code is Code.FORMULA_TOO_LONG and "terms" in message
    # with the term cap lifted, every pass is iterative over the chain
    with recursion_limit(400):
        expr = parse(text, max_nodes=None)
        assert to_text(expr) == " + ".join(["x"] * 2000)
        assert ast.depth(expr) == 1 and ast.size(expr) == 3999


def test_long_chain_checks_and_compiles_without_recursion() -> None:
    from exprkit import context

    from kpi_engine.expr.typecheck import check_expr
    from kpi_engine.sql.compile_expr import compile_expr, to_sql

    text = " + ".join(["sum(amount)"] * 1500)
    with recursion_limit(600):
        checked = check_expr(parse(text, max_nodes=None, max_length=None), "formula", SCOPE)
        assert checked.expr is not None
        sql = to_sql(compile_expr(checked.expr, context()), "duckdb")
    assert sql.count("SUM(") == 1500


def test_chain_under_the_term_cap_runs_in_duckdb(table: object) -> None:
    text = " + ".join(["count()"] * 400)
    assert sql_of(text).count("COUNT(*)") == 400
    checked = check(text, "formula", SCOPE)
    assert checked.expr is not None
    from exprkit import run

    assert run(table, checked.expr, "formula") == 2400  # type: ignore[arg-type]


def test_limits_are_module_constants() -> None:
    assert (MAX_LENGTH, MAX_DEPTH, MAX_NODES) == (4000, 32, 1000)


# --- no Lark exception escapes ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            list("ab1 ()'`$.,+-*/%<>=!;\"\n")
            + ["and", "not", "in", "is", "null", "between", "date", "4h", "x", "sum(", "count()"]
        ),
        max_size=30,
    ).map("".join)
)
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        parse(text)
    except KpiError as exc:
        assert all(d.code.value.startswith("E2") and d.span is not None for d in exc.diagnostics)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_check_never_raises(text: str) -> None:
    result = check(text, "formula", SCOPE)
    assert (result.expr is None) == bool(result.diagnostics) or result.expr is not None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(from_lark(_lark(), start="start"))
def test_grammar_sentences_round_trip(text: str) -> None:
    """Strings generated from the real grammar parse, and print back to the same tree."""
    try:
        expr = parse(text, max_length=None, max_depth=None, max_nodes=None)
    except KpiError as exc:  # a date literal the grammar allows but the calendar does not, or a long number
        assert {d.code for d in exc.diagnostics} <= {Code.FORMULA_SYNTAX, Code.NUMBER_TOO_LONG}
        return
    assert parse(to_text(expr), max_length=None, max_depth=None, max_nodes=None) == expr


# --- printer --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("(a or b) and c", "(a or b) and c"),
        ("a or (b and c)", "a or b and c"),
        ("not (a and b)", "not (a and b)"),
        ("(not a) = b", "(not a) = b"),
        ("-(a + b) * c", "-(a + b) * c"),
        ("- -x", "- -x"),
        ("x / (y * z)", "x / (y * z)"),
        ("(a = b) = c", "(a = b) = c"),
        ("`we``ird` + `and` + `First Response`", "`we``ird` + `and` + `First Response`"),
        (
            "date '2025-01-01' < timestamp '2025-01-01 10:00:05.5+02:00'",
            "date '2025-01-01' < timestamp '2025-01-01 10:00:05.500000+02:00'",
        ),
        ("80% + 1.50 + 90min + 1.5h + 0.25d", "80% + 1.5 + 90min + 1.5h + 0.25d"),
        ("f(a, (b or c))", "f(a, b or c)"),
        ("x NOT IN (1,2)", "x not in (1, 2)"),
        ("x between (1 + 1) and 3", "x between 1 + 1 and 3"),
        ("'it''s'", "'it''s'"),
        ("$p * 2", "$p * 2"),
    ],
)
def test_printer(text: str, printed: str) -> None:
    assert to_text(parse(text)) == printed
    assert parse(printed) == parse(text)


def test_printer_falls_back_to_seconds() -> None:
    assert to_text(ast.DurationLit(Decimal(7), "h")) == "7s"


# --- number literals: exact up to 38 digits, a located E203 beyond ------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.text("0123456789", min_size=1, max_size=60), st.text("0123456789", max_size=30), st.sampled_from(["", "%", "h"])
)
def test_number_literals_are_exact_or_refused_at_the_literal(whole: str, fraction: str, suffix: str) -> None:
    literal = whole + ("." + fraction if fraction else "") + suffix
    text = f"count() * {literal}"
    digits = len(whole) + len(fraction)
    try:
        expr = parse(text)
    except KpiError as exc:
        (diag,) = exc.diagnostics
        assert digits > MAX_LITERAL_DIGITS
        assert diag.code == Code.NUMBER_TOO_LONG
        assert diag.span is not None and diag.span.col == len("count() * ") + 1
        assert diag.message == f"the number literal has {digits} digits; the limit is {MAX_LITERAL_DIGITS}"
        return
    assert digits <= MAX_LITERAL_DIGITS
    assert isinstance(expr, ast.Arith)
    number = Decimal(whole + ("." + fraction if fraction else ""))
    if suffix == "":
        assert expr.right == ast.Number(number)
    assert parse(to_text(expr)) == expr


def test_timestamp_literal_offsets_beyond_14_hours_are_refused() -> None:
    plus_14 = datetime.timezone(datetime.timedelta(hours=14))
    expected = ast.TimestampLit(datetime.datetime(2025, 1, 1, 10, 0, tzinfo=plus_14))
    assert parse("timestamp '2025-01-01 10:00+14:00'") == expected
    with pytest.raises(KpiError) as caught:
        parse("timestamp '2025-01-01 10:00+99:00'")
    assert caught.value.diagnostics[0].code == Code.FORMULA_SYNTAX
