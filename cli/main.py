"""The `kpi` command line: parse options, call one engine function, render the result.

Exit codes (SPEC §9): 0 success, 1 wrong definitions or data, 2 usage. Every failure — wrong input,
a usage error, an internal bug — goes through :class:`KpiGroup`, which prints it like a compiler
and, under `--format json`, as a JSON document on stdout. Engine modules are imported inside the
commands so that `kpi --help` and `kpi validate` load only what they use.
"""

import itertools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from typer.core import TyperGroup

from kpi_engine import __version__
from kpi_engine.cli.console import (
    emit,
    failure_json,
    import_progress,
    interactive,
    report,
    report_usage,
    say,
    wrote,
)
from kpi_engine.errors import Code, Diagnostic, KpiError, Severity, error
from kpi_engine.execution import Target
from kpi_engine.literal import literal, printable
from kpi_engine.names import Dialect, EngineName, Grain, Level

CONTEXT = {"help_option_names": ["-h", "--help"]}
H = TypeVar("H")


class KpiGroup(TyperGroup):
    """The error boundary of every command: exit codes, diagnostics, JSON on failure, no traceback."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run a command; every failure becomes an exit code and a diagnostic, never a traceback."""
        argv = list(sys.argv[1:] if args is None else args)
        try:
            result = super().main(argv, prog_name or "kpi", complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except typer.Abort:
            sys.stderr.write("aborted\n")
            code = 1
        except typer.TyperException as exc:  # Click's usage errors: unknown option, bad value, missing argument
            code = exc.exit_code  # type: ignore[attr-defined]
            if type(exc).__name__ == "NoArgsIsHelpError":  # a bare `kpi` or `kpi runs`: the help is the answer
                exc.show()  # type: ignore[attr-defined]
            else:
                diagnostic = _usage_diagnostic(exc)
                report_usage(getattr(exc, "ctx", None), diagnostic)
                _json_failure(argv, [diagnostic])
        except KpiError as exc:
            report(exc.diagnostics)
            _json_failure(argv, exc.diagnostics, **_failure_extra(exc))
            code = 1
        except OSError as exc:  # the file system refused (read-only, full, permissions): not a bug
            diagnostic = _os_diagnostic(exc)
            report([diagnostic])
            _json_failure(argv, [diagnostic])
            code = 1
        except Exception as exc:  # noqa: BLE001 - the boundary: report, never dump a traceback
            if os.environ.get("KPI_DEBUG"):
                raise
            message = f"internal error: {type(exc).__name__}: {exc}"
            hint = "this is a bug in kpi-engine; rerun with KPI_DEBUG=1 and report it"
            say(f"{message}\n  = help: {hint}")
            _json_failure(argv, [error(Code.INTERNAL, message, None, hint)])
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


class UsageProblem(typer.BadParameter):
    """An option value that cannot be used, with its diagnostic code and hint (exit 2)."""

    def __init__(self, code: Code, message: str, hint: str | None = None, param_hint: str | None = None) -> None:
        super().__init__(message, param_hint=param_hint)
        self.code, self.hint = code, hint


def _usage_diagnostic(exc: Exception) -> Diagnostic:
    """A usage error as a diagnostic: our own code and hint, or E001 and a pointer to the command's help."""
    message = exc.format_message()  # type: ignore[attr-defined]
    if isinstance(exc, UsageProblem):
        return error(exc.code, message, None, exc.hint)
    ctx = getattr(exc, "ctx", None)
    return error(Code.USAGE, message, None, f"see `{ctx.command_path if ctx else 'kpi'} -h`")


def _os_diagnostic(exc: OSError) -> Diagnostic:
    """A file-system failure as a coded error naming the file and the reason."""
    where = f" `{exc.filename}`" if exc.filename else ""
    return error(
        Code.FILE_SYSTEM,
        f"cannot read or write{where}: {exc.strerror or exc}",
        None,
        "check that the place is writable (not read-only, with permission) and that the disk has space",
    )


def _json_failure(argv: list[str], diagnostics: Sequence[Diagnostic], **extra: object) -> None:
    """Under `--format json`, a failure is a JSON document on stdout too (SPEC §9)."""
    if not _wants_json(argv):
        return
    verdict = "valid" if argv and argv[0] == "validate" else "ok"
    sys.stdout.write(printable(failure_json(diagnostics, verdict, **extra)) + "\n")


def _wants_json(argv: list[str]) -> bool:
    return "--format=json" in argv or any(a == "--format" and b == "json" for a, b in itertools.pairwise(argv))


def _failure_extra(exc: KpiError) -> dict[str, object]:
    """What a failed command still has to say in JSON: an import's per-source report."""
    from kpi_engine.data.report import ImportFailed

    if isinstance(exc, ImportFailed):
        import json

        from kpi_engine.report.imports import import_json

        return {"import": json.loads(import_json(exc.report))}
    return {}


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"kpi-engine {__version__}\n")
        raise typer.Exit()


