"""The scope a formula on a source sees: typed columns, roster names, relations and segments.

Relations are followed a few levels deep; segments are those defined on the source. The formulas
stage type-checks against this scope; the SQL compiler resolves the roster's mapped names (`unit`,
`role`, …) to the columns they stand for with the same mapping.
"""

from __future__ import annotations

from kpi_engine.config import model as m
from kpi_engine.expr import scope as sc
from kpi_engine.expr.ast import Expr
from kpi_engine.expr.types import COLUMN_TYPES

ROSTER_NAMES = ("id", "name", "unit", "role")
RELATION_DEPTH = 3


def roster_aliases(ws: m.Workspace, source_id: str) -> dict[str, str]:
    """For the roster source: the mapped names (`unit`, `role`, …) and the columns they stand for."""
    people = ws.organization.people
    if people is None or people.source != source_id:
        return {}
    return {name: column for name in ROSTER_NAMES if (column := getattr(people, name)) and column != name}


def source_scope(ws: m.Workspace, source_id: str, depth: int = 0) -> sc.Scope:
    """The columns, relations and segment names a formula on ``source_id`` may use."""
    source = ws.sources[source_id]
    columns = {name: COLUMN_TYPES.get(col.type, sc.Type.STRING) for name, col in source.columns.items()}
    for alias, column in roster_aliases(ws, source_id).items():
        if column in columns and alias not in columns:
            columns[alias] = columns[column]
    relations: dict[str, sc.Scope] = {}
    if depth < RELATION_DEPTH:
        relations = {
            rel.name: source_scope(ws, rel.source, depth + 1)
            for rel in source.relations.values()
            if rel.source in ws.sources
        }
    segments: dict[str, Expr | None] = {}
    if depth == 0:
        segments = {seg.id: None for seg in ws.segments.values() if seg.source == source_id}
    return sc.Scope(columns=columns, relations=relations, segments=segments)
