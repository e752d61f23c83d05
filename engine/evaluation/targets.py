"""Targets that differ by subject (SPEC §10): `target.from` rows of a source, `column NAME` roster points.

Each subject's points are resolved per evaluated (sub-)period before it is assessed. A subject and
period without a target — no row of the `from:` source matching both exactly, or an empty or
malformed roster cell — has no target: status null and no score. A person left so is named in a
warning (their pay depends on it); a unit or the organization without a row of its own is not
(team targets are optional: a quota file of reps only is complete). The
periods in a `from:` source are written as on the command line (`2026`, `2026-Q1`, `2026-03`,
`2026-W05`, `a..b`) and compared as the periods they name, so `2026-3` matches `2026-03`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from sqlglot import exp

from kpi_engine.config import model as m
from kpi_engine.errors import Code, Diagnostic, warning
from kpi_engine.evaluation.org import Person
from kpi_engine.execution import Engine
from kpi_engine.periods import PeriodError, parse_period

SHOWN = 20
"""How many subjects and periods a warning names before it counts the rest."""


@dataclass
class SubjectTargets:
    """The data behind every subject-dependent target of a run, and who was left without one."""

    tables: dict[m.TargetFrom, dict[tuple[str, str], Decimal | None]] = field(default_factory=dict)
    people: Mapping[str, Person] = field(default_factory=dict)
    missing: dict[str, dict[tuple[str, str | None, str], str]] = field(default_factory=lambda: defaultdict(dict))
    notes: list[Diagnostic] = field(default_factory=list)
    root: str | None = None
    """The single top unit, whose `from:` row is also the organization's target (every person is under it)."""
    left_out: dict[tuple[str, str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    """(scorecard, person, period) → the KPIs its entries left out for want of a target."""

    def resolve(self, kpi: str, target: m.Target, level: str, subject: str | None, label: str) -> m.Target | None:
        """The subject's own points for a period, or None (and a note of whom) when the data has none."""
        points: dict[str, Decimal | None] = {}
        if target.data is not None:
            whose = self.root if level == "organization" else subject
            value = self.tables.get(target.data, {}).get((whose or "", label))
            if value is None:
                self._note(kpi, level, subject, label, f"no row in `{target.data.source}`")
                return None
            points["target"] = value
            points["threshold"] = None if target.threshold is None else value * Decimal(target.threshold)  # type: ignore[arg-type]
            points["stretch"] = None if target.stretch is None else value * Decimal(target.stretch)  # type: ignore[arg-type]
        for point, column in target.columns:
            person = self.people.get(subject or "") if level == "person" else None
            if person is None:  # units and the organization have no roster row: no target, said in the docs
                return None
            value = _number(person.column(column))
            if value is None:
                self._note(kpi, level, subject, label, f"roster cell `{column}` is empty or not a number")
                return None
            points[point] = value
        return replace(target, data=None, columns=(), **points)  # type: ignore[arg-type]

    def _note(self, kpi: str, level: str, subject: str | None, label: str, why: str) -> None:
        """Remember a person left without a target (units and the organization need no row of their own)."""
        if level == "person":
            self.missing[kpi].setdefault((level, subject, label), why)

    def diagnostics(self, ws: m.Workspace) -> list[Diagnostic]:
        """W544 per KPI: the subjects and periods left without a target, and why."""
        out = list(self.notes)
        for kpi, whom in sorted(self.missing.items()):
            named = [f"{level} {subject} in {label} ({why})" for (level, subject, label), why in sorted(whom.items())]
            more = f", and {len(named) - SHOWN} more" if len(named) > SHOWN else ""
            out.append(
                warning(
                    Code.TARGET_MISSING,
                    f"KPI `{kpi}` has no target for {len(named)} subject-period(s): {', '.join(named[:SHOWN])}{more}; "
                    "they get no status and no score, and scorecards leave the KPI out for them",
                    ws.source_map.key(ws.kpis[kpi].path) if kpi in ws.kpis else None,
                    "add their rows to the target source, or fill the roster cells",
                )
            )
        for (card, person, label), kpis in sorted(self.left_out.items()):
            out.append(
                warning(
                    Code.TARGET_MISSING,
                    f"scorecard `{card}` of {person} in {label} leaves out {', '.join(f'`{k}`' for k in kpis)}: "
                    "no target for them; the other entries' weights are renormalized",
                    ws.source_map.key(ws.scorecards[card].path) if card in ws.scorecards else None,
                    "add the person's target rows, or fill their roster cells",
                )
            )
        return out


def load_subject_targets(
    ws: m.Workspace,
    engine: Engine,
    people: Mapping[str, Person],
    targets: Iterable[m.Target],
    paths: Mapping[str, tuple[str, ...]] | None = None,
) -> SubjectTargets:
    """Read the `from:` sources the targets use (subject, period, value), once each.

    ``paths`` (each unit's path from its top unit) finds the single top unit, whose row is the
    organization's target too.
    """
    paths = paths or {}
    roots = {path[0] for path in paths.values() if path}
    found = SubjectTargets(people=people, root=roots.pop() if len(roots) == 1 else None)
    fys = ws.organization.fiscal_year_start
    for data in sorted({t.data for t in targets if t.data is not None}, key=lambda d: (d.source, d.subject, d.period)):
        table: dict[tuple[str, str], Decimal | None] = {}
        bad: list[str] = []
        query = exp.select(
            *(exp.cast(exp.column(c, quoted=True), "VARCHAR") for c in (data.subject, data.period, data.value))
        ).from_(exp.to_identifier(data.source, quoted=True))
        for subject, period, value in engine.run(query):
            try:
                label = parse_period(str(period), fys).label
            except PeriodError:
                bad.append(f"`{period}`")
                continue
            key = (str(subject or ""), label)
            if key in table:
                bad.append(f"a second row for {key[0]} in {label}")
                continue
            table[key] = _number(None if value is None else str(value))
        found.tables[data] = table
        if bad:
            found.notes.append(
                warning(
                    Code.TARGET_MISSING,
                    f"target source `{data.source}`: {len(bad)} row(s) not used: {', '.join(bad[:SHOWN])}",
                    ws.source_map.key(ws.sources[data.source].data_path) if data.source in ws.sources else None,
                    "write periods as on the command line (2026-Q1, 2026-03) and one row per subject and period",
                )
            )
    return found


def _number(text: str | None) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