app = typer.Typer(
    name="kpi",
    cls=KpiGroup,
    help="KPI and bonus engine: validate definitions, evaluate scorecards, compute payouts.",
    epilog="Start with `kpi init my_ws` and follow its next steps; `kpi COMMAND -h` for each command.",
    no_args_is_help=True,
    context_settings=CONTEXT,
    rich_markup_mode=None,  # plain help: no Rich import to print it, no `<bool>` type labels
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", help="Print the engine version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """KPI and bonus engine: validate definitions, evaluate scorecards, compute payouts."""


def examples(*lines: str) -> str:
    """A help epilog: the example commands, kept on their own lines."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def check_period(value: str | None) -> str | None:
    """A malformed --period is a usage error (exit 2), found before any work starts."""
    if value is None:
        return None
    from kpi_engine.periods import PeriodError, check_relative, is_relative, parse_period

    try:
        check_relative(value) if is_relative(value) else parse_period(value)
    except PeriodError as exc:
        raise UsageProblem(Code.BAD_PERIOD, exc.message, exc.hint) from None
    return value


# Choices: the levels, grains and dialects are the engine's own Literal types (kpi_engine.names); each
# command's --format choices are the keys of that command's table of renderers.
ValidateFormat = Literal["text", "json", "github"]
TableFormat = Literal["table", "json", "csv"]
EvaluateFormat = Literal["table", "json", "csv", "xlsx"]
BonusFormat = Literal["table", "json", "csv", "xlsx"]
RunsFormat = Literal["table", "json"]
TestsFormat = Literal["text", "junit"]
CatalogFormat = Literal["md", "html"]
ReportFormat = Literal["html", "xlsx"]
DiffFormat = Literal["text", "json", "md"]
RowsFormat = Literal["table", "csv", "json", "xlsx"]


def check_as_of(value: str | None) -> str | None:
    """A malformed --as-of is a usage error (exit 2)."""
    if value is not None:
        from kpi_engine.periods import PeriodError, parse_period

        try:
            if parse_period(value).kind != "day":
                raise PeriodError(f"`{value}` is not a date", "write the day as YYYY-MM-DD, e.g. 2026-12-03")
        except PeriodError as exc:
            raise UsageProblem(Code.BAD_PERIOD, exc.message, exc.hint, param_hint="'--as-of'") from None
    return value


def resolved(ws: Any, period: str | None, as_of: str | None) -> str | None:
    """--period with a relative name (`last-month`, `ytd`) replaced by the period it means on --as-of.

    The default day is today in the organization's time zone; only the resolved period runs and is recorded.
    """
    from kpi_engine.periods import is_relative

    if period is None or not is_relative(period):
        return period
    from datetime import date

    from kpi_engine.periods import PeriodError, resolve_period, today

    org = ws.organization
    day = date.fromisoformat(as_of) if as_of else today(org.timezone)
    try:
        return resolve_period(period, day, org.fiscal_year_start)
    except PeriodError as exc:
        raise KpiError([exc.diagnostic()]) from None


def _out_usable(value: Path | None, folder: bool) -> Path | None:
    from kpi_engine.cli.output import out_problem

    problem = out_problem(value, folder) if value is not None else None
    if problem is not None:
        raise UsageProblem(problem.code, problem.message, problem.hint, param_hint="'--out'")
    return value


def check_out(value: Path | None) -> Path | None:
    """An --out that cannot be written is a usage error (exit 2), found before any work starts."""
    return _out_usable(value, folder=False)


def check_out_folder(value: Path | None) -> Path | None:
    """Like `check_out`, where the output may also be a folder (evaluate's CSV files)."""
    return _out_usable(value, folder=True)


def needs_out(format: str, out: Path | None, example: str) -> None:
    """A workbook is a file, never stdout: `--format xlsx` without `--out` is a usage error (exit 2)."""
    if format == "xlsx" and out is None:
        raise UsageProblem(
            Code.USAGE, "xlsx writes a file; name it with --out", f"e.g. --out {example}", param_hint="'--format'"
        )


def check_writable(root: Path) -> None:
    """evaluate, bonus and import write `.kpi/` (database and ledger): a read-only workspace stops them early."""
    from kpi_engine.cli.output import workspace_problem

    problem = workspace_problem(root)
    if problem is not None:
        raise KpiError([problem])


Workspace = Annotated[Path, typer.Argument(help="Workspace folder or file.", metavar="WORKSPACE")]
OutOption = Annotated[
    Path | None, typer.Option("--out", metavar="FILE", callback=check_out, help="Write the output to this file.")
]
PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        metavar="PERIOD",
        callback=check_period,
        help="2025, 2025-Q1, 2025-03, 2025-W05, 2025-03-14, a..b or last-month, ytd, … (default: the plan's).",
    ),
]
RequiredPeriodOption = Annotated[
    str,
    typer.Option(
        "--period",
        metavar="PERIOD",
        callback=check_period,
        help="2025, 2025-Q1, 2025-03, 2025-W05, 2025-03-14, a..b or last-month, ytd, …",
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        callback=check_as_of,
        help="The day relative periods resolve against (default: today in the organization's time zone).",
    ),
]
PlanOption = Annotated[str | None, typer.Option("--plan", metavar="ID", help="Bonus plan id (default: the only plan).")]
EngineOption = Annotated[
    EngineName | None,
    typer.Option("--engine", help="Where queries run (default: organization.engine, else duckdb)."),
]
ConnectionOption = Annotated[
    str | None,
    typer.Option(
        "--connection",
        metavar="TEXT",
        help="Spark master or Spark Connect URL, or PostgreSQL libpq URL (default: organization.engine's).",
    ),
]


def target_of(ws: Any, engine: str | None, connection: str | None) -> Target:
    """Where a command runs: --engine and --connection win over `organization.engine` (SPEC §12).

    The organization's connection applies only to the organization's engine.
    """
    name = engine or ws.organization.engine
    if connection is None and name == ws.organization.engine:
        connection = ws.organization.engine_connection
    if name == "duckdb" and connection is not None:
        raise UsageProblem(
            Code.USAGE,
            "the duckdb engine takes no --connection: it runs embedded on the workspace's own data",
            "drop --connection, or choose --engine spark or --engine postgres",
            param_hint="'--connection'",
        )
    return Target(name, connection)


