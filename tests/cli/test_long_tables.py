"""A table output too long for a screen prints its first rows, says how many it left out, and warns (W010)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.report import formats

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    target = tmp_path / "support"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".kpi"))
    return target


@pytest.fixture
def short(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables of more than 20 rows print their first 5 (10,000 and 1,000 in use)."""
    monkeypatch.setattr(formats, "TABLE_ROWS", 20)
    monkeypatch.setattr(formats, "TABLE_SHOWN", 5)


def test_a_long_evaluation_table_prints_its_first_rows_and_warns(ws: Path, short: None) -> None:
    month = ["evaluate", str(ws), "--period", "2026", "--grain", "month"]
    full = json.loads(runner.invoke(app, [*month, "--format", "json"]).stdout)
    rows, cards = len(full["kpis"]), len(full["scorecards"])
    assert rows > 20 and cards > 20
    result = runner.invoke(app, month)
    assert result.exit_code == 0, result.output
    assert f"… and {rows - 5:,} more KPI rows not shown (the first 5 of {rows:,})" in result.stdout
    assert f"… and {cards - 5:,} more scorecards not shown (the first 5 of {cards:,})" in result.stdout
    assert "warning[W010]" in result.stderr and f"5 of {rows:,} KPI rows" in result.stderr
    assert "--format csv --out FILE" in result.stderr
    assert result.stdout.rstrip().splitlines()[-1].startswith("run ")
    listed = json.loads(runner.invoke(app, ["runs", "list", str(ws), "--format", "json"]).stdout)["runs"]
    shown = json.loads(runner.invoke(app, ["runs", "show", str(ws), listed[0]["id"], "--format", "json"]).stdout)
    assert len(shown["results"]["kpis"]) == rows  # the ledger keeps every row


def test_a_long_payout_table_keeps_its_total(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "TABLE_ROWS", 3)
    monkeypatch.setattr(formats, "TABLE_SHOWN", 2)
    result = runner.invoke(app, ["bonus", str(ws)])
    assert result.exit_code == 0, result.output
    assert "more payouts not shown (the first 2 of" in result.stdout and "total" in result.stdout
    assert "warning[W010]" in result.stderr and "xlsx" in result.stderr


def test_a_table_within_the_limit_is_whole_and_quiet(ws: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026"])
    assert result.exit_code == 0 and "W010" not in result.stderr and "not shown" not in result.stdout
