"""Every formula case of tests/expr/cases.py compiled for PostgreSQL and run there on the same six
rows, against DuckDB's value at 12 significant digits (SPEC §12). What PostgreSQL cannot compute
must be refused when the formula is compiled, naming the function and the engine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "expr"))

import exprkit as kit  # noqa: E402
import sqlglot  # noqa: E402
from cases import ALL, Case  # noqa: E402
from sqlglot import exp  # noqa: E402

from kpi_engine.errors import Code, KpiError  # noqa: E402
from kpi_engine.sql.compile_expr import compile_expr, to_sql  # noqa: E402

psycopg = pytest.importorskip("psycopg")

#: Case id → why PostgreSQL refuses it (the refusal must name the function and the engine). None today:
#: business_hours and business_days give the reference values there, so they are not refused.
REFUSED: dict[str, str] = {}
_PG_TYPES = {"DOUBLE": "DOUBLE PRECISION", "VARCHAR": "TEXT", "BOOLEAN": "BOOLEAN"}
_KPI_COLUMNS = ", ".join(f'"{k}" DOUBLE PRECISION' for k in kit.KPIS)


@pytest.fixture(scope="module")
def pg(postgres_url: str) -> Iterator[Any]:
    """A connection in the cases' zone with tables t, emp, k and p of exprkit in their own schema."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA formulas")
        conn.execute("SELECT set_config('search_path', 'formulas', false), set_config('TimeZone', %s, false)", [kit.TZ])
        columns = ", ".join(
            f'"{n}" {_PG_TYPES.get(kit.SQL_TYPES[t], kit.SQL_TYPES[t])}' for n, t in kit.COLUMNS.items()
        )
        conn.execute(f"CREATE TABLE t ({columns})")
        conn.execute('CREATE TABLE emp ("id" TEXT, "unit" TEXT, "name" TEXT)')
        conn.execute(f"CREATE TABLE k ({_KPI_COLUMNS})")
        conn.execute(f"CREATE TABLE p ({_KPI_COLUMNS})")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO emp VALUES (%s, %s, %s)", kit.EMPLOYEES)
            cursor.execute("INSERT INTO k VALUES (%s, %s, %s, %s)", [kit.KPI_VALUES[k] for k in kit.KPIS])
            cursor.execute("INSERT INTO p VALUES (%s, %s, %s, %s)", [kit.PREVIOUS_VALUES[k] for k in kit.KPIS])
            marks = ", ".join(["%s"] * len(kit.COLUMNS))
            rows = [[kit._cell(r.get(c), t) for c, t in kit.COLUMNS.items()] for r in kit.ROWS]
            cursor.executemany(f"INSERT INTO t VALUES ({marks})", rows)
        yield conn


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    """exprkit's DuckDB connection with table t holding its six rows."""
    con = kit.connect()
    yield con
    con.close()


def _query(compiled: exp.Expression, case: Case, t: Any) -> str:
    """exprkit's query of a case (t joined to emp as agent; k × p for derived), in PostgreSQL."""
    value = exp.alias_(kit._fetchable(compiled, t), "v")
    if case.kind == "derived":
        return to_sql(sqlglot.select(value).from_(exp.table_("k")).join(exp.table_("p"), join_type="cross"), "postgres")
    select = sqlglot.select(value).from_(exp.table_("t"))
    select = select.join(exp.table_("emp", alias="agent"), on='"agent"."id" = "t"."agent_id"', join_type="left")
    if case.kind in ("where", "row"):
        select = select.order_by('"t"."id"')
    else:
        select = select.group_by(exp.Tuple(expressions=[]))
    return to_sql(select, "postgres")


def digits12(value: Any) -> Any:
    """A value as compared across engines: numbers at 12 significant digits, lists item by item."""
    if isinstance(value, list):
        return [digits12(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        shown = f"{float(value):.12g}"
        return "0" if shown == "-0" else shown
    return value


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_postgres_gives_duckdbs_value(case: Case, pg: Any, table: Any) -> None:
    in_scope = kit.ONE_CALENDAR if case.one_calendar else kit.SCOPE
    calendars = {"office": kit.OFFICE} if case.one_calendar else None
    expr = kit.checked(case.text, case.kind, in_scope)  # type: ignore[arg-type]
    try:
        compiled = compile_expr(expr, kit.context("postgres", calendars))
    except KpiError as exc:
        (diagnostic,) = exc.diagnostics
        assert diagnostic.code is Code.DIALECT_UNSUPPORTED and "postgres" in diagnostic.message
        assert case.id in REFUSED and REFUSED[case.id] in diagnostic.message
        return
    assert case.id not in REFUSED, "compiled for postgres, but listed as refused"
    rows = pg.execute(_query(compiled, case, expr.type)).fetchall()
    actual = [r[0] for r in rows] if case.kind in ("where", "row") else rows[0][0]
    expected = kit.run(table, expr, case.kind, calendars=calendars)  # type: ignore[arg-type]
    assert digits12(actual) == digits12(expected), f"PostgreSQL gave {actual!r}, DuckDB {expected!r}"