def engine_options(on: Target) -> dict[str, str | None]:
    """The engine words of a run's command line as the ledger keeps it (DuckDB: none; no secrets)."""
    if on == Target():
        return {}
    return {"engine": on.name, "connection": on.shown}


RunId = Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).", metavar="RUN_ID")]


def load(path: Path):  # type: ignore[no-untyped-def]
    """Load a workspace; its diagnostics reach the boundary as a KpiError."""
    from kpi_engine.pipeline import load_workspace

    return load_workspace(path)


def produce(out: Path | None, render: Callable[[H | None], str | bytes], record_run: Callable[[], H]) -> H:
    """Record a run and print its output; with --out, the output is written before the run is recorded."""
    if out is None:
        header = record_run()
        content = render(header)
        if isinstance(content, bytes):  # a workbook: `needs_out` refuses it before any work
            raise TypeError("a binary output needs --out")
        emit(content, None)
        return header
    from kpi_engine.cli.output import deliver

    return deliver(out, render, record_run)


def run_block(header: Any, ws: Any, period: str | None) -> dict[str, Any]:
    """The JSON `run` block of a recorded run; before recording, a placeholder of the same shape.

    The placeholder is for the first write of an output with --out (see cli/output.py).
    """
    if header is not None:
        return header.block()  # type: ignore[no-any-return]
    return {
        "id": "0" * 23,
        "time": "0" * 20,
        "definitions_hash": "0" * 64,
        "version": ws.organization.version,
        "period": period,
    }


def run_id(header: Any) -> str:
    """A recorded run's id; before recording, a placeholder of the same length."""
    return header.id if header is not None else "0" * 23  # type: ignore[no-any-return]


# An output is rendered once; only its run id or `run` block changes between the placeholder written
# before recording and the real one written after (cli/output.py `deliver`).


def _same(text: str) -> Callable[[Any], str]:
    """An output that holds no run id (CSV)."""
    return lambda header: text


def _with_run_line(text: str, notice: Diagnostic | None) -> Callable[[Any], str]:
    """A table, then the line naming the run; a table too long to print whole is said so first (W010)."""
    if notice is not None:
        report([notice])
    return lambda header: text + f"run {run_id(header)}"


def _with_run_block(body: str, ws: Any, period: str | None) -> Callable[[Any], str]:
    """A JSON document written once without its `run` block (report/evaluation.py `json_body`), given it."""
    from kpi_engine.report.evaluation import with_run

    return lambda header: with_run(run_block(header, ws, period), body)


def _workbook(build: Callable[[Mapping[str, Any]], bytes], ws: Any, period: str | None) -> Callable[[Any], bytes]:
    """A workbook built once, before the run is recorded, then given the recorded run (report/workbook.py)."""
    from kpi_engine.report.workbook import pending_run, with_run

    draft = build(pending_run(run_block(None, ws, period)))
    return lambda header: draft if header is None else with_run(draft, run_block(header, ws, period))


def command_line(command: str, workspace: Path, options: Mapping[str, object]) -> list[str]:
    """The command as it could be typed again, for the ledger."""
    words = [command, str(workspace)]
    for name, value in options.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                words += [f"--{name.rstrip('s') if isinstance(value, list) else name}", str(item)]
    return words


@app.command(
    epilog=examples(
        "kpi validate kpi_definitions --strict",
        "kpi validate my_ws --format github   # annotations in a GitHub workflow",
    )
)
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Workspaces, folders or files (default: .)", metavar="PATHS...")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat lint warnings as errors.")] = False,
    format: Annotated[ValidateFormat, typer.Option("--format", help="Output format.")] = "text",
    no_data: Annotated[bool, typer.Option("--no-data", help="Do not read the roster data.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", callback=check_out, help="Write the report to this file.")
    ] = None,
) -> None:
    """Check definitions: schema, names, formulas, weights, targets, policies and lints."""
    from kpi_engine.pipeline import validate as run_validate
    from kpi_engine.report.validation import validation_github, validation_json, validation_text

    results = run_validate(paths or [Path(".")], data=not no_data)
    diagnostics = [
        d.as_error() if strict and d.severity == Severity.WARNING else d
        for result in results
        for d in result.diagnostics
    ]
    renderers = {"text": validation_text, "json": validation_json, "github": validation_github}
    emit(renderers[format](diagnostics, len(results)), out)
    if any(d.severity == Severity.ERROR for d in diagnostics):
        raise typer.Exit(1)


@app.command(epilog=examples("kpi schema --out kpi.schema.json"))
def schema(
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", callback=check_out, help="Write the schema to this file.")
    ] = None,
) -> None:
    """Print the JSON Schema of the definitions YAML (for editors and CI)."""
    import json

    from kpi_engine.config.schema import load_schema

    emit(json.dumps(load_schema(), indent=2, ensure_ascii=False), out)


@app.command("import", epilog=examples("kpi import my_ws", "kpi import my_ws --source requests --max-rejects 0"))
def import_(
    workspace: Workspace = Path("."),
    source: Annotated[
        list[str] | None, typer.Option("--source", metavar="ID", help="Import only this source (repeatable).")
    ] = None,
    max_rejects: Annotated[
        int | None,
        typer.Option("--max-rejects", min=0, metavar="N", help="Load nothing for a source with more rejects."),
    ] = None,
    format: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = "table",
    out: OutOption = None,
) -> None:
    """Load the sources into the workspace database (.kpi/warehouse.duckdb); rejected rows are kept."""
    from kpi_engine.data.report import ImportFailed
    from kpi_engine.data.warehouse import import_sources, open_warehouse
    from kpi_engine.report.imports import import_csv, import_json, import_table

    ws = load(workspace)
    check_writable(ws.root)
    with (
        open_warehouse(ws.root, ws.organization.timezone) as wh,
        import_progress(interactive() and format == "table") as progress,
    ):
        try:
            result = import_sources(wh, ws.sources, only=source or None, max_rejects=max_rejects, progress=progress)
        except ImportFailed as failed:
            if format != "json":  # JSON: the boundary prints the report inside the failure document
                emit(import_table(failed.report), out)
            raise
    report(result.diagnostics)
    emit({"table": import_table, "json": import_json, "csv": import_csv}[format](result), out)
    if not result.ok:
        raise typer.Exit(1)


