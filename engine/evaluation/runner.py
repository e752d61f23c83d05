"""Evaluate a workspace for a period: data → values → statuses, scores, ranks → scorecards, goals."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from kpi_engine.compiled import Compiled, Formulas
from kpi_engine.config import model as m
from kpi_engine.config.model import kpi_reference_problem
from kpi_engine.config.scopes import source_scope
from kpi_engine.data.report import ImportReport
from kpi_engine.data.state import imported_files, stale_sources
from kpi_engine.data.warehouse import WAREHOUSE_FILE, open_warehouse
from kpi_engine.errors import Code, Diagnostic, KpiError, Severity, did_you_mean, error, warning
from kpi_engine.evaluation.notices import data_notices, reject_counts
from kpi_engine.evaluation.org import OrgData, load_org, person_index
from kpi_engine.evaluation.results import (
    GoalResult,
    KpiResult,
    ScorecardResult,
    goal_results,
    kpi_results,
    scorecard_results,
)
from kpi_engine.evaluation.targets import SubjectTargets, load_subject_targets
from kpi_engine.evaluation.values import Values, evaluate_values
from kpi_engine.execution import Engine, Target, loaded
from kpi_engine.periods import Grain, Period, PeriodError, bounds_utc, parse_period, previous, split
from kpi_engine.plan.ir import Plan
from kpi_engine.scoring.scorecard import assign_scorecards
from kpi_engine.sql.compile_plan import Slice


@dataclass
class Evaluation:
    """Everything `kpi evaluate` reports, before rendering."""

    period: Period
    kpis: list[KpiResult]
    scorecards: list[ScorecardResult]
    goals: list[GoalResult]
    org: OrgData
    plan: Plan
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rejects: dict[str, int] = field(default_factory=dict)  # rejected rows per file source
    engine: dict[str, str | None] = field(default_factory=dict)  # where it ran: name, version, connection
    read: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # files the engine read: (label, sha256)


def period_of(ws: m.Workspace, text: str) -> Period:
    """Parse a period as the organization counts it (fiscal years)."""
    try:
        return parse_period(text, ws.organization.fiscal_year_start)
    except PeriodError as exc:
        raise KpiError([exc.diagnostic()]) from None


def slices_of(ws: m.Workspace, periods: Sequence[Period]) -> list[Slice]:
    """Periods with their UTC bounds in the organization's zone."""
    out = []
    for p in periods:
        start, end = bounds_utc(p, ws.organization.timezone)
        out.append(Slice(p.label, start, end, p.start.isoformat(), p.end.isoformat()))
    return out


def check_kpi_ids(ws: m.Workspace, kpis: Sequence[str]) -> None:
    """Refuse --kpi ids that name no KPI (with a did-you-mean, or the variants of a segmented KPI)."""
    problems = [p for k in kpis if k not in ws.kpis and (p := kpi_reference_problem(ws, k))]
    if problems:
        raise KpiError([error(Code.UNKNOWN_REFERENCE, message, None, hint) for message, hint in problems])


def check_by(ws: m.Workspace, plan: Plan, by: Sequence[str]) -> None:
    """Refuse a --by column that a source of the KPIs being evaluated does not have.

    A breakdown applies to every KPI evaluated; a KPI whose source lacks the column cannot be broken
    down, and is not silently left out: the message names those KPIs and the ones that could be.
    """
    problems = []
    for path in by:
        lacking: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        able: list[str] = []
        for group in plan.scans:
            kpis = [spec.id for spec in group.kpis]
            problem = _column_problem(ws, group.key.source, path)
            if problem is None:
                able += kpis
            else:
                lacking[problem] += kpis
        for (message, hint), kpis in lacking.items():
            narrow = (
                f"break down only the KPIs that have it: {' '.join(f'--kpi {k}' for k in sorted(able))}"
                if able
                else None
            )
            problems.append(
                error(
                    Code.UNKNOWN_REFERENCE,
                    f"--by `{path}`: {message}, so KPI(s) "
                    f"{', '.join(f'`{k}`' for k in sorted(kpis))} cannot be broken down by it",
                    None,
                    "; ".join(h for h in (hint, narrow) if h) or None,
                )
            )
    if problems:
        raise KpiError(problems)


