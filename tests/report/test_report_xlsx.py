"""`kpi report --format xlsx` (SPEC §11): one workbook with the KPI, scorecard and bonus sheets and
native charts, naming the runs it recorded, which verify."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
SUPPORT = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support"


def test_the_report_workbook_holds_every_sheet_and_chart_and_names_its_bonus_run(tmp_path: Path) -> None:
    ws = tmp_path / "support"
    shutil.copytree(SUPPORT, ws, ignore=shutil.ignore_patterns(".kpi"))
    out = tmp_path / "report.xlsx"
    args = ["report", str(ws), "--period", "2026", "--grain", "quarter", "--plan", "support_2026"]
    done = runner.invoke(app, [*args, "--format", "xlsx", "--out", str(out)])
    assert done.exit_code == 0, done.output
    book = load_workbook(out)
    assert book.sheetnames == ["Summary", "KPIs", "Scorecards", "Bonus", "Rankings", "Trends"]
    assert book["Rankings"]._charts and book["Trends"]._charts
    runs = json.loads(runner.invoke(app, ["runs", "list", str(ws), "--format", "json"]).stdout)["runs"]
    assert sorted(r["kind"] for r in runs) == ["bonus", "evaluate", "evaluate"]
    bonus = next(r["id"] for r in runs if r["kind"] == "bonus")
    cells = {str(c.value) for row in book["Bonus"].iter_rows() for c in row if c.value is not None}
    assert bonus in cells
    for run in runs:
        assert runner.invoke(app, ["runs", "verify", str(ws), run["id"]]).exit_code == 0


def test_person_pages_are_html_only(tmp_path: Path) -> None:
    ws = tmp_path / "support"
    shutil.copytree(SUPPORT, ws, ignore=shutil.ignore_patterns(".kpi"))
    args = ["report", str(ws), "--period", "2026", "--person", "e01", "--format", "xlsx"]
    done = runner.invoke(app, [*args, "--out", str(tmp_path / "r.xlsx")])
    assert done.exit_code == 2 and "--format html" in done.stderr, done.output
