"""The stages from YAML to payout, in order. Each is one call; nothing else lives here.

Static, no data (what `kpi validate` runs)::

    load YAML → shape (JSON Schema) → model → formulas (parse, type-check) → rules
    check_unit / validate / load_workspace → m.Workspace

Compiled, still no data::

    + plan (fuse KPIs into scans)          compile_workspace → Compiled (model, typed formulas, plan)

Run time, on an engine holding the data (see :mod:`kpi_engine.execution`)::

    evaluate(Compiled, period) → Evaluation   KPI values → statuses, scores, ranks → scorecards, goals
    pay(Compiled, plan, period) → BonusRun     scorecard totals → payouts, pools, cents

Around them: `kpi test` runs fixture rows through evaluate and pay (:func:`run_tests`), `kpi compile`
prints the plan's SQL (:func:`plan_sql`), `runs verify` rebuilds a run's stored definitions
(:func:`model_from_data`), recompiles them and runs them again (:func:`verify_run`). Run-time modules
are imported on first use: `kpi validate` loads only the static half.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi_engine.compiled import Compiled, Formulas
from kpi_engine.config import model as m
from kpi_engine.config.build import build_model
from kpi_engine.config.loader import SourceMap
from kpi_engine.config.rules import check_rules
from kpi_engine.config.workspace import Definitions, Unit, discover, load_definitions
from kpi_engine.errors import Code, Diagnostic, KpiError, Severity, error
from kpi_engine.execution import Target
from kpi_engine.source import Span

if TYPE_CHECKING:
    from kpi_engine.audit.verify import Verification
    from kpi_engine.data.ledger import RunRecord
    from kpi_engine.evaluation.drilldown import RowsListing
    from kpi_engine.evaluation.runner import Evaluation
    from kpi_engine.execution import Engine
    from kpi_engine.names import Level
    from kpi_engine.pay import BonusRun
    from kpi_engine.periods import Grain
    from kpi_engine.testing import TestReport


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one workspace or fragment."""

    unit: Unit
    workspace: m.Workspace | None
    diagnostics: tuple[Diagnostic, ...]
    formulas: Formulas | None = None  # the typed formulas, when the model was built

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error."""
        return not any(d.severity == Severity.ERROR for d in self.diagnostics)


def check_unit(unit: Unit, data: bool = False) -> Checked:
    """Run every static stage on one workspace (or fragment), collecting all diagnostics.

    With ``data``, a valid workspace's roster file (when it exists) is checked against the units and
    the scorecards too.
    """
    defs = load_definitions(unit)
    found = list(defs.diagnostics)
    if not unit.fragment and "organization" not in defs.data and not _has_errors(found):
        found.append(
            error(
                Code.NO_ORGANIZATION,
                "this workspace has no `organization`",
                Span(str(unit.root), 1, 1),
                "add an `organization:` section to one file",
            )
        )
    if _has_errors(found):
        return Checked(unit, None, _sorted(found))
    workspace, problems = build_model(defs)
    found += problems
    formulas = None
    if not _has_errors(found):
        from kpi_engine.config.formulas import analyze, formula_diagnostics

        formulas = analyze(workspace)
        found += formula_diagnostics(formulas, fragment=unit.fragment)
    found += check_rules(workspace, fragment=unit.fragment)
    if data and not unit.fragment and not _has_errors(found):
        from kpi_engine.evaluation.roster import check_roster

        found += check_roster(workspace)
    return Checked(unit, workspace, _sorted(found), formulas)


def validate(paths: list[Path], data: bool = False) -> list[Checked]:
    """Check every workspace and fragment found at the given paths (with ``data``: their rosters too)."""
    results = []
    seen: set[tuple[Path, ...]] = set()  # two files of one workspace check it once
    for path in paths:
        if not path.exists():
            diag = error(Code.FILE_NOT_FOUND, f"`{path}` does not exist", None, "check the path")
            results.append(Checked(Unit(path, (), True), None, (diag,)))
            continue
        units = discover(path)
        if not units:
            diag = error(
                Code.NO_WORKSPACE,
                f"no YAML definitions found in `{path}`",
                None,
                "definitions are *.yaml or *.yml files",
            )
            results.append(Checked(Unit(path, (), True), None, (diag,)))
        for unit in units:
            key = (unit.root.resolve(), *(f.resolve() for f in unit.files))
            if key not in seen:
                seen.add(key)
                results.append(check_unit(unit, data))
    return results


def load_workspace(path: Path) -> m.Workspace:
    """Load one workspace for evaluation; raise KpiError with every diagnostic if it is not valid."""
    return _checked(path).workspace  # type: ignore[return-value]


def _checked(path: Path) -> Checked:
    """The checked workspace at a path; KpiError with every diagnostic when it is not valid."""
    if not path.exists():
        raise KpiError([error(Code.FILE_NOT_FOUND, f"`{path}` does not exist", None, "check the path")])
    units = [u for u in discover(path) if not u.fragment]
    if len(units) != 1:
        message = (
            f"no workspace (a file with `organization:`) found in `{path}`"
            if not units
            else f"`{path}` holds {len(units)} workspaces: " + ", ".join(str(u.root) for u in units)
        )
        raise KpiError([error(Code.NO_WORKSPACE, message, None, "name one workspace folder or file")])
    checked = check_unit(units[0])
    errors = [d for d in checked.diagnostics if d.severity == Severity.ERROR]
    if errors or checked.workspace is None:
        raise KpiError(errors)
    return checked


def model_from_data(
    root: Path, data: dict[str, Any], origins: dict[tuple[str, ...], Path]
) -> tuple[m.Workspace, list[Diagnostic]]:
    """The model of definitions data stored without their files (a ledger run's), and the problems found.

    ``origins`` places each source's relative paths; there are no files, so no positions to point at.
    """
    return build_model(Definitions(root, [], data, SourceMap(), [], origins))


def workspace_roots(path: Path) -> list[Path]:
    """The roots of the workspaces (not fragments) found at ``path``."""
    return [u.root for u in discover(path) if not u.fragment]


def compile_workspace(workspace: Path | m.Workspace, kpis: Sequence[str] = ()) -> Compiled:
    """A valid workspace (a path, or a model built elsewhere) compiled once: typed formulas and the plan.

    ``kpis`` narrows the plan to those KPIs (and what they use); unknown ids are refused with a
    did-you-mean. A model built elsewhere (stored definitions, the other side of a diff) has its
    formulas analysed here; a path reuses the formulas its validation typed.
    """
    from kpi_engine.evaluation.runner import check_kpi_ids
    from kpi_engine.plan.planner import plan as make_plan

    if isinstance(workspace, Path):
        checked = _checked(workspace)
        ws, formulas = checked.workspace, checked.formulas
        assert ws is not None and formulas is not None
    else:
        from kpi_engine.config.formulas import analyze

        ws, formulas = workspace, analyze(workspace)
        errors = [d for d in formulas.diagnostics if d.severity == Severity.ERROR]
        if errors:
            raise KpiError(errors)
    check_kpi_ids(ws, kpis)
    return Compiled(ws, formulas, make_plan(ws, formulas, kpis or list(ws.kpis)), tuple(kpis))


def evaluate(
    compiled: Compiled,
    period: str,
    *,
    grain: Grain | None = None,
    subject: str | None = None,
    by: Sequence[str] = (),
    at: str | None = None,
    engine: Engine | None = None,
    target: Target | None = None,
) -> Evaluation:
    """KPI values, statuses, scores and ranks for every subject; scorecards and goals unless narrowed.

    On ``engine`` when given, else on a session of ``target`` (default: DuckDB on the workspace
    database, or its files read into memory).
    """
    from kpi_engine.evaluation.runner import evaluate as run

    on = target or Target()
    return run(compiled, period, grain=grain, subject=subject, by=by, at=at, wh=engine, target=on)


def pay(
    compiled: Compiled,
    plan: str | None,
    period: str | None,
    engine: Engine | None = None,
    *,
    any_period: bool = False,
    target: Target | None = None,
) -> BonusRun:
    """Every person of a bonus plan's scorecards paid for the period (default: the plan's own).

    Evaluated on ``engine`` when given, else on a session of ``target`` (default: DuckDB).
    """
    from kpi_engine.pay import compute_bonus

    return compute_bonus(compiled, plan, period, engine, any_period=any_period, target=target or Target())


def run_tests(compiled: Compiled, name_pattern: str | None = None, target: Target | None = None) -> TestReport:
    """`kpi test`: each test's fixture rows through import, evaluate and pay, its expectations checked.

    On fresh sessions of ``target`` (default: DuckDB in memory).
    """
    from kpi_engine.testing import run_tests as run

    return run(compiled, name_pattern, target or Target())


def explain(
    compiled: Compiled, person: str, plan: str | None, period: str | None, target: Target | None = None
) -> tuple[str, list[Diagnostic]]:
    """`kpi explain`: a person's statement and the run's warnings (paid under the plan when there is one)."""
    from kpi_engine.report.statement import statement

    ws = compiled.workspace
    run = None
    if plan is not None or len(ws.bonus_plans) == 1:
        run = pay(compiled, plan, period, target=target)
        evaluation = run.evaluation
    elif period is not None:
        evaluation = evaluate(compiled, period, target=target)
    else:
        raise KpiError(
            [
                error(
                    Code.MISSING_KEY,
                    "name a --plan or a --period",
                    None,
                    "plans: " + ", ".join(sorted(ws.bonus_plans)) if ws.bonus_plans else None,
                )
            ]
        )
    try:
        return statement(ws, evaluation, run, person), evaluation.diagnostics
    except KpiError as exc:  # an unknown person: the run's warnings still come first
        raise KpiError([*evaluation.diagnostics, *exc.diagnostics]) from None


def rows(
    compiled: Compiled,
    kpi: str,
    period: str,
    *,
    subject: str | None = None,
    at: Level | None = None,
    limit: int | None = None,
    target: Target = Target(),
) -> RowsListing:
    """`kpi rows`: the source rows behind a KPI's value for a period and a subject (the drill-down)."""
    from kpi_engine.evaluation.drilldown import list_rows

    return list_rows(compiled, kpi, period, subject=subject, at=at, limit=limit, target=target)