def _column_problem(ws: m.Workspace, source_id: str, path: str) -> tuple[str, str | None] | None:
    """Why a column path (``agent.unit``) names nothing a formula on the source could use.

    The message comes with a did-you-mean; None when the path names a column.
    """
    scope, where = source_scope(ws, source_id), source_id
    *relations, name = path.split(".")
    for relation in relations:
        if relation not in scope.relations:
            return f"source `{where}` has no relation `{relation}`", did_you_mean(relation, scope.relations)
        scope, where = scope.relations[relation], ws.sources[where].relations[relation].source
    if name not in scope.columns:
        return f"source `{where}` has no column `{name}`", did_you_mean(name, scope.columns)
    return None


@contextmanager
def open_data(
    ws: m.Workspace, target: Target = Target()
) -> Iterator[tuple[Engine, ImportReport | None, list[Diagnostic]]]:
    """The session to evaluate on, sealed.

    Another engine's session has the sources registered on it; on DuckDB, the workspace database
    when it has been imported, else the files read into a fresh session.
    """
    tz = ws.organization.timezone
    if target == Target() and (ws.root / WAREHOUSE_FILE).is_file():
        wh = open_warehouse(ws.root, tz, read_only=True)
        imported = imported_files(wh)
        if all(s in imported for s, src in ws.sources.items() if src.path is not None):
            notes = [
                warning(
                    Code.DATA_CHANGED,
                    f"source `{s}` changed since `kpi import`; evaluating the imported data",
                    ws.source_map.key(ws.sources[s].data_path),
                    "run `kpi import` again",
                )
                for s in stale_sources(ws.sources, imported)
            ]
            try:
                wh.seal()
                yield wh, None, notes
            finally:
                wh.close()
            return
        wh.close()
    with loaded(ws.sources, tz, target) as (engine, report):
        yield engine, report, []


def files_read(report: ImportReport | None) -> dict[str, list[tuple[str, str]]]:
    """Each source's files as the session read them: label and sha256 (what the ledger keeps of a URI's files)."""
    if report is None:
        return {}
    return {s.source: [(f.file, f.sha256) for f in s.files] for s in report.sources if s.files}