@app.command(
    epilog=examples(
        "kpi evaluate my_ws --period 2026-03",
        "kpi evaluate my_ws --period 2026 --grain quarter --at unit",
        "kpi evaluate my_ws --period 2026-Q1 --format csv --out results/",
    )
)
def evaluate(
    workspace: Workspace = Path("."),
    period: RequiredPeriodOption = ...,  # type: ignore[assignment]
    as_of: AsOfOption = None,
    grain: Annotated[Grain | None, typer.Option("--grain", help="Split the period.")] = None,
    kpi: Annotated[list[str] | None, typer.Option("--kpi", metavar="ID", help="Only this KPI (repeatable).")] = None,
    subject: Annotated[str | None, typer.Option("--subject", metavar="ID", help="Only this person or unit.")] = None,
    by: Annotated[
        list[str] | None, typer.Option("--by", metavar="COLUMN", help="Break KPIs down by a column (repeatable).")
    ] = None,
    at: Annotated[Level | None, typer.Option("--at", help="Only this subject level.")] = None,
    format: Annotated[EvaluateFormat, typer.Option("--format", help="Output format (xlsx needs --out).")] = "table",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            callback=check_out_folder,
            help="Write the output to this file (or folder for CSV).",
        ),
    ] = None,
    engine: EngineOption = None,
    connection: ConnectionOption = None,
) -> None:
    """KPI values, n, statuses, scores, ranks and scorecard totals for a period."""
    needs_out(format, out, "results.xlsx")
    from kpi_engine.audit.recording import RunHeader, record_evaluation
    from kpi_engine.cli.output import staged, write_text
    from kpi_engine.documents import evaluation_results
    from kpi_engine.pipeline import compile_workspace
    from kpi_engine.pipeline import evaluate as run_evaluate
    from kpi_engine.report.evaluation import (
        evaluation_table,
        json_body,
        kpis_csv,
        notices,
        scorecards_csv,
        table_notice,
    )
    from kpi_engine.report.workbook import evaluation_workbook

    if out is not None and out.is_dir() and format != "csv":
        check_out(out)
    compiled = compile_workspace(workspace, kpi or ())
    ws = compiled.workspace
    check_writable(ws.root)
    on = target_of(ws, engine, connection)
    period = resolved(ws, period, as_of) or period
    result = run_evaluate(compiled, period, grain=grain, subject=subject, by=by or (), at=at, target=on)
    results = evaluation_results(result)  # every value rounded once, every row built once: ledger and output share it
    options = {"period": period, "grain": grain, "kpis": kpi or [], "subject": subject, "by": by or [], "at": at}
    options |= engine_options(on)

    def record_run() -> RunHeader:
        return record_evaluation(ws, result, results, command_line("evaluate", workspace, options), options)

    report(result.diagnostics)
    if format == "csv" and out is not None and (out.is_dir() or not out.suffix):
        written = [out / "kpis.csv", out / "scorecards.csv"]  # a folder: both files, written before the record
        with staged(written[0], run=True) as kpis_file, staged(written[1], run=True) as cards_file:
            write_text(kpis_file, kpis_csv(results))
            write_text(cards_file, scorecards_csv(results))
        header = record_run()
    else:
        label = result.period.label
        units = {k.id: k.unit or "" for k in ws.kpis.values()}
        renderers: dict[EvaluateFormat, Callable[[], Callable[[RunHeader | None], str | bytes]]] = {
            "table": lambda: _with_run_line(evaluation_table(results, label, units), table_notice(results)),
            "json": lambda: _with_run_block(json_body(results, notices(result)), ws, label),
            "csv": lambda: _same(kpis_csv(results)),
            "xlsx": lambda: _workbook(lambda run: evaluation_workbook(ws, result, results, run, grain), ws, label),
        }
        written = [out] if out is not None else []
        header = produce(out, renderers[format](), record_run)
    _print_head(header.head)
    if written:
        wrote(written, header.id)


@app.command(
    "compile",
    epilog=examples(
        "kpi compile my_ws --kpi csat",
        "kpi compile my_ws --explain",
        "kpi compile my_ws --dialect postgres --period 2026",
    ),
)
def compile_(
    workspace: Workspace = Path("."),
    kpi: Annotated[list[str] | None, typer.Option("--kpi", metavar="ID", help="Only this KPI (repeatable).")] = None,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            metavar="PERIOD",
            callback=check_period,
            help="Period to compile for (default: this-year, as of --as-of).",
        ),
    ] = None,
    as_of: AsOfOption = None,
    dialect: Annotated[
        Dialect | None, typer.Option("--dialect", help="SQL dialect to print (default: the engine's).")
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show which KPIs share a scan and why.")] = False,
    out: OutOption = None,
    engine: Annotated[
        EngineName | None,
        typer.Option("--engine", help="Print what runs on this engine (default: organization.engine, else duckdb)."),
    ] = None,
) -> None:
    """Print the SQL that evaluation runs, each KPI commented with its id and definition."""
    from kpi_engine.pipeline import compile_workspace, plan_sql

    if engine is not None and dialect is not None and dialect != engine:
        raise UsageProblem(
            Code.USAGE,
            f"--dialect {dialect} and --engine {engine} disagree: the {engine} engine runs {engine} SQL",
            "give one of them",
            param_hint="'--dialect'",
        )
    compiled = compile_workspace(workspace, kpi or ())
    period = resolved(compiled.workspace, period or "this-year", as_of)
    emit(plan_sql(compiled, period, dialect or engine or compiled.workspace.organization.engine, explain), out)