@dataclass(frozen=True)
class ReportRun:
    """What `kpi report` evaluated on one engine session: the whole period, its sub-periods, a plan's payouts."""

    evaluation: Evaluation  # the whole period (with a plan: the evaluation the plan was paid from)
    trend: Evaluation | None  # the same KPIs per sub-period (``--grain``)
    periods: tuple[str, ...]  # the sub-periods' labels, in order
    bonus: BonusRun | None

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """The warnings of every evaluation, each once."""
        extra = self.trend.diagnostics if self.trend is not None else []
        return list(dict.fromkeys([*self.evaluation.diagnostics, *extra]))


def report(
    compiled: Compiled,
    period: str,
    *,
    grain: Grain | None = None,
    plan: str | None = None,
    target: Target | None = None,
) -> ReportRun:
    """`kpi report`: the period evaluated (paid under ``plan`` when given) and, with ``grain``, per sub-period.

    Everything runs on one session of ``target`` (default: DuckDB), so files are read once.
    """
    from kpi_engine.evaluation.runner import files_read, open_data, period_of
    from kpi_engine.periods import split

    ws = compiled.workspace
    periods = split(period_of(ws, period), grain, ws.organization.fiscal_year_start) if grain else []
    with open_data(ws, target or Target()) as (engine, loaded, notes):
        paid = pay(compiled, plan, period, engine) if plan is not None else None
        whole = paid.evaluation if paid is not None else evaluate(compiled, period, engine=engine)
        trend = evaluate(compiled, period, grain=grain, engine=engine) if grain else None
    whole.diagnostics = [*notes, *(loaded.diagnostics if loaded else ()), *whole.diagnostics]
    for ran in (whole, trend):  # the files this session read, as `evaluate` records them (a URI's files each)
        if ran is not None:
            ran.read = files_read(loaded)
    return ReportRun(whole, trend, tuple(p.label for p in periods), paid)


def plan_sql(compiled: Compiled, period: str | None, dialect: str, explain: bool) -> str:
    """`kpi compile`: the SQL of every scan of the plan for a period, in a dialect."""
    from kpi_engine.compile import plan_sql as render

    return render(compiled, period, dialect, explain)


def verify_run(run: RunRecord, current: m.Workspace) -> Verification:
    """`runs verify RUN`: a run's stored hashes and data checked, its stored definitions compiled and run again."""
    from kpi_engine.audit.verify import verify

    return verify(run, current)


def _has_errors(found: list[Diagnostic]) -> bool:
    return any(d.severity == Severity.ERROR for d in found)


def _sorted(found: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    unique = list(dict.fromkeys(found))
    return tuple(sorted(unique, key=Diagnostic.sort_key))
