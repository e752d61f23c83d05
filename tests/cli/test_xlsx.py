"""`kpi evaluate --format xlsx` and `kpi bonus --format xlsx|csv` through the real Typer app, on a copy of
the support example: the file holds the recorded run's id, the same numbers as the JSON output, the
plan's currency, what is known of the run's approval, and text a spreadsheet would run escaped."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from tests.evaluation.wskit import workspace

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support"
WROTE = re.compile(r"wrote (?P<path>\S+) \(run (?P<id>[^)]+)\)")


def kpi(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


def wrote(result: object) -> str:
    """The run id a command confirmed it wrote its file for."""
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    found = WROTE.search(result.stdout)  # type: ignore[attr-defined]
    assert found, result.stdout  # type: ignore[attr-defined]
    return found["id"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("xlsx") / "support"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".kpi"))
    return root


def test_xlsx_without_out_is_a_usage_error(ws: Path) -> None:
    for command in (["evaluate", ws, "--period", "2026"], ["bonus", ws]):
        result = kpi(*command, "--format", "xlsx")
        assert result.exit_code == 2, result.output
        assert "error[E001]" in result.stderr and "name it with --out" in result.stderr
        assert "help: e.g. --out" in result.stderr


def test_xlsx_into_a_folder_is_refused_before_the_work(ws: Path, tmp_path: Path) -> None:
    result = kpi("evaluate", ws, "--period", "2026", "--format", "xlsx", "--out", tmp_path)
    assert result.exit_code == 2 and "error[E560]" in result.stderr


def test_evaluate_workbook_holds_the_json_numbers_and_the_recorded_run(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.xlsx"
    run_id = wrote(kpi("evaluate", ws, "--period", "2026", "--format", "xlsx", "--out", out))
    document = json.loads(kpi("evaluate", ws, "--period", "2026", "--format", "json").stdout)  # type: ignore[attr-defined]
    book = load_workbook(out)
    assert book.sheetnames == ["Summary", "KPIs", "Scorecards"]
    assert all(not sheet._charts for sheet in book.worksheets)  # charts belong to the report
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(max_col=2, values_only=True) if r[0]}
    assert summary["run id"] == run_id and summary["grain"] == "none (the whole period)"
    kpis = book["KPIs"]
    header = [c.value for c in kpis[1]]
    got = [
        (r[header.index("kpi")], r[header.index("subject")], r[header.index("value")], r[header.index("score")])
        for r in kpis.iter_rows(min_row=2, values_only=True)
    ]
    assert got == [(k["kpi"], k["subject"], k["value"], k["score"]) for k in document["kpis"]]
    cards = book["Scorecards"]
    header = [c.value for c in cards[1]]
    totals = {
        r[header.index("person")]: r[header.index("total score")] for r in cards.iter_rows(min_row=2, values_only=True)
    }
    assert totals == {c["person"]: c["total_score"] for c in document["scorecards"]}
    assert {type(v) for v in totals.values()} <= {int, float}


def test_bonus_workbook_and_csv_carry_plan_period_run_currency_and_unit(ws: Path, tmp_path: Path) -> None:
    book_path, csv_path = tmp_path / "payouts.xlsx", tmp_path / "payouts.csv"
    book_run = wrote(kpi("bonus", ws, "--format", "xlsx", "--out", book_path))
    csv_run = wrote(kpi("bonus", ws, "--format", "csv", "--out", csv_path))
    document = json.loads(kpi("bonus", ws, "--format", "json").stdout)  # type: ignore[attr-defined]
    paid = {p["person"]: p for p in document["payouts"]}
    with (EXAMPLE / "data" / "employees.csv").open(encoding="utf-8") as f:
        unit_of = {r["employee_id"]: r["unit_id"] for r in csv.DictReader(f)}

    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert list(rows[0])[-6:] == ["currency", "share", "reason", "plan", "period", "run_id"]
    for row in rows:
        assert (row["plan"], row["period"], row["run_id"], row["currency"]) == ("support_2026", "2026", csv_run, "EUR")
        assert row["unit"] == unit_of[row["person"]] and row["payout"] == paid[row["person"]]["payout"]

    sheet = load_workbook(book_path)["Bonus"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2, max_row=1 + len(paid), values_only=True):
        cells = dict(zip(header, row, strict=True))
        assert (cells["plan"], cells["period"], cells["run id"], cells["currency"]) == (
            "support_2026",
            "2026",
            book_run,
            "EUR",
        )
        assert cells["unit"] == unit_of[cells["person"]]
        assert Decimal(str(cells["payout"])) == Decimal(paid[cells["person"]]["payout"])
        assert cells["total score"] == paid[cells["person"]]["total_score"]


def test_the_workbook_says_what_is_known_of_approval_when_written(ws: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.xlsx"
    run_id = wrote(kpi("bonus", ws, "--format", "xlsx", "--out", first))
    summary = {r[0]: r[1] for r in load_workbook(first)["Summary"].iter_rows(max_col=2, values_only=True) if r[0]}
    assert summary["approval"] == "not approved when written"
    assert summary["to approve"] == f"kpi runs approve WORKSPACE {run_id} --by NAME"
    approved = kpi("runs", "approve", ws, run_id, "--by", "HR Lead")
    assert approved.exit_code == 0, approved.output  # type: ignore[attr-defined]
    second = tmp_path / "second.xlsx"
    wrote(kpi("bonus", ws, "--format", "xlsx", "--out", second))
    summary = {r[0]: r[1] for r in load_workbook(second)["Summary"].iter_rows(max_col=2, values_only=True) if r[0]}
    assert summary["approval"].startswith(f"not approved when written; run {run_id} of this plan and period")
    assert "approved by HR Lead" in summary["approval"] and summary["approval"].endswith("this run pays the same")


KPIS = """\
kpis:
  volume:
    goal: g
    source: tickets
    by: {person: agent}
    formula: count()
    category: volume
    target: {threshold: 1, target: 2, stretch: 3}
  solved:
    goal: g
    source: tickets
    by: {person: agent}
    formula: share(resolved is not null)
    unit: percent
    category: quality
    target: {threshold: 50%, target: 80%}
  rating:
    goal: g
    source: tickets
    by: {person: agent}
    formula: avg(csat)
    category: satisfaction
    target: {threshold: 3, target: 4}
