"""Plan an evaluation: fuse source KPIs into one scan per (source, time column, attribution),
order derived KPIs after what they use."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kpi_engine.config import model as m
from kpi_engine.config.formulas import Formulas, field_path
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.expr import ast
from kpi_engine.expr.types import Type
from kpi_engine.plan.ir import DerivedSpec, KpiSpec, Plan, ScanGroup, ScanKey


def scan_key(ws: m.Workspace, kpi: m.Kpi) -> ScanKey:
    """The fusion key of a source KPI."""
    assert kpi.source is not None
    source = ws.sources[kpi.source]
    time = kpi.time or source.time or ""
    if kpi.by is None:
        return ScanKey(kpi.source, time, "organization", None)
    return ScanKey(kpi.source, time, kpi.by.level, kpi.by.column)


def kpi_refs(expr: ast.Expr) -> tuple[list[str], list[str]]:
    """KPI ids a derived formula uses, and those it uses through previous()."""
    used: list[str] = []
    previous: list[str] = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Name) and node.ref == ast.Ref.KPI:
            used.append(".".join(node.parts))
        if isinstance(node, ast.Call) and node.name == "previous" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Name):
                previous.append(".".join(arg.parts))
    return list(dict.fromkeys(used)), list(dict.fromkeys(previous))


def _location(ws: m.Workspace, kpi: m.Kpi) -> str:
    span = ws.source_map.value(field_path(ws, kpi, "formula")) or ws.source_map.key(kpi.path)
    return f"{span.file}:{span.line}" if span else kpi.id


def needed(ws: m.Workspace, formulas: Formulas, wanted: Iterable[str]) -> list[str]:
    """The wanted KPIs plus every KPI a derived one among them uses, transitively."""
    out: list[str] = []
    stack = list(wanted)
    while stack:
        kid = stack.pop()
        if kid in out or kid not in ws.kpis:
            continue
        out.append(kid)
        if ws.kpis[kid].source is None and kid in formulas.formula:
            used, prev = kpi_refs(formulas.formula[kid])
            stack.extend(used + prev)
    return sorted(out)


def plan(ws: m.Workspace, formulas: Formulas, kpi_ids: Iterable[str]) -> Plan:
    """Group the KPIs to evaluate into scans; derived KPIs follow in dependency order."""
    ids = needed(ws, formulas, kpi_ids)
    groups: dict[ScanKey, list[KpiSpec]] = defaultdict(list)
    derived: dict[str, DerivedSpec] = {}
    for kid in ids:
        kpi = ws.kpis[kid]
        expr = formulas.formula.get(kid)
        if expr is None:
            raise KpiError([error(Code.UNKNOWN_REFERENCE, f"KPI `{kid}` has no valid formula",
                                  ws.source_map.key(kpi.path), "run `kpi validate` and fix its formula")])
        if kpi.source is None:
            used, prev = kpi_refs(expr)
            derived[kid] = DerivedSpec(kid, expr, tuple(used), tuple(prev), _location(ws, kpi))
            continue
        groups[scan_key(ws, kpi)].append(KpiSpec(
            kid, expr, formulas.types.get(kid, Type.NUMBER), formulas.where.get(kid), kpi.segment,
            formulas.valid_if.get(kid), _location(ws, kpi)))
    scans = tuple(ScanGroup(key, tuple(groups[key])) for key in sorted(groups))
    return Plan(scans, tuple(_topological(derived)), tuple(_reasons(scans)))


def _topological(derived: dict[str, DerivedSpec]) -> list[DerivedSpec]:
    order: list[DerivedSpec] = []
    done: set[str] = set()

    def visit(kid: str, path: tuple[str, ...]) -> None:
        if kid in done or kid in path:
            return
        for dep in derived[kid].inputs:
            if dep in derived:
                visit(dep, (*path, kid))
        done.add(kid)
        order.append(derived[kid])

    for kid in sorted(derived):
        visit(kid, ())
    return order


def _reasons(scans: tuple[ScanGroup, ...]) -> list[str]:
    """Why scans on the same source were kept apart."""
    by_source: dict[str, list[ScanKey]] = defaultdict(list)
    for group in scans:
        by_source[group.key.source].append(group.key)
    reasons = []
    for source, keys in sorted(by_source.items()):
        if len(keys) < 2:
            continue
        times = {k.time for k in keys}
        bys = {(k.level, k.by_column) for k in keys}
        parts = []
        if len(times) > 1:
            parts.append("different time columns (" + ", ".join(sorted(times)) + ")")
        if len(bys) > 1:
            parts.append("different attribution (" + ", ".join(
                f"{lvl}:{col}" if col else "organization only" for lvl, col in sorted(bys, key=str)) + ")")
        reasons.append(f"source `{source}` is scanned {len(keys)} times: " + "; ".join(parts))
    return reasons