@app.command(
    epilog=examples(
        "kpi bonus my_ws --plan support_monthly --period 2026-03", "kpi bonus my_ws --format xlsx --out payouts.xlsx"
    )
)
def bonus(
    workspace: Workspace = Path("."),
    plan: PlanOption = None,
    period: PeriodOption = None,
    as_of: AsOfOption = None,
    format: Annotated[BonusFormat, typer.Option("--format", help="Output format (xlsx needs --out).")] = "table",
    out: OutOption = None,
    engine: EngineOption = None,
    connection: ConnectionOption = None,
) -> None:
    """Payouts per person, bonus shares and the total, exact to the cent."""
    needs_out(format, out, "payouts.xlsx")
    from kpi_engine.audit.adjustments import against_approved
    from kpi_engine.audit.recording import RunHeader, record_bonus
    from kpi_engine.documents import bonus_results
    from kpi_engine.pipeline import compile_workspace, pay
    from kpi_engine.report.bonus import bonus_csv, bonus_table, table_notice
    from kpi_engine.report.evaluation import json_body, notices
    from kpi_engine.report.workbook import Payouts, approval_note, bonus_workbook

    compiled = compile_workspace(workspace)
    ws = compiled.workspace
    check_writable(ws.root)
    currency = ws.organization.currency
    on = target_of(ws, engine, connection)
    run = pay(compiled, plan, resolved(ws, period, as_of), target=on)
    results = bonus_results(run, currency)
    approved, changes = against_approved(ws, run)
    options = {"plan": run.plan.id, "period": run.period.label} | engine_options(on)

    def record_run() -> RunHeader:
        return record_bonus(ws, run, results, command_line("bonus", workspace, options), options)

    report(run.evaluation.diagnostics)
    if approved is not None and changes:
        say(
            f"this run differs from run {literal(approved.id)}, approved by {literal(approved.approved_by)}; "
            "it does not replace it. Adjustments:"
        )
        for c in changes:
            say(f"  {literal(c.person):<12} approved {c.approved:>12}  now {c.now:>12}  adjustment {c.delta:+}")
    paid = Payouts(run, results, currency, approval_note(approved, len(changes)))
    renderers: dict[str, Callable[[], Callable[[RunHeader | None], str | bytes]]] = {
        "table": lambda: _with_run_line(bonus_table(run, currency), table_notice(run)),
        "json": lambda: _with_run_block(json_body(results, notices(run.evaluation)), ws, run.period.label),
        "csv": lambda: lambda header: bonus_csv(run, results, run_id(header)),
        "xlsx": lambda: _workbook(lambda block: bonus_workbook(ws, paid, block), ws, run.period.label),
    }
    header = produce(out, renderers[format](), record_run)
    _print_head(header.head)
    if out is not None:
        wrote([out], header.id)


@app.command(epilog=examples("kpi explain my_ws --person e03 --plan support_monthly --period 2026-03"))
def explain(
    workspace: Workspace = Path("."),
    person: Annotated[str, typer.Option("--person", metavar="ID", help="Roster id of the person.")] = ...,  # type: ignore[assignment]
    plan: PlanOption = None,
    period: PeriodOption = None,
    as_of: AsOfOption = None,
    out: OutOption = None,
    engine: EngineOption = None,
    connection: ConnectionOption = None,
) -> None:
    """A statement: every number behind a person's score and payout."""
    from kpi_engine.pipeline import compile_workspace
    from kpi_engine.pipeline import explain as run_explain

    compiled = compile_workspace(workspace)
    on = target_of(compiled.workspace, engine, connection)
    text, diagnostics = run_explain(compiled, person, plan, resolved(compiled.workspace, period, as_of), on)
    report(diagnostics)
    emit(text, out)


@app.command(
    epilog=examples(
        "kpi rows my_ws --kpi resolved_in_sla.critical --period 2026-03 --subject e03",
        "kpi rows my_ws --kpi csat --period last-month --subject frontline --format csv --out rows.csv",
    )
)
def rows(
    workspace: Workspace = Path("."),
    kpi: Annotated[str, typer.Option("--kpi", metavar="ID", help="The KPI whose rows to list.")] = ...,  # type: ignore[assignment]
    period: RequiredPeriodOption = ...,  # type: ignore[assignment]
    as_of: AsOfOption = None,
    subject: Annotated[
        str | None, typer.Option("--subject", metavar="ID", help="A person or unit (default: the organization).")
    ] = None,
    at: Annotated[Level | None, typer.Option("--at", help="Whether --subject is a person or a unit.")] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", metavar="N", min=1, help="At most N rows (the total is still told)."),
    ] = None,
    format: Annotated[RowsFormat, typer.Option("--format", help="Output format (xlsx needs --out).")] = "table",
    out: OutOption = None,
    engine: EngineOption = None,
    connection: ConnectionOption = None,
) -> None:
    """The source rows that make a KPI's value, with file:line and whether each one counted."""
    needs_out(format, out, "rows.xlsx")
    from kpi_engine.cli.output import staged, write_bytes
    from kpi_engine.pipeline import compile_workspace
    from kpi_engine.pipeline import rows as list_rows
    from kpi_engine.report.rows import rows_csv, rows_json, rows_table, rows_xlsx, table_notice

    compiled = compile_workspace(workspace, [kpi])
    ws = compiled.workspace
    on = target_of(ws, engine, connection)
    found = list_rows(
        compiled, kpi, resolved(ws, period, as_of) or period, subject=subject, at=at, limit=limit, target=on
    )
    notice = table_notice(found) if format == "table" else None
    report([*found.diagnostics, *([notice] if notice else [])])
    if format == "xlsx" and out is not None:
        with staged(out) as path:
            write_bytes(path, rows_xlsx(found))
        return
    emit({"table": rows_table, "csv": rows_csv, "json": rows_json}[format](found), out)


