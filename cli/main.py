"""The `kpi` command line: parse options, call one engine function, render the result."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kpi_engine.data.report import Progress
from kpi_engine.errors import Diagnostic, KpiError, Severity
from kpi_engine.source import render

app = typer.Typer(
    name="kpi",
    help="KPI and bonus engine: validate definitions, evaluate scorecards, compute payouts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class ValidateFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def emit(text: str, out: Path | None) -> None:
    """Write a command's output to --out or stdout."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def fail(error: KpiError) -> typer.Exit:
    """Print a stage's diagnostics to stderr and return the exit that signals wrong input."""
    for diagnostic in error.diagnostics:
        sys.stderr.write(render(diagnostic) + "\n")
    return typer.Exit(1)


@contextmanager
def boundary() -> Iterator[None]:
    """Turn a stage's KpiError into printed diagnostics and exit code 1."""
    try:
        yield
    except KpiError as exc:
        raise fail(exc) from None


def diagnostic_json(d: Diagnostic) -> dict[str, object]:
    """The JSON form of a diagnostic (SPEC §7.2)."""
    return {
        "file": d.span.file if d.span else None,
        "line": d.span.line if d.span else None,
        "column": d.span.col if d.span else None,
        "severity": d.severity.value,
        "code": d.code.value,
        "message": d.message,
        "hint": d.hint,
    }


def _github(d: Diagnostic) -> str:
    def esc(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    level = "error" if d.severity == Severity.ERROR else "warning"
    where = ""
    if d.span:
        where = f" file={esc(d.span.file)},line={d.span.line},col={d.span.col}"
        if d.span.end_line == d.span.line and d.span.end_col > d.span.col:
            where += f",endColumn={d.span.end_col}"
    sep = "," if where else " "
    message = d.message + (f" (help: {d.hint})" if d.hint else "")
    return f"::{level}{where}{sep}title={d.code.value}::{esc(message)}"


@app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="Workspaces, folders or files (default: .)")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat lint warnings as errors.")] = False,
    format: Annotated[ValidateFormat, typer.Option("--format", help="Output format.")] = ValidateFormat.text,
    no_data: Annotated[bool, typer.Option("--no-data", help="Do not read the roster data.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report to this file.")] = None,
) -> None:
    """Check definitions: schema, names, formulas, weights, targets, policies and lints."""
    from kpi_engine.pipeline import validate as run_validate

    results = run_validate(paths or [Path(".")], data=not no_data)
    diagnostics = [d.as_error() if strict and d.severity == Severity.WARNING else d
                   for result in results for d in result.diagnostics]
    errors = sum(d.severity == Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    if format == ValidateFormat.json:
        body = json.dumps({"valid": errors == 0, "diagnostics": [diagnostic_json(d) for d in diagnostics]},
                          indent=2, ensure_ascii=False)
    elif format == ValidateFormat.github:
        body = "\n".join(_github(d) for d in diagnostics)
    else:
        lines = [render(d) for d in diagnostics]
        checked = len(results)
        what = f"{checked} workspace{'s' if checked != 1 else ''}/fragment{'s' if checked != 1 else ''}"
        verdict = "valid" if errors == 0 else "invalid"
        lines.append(f"{verdict}: {what} checked, {errors} error{'s' if errors != 1 else ''}, "
                     f"{warnings} warning{'s' if warnings != 1 else ''}")
        body = "\n\n".join(lines)
    emit(body, out)
    if errors:
        raise typer.Exit(1)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write the schema to this file.")] = None,
) -> None:
    """Print the JSON Schema of the definitions YAML."""
    from kpi_engine.config.schema import load_schema

    emit(json.dumps(load_schema(), indent=2, ensure_ascii=False), out)


class Level(StrEnum):
    person = "person"
    unit = "unit"
    organization = "organization"


