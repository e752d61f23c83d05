"""Shared fixtures of the expression tests: a scope, a tiny DuckDB table, and helpers that
compile a formula, run it in DuckDB and evaluate it with the reference evaluator."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import sqlglot
from reference import Env, evaluate, evaluate_row
from sqlglot import exp

from kpi_engine.errors import KpiError
from kpi_engine.expr.ast import Expr
from kpi_engine.expr.scope import Calendar, Duration, KpiInfo, ParamValue, Scope, Type
from kpi_engine.expr.typecheck import FormulaKind, check
from kpi_engine.sql.compile_expr import TableContext, compile_expr, to_sql

TZ = "Europe/Riga"
ZONE = ZoneInfo(TZ)

WEEKDAYS = ((540, 1080),)
OFFICE = Calendar(
    "office", TZ, {1: WEEKDAYS, 2: WEEKDAYS, 3: WEEKDAYS, 4: WEEKDAYS, 5: ((540, 1020),)}, (datetime.date(2025, 4, 1),)
)
NIGHT = Calendar("night", "UTC", {d: ((0, 360), (1320, 1440)) for d in range(1, 8)}, ())

COLUMNS: dict[str, Type] = {
    "id": Type.NUMBER,
    "amount": Type.NUMBER,
    "qty": Type.NUMBER,
    "csat": Type.NUMBER,
    "priority": Type.STRING,
    "channel": Type.STRING,
    "down": Type.BOOLEAN,
    "created_at": Type.TIMESTAMP,
    "resolved_at": Type.TIMESTAMP,
    "due": Type.DATE,
    "agent_id": Type.STRING,
    "First Response (min)": Type.NUMBER,
}
SQL_TYPES = {
    Type.NUMBER: "DOUBLE",
    Type.STRING: "VARCHAR",
    Type.BOOLEAN: "BOOLEAN",
    Type.TIMESTAMP: "TIMESTAMPTZ",
    Type.DATE: "DATE",
}
EMPLOYEE = Scope(columns={"id": Type.STRING, "unit": Type.STRING, "name": Type.STRING})
PARAMS: dict[str, ParamValue] = {
    "sla_hours": Decimal(4),
    "sla": Duration(Decimal(14400)),
    "target": Decimal("0.8"),
    "vip": "critical",
    "strict": True,
    "digits": Decimal(1),
}
SEGMENT_TEXT = {"critical": "priority = 'critical'", "routine": "not critical", "emailed": "channel = 'email'"}
KPIS = {
    "revenue": KpiInfo(),
    "visits": KpiInfo(),
    "resolved_in_sla.critical": KpiInfo(),
    "handle_time": KpiInfo(Type.DURATION),
}


# KPI values the derived cases run on (tables k and p).
KPI_VALUES = {"revenue": 100.0, "visits": 40.0, "resolved_in_sla.critical": 0.75, "handle_time": 3600.0}
PREVIOUS_VALUES = {"revenue": 80.0, "visits": 0.0, "resolved_in_sla.critical": None, "handle_time": 7200.0}


def local(text: str) -> datetime.datetime:
    """A wall-clock time in the session zone, as an aware datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=ZONE)


D = datetime.date.fromisoformat
ROWS: list[dict[str, Any]] = [
    dict(
        id=1,
        amount=10,
        qty=1,
        csat=5,
        priority="critical",
        channel="email",
        down=True,
        created_at=local("2025-03-28 09:00"),
        resolved_at=local("2025-03-31 10:00"),
        due=D("2025-03-31"),
        agent_id="a1",
        **{"First Response (min)": 15},
    ),
    dict(
        id=2,
        amount=20,
        qty=2,
        csat=4,
        priority="high",
        channel="phone",
        down=False,
        created_at=local("2025-03-29 12:00"),
        resolved_at=local("2025-03-29 14:30"),
        due=D("2025-03-30"),
        agent_id="a1",
        **{"First Response (min)": 30},
    ),
    dict(
        id=3,
        amount=-5,
        qty=0,
        csat=None,
        priority="normal",
        channel="email",
        down=None,
        created_at=local("2025-03-30 01:00"),
        resolved_at=local("2025-03-30 05:00"),
        due=D("2025-04-01"),
        agent_id="a2",
        **{"First Response (min)": None},
    ),
    dict(
        id=4,
        amount=None,
        qty=3,
        csat=3,
        priority="critical",
        channel=None,
        down=True,
        created_at=local("2025-03-31 08:00"),
        resolved_at=None,
        due=None,
        agent_id="a2",
        **{"First Response (min)": 45},
    ),
    dict(
        id=5,
        amount=2.5,
        qty=None,
        csat=2,
        priority="low",
        channel="chat",
        down=False,
        created_at=local("2025-04-01 17:00"),
        resolved_at=local("2025-04-02 09:30"),
        due=D("2025-04-03"),
        agent_id="a3",
        **{"First Response (min)": 60},
    ),
    dict(
        id=6,
        amount=0,
        qty=4,
        csat=5,
        priority=None,
        channel="email",
        down=False,
        created_at=None,
        resolved_at=None,
        due=D("2025-03-28"),
        agent_id=None,
        **{"First Response (min)": None},
    ),
]
EMPLOYEES = [("a1", "north", "Ann"), ("a2", "south", "Bob"), ("a3", "north", "Cy")]