def _report_runs(
    ws: Any, ran: Any, grain: str | None, arguments: list[str], engine: dict[str, str | None]
) -> list[tuple[str, Callable[[], Any]]]:
    """What `kpi report` records, as (kind, record) pairs: the evaluation, by sub-period, the bonus run.

    Each is recorded with the options `runs verify` recomputes it from (`kpi evaluate` or `kpi bonus`).
    """
    from functools import partial

    from kpi_engine.audit.recording import record_bonus, record_evaluation
    from kpi_engine.documents import bonus_results, evaluation_results

    whole, label = ran.evaluation, ran.evaluation.period.label
    results = evaluation_results(whole)
    runs: list[tuple[str, Callable[[], Any]]] = [
        ("evaluation", partial(record_evaluation, ws, whole, results, arguments, {"period": label, **engine}))
    ]
    if ran.trend is not None:
        options = {"period": label, "grain": grain, **engine}
        trend = partial(record_evaluation, ws, ran.trend, evaluation_results(ran.trend), arguments, options)
        runs.append((f"evaluation by {grain}", trend))
    if ran.bonus is not None:
        paid = ran.bonus
        options = {"plan": paid.plan.id, "period": paid.period.label, **engine}
        results = bonus_results(paid, ws.organization.currency)
        runs.append(("bonus", partial(record_bonus, ws, paid, results, arguments, options)))
    return runs


def _report_workbook(
    ws: Any, ran: Any, grain: str | None, runs: list[tuple[str, Callable[[], Any]]], out: Path
) -> None:
    """`kpi report --format xlsx`: one workbook with charts, built once and given the recorded run.

    The workbook names the bonus run with `--plan`, else the whole period's evaluation; every run is
    recorded and printed, as for the HTML report.
    """
    from kpi_engine.audit.adjustments import against_approved
    from kpi_engine.cli.output import deliver
    from kpi_engine.documents import bonus_results
    from kpi_engine.report.workbook import Payouts, approval_note, report_workbook

    paid = None
    if ran.bonus is not None:
        approved, changes = against_approved(ws, ran.bonus)
        results = bonus_results(ran.bonus, ws.organization.currency)
        paid = Payouts(ran.bonus, results, ws.organization.currency, approval_note(approved, len(changes)))
    label = ran.evaluation.period.label
    render = _workbook(
        lambda block: report_workbook(ws, ran.evaluation, block, grain=grain, trend=ran.trend, paid=paid), ws, label
    )
    headers: list[Any] = []

    def record_all() -> Any:
        headers.extend(record() for _, record in runs)
        return headers[-1] if ran.bonus is not None else headers[0]

    deliver(out, render, record_all)
    _print_head(headers[-1].head)
    wrote([out], ", ".join(h.id for h in headers))


def check_report_out(value: Path | None) -> Path | None:
    """`kpi report --out`: a new or empty folder, or one an earlier report wrote (exit 2 otherwise)."""
    from kpi_engine.cli.output import report_folder_problem

    problem = report_folder_problem(value) if value is not None else None
    if problem is not None:
        raise UsageProblem(problem.code, problem.message, problem.hint, param_hint="'--out'")
    return value


@app.command(
    "report",
    epilog=examples(
        "kpi report my_ws --period 2026 --out report/",
        "kpi report my_ws --period 2026 --grain month --plan support_2026 --out report/",
        "kpi report my_ws --period 2026 --plan support_2026 --person e03 --out statements/",
    ),
)
def report_command(
    workspace: Workspace = Path("."),
    period: RequiredPeriodOption = ...,  # type: ignore[assignment]
    as_of: AsOfOption = None,
    grain: Annotated[Grain | None, typer.Option("--grain", help="Also show trends per sub-period.")] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", metavar="ID", help="Bonus plan: payouts on the person pages.")
    ] = None,
    person: Annotated[
        list[str] | None,
        typer.Option("--person", metavar="ID", help="Write only this person's page (repeatable)."),
    ] = None,
    format: Annotated[
        ReportFormat, typer.Option("--format", help="html: a folder of pages; xlsx: one workbook.")
    ] = "html",
    out: Annotated[
        Path,
        typer.Option("--out", metavar="DIR|FILE", help="The folder to write (replaced whole), or the xlsx file."),
    ] = ...,  # type: ignore[assignment]
    engine: EngineOption = None,
    connection: ConnectionOption = None,
) -> None:
    """A report with charts: the organization, every unit and every person's statement, as HTML pages."""
    from kpi_engine.audit.recording import RunHeader
    from kpi_engine.cli.output import deliver_folder
    from kpi_engine.pipeline import compile_workspace
    from kpi_engine.pipeline import report as run_report
    from kpi_engine.report.gather import gather
    from kpi_engine.report.html import RUN_ID_PLACEHOLDER, TIME_PLACEHOLDER, footer_text, html_pages

    if format == "xlsx" and person:
        raise UsageProblem(
            Code.USAGE, "--person writes statement pages; a workbook holds everyone", "use --format html", "'--person'"
        )
    check_report_out(out) if format == "html" else check_out(out)
    compiled = compile_workspace(workspace)
    ws = compiled.workspace
    check_writable(ws.root)
    on = target_of(ws, engine, connection)
    period = resolved(ws, period, as_of) or period
    ran = run_report(compiled, period, grain=grain, plan=plan, target=on)
    found = gather(ws, ran.evaluation, trend=ran.trend, periods=ran.periods, grain=grain, run=ran.bonus, people=person)
    report(ran.diagnostics)
    words: dict[str, Any] = {"period": period, "grain": grain, "plan": plan, "persons": person or []}
    arguments = command_line("report", workspace, {**words, "format": format, "out": str(out)} | engine_options(on))
    runs = _report_runs(ws, ran, grain, arguments, engine_options(on))
    if format == "xlsx":
        _report_workbook(ws, ran, grain, runs, out)
        return
    kinds = [kind for kind, _ in runs]
    blank = footer_text([(k, RUN_ID_PLACEHOLDER) for k in kinds], TIME_PLACEHOLDER)

    def record_runs() -> list[RunHeader]:
        return [record() for _, record in runs]

    def footer(headers: list[RunHeader]) -> bytes:
        text = footer_text([(kind, h.id) for (kind, _), h in zip(runs, headers, strict=True)], headers[0].time)
        if len(text) != len(blank):  # ids and times have fixed lengths; anything else is a bug, not a half-filled page
            raise ValueError(f"the footer `{text}` does not fit its placeholder `{blank}`")
        return text.encode("ascii")

    headers = deliver_folder(out, lambda write: html_pages(found, kinds, write=write), record_runs, footer)
    _print_head(headers[-1].head)
    wrote([out], ", ".join(h.id for h in headers))