scorecards:
  agent:
    applies_to: {roles: [agent]}
    kpis:
      - {kpi: volume, weight: 40%}
      - {kpi: solved, weight: 30%}
      - {kpi: rating, weight: 30%}
bonus_plans:
  march:
    scorecards: [agent]
    period: 2025-03
    target_bonus: 10% of salary
    payout: {gate: 0%, cap: 150%}
"""
EVIL = '=HYPERLINK("http://example.com","click")'


def test_text_a_spreadsheet_would_run_is_escaped_in_the_workbook_and_the_csv(tmp_path: Path) -> None:
    people = [["@a1", EVIL, "north", "agent", "20000.00", "1", "2020-01-01", ""]]
    tickets = [["T1", "2025-03-03 09:00", "2025-03-03 11:00", "critical", "@a1", 5, "false"]]
    root = workspace(tmp_path / "ws", KPIS, people, tickets)
    book_path, csv_path = tmp_path / "p.xlsx", tmp_path / "p.csv"
    wrote(kpi("bonus", root, "--format", "xlsx", "--out", book_path))
    wrote(kpi("bonus", root, "--format", "csv", "--out", csv_path))
    sheet = load_workbook(book_path)["Bonus"]
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["name"].value == "'" + EVIL and row["name"].data_type == "s"
    assert row["person"].value == "'@a1"
    assert row["payout"].data_type == "n"
    line = next(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert line["name"] == "'" + EVIL and line["person"] == "'@a1"


def test_evaluate_workbook_with_grain_and_by_keeps_every_row_and_the_breakdown(ws: Path, tmp_path: Path) -> None:
    words = ["evaluate", ws, "--period", "2026-Q1", "--grain", "month", "--kpi", "csat", "--by", "channel"]
    out = tmp_path / "by.xlsx"
    wrote(kpi(*words, "--format", "xlsx", "--out", out))
    document = json.loads(kpi(*words, "--format", "json").stdout)  # type: ignore[attr-defined]
    book = load_workbook(out)
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(max_col=2, values_only=True) if r[0]}
    assert summary["grain"] == "month" and summary["period"] == "2026-Q1"
    sheet = book["KPIs"]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "by.channel"
    got = [
        (r[header.index("period")], r[-1], r[header.index("value")])
        for r in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert got == [(k["period"], k["by"]["channel"], k["value"]) for k in document["kpis"]]
    assert {p for p, _, _ in got} == {"2026-01", "2026-02", "2026-03"}
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{len(got) + 1}"
