"""Every formula case of tests/expr/cases.py on real Spark (local[2]) equals DuckDB at 12 significant digits.

The six rows of exprkit are created in Spark; the cases run in a few batched queries (one per kind),
falling back to one query per case only when a batch fails. A case Spark cannot compute must be
refused when it is compiled, naming the function and the engine: those are listed in REFUSED.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "expr"))

from cases import ALL, Case  # noqa: E402
from exprkit import (  # noqa: E402
    COLUMNS,
    EMPLOYEES,
    KPI_VALUES,
    KPIS,
    OFFICE,
    ONE_CALENDAR,
    PREVIOUS_VALUES,
    ROWS,
    SCOPE,
    TZ,
    checked,
    connect,
    context,
    run,
)
from spark_session import spark_session  # noqa: E402,F401
from sqlglot import exp  # noqa: E402

from kpi_engine.errors import KpiError  # noqa: E402
from kpi_engine.expr.types import Type  # noqa: E402
from kpi_engine.sql.compile_expr import compile_expr, to_sql  # noqa: E402

#: Cases Spark refuses at compile time (function → why), none so far.
REFUSED: dict[str, str] = {}
_SPARK_TYPES = {
    Type.NUMBER: "DOUBLE",
    Type.STRING: "STRING",
    Type.BOOLEAN: "BOOLEAN",
    Type.TIMESTAMP: "TIMESTAMP",
    Type.DATE: "DATE",
}


def _tables(session: Any) -> None:
    """The tables t, emp, k and p of exprkit, as temporary views."""
    session.conf.set("spark.sql.session.timeZone", TZ)
    schema = ", ".join(f"`{name}` {_SPARK_TYPES[t]}" for name, t in COLUMNS.items())
    cells = [tuple(_cell(r.get(c), t) for c, t in COLUMNS.items()) for r in ROWS]
    session.createDataFrame(cells, schema).createOrReplaceTempView("t")
    session.createDataFrame(EMPLOYEES, "id STRING, unit STRING, name STRING").createOrReplaceTempView("emp")
    kpis = ", ".join(f"`{k}` DOUBLE" for k in KPIS)
    session.createDataFrame([tuple(KPI_VALUES[k] for k in KPIS)], kpis).createOrReplaceTempView("k")
    session.createDataFrame([tuple(PREVIOUS_VALUES[k] for k in KPIS)], kpis).createOrReplaceTempView("p")


def _cell(value: Any, t: Type) -> Any:
    return float(value) if t is Type.NUMBER and value is not None else value


def _compiled(case: Case, dialect: str) -> exp.Expression:
    calendars = {"office": OFFICE} if case.one_calendar else None
    expr = checked(case.text, case.kind, ONE_CALENDAR if case.one_calendar else SCOPE)  # type: ignore[arg-type]
    value = compile_expr(expr, context(dialect, calendars))
    if expr.type is Type.TIMESTAMP:  # compared as seconds since 1970
        value = exp.Div(this=exp.UnixMicros(this=value), expression=exp.Literal.number(1_000_000))
    return value


def _query(values: list[exp.Expression], kind: str) -> str:
    columns = [v.as_(f"v{i}") for i, v in enumerate(values)]
    if kind == "derived":
        select = exp.select(*columns).from_("k").join("p", join_type="cross")
    else:
        select = exp.select(*columns).from_(exp.table_("t"))
        select = select.join(exp.table_("emp", alias="agent"), on='"agent"."id" = "t"."agent_id"', join_type="left")
        if kind in ("where", "row"):  # else aggregates without GROUP BY: one row (Spark has no GROUP BY ())
            select = select.order_by('"t"."id"')
    return to_sql(select, "spark")


def _shape(rows: list[Any], width: int, kind: str) -> list[Any]:
    if kind in ("where", "row"):
        return [[r[i] for r in rows] for i in range(width)]
    return list(rows[0])


def _spark_values(session: Any) -> dict[str, Any]:
    """Each case's value on Spark, or ("refused", message) for a case refused at compile time."""
    _tables(session)
    out: dict[str, Any] = {}
    batches: dict[str, list[tuple[Case, exp.Expression]]] = {}
    for case in ALL:
        try:
            batches.setdefault(case.kind, []).append((case, _compiled(case, "spark")))
        except KpiError as exc:
            out[case.id] = ("refused", str(exc))
    for kind, batch in batches.items():
        try:
            rows = [tuple(r) for r in session.sql(_query([v for _, v in batch], kind)).collect()]
            values = _shape(rows, len(batch), kind)
        except Exception:  # noqa: BLE001 - a failing batch runs case by case to name the culprit
            values = []
            for _, v in batch:
                try:
                    rows = [tuple(r) for r in session.sql(_query([v], kind)).collect()]
                    values.append(_shape(rows, 1, kind)[0])
                except Exception as exc:  # noqa: BLE001
                    values.append(("failed", repr(exc)[:300]))
        for (case, _), value in zip(batch, values, strict=True):
            out[case.id] = value
    return out


@pytest.fixture(scope="module")
def spark_values(spark_session: Any) -> dict[str, Any]:  # noqa: F811
    return _spark_values(spark_session)


def _significant(value: Any) -> Any:
    if isinstance(value, list):
        return [_significant(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) or hasattr(value, "as_tuple"):
        return float(f"{float(value):.12g}") + 0.0
    return value


@pytest.fixture(scope="module")
def table() -> Any:
    con = connect()
    yield con
    con.close()


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_spark_equals_duckdb(case: Case, spark_values: dict[str, Any], table: Any) -> None:
    found = spark_values[case.id]
    if isinstance(found, tuple) and found and found[0] == "refused":
        assert case.id in REFUSED, f"refused on Spark: {found[1]}"
        assert "spark" in found[1]
        return
    assert case.id not in REFUSED, "Spark computes a case listed as refused"
    calendars = {"office": OFFICE} if case.one_calendar else None
    expr = checked(case.text, case.kind, ONE_CALENDAR if case.one_calendar else SCOPE)  # type: ignore[arg-type]
    duck = run(table, expr, case.kind, calendars=calendars)  # type: ignore[arg-type]
    assert _significant(found) == _significant(duck), f"Spark gave {found!r}, DuckDB {duck!r}"