def engine_info(engine: Engine) -> dict[str, str | None]:
    """What the ledger records of the engine a run used: its name, version and connection.

    Every engine's ``connection`` is already without secrets (the :class:`~kpi_engine.execution.Engine` contract).
    """
    return {"name": engine.name, "version": engine.version, "connection": engine.connection}


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while evaluating (or writing a report's thousands of pages).

    Evaluation builds hundreds of thousands of small acyclic objects (values, results, items). Each
    full pass of the collector walks all of them and finds nothing to free, and the passes come
    more often as the heap grows: about a quarter of evaluation's Python time at 290k KPI rows.
    Reference counting still frees everything as usual; the collector resumes afterwards.

    On resuming, everything built meanwhile would sit in the youngest generation, and the very next
    young pass would walk it all (~0.2 s at 290k rows) to promote the survivors. They are moved to
    the oldest generation at once instead (``freeze`` then ``unfreeze``: two list splices), where
    only the rare full collections look at them. Skipped when the host application has frozen
    objects itself, since ``unfreeze`` would release those too.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def _targets(ws: m.Workspace, plan: Plan) -> list[m.Target | None]:
    """Every target a run may assess: its KPIs' and every scorecard entry's own."""
    return [ws.kpis[k].target for k in plan.kpi_ids] + [e.target for c in ws.scorecards.values() for e in c.entries]


def _needs_previous(ws: m.Workspace, plan: Plan) -> bool:
    if any(d.uses_previous for d in plan.derived):
        return True
    targets = _targets(ws, plan)
    return any(t is not None and t.vs == "previous" for t in targets)


def evaluate(
    compiled: Compiled,
    period: str,
    *,
    grain: Grain | None = None,
    subject: str | None = None,
    by: Sequence[str] = (),
    at: str | None = None,
    wh: Engine | None = None,
    target: Target = Target(),
) -> Evaluation:
    """KPI values, statuses, scores and ranks for every subject; scorecards and goals unless narrowed.

    The KPIs are those `compiled` was planned for; ``wh`` is an open engine to run on, else a session
    of ``target`` is opened (default: the workspace database, or its files read into memory).
    """
    ws, formulas, plan, kpis = compiled.workspace, compiled.formulas, compiled.plan, compiled.selected
    whole = period_of(ws, period)
    fys = ws.organization.fiscal_year_start
    periods = split(whole, grain, fys) if grain else [whole]
    check_by(ws, plan, by)
    if wh is None:
        with open_data(ws, target) as (opened, report, notes), collector_paused():
            result = _evaluate(ws, formulas, opened, plan, whole, periods, by, fys)
            result.diagnostics = (
                notes
                + list(report.diagnostics if report else ())
                + result.diagnostics
                + data_notices(ws, opened, report)
            )
            result.rejects = reject_counts(ws, opened)
            result.engine = engine_info(opened)
            result.read = files_read(report)
    else:
        with collector_paused():
            result = _evaluate(ws, formulas, wh, plan, whole, periods, by, fys)
        result.diagnostics += data_notices(ws, wh, None)
        result.rejects = reject_counts(ws, wh)
        result.engine = engine_info(wh)
    narrowed = bool(kpis) or bool(by)
    if narrowed:
        result.scorecards = []
    if kpis:
        result.kpis = [r for r in result.kpis if r.kpi in kpis]
    if subject is not None:
        result.kpis = [r for r in result.kpis if r.subject == subject]
        result.scorecards = [s for s in result.scorecards if s.person == subject]
    if at is not None:
        result.kpis = [r for r in result.kpis if r.subject_type == at]
    return result


def _evaluate(
    ws: m.Workspace,
    formulas: Formulas,
    wh: Engine,
    plan: Plan,
    whole: Period,
    periods: list[Period],
    by: Sequence[str],
    fys: tuple[int, int],
) -> Evaluation:
    org = load_org(ws, wh)
    errors = [d for d in org.diagnostics if d.severity == Severity.ERROR]
    if errors:
        raise KpiError(errors)
    slices = slices_of(ws, periods)
    prev_values = Values()
    prev_label: dict[str, str] = {}
    if _needs_previous(ws, plan):
        prev_periods = [previous(p, fys) for p in periods]
        prev_label = {p.label: q.label for p, q in zip(periods, prev_periods, strict=True)}
        prev_values = evaluate_values(ws, formulas, wh, plan, slices_of(ws, prev_periods), org.paths, org.people, by)
    values = evaluate_values(ws, formulas, wh, plan, slices, org.paths, org.people, by, prev_values, prev_label)
    assignment = assign_scorecards(ws.scorecards.values(), person_index(org), org.units)  # type: ignore[arg-type]
    if assignment.conflicts:
        from kpi_engine.evaluation.roster import conflict_diagnostics

        raise KpiError(conflict_diagnostics(ws, assignment.conflicts))
    needed = {} if by else _needed_by_scorecards(ws, org, assignment.by_person, set(plan.kpi_ids))
    values.select(needed, plan.kpi_ids, [s.label for s in slices], by)
    by_period = {p.label: p for p in periods}
    subject_targets = _subject_targets(ws, wh, org, plan)
    kpis, found = kpi_results(ws, values, by_period, prev_values, prev_label, by, subject_targets)
    cards = scorecard_results(
        ws, org, assignment.by_person, values, by_period, prev_values, prev_label, found, subject_targets
    )
    goals = goal_results(ws, kpis)
    notes = values.diagnostics + org.diagnostics + subject_targets.diagnostics(ws)
    return Evaluation(whole, kpis, cards, goals, org, plan, notes)


def _subject_targets(ws: m.Workspace, wh: Engine, org: OrgData, plan: Plan) -> SubjectTargets:
    """The data of every target of the run whose points differ by subject (`from:`, `column NAME`)."""
    targets = _targets(ws, plan)
    return load_subject_targets(ws, wh, org.people, [t for t in targets if t is not None and t.from_data], org.paths)


def _needed_by_scorecards(
    ws: m.Workspace, org: OrgData, assignment: Mapping[str, str], kpis: set[str]
) -> dict[tuple[str, str], set[str | None]]:
    """The subjects scorecards look at, per (KPI, level), in every period."""
    needed: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for person_id, card_id in assignment.items():
        unit = org.people[person_id].unit
        for entry in ws.scorecards[card_id].entries:
            if entry.kpi in kpis:
                needed[(entry.kpi, entry.at)].add({"person": person_id, "unit": unit, "organization": None}[entry.at])
    return needed


__all__ = ["Evaluation", "check_by", "check_kpi_ids", "evaluate", "open_data", "period_of", "slices_of"]