runs_app = typer.Typer(
    help="The audit ledger: list, show, verify and approve runs.",
    no_args_is_help=True,
    context_settings=CONTEXT,
    rich_markup_mode=None,
)
app.add_typer(runs_app, name="runs")


@runs_app.command("list", epilog=examples("kpi runs list my_ws", "kpi runs list my_ws --approved --format json"))
def runs_list(
    workspace: Workspace = Path("."),
    approved: Annotated[bool, typer.Option("--approved", help="Only approved bonus runs.")] = False,
    format: Annotated[RunsFormat, typer.Option("--format", help="Output format.")] = "table",
    out: OutOption = None,
) -> None:
    """Every recorded run, newest first."""
    from kpi_engine.data.ledger import list_runs
    from kpi_engine.report.runs import runs_json, runs_table

    ws = load(workspace)
    runs = [r for r in list_runs(ws.root, ws.organization.timezone) if not approved or r.approved_by]
    emit({"table": runs_table, "json": runs_json}[format](runs), out)


@runs_app.command("show", epilog=examples("kpi runs show my_ws 20260315"))
def runs_show(
    workspace: Workspace,
    run_id: RunId,
    format: Annotated[RunsFormat, typer.Option("--format", help="Output format.")] = "table",
    out: OutOption = None,
) -> None:
    """One run: what was computed, from which definitions, data and engine."""
    from kpi_engine.audit.recording import stored_results
    from kpi_engine.data.ledger import get_run
    from kpi_engine.report.runs import run_json, run_text

    ws = load(workspace)
    run = get_run(ws.root, ws.organization.timezone, run_id)
    emit({"table": run_text, "json": run_json}[format](run, stored_results(ws.root, run)), out)


@runs_app.command(
    "verify",
    epilog=examples("kpi runs verify my_ws", "kpi runs verify my_ws --head 3f9a0c1e", "kpi runs verify my_ws 20260315"),
)
def runs_verify(
    workspace: Workspace,
    run_id: Annotated[
        str | None,
        typer.Argument(help="Also check and recompute this run (a unique prefix is enough).", metavar="RUN_ID"),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="HASH",
            help="Also check that the chain still holds this head (a hash printed by an earlier command).",
        ),
    ] = None,
    out: OutOption = None,
    engine: Annotated[
        EngineName | None, typer.Option("--engine", help="Recompute on this engine (default: the one the run used).")
    ] = None,
    connection: ConnectionOption = None,
) -> None:
    """Check the ledger's hash chain and every run's stored results; with RUN_ID, also its data and a recomputation.

    Exit 1 if anything differs.
    """
    from kpi_engine.audit.chain import check_head_option
    from kpi_engine.audit.verify import check_ledger, verify
    from kpi_engine.data.ledger import get_run
    from kpi_engine.report.runs import chain_text, verification_text

    try:
        wanted = check_head_option(head)
    except KpiError as exc:
        problem = exc.diagnostics[0]
        raise UsageProblem(Code.USAGE, problem.message, problem.hint, param_hint="'--head'") from None
    ws = load(workspace)
    chain = check_ledger(ws.root, wanted)
    text = chain_text(chain)
    ok = chain.intact
    if run_id is not None:
        try:
            on = target_of(ws, engine, connection) if engine or connection else None
            found = verify(get_run(ws.root, ws.organization.timezone, run_id), ws, on)
        except KpiError:
            emit(text, out)
            raise
        text += "\n" + verification_text(found)
        ok = ok and found.ok
    emit(text, out)
    if not ok:
        raise typer.Exit(1)