class GrainOption(StrEnum):
    year = "year"
    quarter = "quarter"
    month = "month"
    week = "week"
    day = "day"


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Dialect(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    snowflake = "snowflake"
    bigquery = "bigquery"
    spark = "spark"
    trino = "trino"


Workspace = Annotated[Path, typer.Argument(help="Workspace folder or file.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write the output to this file (or folder for CSV).")]


def load(path: Path):  # type: ignore[no-untyped-def]
    """Load a workspace or exit 1 with its diagnostics."""
    from kpi_engine.pipeline import load_workspace

    with boundary():
        return load_workspace(path)


def command_line(command: str, workspace: Path, options: Mapping[str, object]) -> list[str]:
    """The command as it could be typed again, for the ledger."""
    words = [command, str(workspace)]
    for name, value in options.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                words += [f"--{name.rstrip('s') if isinstance(value, list) else name}", str(item)]
    return words


def warn(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
    """Print warnings (data notes) to stderr; they never change the exit code."""
    for d in diagnostics:
        sys.stderr.write(render(d) + "\n")


@app.command("import")
def import_(
    workspace: Workspace = Path("."),
    source: Annotated[list[str] | None, typer.Option("--source", help="Import only these sources.")] = None,
    max_rejects: Annotated[int | None, typer.Option("--max-rejects", min=0,
                                                    help="Load nothing for a source with more rejects.")] = None,
    format: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
    out: OutOption = None,
) -> None:
    """Load the sources into the workspace database (.kpi/warehouse.duckdb); rejected rows are kept."""
    from kpi_engine.data.report import ImportFailed
    from kpi_engine.data.warehouse import import_sources, open_warehouse
    from kpi_engine.report.imports import import_csv, import_json, import_table

    ws = load(workspace)
    with boundary():
        with open_warehouse(ws.root, ws.organization.timezone) as wh, _progress() as progress:
            try:
                report = import_sources(wh, ws.sources, only=source or None, max_rejects=max_rejects,
                                        progress=progress)
            except ImportFailed as failed:
                emit(import_table(failed.report), out)
                raise
    warn(report.diagnostics)
    text = {TableFormat.json: import_json, TableFormat.csv: import_csv}.get(format, import_table)(report)
    emit(text, out)
    if not report.ok:
        raise typer.Exit(1)


@contextmanager
def _progress() -> Iterator[Callable[[Progress], None] | None]:
    """A progress bar on a terminal; nothing when output is captured."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn

    with Bar(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
        task = bar.add_task("importing", total=None)

        def update(event: Progress) -> None:
            bar.update(task, description=f"{event.source}: {event.step} {event.file or ''} {event.rows or ''}")

        yield update


@app.command()
def evaluate(
    workspace: Workspace = Path("."),
    period: Annotated[str, typer.Option("--period", help="2025, 2025-Q1, 2025-03, 2025-W05 or a..b")] = ...,  # type: ignore[assignment]
    grain: Annotated[GrainOption | None, typer.Option("--grain", help="Split the period.")] = None,
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="Only these KPIs (repeatable).")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Only this person or unit.")] = None,
    by: Annotated[list[str] | None, typer.Option("--by", help="Break KPIs down by a column.")] = None,
    at: Annotated[Level | None, typer.Option("--at", help="Only this subject level.")] = None,
    format: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
    out: OutOption = None,
) -> None:
    """KPI values, n, statuses, scores, ranks and scorecard totals for a period."""
    from kpi_engine.audit.runs import record_evaluation
    from kpi_engine.evaluation import evaluate as run_evaluate
    from kpi_engine.periods import Grain
    from kpi_engine.report.evaluation import evaluation_json, evaluation_table, kpis_csv, scorecards_csv

    ws = load(workspace)
    with boundary():
        grain_value: Grain | None = grain.value if grain else None  # type: ignore[assignment]
        at_value = at.value if at else None
        result = run_evaluate(ws, period, grain=grain_value, kpis=kpi or (), subject=subject, by=by or (),
                              at=at_value)
        options = {"period": period, "grain": grain_value, "kpis": kpi or [], "subject": subject, "by": by or [],
                   "at": at_value}
        run = record_evaluation(ws, result, command_line("evaluate", workspace, options), options)
    warn(result.diagnostics)
    if format == TableFormat.json:
        emit(evaluation_json(result, run), out)
    elif format == TableFormat.csv:
        if out is not None and (out.is_dir() or not out.suffix):  # a folder: kpis.csv and scorecards.csv
            out.mkdir(parents=True, exist_ok=True)
            (out / "kpis.csv").write_text(kpis_csv(result), encoding="utf-8")
            (out / "scorecards.csv").write_text(scorecards_csv(result), encoding="utf-8")
        else:
            emit(kpis_csv(result), out)
    else:
        units = {k.id: k.unit or "" for k in ws.kpis.values()}
        emit(evaluation_table(result, units) + f"run {run['id']}", out)


@app.command("compile")
def compile_(
    workspace: Workspace = Path("."),
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="Only these KPIs.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Period to compile for (default: this year).")] = None,
    dialect: Annotated[Dialect, typer.Option("--dialect")] = Dialect.duckdb,
    explain: Annotated[bool, typer.Option("--explain", help="Show which KPIs share a scan and why.")] = False,
    out: OutOption = None,
) -> None:
    """Print the SQL that evaluation runs, each KPI commented with its id and definition."""
    from kpi_engine.compile import compile_workspace

    ws = load(workspace)
    with boundary():
        text = compile_workspace(ws, kpi or (), period, dialect.value, explain)
    emit(text, out)


class BonusFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def bonus(
    workspace: Workspace = Path("."),
    plan: Annotated[str | None, typer.Option("--plan", help="Bonus plan id (default: the only plan).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Period to pay (default: the plan's).")] = None,
    format: Annotated[BonusFormat, typer.Option("--format")] = BonusFormat.table,
    out: OutOption = None,
) -> None:
    """Payouts per person, bonus shares and the total, exact to the cent."""
    from kpi_engine.audit.adjustments import adjustments, approved_run
    from kpi_engine.audit.runs import record
    from kpi_engine.bonus import compute_bonus
    from kpi_engine.report.bonus import bonus_csv, bonus_document, bonus_json, bonus_table, write_xlsx

    ws = load(workspace)
    currency = ws.organization.currency
    with boundary():
        if format == BonusFormat.xlsx and out is None:
            from kpi_engine.errors import Code, error

            raise KpiError([error(Code.MISSING_KEY, "--format xlsx writes a file; name it with --out", None,
                                  "e.g. --out payouts.xlsx")])
        run = compute_bonus(ws, plan, period)
        document = bonus_document(run, {}, currency)
        document.pop("run")
        approved = approved_run(ws.root, ws.organization.timezone, run.plan.id, run.period.label)
        changes = adjustments(approved, document) if approved else []
        options = {"plan": run.plan.id, "period": run.period.label}
        header = record(ws, "bonus", run.period.label, command_line("bonus", workspace, options), document,
                        options, run.evaluation.plan.explain())
    warn(run.evaluation.diagnostics)
    if approved is not None and changes:
        sys.stderr.write(f"this run differs from run {approved.id}, approved by {approved.approved_by}; "
                         "it does not replace it. Adjustments:\n")
        for c in changes:
            sys.stderr.write(f"  {c.person:<12} approved {c.approved:>12}  now {c.now:>12}  "
                             f"adjustment {c.delta:+}\n")
    if format == BonusFormat.json:
        emit(bonus_json(run, header.block(), currency), out)
    elif format == BonusFormat.csv:
        emit(bonus_csv(run), out)
    elif format == BonusFormat.xlsx:
        assert out is not None
        write_xlsx(run, currency, out)
        sys.stdout.write(f"wrote {out} (run {header.id})\n")
    else:
        emit(bonus_table(run, currency) + f"run {header.id}", out)


@app.command()
def explain(
    workspace: Workspace = Path("."),
    person: Annotated[str, typer.Option("--person", help="Roster id of the person.")] = ...,  # type: ignore[assignment]
    plan: Annotated[str | None, typer.Option("--plan", help="Bonus plan (default: the only plan).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Period (default: the plan's).")] = None,
    out: OutOption = None,
) -> None:
    """A statement: every number behind a person's score and payout."""
    from kpi_engine.bonus import compute_bonus
    from kpi_engine.errors import Code, error
    from kpi_engine.evaluation import evaluate as run_evaluate
    from kpi_engine.report.statement import bonus_statement, scorecard_statement

    ws = load(workspace)
    with boundary():
        run = None
        if plan is not None or len(ws.bonus_plans) == 1:
            run = compute_bonus(ws, plan, period)
            evaluation = run.evaluation
        elif period is not None:
            evaluation = run_evaluate(ws, period)
        else:
            raise KpiError([error(Code.MISSING_KEY, "name a --plan or a --period", None,
                                  "plans: " + ", ".join(sorted(ws.bonus_plans)) if ws.bonus_plans else None)])
        who = evaluation.org.people.get(person)
        if who is None:
            from kpi_engine.config.build import unknown

            message, hint = unknown("person", person, list(evaluation.org.people))
            raise KpiError([error(Code.UNKNOWN_REFERENCE, message, None, hint)])
        card = next((s for s in evaluation.scorecards if s.person == person), None)
        if card is None:
            raise KpiError([error(Code.UNKNOWN_REFERENCE, f"no scorecard applies to {who.name} ({person})", None,
                                  "check `applies_to` of the scorecards (roles, units, unit tags)")])
        lines = scorecard_statement(ws, who, card)
        if run is not None:
            lines += bonus_statement(ws, run, person)
    emit("\n".join(lines), out)


runs_app = typer.Typer(help="The audit ledger: list, show, verify and approve runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


class RunsFormat(StrEnum):
    table = "table"
    json = "json"


@runs_app.command("list")
def runs_list(
    workspace: Workspace = Path("."),
    approved: Annotated[bool, typer.Option("--approved", help="Only approved bonus runs.")] = False,
    format: Annotated[RunsFormat, typer.Option("--format")] = RunsFormat.table,
    out: OutOption = None,
) -> None:
    """Every recorded run, newest first."""
    from kpi_engine.data.ledger import list_runs
    from kpi_engine.report.runs import runs_json, runs_table

    ws = load(workspace)
    with boundary():
        runs = [r for r in list_runs(ws.root, ws.organization.timezone) if not approved or r.approved_by]
    emit(runs_json(runs) if format == RunsFormat.json else runs_table(runs), out)


@runs_app.command("show")
def runs_show(
    workspace: Workspace,
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    format: Annotated[RunsFormat, typer.Option("--format")] = RunsFormat.table,
    out: OutOption = None,
) -> None:
    """One run: what was computed, from which definitions, data and engine."""
    from kpi_engine.data.ledger import get_run
    from kpi_engine.report.runs import run_json, run_text

    ws = load(workspace)
    with boundary():
        run = get_run(ws.root, ws.organization.timezone, run_id)
    emit(run_json(run) if format == RunsFormat.json else run_text(run), out)


@runs_app.command("verify")
def runs_verify(
    workspace: Workspace,
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    out: OutOption = None,
) -> None:
    """Recompute a run with the definitions it stored, on the current data; exit 1 if anything differs."""
    from kpi_engine.audit.verify import verify
    from kpi_engine.data.ledger import get_run
    from kpi_engine.report.runs import verification_text

    ws = load(workspace)
    with boundary():
        found = verify(get_run(ws.root, ws.organization.timezone, run_id), ws)
    emit(verification_text(found), out)
    if not found.identical:
        raise typer.Exit(1)


@runs_app.command("approve")
def runs_approve(
    workspace: Workspace,
    run_id: Annotated[str, typer.Argument(help="The bonus run to approve.")],
    by: Annotated[str, typer.Option("--by", help="Who approves.")] = ...,  # type: ignore[assignment]
    note: Annotated[str | None, typer.Option("--note", help="Why, or a reference.")] = None,
    format: Annotated[RunsFormat, typer.Option("--format")] = RunsFormat.table,
    out: OutOption = None,
) -> None:
    """Mark a bonus run approved (once; approvals are append-only)."""
    from datetime import UTC, datetime

    from kpi_engine.audit.runs import utc_timestamp
    from kpi_engine.data.ledger import approve_run
    from kpi_engine.report.formats import to_json

    ws = load(workspace)
    with boundary():
        run = approve_run(ws.root, ws.organization.timezone, run_id, by, utc_timestamp(datetime.now(UTC)), note)
    if format == RunsFormat.json:
        emit(to_json({"id": run.id, "approved_by": run.approved_by, "approved_at": run.approved_at,
                      "note": run.approval_note}), out)
    else:
        emit(f"run {run.id} approved by {run.approved_by} at {run.approved_at}", out)


class TestsFormat(StrEnum):
    text = "text"
    junit = "junit"


@app.command("test")
def test_command(
    workspace: Workspace = Path("."),
    name: Annotated[str | None, typer.Option("--name", help="Only tests whose id matches (fnmatch: * ?).")] = None,
    format: Annotated[TestsFormat, typer.Option("--format", help="text, or JUnit XML for CI.")] = TestsFormat.text,
    out: OutOption = None,
) -> None:
    """Run the workspace's tests: fixture rows in, expected values, scores and payouts out; exit 1 if any fails."""
    from kpi_engine.report.tests import tests_junit, tests_text
    from kpi_engine.testing import run_tests

    ws = load(workspace)
    with boundary():
        report = run_tests(ws, name)
    emit(tests_junit(report) if format == TestsFormat.junit else tests_text(report), out)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def init(
    folder: Annotated[Path | None, typer.Argument(help="New workspace folder.")] = None,
    template: Annotated[str, typer.Option("--template", help="Library template to start from.")] = "support",
    list_: Annotated[bool, typer.Option("--list", help="List the templates.")] = False,
) -> None:
    """A new workspace from a library template, with sample data."""
    from kpi_engine.templates import init_workspace, templates

    if list_:
        emit("\n".join(f"{t.name:<18} {t.title}" for t in templates()) or "no templates installed", None)
        return
    if folder is None:
        raise typer.BadParameter("name the new workspace folder", param_hint="FOLDER")
    with boundary():
        chosen = init_workspace(folder, template)
    emit(f"created {folder} from template `{chosen.name}`\nnext: kpi validate {folder} && "
         f"kpi test {folder}", None)


class CatalogFormat(StrEnum):
    md = "md"
    html = "html"


@app.command()
def catalog(
    workspace: Workspace = Path("."),
    format: Annotated[CatalogFormat, typer.Option("--format", help="Markdown or a standalone HTML page.")] = (
        CatalogFormat.md),
    out: OutOption = None,
) -> None:
    """A human catalog of goals, KPIs, formulas, targets, weights, policies and bonus plans."""
    from kpi_engine.report.catalog import catalog as render_catalog

    ws = load(workspace)
    emit(render_catalog(ws, format.value), out)


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="Old definitions: a workspace path or git:REV[:PATH].")],
    new: Annotated[str, typer.Argument(help="New definitions: a workspace path or git:REV[:PATH].")] = ".",
    data: Annotated[Path | None, typer.Option("--data", help="Pay the plan under both sides on this "
                                                            "workspace's data files.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Bonus plan (default: the only plan).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Period to pay (default: the plan's).")] = None,
    format: Annotated[DiffFormat, typer.Option("--format")] = DiffFormat.text,
    out: OutOption = None,
) -> None:
    """What changed between two definition sets, and each person's payout change on the same data."""
    from kpi_engine.audit.diff import diff as run_diff
    from kpi_engine.report.diff import diff_json, diff_markdown, diff_text

    if data is None and (plan is not None or period is not None):
        raise typer.BadParameter("--plan and --period price the change on data; add --data WS", param_hint="--data")
    with boundary():
        result = run_diff(old, new, data, plan, period)
    warn(result.notes)
    render = {DiffFormat.json: diff_json, DiffFormat.md: diff_markdown}.get(format, diff_text)
    emit(render(result), out)


def main() -> None:
    """Entry point: run the app; an unexpected internal error never shows a traceback to users."""
    try:
        app()
    except KpiError as exc:
        raise SystemExit(fail(exc).exit_code) from None
    except Exception as exc:  # noqa: BLE001 - the boundary: report, never dump a traceback
        if os.environ.get("KPI_DEBUG"):
            raise
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n"
                         "  = help: this is a bug in kpi-engine; rerun with KPI_DEBUG=1 and report it\n")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
