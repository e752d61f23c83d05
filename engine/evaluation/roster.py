"""`kpi validate` on data: the roster against the unit tree and the scorecards (skipped with --no-data)."""

from __future__ import annotations

from collections.abc import Iterable

from kpi_engine.config import model as m
from kpi_engine.data.files import source_files
from kpi_engine.data.warehouse import import_sources, open_memory
from kpi_engine.errors import Code, Diagnostic, KpiError, error
from kpi_engine.evaluation.org import load_org, person_index
from kpi_engine.scoring.scorecard import Conflict, assign_scorecards


def check_roster(ws: m.Workspace) -> list[Diagnostic]:
    """People whose unit does not exist, and people matched by two scorecards, when the roster file exists."""
    people = ws.organization.people
    if people is None or people.source not in ws.sources:
        return []
    needed = [people.source] + ([ws.organization.units.source] if ws.organization.units else [])
    try:
        for source_id in needed:
            source_files(ws.sources[source_id])
    except KpiError:
        return []  # no data yet: nothing to check
    try:
        with open_memory(ws.organization.timezone) as wh:
            import_sources(wh, ws.sources, only=needed)
            org = load_org(ws, wh)
    except KpiError as exc:
        return list(exc.diagnostics)
    found = list(org.diagnostics)
    assignment = assign_scorecards(ws.scorecards.values(), person_index(org), org.units)  # type: ignore[arg-type]
    return found + conflict_diagnostics(ws, assignment.conflicts)


def conflict_diagnostics(ws: m.Workspace, conflicts: Iterable[Conflict]) -> list[Diagnostic]:
    """A person matched by two scorecards, reported at the `applies_to` of the last of them."""
    out = []
    for c in conflicts:
        last = c.scorecards[-1]
        span = ws.source_map.key(("scorecards", last, "applies_to")) or ws.source_map.key(("scorecards", last))
        out.append(error(Code.PERSON_TWO_SCORECARDS, f"person `{c.person}` is matched by scorecards "
                         + ", ".join(f"`{s}`" for s in c.scorecards), span,
                         "narrow `applies_to` (roles, units, unit_tags) so each person has one scorecard"))
    return out