@runs_app.command("approve", epilog=examples('kpi runs approve my_ws 20260315 --by "A. Auditor" --note "Q1 sign-off"'))
def runs_approve(
    workspace: Workspace,
    run_id: Annotated[str, typer.Argument(help="The bonus run to approve.", metavar="RUN_ID")],
    by: Annotated[str, typer.Option("--by", metavar="NAME", help="Who approves (printable text).")] = ...,  # type: ignore[assignment]
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT", help="Why, or a reference.")] = None,
    format: Annotated[RunsFormat, typer.Option("--format", help="Output format.")] = "table",
    out: OutOption = None,
) -> None:
    """Approve a bonus run that still verifies: an append-only entry of the ledger (once per run)."""
    from kpi_engine.audit.approvals import approve
    from kpi_engine.documents import to_json

    ws = load(workspace)
    check_writable(ws.root)
    run, approval, new_head = approve(ws, run_id, by, note)
    if format == "json":
        emit(
            to_json(
                {
                    "id": run.id,
                    "approved_by": approval.approved_by,
                    "approved_at": approval.time,
                    "note": approval.note,
                    "user": approval.user,
                    "host": approval.host,
                    "hash": new_head.hash,
                    "ledger": {"entries": new_head.entries, "head": new_head.hash},
                }
            ),
            out,
        )
    else:
        emit(
            f"run {literal(run.id)} approved by {literal(approval.approved_by)} at {approval.time}\n{new_head.line()}",
            out,
        )


def _print_head(head: Any) -> None:
    """The ledger's new head after an append, on stderr (stdout stays the command's JSON/CSV/table)."""
    if head is not None:
        sys.stderr.write(head.line() + "\n")


@app.command("test", epilog=examples("kpi test my_ws", "kpi test my_ws --format junit --out junit.xml"))
def test_command(
    workspace: Workspace = Path("."),
    name: Annotated[
        str | None, typer.Option("--name", metavar="PATTERN", help="Only tests whose id matches (fnmatch: * ?).")
    ] = None,
    format: Annotated[TestsFormat, typer.Option("--format", help="text, or JUnit XML for CI.")] = "text",
    out: OutOption = None,
    engine: EngineOption = None,
    connection: ConnectionOption = None,
) -> None:
    """Run the workspace's tests: fixture rows in, expected values, scores and payouts out; exit 1 if any fails."""
    from kpi_engine.pipeline import compile_workspace, run_tests
    from kpi_engine.report.tests import tests_junit, tests_text

    compiled = compile_workspace(workspace)
    on = target_of(compiled.workspace, engine, connection)
    result = run_tests(compiled, name, target=on)
    emit({"text": tests_text, "junit": tests_junit}[format](result), out)
    if not result.ok:
        raise typer.Exit(1)


@app.command(epilog=examples("kpi init --list", "kpi init my_ws --template field_service"))
def init(
    folder: Annotated[Path | None, typer.Argument(help="New workspace folder.", metavar="FOLDER")] = None,
    template: Annotated[
        str, typer.Option("--template", metavar="NAME", help="Library template to start from.")
    ] = "support",
    list_: Annotated[bool, typer.Option("--list", help="List the templates.")] = False,
) -> None:
    """A new workspace from a library template: definitions and sample data."""
    from kpi_engine.templates import init_workspace, templates

    if list_:
        found = templates()
        if not found:
            raise KpiError(
                [
                    error(
                        Code.FILE_NOT_FOUND,
                        "no templates are installed with this kpi-engine",
                        None,
                        "reinstall kpi-engine: its wheel ships the template library",
                    )
                ]
            )
        emit("\n".join(f"{t.name:<18} {t.title}" for t in found), None)
        return
    if folder is None:
        raise UsageProblem(Code.USAGE, "name the new workspace folder", "e.g. kpi init my_ws", param_hint="FOLDER")
    chosen = init_workspace(folder, template)
    steps = "\n".join(f"  {step}" for step in chosen.next_steps(folder))
    emit(f"created {folder} from template `{chosen.name}`\nnext:\n{steps}", None)


@app.command(epilog=examples("kpi catalog my_ws --format html --out catalog.html"))
def catalog(
    workspace: Workspace = Path("."),
    format: Annotated[CatalogFormat, typer.Option("--format", help="Markdown or a standalone HTML page.")] = "md",
    out: OutOption = None,
) -> None:
    """A human catalog of goals, KPIs, formulas, targets, weights, policies and bonus plans."""
    from kpi_engine.report.catalog import catalog as render_catalog

    ws = load(workspace)
    emit(render_catalog(ws, format), out)


@app.command(
    epilog=examples(
        "kpi diff git:HEAD~1:my_ws my_ws",
        "kpi diff old_ws new_ws --data new_ws --plan support_monthly --period 2026-03",
    )
)
def diff(
    old: Annotated[str, typer.Argument(help="Old definitions: a workspace path or git:REV[:PATH].", metavar="OLD")],
    new: Annotated[
        str, typer.Argument(help="New definitions: a workspace path or git:REV[:PATH].", metavar="NEW")
    ] = ".",
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", metavar="WORKSPACE", help="Pay the plan under both sides on this workspace's data files."
        ),
    ] = None,
    plan: PlanOption = None,
    period: PeriodOption = None,
    as_of: AsOfOption = None,
    format: Annotated[DiffFormat, typer.Option("--format", help="Output format.")] = "text",
    out: OutOption = None,
) -> None:
    """What changed between two definition sets, and each person's payout change on the same data."""
    from kpi_engine.audit.compare import diff as run_diff
    from kpi_engine.report.diff import diff_json, diff_markdown, diff_text

    if data is None and (plan is not None or period is not None):
        raise UsageProblem(
            Code.USAGE, "--plan and --period price the change on data", "add --data WORKSPACE", param_hint="'--data'"
        )
    if data is not None and period is not None:
        period = resolved(load(data), period, as_of)
    result = run_diff(old, new, data, plan, period)
    report(result.notes)
    emit({"text": diff_text, "json": diff_json, "md": diff_markdown}[format](result), out)


def main() -> None:
    """Entry point of the `kpi` console script."""
    app()


if __name__ == "__main__":
    main()
