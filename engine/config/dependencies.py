"""Which KPIs a derived KPI uses, read from its parsed formula once per workspace.

The rules (cycles, levels) and the planner (evaluation order) share this graph; order and cycles
come from the standard library's :mod:`graphlib`, so a chain of any length costs no Python stack.
A reference written in backticks (`` `csat` ``) is a name like any other here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from kpi_engine.config import model as m
from kpi_engine.errors import KpiError
from kpi_engine.expr import ast
from kpi_engine.expr.parser import parse
from kpi_engine.names import LEVELS

# Derived KPIs built on derived KPIs: at most this many levels (E431), so every walk over the
# chain — levels, inherited statuses — stays shallow.
MAX_DERIVED_DEPTH = 64


@dataclass(frozen=True)
class KpiGraph:
    """The derived KPIs' inputs, an evaluation order, the cycles, and each one's depth."""

    inputs: Mapping[str, tuple[str, ...]]  # KPI ids used for the same period
    previous: Mapping[str, tuple[str, ...]]  # KPI ids used through previous()
    order: tuple[str, ...]  # derived KPIs not on a cycle, each after the derived KPIs it uses
    cycles: tuple[tuple[str, ...], ...]  # each as a closed path: a → b → a
    depth: Mapping[str, int]  # 1 for a derived KPI over source KPIs only


def formula_refs(expr: ast.Expr, known: Mapping[str, object]) -> tuple[list[str], list[str]]:
    """KPI ids a formula names (of those in ``known``), and those it names inside previous()."""
    used: list[str] = []
    previous: list[str] = []
    inside: set[int] = set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and node.name == "previous" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Name):
                inside.add(id(arg))
                previous.append(".".join(arg.parts))
        elif isinstance(node, ast.Name) and id(node) not in inside and ".".join(node.parts) in known:
            used.append(".".join(node.parts))
    return list(dict.fromkeys(used)), list(dict.fromkeys(p for p in previous if p in known))


def kpi_graph(ws: m.Workspace) -> KpiGraph:
    """The derived-KPI graph of a workspace, computed on first use and kept with it."""
    cached = ws.derived_cache.get("kpi_graph")
    if isinstance(cached, KpiGraph):
        return cached
    graph = _build(ws)
    ws.derived_cache["kpi_graph"] = graph
    return graph


def kpi_levels(ws: m.Workspace, kpi: m.Kpi) -> set[str]:
    """The subject levels a KPI is computed at: a derived KPI's are those all its inputs share."""
    if kpi.source is not None:
        return _source_levels(kpi)
    cached = ws.derived_cache.get("kpi_levels")
    if isinstance(cached, dict):
        levels: dict[str, set[str]] = cached
    else:
        graph = kpi_graph(ws)
        levels = {}
        for kid in (*graph.order, *(k for cycle in graph.cycles for k in cycle)):
            here: set[str] = set(_ALL_LEVELS)
            for name in derived_inputs(ws, ws.kpis[kid]):
                other = ws.kpis[name]
                here &= levels.get(name, set(_ALL_LEVELS)) if other.source is None else _source_levels(other)
            levels.setdefault(kid, here)
        ws.derived_cache["kpi_levels"] = levels
    return set(levels.get(kpi.id, _ALL_LEVELS))


_ALL_LEVELS = LEVELS


def _source_levels(kpi: m.Kpi) -> set[str]:
    if kpi.by is None:
        return {"organization"}
    return {"person", "unit", "organization"} if kpi.by.level == "person" else {"unit", "organization"}


def derived_inputs(ws: m.Workspace, kpi: m.Kpi) -> list[str]:
    """KPI ids a derived formula names, also inside previous(), from its parsed tree."""
    graph = kpi_graph(ws)
    return list(dict.fromkeys((*graph.inputs.get(kpi.id, ()), *graph.previous.get(kpi.id, ()))))


def _build(ws: m.Workspace) -> KpiGraph:
    inputs: dict[str, tuple[str, ...]] = {}
    previous: dict[str, tuple[str, ...]] = {}
    for kpi in ws.kpis.values():
        if kpi.source is not None:
            continue
        try:
            expr = parse(kpi.formula)
        except KpiError:  # the formulas stage reports it
            expr = None
        used, prev = formula_refs(expr, ws.kpis) if expr is not None else ([], [])
        inputs[kpi.id], previous[kpi.id] = tuple(used), tuple(prev)
    # previous() counts too: the previous period is evaluated without its own previous(), so a KPI
    # reached again through previous() would silently be null — a cycle across periods.
    derived = {
        kid: tuple(i for i in dict.fromkeys((*used, *previous[kid])) if i in inputs) for kid, used in inputs.items()
    }
    cycles = _cycles(derived)
    on_cycle = {kid for cycle in cycles for kid in cycle}
    sorter = TopologicalSorter(
        {kid: [i for i in deps if i not in on_cycle] for kid, deps in sorted(derived.items()) if kid not in on_cycle}
    )
    order = tuple(sorter.static_order())
    depth: dict[str, int] = {}
    for kid in order:
        depth[kid] = 1 + max((depth.get(i, 0) for i in derived[kid]), default=0)
    return KpiGraph(inputs, previous, order, cycles, depth)


def _cycles(derived: Mapping[str, tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Every cycle, one per strongly connected group: remove each found cycle's nodes and look again."""
    found: list[tuple[str, ...]] = []
    remaining = dict(derived)
    while True:
        try:
            TopologicalSorter(
                {k: [d for d in deps if d in remaining] for k, deps in sorted(remaining.items())}
            ).prepare()
        except CycleError as exc:
            path = list(exc.args[1])  # [a, …, a] in reverse dependency order
            path.reverse()
            found.append(tuple(path))
            for kid in path:
                remaining.pop(kid, None)
            continue
        return tuple(found)
