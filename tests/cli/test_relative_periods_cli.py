"""Relative periods on the command line (SPEC §10): resolved against --as-of before anything runs,
and only the resolved period reaches the output and the ledger."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
SUPPORT = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    target = tmp_path / "support"
    shutil.copytree(SUPPORT, target, ignore=shutil.ignore_patterns(".kpi"))
    return target


def kpi(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


def test_last_month_runs_and_is_recorded_as_the_month_it_means(ws: Path) -> None:
    relative = kpi("evaluate", ws, "--period", "last-month", "--as-of", "2026-04-15", "--format", "json")
    assert relative.exit_code == 0, relative.output
    absolute = kpi("evaluate", ws, "--period", "2026-03", "--format", "json")
    got, want = json.loads(relative.stdout), json.loads(absolute.stdout)
    assert got["run"]["period"] == "2026-03"
    assert got["kpis"] == want["kpis"] and got["scorecards"] == want["scorecards"]
    shown = json.loads(kpi("runs", "show", ws, got["run"]["id"], "--format", "json").stdout)
    assert shown["options"]["period"] == "2026-03"
    assert "last-month" not in json.dumps(shown)
    assert kpi("runs", "verify", ws, got["run"]["id"]).exit_code == 0


def test_bonus_and_explain_take_relative_periods(ws: Path) -> None:
    paid = kpi("bonus", ws, "--period", "last-year", "--as-of", "2027-02-01", "--format", "json")
    assert paid.exit_code == 0, paid.output
    expected = kpi("bonus", ws, "--period", "2026", "--format", "json")
    assert json.loads(paid.stdout)["payouts"] == json.loads(expected.stdout)["payouts"]
    assert json.loads(paid.stdout)["run"]["period"] == "2026"
    person = json.loads(paid.stdout)["payouts"][0]["person"]
    said = kpi("explain", ws, "--person", person, "--period", "this-year", "--as-of", "2026-06-30")
    assert said.exit_code == 0, said.output
    assert said.stdout == kpi("explain", ws, "--person", person, "--period", "2026").stdout


def test_without_as_of_today_in_the_organizations_zone_is_used(ws: Path) -> None:
    shown = kpi("compile", ws, "--period", "this-month")
    assert shown.exit_code == 0, shown.output
    month = datetime.now(ZoneInfo("Europe/Riga")).strftime("%Y-%m")  # the support example's zone
    assert shown.stdout == kpi("compile", ws, "--period", month).stdout


def test_compile_without_a_period_compiles_the_year_of_the_as_of_day(ws: Path) -> None:
    shown = kpi("compile", ws, "--as-of", "2024-05-01")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == kpi("compile", ws, "--period", "2024").stdout
    today = datetime.now(ZoneInfo("Europe/Riga")).strftime("%Y")  # not the machine's date
    assert kpi("compile", ws).stdout == kpi("compile", ws, "--period", today).stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--period", "lst-month"], "did you mean `last-month`?"),
        (["--period", "last-0-days"], "at least 1"),
        (["--period", "last-month", "--as-of", "2026-02-30"], "February 2026 has 28 days"),
        (["--period", "last-month", "--as-of", "2026-03"], "is not a date"),
    ],
)
def test_mistakes_are_usage_errors_before_any_work(ws: Path, args: list[str], said: str) -> None:
    result = kpi("evaluate", ws, *args)
    assert result.exit_code == 2, result.output
    assert "error[E417]" in result.stderr and said in result.stderr, result.stderr
    assert not (ws / ".kpi").exists()
