"""Run the plan: one query per scan group, then derived KPIs over the scans' results.

Values come back as exact decimals rounded to 12 significant digits; a duration is reported in
the KPI's unit (minutes, hours or days; seconds otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from sqlglot import exp

from engine.config import model as m
from engine.config.formulas import Formulas
from engine.data.warehouse import Warehouse
from engine.errors import Code, Diagnostic, warning
from engine.expr.types import Type
from engine.plan.ir import DerivedSpec, Plan, ScanGroup
from engine.scoring.exact import to_decimal12
from engine.scoring.score import seconds_per_unit
from engine.sql.compile_expr import compile_expr
from engine.sql.compile_plan import (
    PlanContext,
    RootSet,
    ScanQuery,
    Slice,
    calendars,
    compile_empty,
    compile_scan,
    kpi_params,
)
from engine.sql.render import to_sql

Key = tuple[str, str, str | None, str, tuple[str | None, ...]]  # kpi, level, subject, period, by values


class KpiValue(NamedTuple):
    """A KPI's value for one subject and period (and --by breakdown).

    A NamedTuple rather than a frozen dataclass: one is made per KPI row, and it builds faster.
    """

    kpi: str
    level: str
    subject: str | None
    period: str
    value: Decimal | None
    n: int
    valid: bool | None = None
    by: tuple[str | None, ...] = ()


@dataclass
class Values:
    rows: dict[Key, KpiValue]
    empty: dict[str, Decimal | None]
    diagnostics: list[Diagnostic]


def _number(raw: object, kpi: m.Kpi, result_type: Type) -> Decimal | None:
    if raw is None or isinstance(raw, bool):
        return None
    value = to_decimal12(raw)  # type: ignore[arg-type]
    if result_type == Type.DURATION:
        value = to_decimal12(value / seconds_per_unit(kpi.unit))
    return value


def _by_text(raw: object) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def run_scan(ws: m.Workspace, formulas: Formulas, wh: Warehouse, group: ScanGroup, slices: Sequence[Slice],
             paths: Mapping[str, tuple[str, ...]], people: Mapping[str, object], by: Sequence[str],
             root_set: RootSet = "skip") -> Values:
    """Evaluate one scan group; every subject level in one query.

    A single root unit's values are the organization's when every row belongs to a unit; otherwise
    a second query computes the root alone (see :mod:`engine.sql.compile_plan`). ``root_set="keep"``
    groups by the root in the first query instead (the slower way, kept to test the shortcut).
    """
    query = compile_scan(ws, formulas, group, slices, paths, by, root_set=root_set)
    out, found, unattached = _read_scan(ws, group, query, wh.fetch(to_sql(query.select)), people)
    if query.root is not None:
        if unattached:
            root_query = compile_scan(ws, formulas, group, slices, paths, by, root_set="only")
            out.update(_read_scan(ws, group, root_query, wh.fetch(to_sql(root_query.select)), people)[0])
        else:
            for v in list(out.values()):
                if v.level == "organization":
                    out[(v.kpi, "unit", query.root, v.period, v.by)] = KpiValue(
                        v.kpi, "unit", query.root, v.period, v.value, v.n, v.valid, v.by)
    return Values(out, _empty_values(ws, formulas, wh, group), found)


def _read_scan(ws: m.Workspace, group: ScanGroup, query: ScanQuery, rows: Sequence[tuple[object, ...]],
               people: Mapping[str, object]) -> tuple[dict[Key, KpiValue], list[Diagnostic], bool]:
    """The values of a scan's result rows; and whether any organization row has rows without a unit."""
    out: dict[Key, KpiValue] = {}
    found: list[Diagnostic] = []
    d, nb = query.depth, len(query.by)
    specs = {s.id: s for s in group.kpis}
    at = {name: i for i, name in enumerate(query.select.named_selects)}
    columns = [(kid, ws.kpis[kid], specs[kid].result_type, at[f"v:{kid}"], at[query.n_of[kid]], at.get(f"ok:{kid}"))
               for kid in query.kpis]
    unattached = at.get("__unattached")
    any_unattached = False
    for row in rows:
        period, subject = str(row[0]), row[1]
        ancestors = row[2:2 + d]
        by_values = tuple(_by_text(v) for v in row[2 + d:2 + d + nb])
        grouping = int(row[2 + d + nb])  # type: ignore[call-overload]
        unknown = int(row[3 + d + nb])  # type: ignore[call-overload]
        level, who = _level(grouping, query.grouped, subject, ancestors)
        if level is None:
            continue
        if level == "person" and people and who not in people:
            continue
        if level == "organization":
            any_unattached = any_unattached or (unattached is not None and bool(row[unattached]))
            if unknown and not by_values:
                found.append(warning(
                    Code.DATA_COLUMN, f"{unknown} row(s) of `{group.key.source}` in {period} are attributed to "
                    "people missing from the roster; they count for the organization only",
                    ws.source_map.key(ws.sources[group.key.source].data_path),
                    "add the people to the roster, or fix the attribution column"))
        for kid, kpi, result_type, v_at, n_at, ok_at in columns:
            raw, n = row[v_at], row[n_at]
            valid = None
            if ok_at is not None:
                valid = bool(row[ok_at]) if row[ok_at] is not None else False
            out[(kid, level, who, period, by_values)] = KpiValue(
                kid, level, who, period, _number(raw, kpi, result_type), n, valid, by_values)  # type: ignore[arg-type]
    return out, found, any_unattached


