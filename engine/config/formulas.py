"""The formulas stage: give every formula the scope of its source and type-check it.

Segment filters, KPI formulas, ``where`` and ``valid_if`` are parsed once here; the typed
trees are kept in a :class:`Formulas` index that evaluation compiles to SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from graphlib import CycleError, TopologicalSorter
from typing import Literal

from kpi_engine.compiled import Formulas
from kpi_engine.config import model as m
from kpi_engine.config.loader import DataPath
from kpi_engine.config.model import field_path
from kpi_engine.config.scalars import Duration
from kpi_engine.config.scopes import source_scope
from kpi_engine.errors import Code, Diagnostic, KpiError, error
from kpi_engine.expr import scope as sc
from kpi_engine.expr.ast import Expr, Name, walk
from kpi_engine.expr.parser import parse
from kpi_engine.expr.typecheck import check
from kpi_engine.source import Span

# A segment defined through segments: at most this many levels (E432); filters are inlined.
MAX_SEGMENT_DEPTH = 64
Kind = Literal["formula", "where", "valid_if", "derived"]


def _calendars(ws: m.Workspace) -> dict[str, sc.Calendar]:
    return {c.id: sc.Calendar(c.id, c.timezone, c.week, c.holidays) for c in ws.calendars.values()}


def _params(values: Mapping[str, m.ParamValue]) -> dict[str, sc.ParamValue]:
    out: dict[str, sc.ParamValue] = {}
    for name, value in values.items():
        out[name] = sc.Duration(value.seconds) if isinstance(value, Duration) else value
    return out


class _Checker:
    def __init__(self, ws: m.Workspace) -> None:
        self.ws = ws
        self.out = Formulas()
        self.calendars = _calendars(ws)
        self.scopes: dict[str, sc.Scope] = {}

    def scope(self, source_id: str, params: Mapping[str, m.ParamValue]) -> sc.Scope:
        if source_id not in self.scopes:
            base = source_scope(self.ws, source_id)
            self.scopes[source_id] = sc.Scope(
                columns=base.columns,
                relations=base.relations,
                segments={name: self.out.segments.get(name) for name in base.segments},
                calendars=self.calendars,
            )
        base = self.scopes[source_id]
        return sc.Scope(
            columns=base.columns,
            relations=base.relations,
            segments=base.segments,
            params=_params({**self.ws.params, **params}),
            calendars=self.calendars,
        )

    def run(self, text: str, kind: Kind, scope: sc.Scope, path: DataPath) -> tuple[Expr | None, sc.Type | None]:
        smap = self.ws.source_map

        def locate(offset: int, length: int) -> Span:
            return (
                smap.span_in_value(path, offset, length)
                or smap.value(path)
                or Span("<formula>", 1, offset + 1, 1, offset + 1 + length)
            )

        checked = check(text, kind, scope, locate)
        self.out.diagnostics.extend(checked.diagnostics)
        return checked.expr, checked.type

    def segments(self) -> None:
        order = _segment_order(self.ws, self.out.diagnostics)
        for seg_id in order:
            seg = self.ws.segments[seg_id]
            if seg.source not in self.ws.sources:
                continue
            scope = self.scope(seg.source, {})
            # a segment may use segments defined before it in dependency order
            scope = sc.Scope(
                columns=scope.columns,
                relations=scope.relations,
                segments={k: v for k, v in scope.segments.items() if k != seg_id},
                params=scope.params,
                calendars=scope.calendars,
            )
            expr, _ = self.run(seg.where, "where", scope, (*seg.path, "where"))
            if expr is not None:
                self.out.segments[seg_id] = expr
            self.scopes.pop(seg.source, None)

    def kpis(self) -> None:
        kpi_infos = {k: sc.KpiInfo() for k in self.ws.kpis}
        for kpi in self.ws.kpis.values():
            if kpi.source is None:
                scope = sc.Scope(
                    params=_params({**self.ws.params, **kpi.params}), kpis=kpi_infos, calendars=self.calendars
                )
                expr, typ = self.run(kpi.formula, "derived", scope, field_path(self.ws, kpi, "formula"))
                if expr is not None:
                    self.out.formula[kpi.id] = expr
                    self.out.types[kpi.id] = typ or sc.Type.NUMBER
                if kpi.valid_if is not None:
                    self.out.diagnostics.append(
                        error(
                            Code.BAD_VALUE,
                            "`valid_if` needs a `source`: it is checked on the rows of a KPI",
                            self.ws.source_map.key(field_path(self.ws, kpi, "valid_if")),
                            "remove `valid_if`",
                        )
                    )
                continue
            if kpi.source not in self.ws.sources:
                continue
            scope = self.scope(kpi.source, kpi.params)
            for name, kind, table in (
                ("formula", "formula", self.out.formula),
                ("where", "where", self.out.where),
                ("valid_if", "valid_if", self.out.valid_if),
            ):
                text = getattr(kpi, name)
                if text is None:
                    continue
                expr, typ = self.run(text, kind, scope, field_path(self.ws, kpi, name))  # type: ignore[arg-type]
                if expr is not None:
                    table[kpi.id] = expr
                    if name == "formula":
                        self.out.types[kpi.id] = typ or sc.Type.NUMBER


def _segment_order(ws: m.Workspace, found: list[Diagnostic]) -> list[str]:
    """Segments in dependency order; cycles and chains deeper than MAX_SEGMENT_DEPTH are reported.

    A segment may name another of its source, read from its parsed filter.
    """
    deps: dict[str, list[str]] = {}
    for seg in ws.segments.values():
        try:
            names = {".".join(n.parts) for n in walk(parse(seg.where)) if isinstance(n, Name)}
        except KpiError:  # reported when the filter is checked
            names = set()
        deps[seg.id] = sorted(
            n for n in names if n in ws.segments and n != seg.id and ws.segments[n].source == seg.source
        )
    remaining = dict(deps)
    while True:
        try:
            order = list(
                TopologicalSorter(
                    {k: [d for d in v if d in remaining] for k, v in sorted(remaining.items())}
                ).static_order()
            )
            break
        except CycleError as exc:
            loop = list(reversed(exc.args[1]))
            start = loop.index(min(loop[:-1]))
            loop = [*loop[start:-1], *loop[:start], loop[start]]
            seg = ws.segments[loop[-2]]
            found.append(
                error(
                    Code.KPI_CYCLE,
                    "segments form a cycle: " + " → ".join(loop),
                    ws.source_map.value((*seg.path, "where")),
                    "a segment cannot be defined through itself",
                )
            )
            for sid in loop:
                remaining.pop(sid, None)
    depth: dict[str, int] = {}
    for sid in order:
        depth[sid] = 1 + max((depth.get(d, 0) for d in deps[sid]), default=0)
        if depth[sid] == MAX_SEGMENT_DEPTH + 1:
            seg = ws.segments[sid]
            found.append(
                error(
                    Code.SEGMENT_TOO_DEEP,
                    f"segment `{sid}` is defined through {depth[sid] - 1} levels "
                    f"of segments; the limit is {MAX_SEGMENT_DEPTH}",
                    ws.source_map.value((*seg.path, "where")),
                    "write the condition out, or define the segment on fewer others",
                )
            )
    return [sid for sid in order if depth[sid] <= MAX_SEGMENT_DEPTH]


def analyze(ws: m.Workspace) -> Formulas:
    """Parse and type-check every formula of the workspace."""
    checker = _Checker(ws)
    checker.segments()
    checker.kpis()
    return checker.out


def formula_diagnostics(formulas: Formulas, fragment: bool = False) -> list[Diagnostic]:
    """The formula diagnostics of a workspace (for a fragment, unknown names are not errors)."""
    found = formulas.diagnostics
    if fragment:
        found = [d for d in found if d.code not in (Code.UNKNOWN_NAME, Code.UNKNOWN_PARAM)]
    return found
