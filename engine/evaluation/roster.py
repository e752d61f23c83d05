"""`kpi validate` on data: the roster against the unit tree and the scorecards (skipped with --no-data)."""

from __future__ import annotations

from collections.abc import Iterable

from kpi_engine.config import model as m
from kpi_engine.data.files import source_files
from kpi_engine.data.warehouse import import_sources, open_memory
from kpi_engine.errors import Code, Diagnostic, KpiError, error, warning
from kpi_engine.evaluation.org import OrgData, load_org, person_index
from kpi_engine.scoring.scorecard import Conflict, applies, assign_scorecards, unit_lineage


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
    return found + conflict_diagnostics(ws, assignment.conflicts) + unmatched_scorecards(ws, org, list(ws.scorecards))


def unmatched_scorecards(ws: m.Workspace, org: OrgData, ids: Iterable[str]) -> list[Diagnostic]:
    """A warning per scorecard (of `ids`) whose `applies_to` matches nobody in the roster."""
    people = person_index(org)
    out = []
    for card_id in sorted(set(ids)):
        card = ws.scorecards.get(card_id)
        if card is None:
            continue
        if any(applies(card, p.role, p.unit, *unit_lineage(p.unit, org.units)) for p in people):  # type: ignore[arg-type]
            continue
        span = ws.source_map.key(("scorecards", card_id, "applies_to")) or ws.source_map.key(("scorecards", card_id))
        out.append(warning(Code.SCORECARD_MATCHES_NOBODY, f"scorecard `{card_id}` applies to nobody in the roster "
                           f"({len(people)} people)", span,
                           "check `applies_to` (roles, units, unit_tags) against the roster's roles and units"))
    return out


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
