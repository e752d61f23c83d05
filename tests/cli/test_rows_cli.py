"""`kpi rows` (SPEC §10 drill-down): the rows it lists are the rows the evaluation counted.

Independently of the listing's own query, every listed row is checked against its data file (the
`line` holds that row) and the condition of `counted` is worked out again in Python from the row's
own times; the number of rows per subject must equal the evaluation's `n` (a different query:
GROUPING SETS over the same scan)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples"


def kpi(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def support(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("rows") / "support"
    shutil.copytree(EXAMPLES / "support", ws, ignore=shutil.ignore_patterns(".kpi"))
    assert kpi("import", ws).exit_code == 0
    return ws


def _rows(ws: Path, *args: object) -> dict:
    done = kpi("rows", ws, *args, "--format", "json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_every_subjects_rows_are_the_rows_its_value_counts(support: Path) -> None:
    evaluated = kpi("evaluate", support, "--period", "2026-03", "--format", "json")
    assert evaluated.exit_code == 0, evaluated.output
    checked = 0
    for value in json.loads(evaluated.stdout)["kpis"]:
        subject = [] if value["subject_type"] == "organization" else ["--subject", value["subject"]]
        at = ["--at", value["subject_type"]] if subject else []
        listed = _rows(support, "--kpi", value["kpi"], "--period", "2026-03", *subject, *at)
        assert listed["total"] == len(listed["rows"]) == value["n"], value
        checked += 1
    assert checked > 20


def test_each_row_is_its_line_in_the_file_and_counted_says_whether_it_met_the_condition(support: Path) -> None:
    lines = (support / "data" / "tickets.csv").read_text(encoding="utf-8").splitlines()
    listed = _rows(support, "--kpi", "resolved_in_sla.critical", "--period", "2026", "--subject", "frontline")
    assert listed["rows"], "the frontline has critical tickets in 2026"
    met = 0
    for row in listed["rows"]:
        assert row["file"] == "data/tickets.csv"
        cells = next(csv.reader(io.StringIO(lines[row["line"] - 1])))  # the header is line 1
        assert cells[0] == row["ticket_id"] and cells[4] == row["priority"] == "critical"
        # the critical segment's SLA in the support example: resolved within 4 hours, times as the file has them
        created, resolved = (datetime.strptime(c, "%Y-%m-%d %H:%M") if c else None for c in (cells[1], cells[3]))
        within = resolved is not None and resolved - created <= timedelta(hours=4)
        assert row["counted"] is within, row
        met += within
    organization = json.loads(kpi("evaluate", support, "--period", "2026", "--format", "json").stdout)
    (frontline,) = [
        v
        for v in organization["kpis"]
        if v["kpi"] == "resolved_in_sla.critical" and v["subject"] == "frontline" and v["period"] == "2026"
    ]
    assert frontline["value"] == pytest.approx(met / len(listed["rows"]), rel=1e-11)


def test_limit_keeps_the_total_and_the_order_is_the_files(support: Path) -> None:
    every = _rows(support, "--kpi", "tickets_handled", "--period", "2026-03")
    some = _rows(support, "--kpi", "tickets_handled", "--period", "2026-03", "--limit", "5")
    assert some["rows"] == every["rows"][:5] and some["total"] == every["total"] > 5
    assert [r["line"] for r in every["rows"]] == sorted(r["line"] for r in every["rows"])
    assert "counted" not in every["rows"][0]  # count() has no condition


def test_a_derived_kpi_lists_the_rows_of_the_kpis_it_is_computed_from(tmp_path: Path) -> None:
    ws = tmp_path / "field_service"
    shutil.copytree(EXAMPLES / "field_service", ws, ignore=shutil.ignore_patterns(".kpi"))
    listed = _rows(ws, "--kpi", "utilization", "--period", "2026-03")
    kinds = {r["kpi"] for r in listed["rows"]}
    assert kinds == {"productive_hours", "available_hours"}
    evaluated = json.loads(kpi("evaluate", ws, "--period", "2026-03", "--format", "json").stdout)["kpis"]
    n = {v["kpi"]: v["n"] for v in evaluated if v["subject_type"] == "organization"}
    for part in kinds:
        assert sum(r["kpi"] == part for r in listed["rows"]) == n[part]


def test_csv_and_xlsx_hold_the_same_rows_and_the_workbook_is_the_same_bytes_twice(
    support: Path, tmp_path: Path
) -> None:
    args = ("--kpi", "csat", "--period", "2026-03", "--subject", "e02")
    listed = _rows(support, *args)
    as_csv = list(csv.DictReader(io.StringIO(kpi("rows", support, *args, "--format", "csv").stdout)))
    assert [r["ticket_id"] for r in as_csv] == [r["ticket_id"] for r in listed["rows"]]
    for name in ("a.xlsx", "b.xlsx"):
        assert kpi("rows", support, *args, "--format", "xlsx", "--out", tmp_path / name).exit_code == 0
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    sheet = load_workbook(tmp_path / "a.xlsx").active
    header = [c.value for c in sheet[1]]
    assert header[-3:] == ["file", "line", "counted"] and sheet.freeze_panes == "A2"
    assert sheet.max_row == len(listed["rows"]) + 1
    assert isinstance(sheet.cell(2, header.index("line") + 1).value, int)


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--kpi", "csat", "--period", "2026-03", "--subject", "frontlin"], 1, "did you mean `frontline`?"),
        (["--kpi", "csatt", "--period", "2026-03"], 1, "csat"),
        (["--kpi", "csat", "--period", "2026-03", "--at", "person"], 1, "needs --subject"),
        (["--kpi", "csat", "--period", "2026-03", "--format", "xlsx"], 2, "--out"),
        (["--kpi", "csat", "--period", "lst-month"], 2, "did you mean `last-month`?"),
    ],
)
def test_mistakes_are_named(support: Path, args: list[str], code: int, said: str) -> None:
    done = kpi("rows", support, *args)
    assert done.exit_code == code, done.output
    assert said in done.stderr and "Traceback" not in done.output


def test_a_unit_attributed_kpis_rows_are_each_units_and_those_below(tmp_path: Path) -> None:
    ws = tmp_path / "bank"
    shutil.copytree(EXAMPLES / "bank_internal_service", ws, ignore=shutil.ignore_patterns(".kpi"))
    evaluated = json.loads(kpi("evaluate", ws, "--period", "2026-Q1", "--format", "json").stdout)["kpis"]
    units = [v for v in evaluated if v["kpi"] == "service_rating.attitude" and v["subject_type"] == "unit"]
    assert len(units) > 3
    for value in units:
        listed = _rows(ws, "--kpi", "service_rating.attitude", "--period", "2026-Q1", "--subject", value["subject"])
        assert listed["total"] == value["n"] and listed["subject_type"] == "unit", value
