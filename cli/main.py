"""The `kpi` command line: parse options, call one engine function, render the result."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import Diagnostic, KpiError, Severity
from engine.source import render

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
    from engine.pipeline import validate as run_validate

    results = run_validate(paths or [Path(".")])
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
    from engine.config.schema import load_schema

    emit(json.dumps(load_schema(), indent=2, ensure_ascii=False), out)


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
