"""SPEC §13: user-written text (names, ids, file names) reaches the terminal literally — Rich markup is
printed as written, terminal control characters as visible escapes. Through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.literal import cell, printable

runner = CliRunner()
ESC = "\x1b"
MARKUP_NAME = "[/bold] Anna [red]x[/red]"
ESC_NAME = f"{ESC}[31mRed{ESC}[0m\u202eEvil"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    target = tmp_path / "support"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    roster = target / "data" / "employees.csv"
    text = roster.read_text(encoding="utf-8").replace("Anna Ozola", MARKUP_NAME).replace("Janis Berzins", ESC_NAME)
    roster.write_text(text, encoding="utf-8")
    return target


def _clean(result_text: str) -> None:
    assert "Traceback" not in result_text and "internal error" not in result_text
    assert ESC not in result_text and "\u202e" not in result_text


def test_printable_escapes_controls_but_keeps_layout() -> None:
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable(f"{ESC}[2J\r\x07\x9b\u202e") == "\\u001b[2J\\u000d\\u0007\\u009b\\u202e"
    assert json.loads(printable(json.dumps({"n": "x\u009by"}, ensure_ascii=False))) == {"n": "x\u009by"}


def test_cell_escapes_markup() -> None:
    from rich.console import Console

    console = Console(record=True, width=80, color_system=None)
    console.print(cell(MARKUP_NAME))
    assert console.export_text().strip() == MARKUP_NAME


def test_bonus_table_prints_names_literally(ws: Path) -> None:
    result = runner.invoke(app, ["bonus", str(ws), "--period", "2026-03"])
    assert result.exit_code == 0, result.output
    _clean(result.output)
    assert MARKUP_NAME in result.stdout
    assert "\\u001b[31mRed" in result.stdout


def test_evaluate_table_prints_ids_literally(ws: Path) -> None:
    roster = ws / "data" / "employees.csv"
    roster.write_text(roster.read_text(encoding="utf-8").replace("e01,", "[red]e01[/red],"), encoding="utf-8")
    requests = ws / "data" / "requests.csv"
    requests.write_text(requests.read_text(encoding="utf-8").replace(",e01,", ",[red]e01[/red],"), encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-03"])
    assert result.exit_code == 0, result.output
    _clean(result.output)
    assert "[red]e01[/red]" in result.stdout


def test_import_table_prints_file_names_literally(ws: Path) -> None:
    data = ws / "data"
    (data / "requests.csv").rename(data / "requests[red]x.csv")
    sources = ws / "sources.yaml"
    sources.write_text(
        sources.read_text(encoding="utf-8").replace("path: data/requests.csv", "path: data/requests*.csv"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(ws)])
    assert result.exit_code == 0, result.output
    _clean(result.output)
    assert "requests[red]x.csv" in result.stdout


def test_runs_table_and_diagnostics_print_literally(ws: Path) -> None:
    assert runner.invoke(app, ["bonus", str(ws), "--period", "2026-03"]).exit_code == 0
    runs = json.loads(runner.invoke(app, ["runs", "list", str(ws), "--format", "json"]).stdout)["runs"]
    approved = runner.invoke(app, ["runs", "approve", str(ws), runs[0]["id"], "--by", "[/bold] A. [red]Auditor"])
    assert approved.exit_code == 0, approved.output
    result = runner.invoke(app, ["runs", "list", str(ws)])
    assert result.exit_code == 0, result.output
    _clean(result.output)
    assert "[/bold] A. [red]Auditor" in result.stdout
    # a diagnostic quoting a user's value: the unknown person id comes back escaped
    result = runner.invoke(app, ["explain", str(ws), "--person", f"{ESC}[2J[/bold]", "--period", "2026-03"])
    assert result.exit_code == 1
    _clean(result.output)
    assert "\\u001b[2J[/bold]" in result.stderr