def scope(calendars: Mapping[str, Calendar] | None = None, segments: bool = True) -> Scope:
    return Scope(
        columns=COLUMNS,
        relations={"agent": EMPLOYEE},
        segments={name: None for name in SEGMENT_TEXT} if segments else {},
        params=PARAMS,
        kpis=KPIS,
        calendars={"office": OFFICE, "night": NIGHT} if calendars is None else calendars,
    )


SCOPE = scope()
ONE_CALENDAR = scope({"office": OFFICE})


def typed_segments(base: Scope = SCOPE) -> dict[str, Expr]:
    out: dict[str, Expr] = {}
    for name, text in SEGMENT_TEXT.items():
        checked = check(text, "where", base)
        assert checked.expr is not None, checked.diagnostics
        out[name] = checked.expr
    return out


SEGMENTS = typed_segments()


@dataclass(frozen=True)
class TestContext(TableContext):
    """TableContext whose segments compile from their typed where on demand."""

    typed: Mapping[str, Expr] = field(default_factory=lambda: SEGMENTS)

    def segment(self, name: str) -> exp.Expression:
        return compile_expr(self.typed[name], self)


def context(dialect: str = "duckdb", calendars: Mapping[str, Calendar] | None = None) -> TestContext:
    return TestContext(
        dialect=dialect, params=PARAMS, calendars={"office": OFFICE, "night": NIGHT} if calendars is None else calendars
    )


def env(calendars: Mapping[str, Calendar] | None = None) -> Env:
    return Env(
        TZ,
        PARAMS,
        {"office": OFFICE, "night": NIGHT} if calendars is None else calendars,
        SEGMENTS,
        KPI_VALUES,
        PREVIOUS_VALUES,
    )


def checked(text: str, kind: FormulaKind, in_scope: Scope = SCOPE) -> Expr:
    result = check(text, kind, in_scope)
    if result.expr is None:
        raise KpiError(result.diagnostics)
    return result.expr


def sql_of(
    text: str,
    kind: FormulaKind = "formula",
    dialect: str = "duckdb",
    in_scope: Scope = SCOPE,
    row_filter: exp.Expression | None = None,
) -> str:
    calendars = dict(in_scope.calendars)
    return to_sql(compile_expr(checked(text, kind, in_scope), context(dialect, calendars), row_filter), dialect)


# --- DuckDB --------------------------------------------------------------------------------


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TZ}'")
    columns = ", ".join(f'"{name}" {SQL_TYPES[t]}' for name, t in COLUMNS.items())
    con.execute(f"CREATE TABLE t ({columns})")
    con.execute('CREATE TABLE emp ("id" VARCHAR, "unit" VARCHAR, "name" VARCHAR)')
    con.executemany("INSERT INTO emp VALUES (?, ?, ?)", EMPLOYEES)
    con.execute('CREATE TABLE k (revenue DOUBLE, visits DOUBLE, "resolved_in_sla.critical" DOUBLE, handle_time DOUBLE)')
    con.execute('CREATE TABLE p (revenue DOUBLE, visits DOUBLE, "resolved_in_sla.critical" DOUBLE, handle_time DOUBLE)')
    con.execute("INSERT INTO k VALUES (?, ?, ?, ?)", [KPI_VALUES[k] for k in KPIS])
    con.execute("INSERT INTO p VALUES (?, ?, ?, ?)", [PREVIOUS_VALUES[k] for k in KPIS])
    load(con, ROWS)
    return con


