"""`kpi rows`: the source rows behind one KPI's value, as one SELECT (SPEC §10 drill-down).

The rows are those the KPI's scan counts in ``n`` — inside the period, through the KPI's segment and
`where` — narrowed to a subject the way the scan attributes them: a person by the attribution
column, a unit by the unit of the attributed person (or the attributed unit) being that unit or
one below it, the organization with no narrowing at all. Each row carries its source's declared
columns, ``_file`` and ``_line`` as imported, whether it meets the condition of the formula's
conditional aggregate (``count_if``, ``share``, ``sum_if``, ``avg_if``) as ``counted``, and the
number of rows before ``--limit`` as ``count(*) OVER ()``::

    SELECT t."ticket_id", …, t."_file", t."_line", COALESCE(<condition>, FALSE) AS "counted",
           COUNT(*) OVER () AS "__total"
    FROM (SELECT * FROM "tickets" WHERE <time in period>) AS t
    LEFT JOIN <roster> AS "__person" ON …         -- only to narrow to a unit's people
    LEFT JOIN <related source> AS "agent" ON …     -- relations the filters use
    WHERE <segment and where> AND <subject>
    ORDER BY t."_file", t."_line", <every declared column>
    LIMIT n
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlglot import exp

from kpi_engine.compiled import Formulas
from kpi_engine.config import model as m
from kpi_engine.expr import ast
from kpi_engine.expr.printer import to_text
from kpi_engine.plan.ir import KpiSpec, ScanKey
from kpi_engine.sql.compile_expr import compile_expr
from kpi_engine.sql.compile_plan import (
    PERSON,
    PlanContext,
    Slice,
    T,
    calendars,
    join_relations,
    kpi_params,
    period_rows,
    row_filter,
)

#: The conditional aggregates, and the position of the condition among their arguments.
CONDITIONS = {"count_if": 0, "share": 0, "sum_if": 1, "avg_if": 1}


@dataclass(frozen=True)
class Narrowing:
    """Whose rows: a person (by the attribution column), the units in a subtree, or everyone (neither)."""

    person: str | None = None
    units: Collection[str] | None = None


@dataclass(frozen=True)
class RowsQuery:
    """The query and the names of its columns.

    The declared columns, then ``_file``, ``_line``, ``counted`` when the formula has one condition,
    and ``__total``.
    """

    select: exp.Select
    columns: tuple[str, ...]
    counted: bool


def counted_condition(formula: ast.Expr) -> ast.Expr | None:
    """The condition of the formula's conditional aggregates when they all share one (as written); else None."""
    found = {
        to_text(node.args[CONDITIONS[node.name]]): node.args[CONDITIONS[node.name]]
        for node in ast.walk(formula)
        if isinstance(node, ast.Call) and node.name in CONDITIONS and len(node.args) > CONDITIONS[node.name]
    }
    return next(iter(found.values())) if len(found) == 1 else None


def compile_rows(
    ws: m.Workspace,
    formulas: Formulas,
    key: ScanKey,
    spec: KpiSpec,
    whole: Slice,
    narrowing: Narrowing,
    limit: int | None,
    dialect: str = "duckdb",
) -> RowsQuery:
    """The SELECT listing a source KPI's rows for one period and subject (see the module docstring)."""
    ctx = PlanContext(ws, formulas, key.source, kpi_params(ws, ws.kpis[spec.id]), dialect, calendars(ws))
    declared = list(ws.sources[key.source].columns)
    columns: list[exp.Expr] = [exp.column(name, table=T, quoted=True).as_(name, quoted=True) for name in declared]
    imported = ws.sources[key.source].path is not None  # a `table:` source has no file and line
    columns += [
        (exp.column(c, table=T, quoted=True) if imported else exp.null()).as_(c, quoted=True)
        for c in ("_file", "_line")
    ]
    condition = counted_condition(spec.formula)
    if condition is not None:
        met = exp.func("COALESCE", compile_expr(condition, ctx), exp.false())
        columns.append(met.as_("counted", quoted=True))
    columns.append(exp.Window(this=exp.Count(this=exp.Star())).as_("__total", quoted=True))
    where = [f for f in (row_filter(spec, ctx), _narrowed(ws, key, ctx, narrowing)) if f is not None]
    select = exp.select(*columns).from_(period_rows(ws, key, [whole]).subquery(exp.to_identifier(T, quoted=True)))
    if narrowing.units is not None and key.level == "person" and ws.organization.people is not None:
        select = _join_roster(select, ws, ctx, key)
    select = join_relations(select, ws, key.source, ctx.joins)
    if where:
        select = select.where(exp.and_(*where) if len(where) > 1 else where[0])
    order = [exp.column(c, table=T, quoted=True) for c in (*(("_file", "_line") if imported else ()), *declared)]
    select = select.order_by(*(exp.Ordered(this=o, nulls_first=False) for o in order))
    if limit is not None:
        select = select.limit(limit)
    names = (*declared, "_file", "_line", *(["counted"] if condition is not None else []), "__total")
    return RowsQuery(select, names, condition is not None)


def _narrowed(ws: m.Workspace, key: ScanKey, ctx: PlanContext, narrowing: Narrowing) -> exp.Expression | None:
    """The subject's condition: its person id, or its units, on the scan's attribution."""
    if key.by_column is None or (narrowing.person is None and narrowing.units is None):
        return None
    attributed = exp.cast(ctx.column(tuple(key.by_column.split("."))), "VARCHAR")
    if narrowing.person is not None:
        return exp.EQ(this=attributed, expression=exp.Literal.string(narrowing.person))
    people = ws.organization.people
    unit = (
        exp.cast(exp.column(people.unit, table=PERSON, quoted=True), "VARCHAR")
        if key.level == "person" and people is not None
        else attributed
    )
    units = sorted(narrowing.units or ())
    return exp.In(this=unit, expressions=[exp.Literal.string(u) for u in units]) if units else exp.false()


def _join_roster(select: exp.Select, ws: m.Workspace, ctx: PlanContext, key: ScanKey) -> exp.Select:
    people = ws.organization.people
    assert people is not None and key.by_column is not None  # checked by the caller
    attributed = exp.cast(ctx.column(tuple(key.by_column.split("."))), "VARCHAR")
    return select.join(
        exp.Table(
            this=exp.to_identifier(people.source, quoted=True),
            alias=exp.TableAlias(this=exp.to_identifier(PERSON, quoted=True)),
        ),
        on=exp.EQ(this=attributed, expression=exp.cast(exp.column(people.id, table=PERSON, quoted=True), "VARCHAR")),
        join_type="left",
    )
