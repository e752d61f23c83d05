"""RELIABILITY §B (items 29-37): formulas cannot reach raw SQL. Hostile strings stay inert
literals, hostile names stay quoted identifiers, file-system functions are unknown names,
and every generated SQL is a single expression built from an allow-list of nodes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlglot
from expr_strategies import Formulas
from exprkit import SCOPE, assert_single_expression, checked, context, load, run, sql_of
from hypothesis import HealthCheck, assume, given, settings
from sqlglot import exp

from kpi_engine.errors import Code, KpiError
from kpi_engine.expr.scope import Scope, Type
from kpi_engine.expr.typecheck import check, check_expr
from kpi_engine.sql.compile_expr import TableContext, compile_expr, to_sql

ALLOWED_NODES = {
    exp.Column,
    exp.Identifier,
    exp.Cast,
    exp.DataType,
    exp.DataTypeParam,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Nullif,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.Paren,
    exp.EQ,
    exp.NEQ,
    exp.LT,
    exp.LTE,
    exp.GT,
    exp.GTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.Greatest,
    exp.Least,
    exp.Abs,
    exp.Floor,
    exp.Ceil,
    exp.Round,
    exp.Trunc,
    exp.Sign,
    exp.Lower,
    exp.Upper,
    exp.Trim,
    exp.Count,
    exp.Star,
    exp.Distinct,
    exp.Sum,
    exp.Avg,
    exp.Min,
    exp.Max,
    exp.Median,
    exp.PercentileCont,
    exp.Quantile,
    exp.StddevSamp,
    exp.Filter,
    exp.Where,
    exp.Anonymous,
    exp.TimeToUnix,
    exp.UnixToTime,
    exp.UnixMicros,
    exp.Extract,
    exp.Var,
    exp.DateDiff,
    exp.AtTimeZone,
    exp.Year,
    exp.Month,
    exp.Quarter,
    exp.DayOfWeekIso,
}
ALLOWED_ANONYMOUS = {"LIST", "LIST_SORT", "LIST_AGGREGATE"}


def assert_allow_listed(tree: exp.Expression) -> None:
    for node in tree.walk():
        assert type(node) in ALLOWED_NODES, f"{type(node).__name__} in {tree.sql('duckdb')}"
        if isinstance(node, exp.Anonymous):
            assert node.name.upper() in ALLOWED_ANONYMOUS


HOSTILE_STRINGS = [
    "EU' OR '1'='1",
    "x'; DROP TABLE t; --",
    "'; SELECT * FROM read_csv('/etc/passwd'); --",
    "a /* b */ c",
    "line\nbreak",
    "back\\slash'",
    "$$ dollar $$",
    "🙂 ünïcode",
    "\x00nul",
]


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_string_literals_stay_literals(value: str, duck: duckdb.DuckDBPyConnection) -> None:
    text = "count_if(priority = '" + value.replace("'", "''") + "')"
    sql = sql_of(text)
    assert_single_expression(sql, "duckdb")
    assert sqlglot.parse_one(f"SELECT {sql}", read="duckdb").find(exp.Literal, bfs=False) is not None
    load(duck, [{"id": 1.0, "priority": value}, {"id": 2.0, "priority": "x"}])
    assert run(duck, checked(text, "formula"), "formula") == 1
    assert duck.execute("SELECT count(*) FROM t").fetchone() == (2,)  # table still there


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery", "spark", "trino"])
def test_string_literal_in_every_dialect(dialect: str) -> None:
    for value in HOSTILE_STRINGS[:4]:
        sql = sql_of("count_if(priority = '" + value.replace("'", "''") + "')", dialect=dialect)
        assert_single_expression(sql, dialect)
        literal = sqlglot.parse_one(f"SELECT {sql}", read=dialect).find(exp.Literal, bfs=False)
        assert literal is not None and literal.this == value


def test_param_strings_are_literals() -> None:
    in_scope = Scope(columns={"p": Type.STRING}, params={"evil": "x'); DROP TABLE t; --"})
    typed = check("p = $evil", "where", in_scope).expr
    assert typed is not None
    sql = to_sql(compile_expr(typed, TableContext(params=in_scope.params)), "duckdb")
    assert sql == "\"t\".\"p\" = 'x''); DROP TABLE t; --'"


HOSTILE_NAMES = ['a"b', "x'); DROP TABLE t; --", "select", "my col", "Umsatz€", "a`b", "--x", "new\nline"]


def test_hostile_column_names_stay_identifiers() -> None:
    con = duckdb.connect()
    columns = ", ".join('"' + n.replace('"', '""') + '" DOUBLE' for n in HOSTILE_NAMES)
    con.execute(f"CREATE TABLE t ({columns})")
    con.execute(f"INSERT INTO t VALUES ({', '.join(['1'] * len(HOSTILE_NAMES))})")
    in_scope = Scope(columns={n: Type.NUMBER for n in HOSTILE_NAMES})
    text = " + ".join("sum(`" + n.replace("`", "``") + "`)" for n in HOSTILE_NAMES)
    typed = check(text, "formula", in_scope).expr
    assert typed is not None
    sql = to_sql(compile_expr(typed, TableContext()), "duckdb")
    assert_single_expression(sql, "duckdb")
    assert con.execute(f"SELECT {sql} FROM t").fetchone() == (len(HOSTILE_NAMES),)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)


@pytest.mark.parametrize(
    "text",
    [
        "read_csv('/etc/passwd')",
        "read_text('/etc/passwd')",
        "glob('*')",
        "read_parquet('x')",
        "read_json_auto('x')",
        "query('SELECT 1')",
        "getenv('HOME')",
        "install('httpfs')",
        "system('ls')",
    ],
)
def test_file_system_functions_are_unknown(text: str) -> None:
    result = check(text, "formula", SCOPE)
    assert [d.code for d in result.diagnostics] == [Code.UNKNOWN_FUNCTION]


@pytest.mark.parametrize(
    "text",
    [
        "COPY t TO '/tmp/x.csv'",
        "ATTACH '/tmp/x.db'",
        "INSTALL httpfs",
        "1; DROP TABLE t",
        "count(); DROP TABLE t",
        "x -- comment",
        "x /* comment */",
        "SELECT 1",
        "count() UNION SELECT 1",
        "\"priority\" = 'x'",
        "count() FILTER (WHERE 1)",
        "x::int",
        "x || y",
        "pragma version",
    ],
)
def test_sql_syntax_is_not_a_formula(text: str) -> None:
    result = check(text, "formula", SCOPE)
    assert result.expr is None
    assert result.diagnostics[0].code in (Code.FORMULA_SYNTAX, Code.UNKNOWN_NAME)


def test_double_minus_is_not_a_comment(duck: duckdb.DuckDBPyConnection) -> None:
    sql = sql_of("sum(amount)--1")
    assert "--" not in sql.replace("- -", "")
    load(duck, [{"id": 1.0, "amount": 2.0}])
    assert run(duck, checked("sum(amount)--1", "formula"), "formula") == 3


def test_segment_and_relation_paths_are_quoted() -> None:
    sql = sql_of("count_if(agent.unit = 'north')")
    assert sql == 'COUNT(*) FILTER(WHERE "agent"."unit" = \'north\')'


_FORMULAS = Formulas(max_depth=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formula=_FORMULAS.formula())
def test_generated_sql_is_one_allow_listed_expression(formula: Any) -> None:
    result = check_expr(formula, "formula", SCOPE)
    assume(result.expr is not None)
    assert result.expr is not None
    for dialect in ("duckdb", "postgres"):
        try:
            tree = compile_expr(result.expr, context(dialect), sqlglot.condition('"t"."down"'))
        except KpiError as exc:
            assert {d.code for d in exc.diagnostics} == {Code.DIALECT_UNSUPPORTED}
            continue
        assert_allow_listed(tree)
        assert_single_expression(to_sql(tree, dialect), dialect)


def test_decimal_params_never_become_exponents() -> None:
    in_scope = Scope(columns={"x": Type.NUMBER}, params={"big": Decimal("1E+30"), "tiny": Decimal("1E-20")})
    typed = check("x > $big or x < $tiny", "where", in_scope).expr
    assert typed is not None
    sql = to_sql(compile_expr(typed, TableContext(params=in_scope.params)), "duckdb")
    assert "E" not in sql.replace("DOUBLE", "") and "1000000000000000000000000000000" in sql