def _cell(value: Any, t: Type) -> Any:
    if value is None:
        return None
    if t is Type.TIMESTAMP:
        return value.astimezone(datetime.UTC).isoformat()
    if t is Type.DATE:
        return value.isoformat()
    if t is Type.NUMBER:
        return float(value)
    return value


def load(con: duckdb.DuckDBPyConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Replace the rows of table t."""
    con.execute("DELETE FROM t")
    if not rows:
        return
    marks = ", ".join(
        "CAST(? AS TIMESTAMPTZ)" if t is Type.TIMESTAMP else "CAST(? AS DATE)" if t is Type.DATE else "?"
        for t in COLUMNS.values()
    )
    con.executemany(f"INSERT INTO t VALUES ({marks})", [[_cell(r.get(c), t) for c, t in COLUMNS.items()] for r in rows])


def _fetchable(compiled: exp.Expression, t: Type | None) -> exp.Expression:
    # TIMESTAMPTZ cannot be fetched without pytz (RELIABILITY item 50): compare epochs
    return exp.TimeToUnix(this=compiled) if t is Type.TIMESTAMP else compiled


def query(compiled: exp.Expression, t: Type | None, per_row: bool = False, derived: bool = False) -> str:
    """SELECT the compiled expression from the test tables (t joined to emp as agent; k × p for KPIs)."""
    value = exp.alias_(_fetchable(compiled, t), "v")
    if derived:
        return to_sql(sqlglot.select(value).from_(exp.table_("k")).join(exp.table_("p"), join_type="cross"), "duckdb")
    select = sqlglot.select(value).from_(exp.table_("t"))
    select = select.join(exp.table_("emp", alias="agent"), on='"agent"."id" = "t"."agent_id"', join_type="left")
    if per_row:
        select = select.order_by('"t"."id"')
    else:  # one row even when the formula has no aggregate or the table is empty
        select = select.group_by(exp.Tuple(expressions=[]))
    return to_sql(select, "duckdb")


def run(
    con: duckdb.DuckDBPyConnection,
    expr: Expr,
    kind: FormulaKind,
    row_filter: Expr | None = None,
    calendars: Mapping[str, Calendar] | None = None,
) -> Any:
    ctx = context(calendars=calendars)
    compiled_filter = compile_expr(row_filter, ctx) if row_filter is not None else None
    compiled = compile_expr(expr, ctx, compiled_filter)
    sql = query(compiled, expr.type, per_row=kind in ("where", "row"), derived=kind == "derived")
    rows = con.execute(sql).fetchall()
    if kind in ("where", "row"):
        return [r[0] for r in rows]
    (value,) = rows
    return value[0]


def oracle(
    expr: Expr,
    kind: FormulaKind,
    rows: Sequence[Mapping[str, Any]],
    row_filter: Expr | None = None,
    calendars: Mapping[str, Calendar] | None = None,
) -> Any:
    environment = env(calendars)
    with_agent = [
        dict(r, **{"agent.unit": _unit(r), "agent.name": _name(r), "agent.id": r.get("agent_id") if _unit(r) else None})
        for r in rows
    ]
    if kind in ("where", "row"):
        out = [evaluate_row(expr, r, environment) for r in sorted(with_agent, key=lambda r: r["id"])]
    else:
        out = [evaluate(expr, with_agent, environment, row_filter)]
    if expr.type is Type.TIMESTAMP:
        out = [None if v is None else v.timestamp() for v in out]
    return out if kind in ("where", "row") else out[0]


def _unit(row: Mapping[str, Any]) -> str | None:
    return next((u for i, u, _ in EMPLOYEES if i == row.get("agent_id")), None)


def _name(row: Mapping[str, Any]) -> str | None:
    return next((n for i, _, n in EMPLOYEES if i == row.get("agent_id")), None)


def same(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Equal, with numbers compared at a relative tolerance (and an absolute one near 0)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, rel) for x, y in zip(a, b, strict=True))
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        x, y = float(a), float(b)
        if x == y:
            return True
        return abs(x - y) <= rel * max(1.0, abs(x), abs(y))
    return bool(a == b)


def assert_single_expression(sql: str, dialect: str) -> None:
    """The SQL is one expression: wrapped in SELECT it parses to exactly one SELECT."""
    statements = sqlglot.parse(f"SELECT {sql}", read=dialect)
    assert len(statements) == 1 and isinstance(statements[0], exp.Select), sql
    assert len(statements[0].expressions) == 1, sql