def _level(grouping: int, grouped: Sequence[int], subject: object,
           ancestors: Sequence[object]) -> tuple[str | None, str | None]:
    """Which grouping set a result row comes from: bit i (from the left) is 1 when column i is rolled up."""
    count = len(grouped)
    for i, column in enumerate(grouped):
        if not grouping & (1 << (count - 1 - i)):
            value = subject if column < 0 else ancestors[column]
            return ("person" if column < 0 else "unit", str(value)) if value is not None else (None, None)
    return "organization", None


def _empty_values(ws: m.Workspace, formulas: Formulas, wh: Warehouse, group: ScanGroup) -> dict[str, Decimal | None]:
    """Each KPI's value over no rows (0 for the count family, null for the rest)."""
    (row,) = wh.fetch(to_sql(compile_empty(ws, formulas, group))) or [(None,) * len(group.kpis)]
    return {spec.id: _number(v, ws.kpis[spec.id], spec.result_type) for spec, v in zip(group.kpis, row, strict=True)}


def run_derived(ws: m.Workspace, formulas: Formulas, wh: Warehouse, spec: DerivedSpec,
                current: Mapping[Key, KpiValue], previous: Mapping[Key, KpiValue],
                previous_label: Mapping[str, str]) -> dict[Key, KpiValue]:
    """A derived KPI for every subject and period where any of its inputs has a value."""
    from engine.config.rules import kpi_levels

    levels = kpi_levels(ws, ws.kpis[spec.id])
    keys = sorted({(k[1], k[2], k[3], k[4]) for k in current if k[0] in spec.inputs and k[1] in levels},
                  key=lambda k: (k[0], k[1] or "", k[2], tuple(v or "" for v in k[3])))
    if not keys:
        return {}
    inputs = list(spec.inputs)
    prevs = list(spec.uses_previous)
    rows = []
    for level, subject, period, by in keys:
        vals = [current.get((kid, level, subject, period, by)) for kid in inputs]
        pvals = [previous.get((kid, level, subject, previous_label.get(period, ""), by)) for kid in prevs]
        rows.append(tuple(str(v.value) if v is not None and v.value is not None else None for v in vals + pvals))
    names = [f"k{i}" for i in range(len(inputs))] + [f"p{i}" for i in range(len(prevs))]
    index = {kid: i for i, kid in enumerate(inputs)}
    pindex = {kid: i for i, kid in enumerate(prevs)}

    class _Ctx(PlanContext):
        def kpi(self, id: str) -> exp.Expression:
            return exp.cast(exp.column(f"k{index[id]}", table="v", quoted=True), "DOUBLE")

        def previous(self, id: str) -> exp.Expression:
            return exp.cast(exp.column(f"p{pindex[id]}", table="v", quoted=True), "DOUBLE")

    kpi = ws.kpis[spec.id]
    ctx = _Ctx(ws, formulas, "", kpi_params(ws, kpi), "duckdb", calendars(ws))
    value = compile_expr(spec.formula, ctx)
    rows_sql = rows if rows and names else [(None,)]
    query = exp.select(value.as_("v")).from_(exp.values(rows_sql, alias="v", columns=names or ["k0"]))
    results = wh.fetch(to_sql(query))
    out = {}
    for (level, subject, period, by), (raw,) in zip(keys, results, strict=True):
        ns = [current[(kid, level, subject, period, by)].n for kid in inputs
              if (kid, level, subject, period, by) in current]
        n = min(ns) if ns else 0
        out[(spec.id, level, subject, period, by)] = KpiValue(
            spec.id, level, subject, period, _number(raw, kpi, formulas.types.get(spec.id, Type.NUMBER)), n, None, by)
    return out


def evaluate_values(ws: m.Workspace, formulas: Formulas, wh: Warehouse, plan: Plan, slices: Sequence[Slice],
                    paths: Mapping[str, tuple[str, ...]], people: Mapping[str, object], by: Sequence[str] = (),
                    previous: Mapping[Key, KpiValue] | None = None,
                    previous_label: Mapping[str, str] | None = None, root_set: RootSet = "skip") -> Values:
    """Every KPI of the plan for the given period slices."""
    rows: dict[Key, KpiValue] = {}
    empty: dict[str, Decimal | None] = {}
    found: list[Diagnostic] = []
    for group in plan.scans:
        result = run_scan(ws, formulas, wh, group, slices, paths, people, by, root_set)
        rows.update(result.rows)
        empty.update(result.empty)
        found += result.diagnostics
    for spec in plan.derived:
        rows.update(run_derived(ws, formulas, wh, spec, rows, previous or {}, previous_label or {}))
        empty[spec.id] = None
    return Values(rows, empty, found)
