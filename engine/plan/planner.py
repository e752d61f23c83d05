"""Plan an evaluation: fuse KPIs into scans, order derived KPIs after what they use.

Source KPIs share one scan per (source, time column, attribution); derived KPIs follow in the
order of :mod:`kpi_engine.config.dependencies`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kpi_engine.compiled import Formulas
from kpi_engine.config import model as m
from kpi_engine.config.dependencies import derived_inputs, kpi_graph
from kpi_engine.config.model import field_path
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.expr.types import Type
from kpi_engine.plan.ir import DerivedSpec, KpiSpec, Plan, ScanGroup, ScanKey


def scan_key(ws: m.Workspace, kpi: m.Kpi) -> ScanKey:
    """The fusion key of a source KPI."""
    assert kpi.source is not None
    source = ws.sources[kpi.source]
    time = kpi.time or source.time or ""
    if kpi.by is None:
        return ScanKey(kpi.source, time, "organization", None, kpi.window)
    return ScanKey(kpi.source, time, kpi.by.level, kpi.by.column, kpi.window)


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
        if ws.kpis[kid].source is None:
            stack.extend(derived_inputs(ws, ws.kpis[kid]))
    return sorted(out)


def plan(ws: m.Workspace, formulas: Formulas, kpi_ids: Iterable[str]) -> Plan:
    """Group the KPIs to evaluate into scans; derived KPIs follow in dependency order."""
    ids = needed(ws, formulas, kpi_ids)
    graph = kpi_graph(ws)
    groups: dict[ScanKey, list[KpiSpec]] = defaultdict(list)
    derived: dict[str, DerivedSpec] = {}
    for kid in ids:
        kpi = ws.kpis[kid]
        expr = formulas.formula.get(kid)
        if expr is None:
            raise KpiError(
                [
                    error(
                        Code.UNKNOWN_REFERENCE,
                        f"KPI `{kid}` has no valid formula",
                        ws.source_map.key(kpi.path),
                        "run `kpi validate` and fix its formula",
                    )
                ]
            )
        if kpi.source is None:
            derived[kid] = DerivedSpec(
                kid, expr, tuple(derived_inputs(ws, kpi)), graph.previous.get(kid, ()), _location(ws, kpi)
            )
            continue
        groups[scan_key(ws, kpi)].append(
            KpiSpec(
                kid,
                expr,
                formulas.types.get(kid, Type.NUMBER),
                formulas.where.get(kid),
                kpi.segment,
                formulas.valid_if.get(kid),
                _location(ws, kpi),
            )
        )
    scans = tuple(ScanGroup(key, tuple(groups[key])) for key in sorted(groups, key=ScanKey.order))
    order = tuple(derived[kid] for kid in graph.order if kid in derived)
    return Plan(scans, order, tuple(_reasons(scans)))


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
        windows = {str(k.window) if k.window else "none" for k in keys}
        parts = []
        if len(times) > 1:
            parts.append("different time columns (" + ", ".join(sorted(times)) + ")")
        if len(windows) > 1:
            parts.append("different rolling windows (" + ", ".join(sorted(windows)) + ")")
        if len(bys) > 1:
            parts.append(
                "different attribution ("
                + ", ".join(f"{lvl}:{col}" if col else "organization only" for lvl, col in sorted(bys, key=str))
                + ")"
            )
        reasons.append(f"source `{source}` is scanned {len(keys)} times: " + "; ".join(parts))
    return reasons
