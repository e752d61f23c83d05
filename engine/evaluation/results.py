"""From values to results: statuses, scores and ranks per KPI row; scorecard totals; goals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.config import model as m
from engine.config.rules import derived_inputs
from engine.evaluation.org import OrgData
from engine.evaluation.values import Key, KpiValue
from engine.periods import Period
from engine.scoring import scorecard as sc
from engine.scoring.score import Assessment, assess, competition_ranks, goal_attainment, goal_status


@dataclass(frozen=True)
class KpiResult:
    kpi: str
    subject_type: str
    subject: str | None
    period: str
    value: Decimal | None
    n: int
    status: str | None
    score: Decimal | None
    rank: int | None = None
    by: tuple[tuple[str, str | None], ...] = ()
    target: object | None = None


@dataclass(frozen=True)
class ItemResult:
    kpi: str
    at: str
    subject: str | None
    weight: Decimal
    value: Decimal | None
    n: int
    status: str | None
    score: Decimal | None
    contribution: Decimal | None
    effective_weight: Decimal
    target: object | None = None


@dataclass(frozen=True)
class ScorecardResult:
    scorecard: str
    person: str
    period: str
    total_score: Decimal | None
    items: tuple[ItemResult, ...]


@dataclass(frozen=True)
class GoalResult:
    goal: str
    period: str
    status: str | None
    attainment: Decimal | None


def kpi_in_force(kpi: m.Kpi, period: Period) -> bool:
    """A KPI is in force in a period when its effective dates overlap it."""
    return sc.in_force(kpi.effective_from, kpi.effective_to, period.start, period.end)


def inherited_problem(ws: m.Workspace, kpi: m.Kpi, key: Key, values: Mapping[Key, KpiValue],
                      seen: frozenset[str] = frozenset()) -> str | None:
    """A derived KPI is `invalid` (or `insufficient`) when one of its inputs is, for the same subject and period:
    a number built from data that failed its own checks must not be paid for."""
    if kpi.source is not None:
        return None
    found: str | None = None
    for name in derived_inputs(ws, kpi):
        other = ws.kpis[name]
        value = values.get((name, *key[1:]))
        problem: str | None = None
        if other.source is None and name not in seen:
            problem = inherited_problem(ws, other, key, values, seen | {kpi.id})
        elif value is not None and value.valid is False:
            problem = "invalid"
        elif value is not None and other.min_sample is not None and 0 < value.n < other.min_sample:
            problem = "insufficient"
        if problem == "invalid" or (problem and found is None):
            found = problem
    return found


def _assess(ws: m.Workspace, kpi: m.Kpi, value: KpiValue | None, period: Period, target: m.Target | None,
            scoring: m.Scoring | None, previous: KpiValue | None, in_force: bool = True,
            values: Mapping[Key, KpiValue] | None = None) -> Assessment:
    if value is not None and values is not None and in_force and kpi_in_force(kpi, period):
        key: Key = (kpi.id, value.level, value.subject, value.period, value.by)
        problem = inherited_problem(ws, kpi, key, values)
        if problem is not None:
            return Assessment(problem, None, None)  # type: ignore[arg-type]
    return assess(
        None if value is None else value.value, 0 if value is None else value.n, target, kpi.direction, scoring,
        ws.organization.score_points, previous_value=None if previous is None else previous.value, unit=kpi.unit,
        min_sample=kpi.min_sample, valid=True if value is None or value.valid is None else value.valid,
        in_force=in_force and kpi_in_force(kpi, period))


def kpi_results(ws: m.Workspace, values: Mapping[Key, KpiValue], periods: Mapping[str, Period],
                previous: Mapping[Key, KpiValue], previous_label: Mapping[str, str],
                by_names: Sequence[str]) -> list[KpiResult]:
    """Status, score and rank of every evaluated row, sorted as SPEC §7.2 says."""
    out: list[KpiResult] = []
    for key, value in values.items():
        kpi = ws.kpis[value.kpi]
        prev = previous.get((key[0], key[1], key[2], previous_label.get(key[3], ""), key[4]))
        a = _assess(ws, kpi, value, periods[value.period], kpi.target, kpi.scoring, prev, values=values)
        out.append(KpiResult(value.kpi, value.level, value.subject, value.period, value.value, value.n,
                             a.status, a.score, None, tuple(zip(by_names, value.by, strict=True)), a.target))
    ranked = _with_ranks(ws, out)
    return sorted(ranked, key=result_order)


def result_order(r: KpiResult) -> tuple[object, ...]:
    return (r.kpi, r.subject_type, r.subject or "", r.period, tuple(v or "" for _, v in r.by))


def _with_ranks(ws: m.Workspace, rows: list[KpiResult]) -> list[KpiResult]:
    groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r.subject_type != "organization":
            groups[(r.kpi, r.period, r.subject_type, r.by)].append(i)
    ranks: dict[int, int | None] = {}
    for (kid, *_), members in groups.items():
        direction = ws.kpis[str(kid)].direction
        items = [(i, rows[i].score if direction == "range" else rows[i].value) for i in members]
        ranks.update(competition_ranks(items, "higher" if direction == "range" else direction))
    return [KpiResult(r.kpi, r.subject_type, r.subject, r.period, r.value, r.n, r.status, r.score, ranks.get(i),
                      r.by, r.target) for i, r in enumerate(rows)]


def scorecard_results(ws: m.Workspace, org: OrgData, assignment: Mapping[str, str],
                      values: Mapping[Key, KpiValue], periods: Mapping[str, Period],
                      previous: Mapping[Key, KpiValue], previous_label: Mapping[str, str],
                      known: Sequence[KpiResult] = ()) -> list[ScorecardResult]:
    """Each scored person's scorecard per period: items at their levels, weights and the total.

    An entry without its own target or scoring reuses the KPI row's assessment (`known`).
    """
    assessed = {(r.kpi, r.subject_type, r.subject, r.period): r for r in known if not r.by}
    out = []
    for person_id in sorted(assignment):
        card = ws.scorecards[assignment[person_id]]
        person = org.people[person_id]
        for label, period in periods.items():
            items = [_item(ws, entry, person.id, person.unit, label, period, values, previous, previous_label,
                           assessed) for entry in card.entries]
            total, contributions = sc.total_score(
                [sc.EntryScore(i.kpi, i.weight, i.score, i.at, i.status) for i in items  # type: ignore[arg-type]
                 if i.status != "not_in_force"], card.on_insufficient)
            by_entry = iter(contributions)
            merged = []
            for item in items:
                if item.status == "not_in_force":
                    merged.append(item)
                    continue
                c = next(by_entry)
                merged.append(ItemResult(item.kpi, item.at, item.subject, item.weight, item.value, item.n,
                                         item.status, item.score, c.contribution, c.effective_weight, item.target))
            out.append(ScorecardResult(card.id, person.id, label, total, tuple(merged)))
    return out


def _item(ws: m.Workspace, entry: m.ScorecardEntry, person: str, unit: str, label: str, period: Period,
          values: Mapping[Key, KpiValue], previous: Mapping[Key, KpiValue], previous_label: Mapping[str, str],
          assessed: Mapping[tuple[str, str, str | None, str], KpiResult]) -> ItemResult:
    kpi = ws.kpis[entry.kpi]
    subject = {"person": person, "unit": unit, "organization": None}[entry.at]
    value = values.get((kpi.id, entry.at, subject, label, ()))
    entry_in_force = sc.in_force(entry.effective_from, entry.effective_to, period.start, period.end)
    same = assessed.get((kpi.id, entry.at, subject, label))
    if same is not None and entry_in_force and entry.target is None and entry.scoring is None:
        status, score, target = same.status, same.score, same.target
    else:
        prev = previous.get((kpi.id, entry.at, subject, previous_label.get(label, ""), ()))
        a = _assess(ws, kpi, value, period, entry.target or kpi.target, entry.scoring or kpi.scoring, prev,
                    entry_in_force, values)
        status, score, target = a.status, a.score, a.target
    return ItemResult(kpi.id, entry.at, subject, entry.weight, None if value is None else value.value,
                      0 if value is None else value.n, status, score, None, Decimal(0), target)


def goal_results(ws: m.Workspace, rows: Sequence[KpiResult]) -> list[GoalResult]:
    """Goal status (worst of its KPIs) and attainment (mean score, each capped at 100%), per period."""
    org_rows: dict[tuple[str, str], list[KpiResult]] = defaultdict(list)
    for r in rows:
        if r.subject_type == "organization" and not r.by:
            goal = ws.kpis[r.kpi].goal
            if goal is not None:
                org_rows[(goal, r.period)].append(r)
    return [GoalResult(goal, period, goal_status(r.status for r in items),  # type: ignore[misc]
                       goal_attainment([r.score for r in items]))
            for (goal, period), items in sorted(org_rows.items())]


def person_index(org: OrgData) -> list[sc.Person]:
    """The roster in the form scorecard matching takes."""
    return [sc.Person(p.id, p.role, p.unit) for p in org.people.values()]
