"""The report's workbook on the support example: sheets, types, number formats, filters, frozen headers,
native charts, and values against a computation of our own from the example's CSV files.

The expected CSAT shares are computed here with the csv module: the rows the engine must reject (an
impossible date, a clock-change gap, an unknown priority, a repeated id, a rating above 5) are found
by independent checks, then the shares are counted per unit, per quarter and for the organization.
"""

from __future__ import annotations

import csv
import io
import shutil
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from kpi_engine.documents import bonus_results, results_document
from kpi_engine.errors import Code, KpiError
from kpi_engine.pipeline import compile_workspace, evaluate, pay
from kpi_engine.report.sheets import EXCEL_ROWS, ZIP_TIME, Column, check_rows, money_cell, write_table
from kpi_engine.report.workbook import Payouts, approval_note, pending_run, report_workbook, with_run

EXAMPLE = Path(__file__).resolve().parent.parent / "kpi_definitions" / "examples" / "support"
RUN = {
    "id": "20260315T100000Z-abc123",
    "time": "2026-03-15T10:00:00Z",
    "definitions_hash": "f" * 64,
    "version": "2026.1",
    "period": "2026",
}
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
UNITS = {"frontline": "Front line (tier 1)", "specialist": "Specialists (tier 2)", "support": "Customer Support"}


# --- an independent reading of the example's data --------------------------------------------


def _valid_time(text: str, zone: ZoneInfo) -> bool:
    """A local timestamp that exists: a real date, and not inside the spring clock change."""
    if not text:
        return True
    try:
        local = datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError:
        return False
    there_and_back = local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return there_and_back == local


def _valid(row: dict[str, str], zone: ZoneInfo) -> bool:
    times = ("created_at", "first_response_at", "resolved_at")
    return (
        all(_valid_time(row[t], zone) for t in times)
        and row["priority"] in ("critical", "high", "normal", "low")
        and row["channel"] in ("email", "chat", "phone")
        and (row["csat"] == "" or 1 <= int(row["csat"]) <= 5)
    )


def csat_ratings() -> list[tuple[str, int, int]]:
    """(unit, month, rating) of every kept 2026 ticket with a rating."""
    zone = ZoneInfo("Europe/Riga")
    with (EXAMPLE / "data" / "employees.csv").open(encoding="utf-8") as f:
        unit_of = {r["employee_id"]: r["unit_id"] for r in csv.DictReader(f)}
    seen: set[str] = set()
    found = []
    with (EXAMPLE / "data" / "tickets.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            duplicate = row["ticket_id"] in seen
            seen.add(row["ticket_id"])
            if duplicate or not _valid(row, zone):
                continue
            created = datetime.strptime(row["created_at"], "%Y-%m-%d %H:%M")
            if created.year == 2026 and row["csat"]:
                found.append((unit_of[row["agent_id"]], created.month, int(row["csat"])))
    return found


def share(ratings: list[int]) -> float:
    """The share of ratings of 4 or 5, at 12 significant digits as the engine reports it."""
    exact = Fraction(sum(1 for r in ratings if r >= 4), len(ratings))
    return float(format(Decimal(exact.numerator) / Decimal(exact.denominator), ".12g"))


def expected_csat() -> dict[tuple[str, str], float]:
    """CSAT by (subject, period): the units, `organization`, for 2026 and each quarter."""
    rows = csat_ratings()
    groups: dict[tuple[str, str], list[int]] = {}
    for unit, month, rating in rows:
        quarter = f"2026-Q{(month - 1) // 3 + 1}"
        for subject in (unit, "support", "organization"):
            for period in ("2026", quarter):
                groups.setdefault((subject, period), []).append(rating)
    return {key: share(ratings) for key, ratings in groups.items()}


# --- the workbook ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    data: bytes
    again: bytes
    restamped: bytes
    paid: Payouts


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    root = tmp_path_factory.mktemp("workbook") / "support"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".kpi"))
    compiled = compile_workspace(root)
    whole = evaluate(compiled, "2026")
    quarters = evaluate(compiled, "2026", grain="quarter")
    run = pay(compiled, None, "2026")
    paid = Payouts(run, bonus_results(run, "EUR"), "EUR", approval_note(None, 0))

    def write(run: dict[str, str]) -> bytes:
        return report_workbook(compiled.workspace, whole, run, grain="quarter", trend=quarters, paid=paid)

    return Written(write(RUN), write(RUN), with_run(write(pending_run(RUN)), RUN), paid)


def book(written: Written) -> Workbook:
    return load_workbook(io.BytesIO(written.data))


def rows(sheet: Worksheet) -> list[dict[str, object]]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]


def test_the_workbook_has_the_sheets_of_the_report(written: Written) -> None:
    assert book(written).sheetnames == ["Summary", "KPIs", "Scorecards", "Bonus", "Rankings", "Trends"]


def test_same_run_same_bytes_and_no_clock_inside(written: Written) -> None:
    assert written.data == written.again
    assert written.restamped == written.data  # written before recording, then given the run: the same file
    archive = zipfile.ZipFile(io.BytesIO(written.data))
    assert {info.date_time for info in archive.infolist()} == {ZIP_TIME}
    core = archive.read("docProps/core.xml").decode()
    assert core.count("2026-03-15T10:00:00Z") == 2  # created and modified: the run's time


def test_tables_have_frozen_headers_and_filters_over_exactly_their_rows(written: Written) -> None:
    workbook = book(written)
    for name in ("KPIs", "Scorecards", "Bonus"):
        sheet = workbook[name]
        assert sheet.freeze_panes == "A2", name
        last_row = 1 + (len(written.paid.results.table("payouts")) if name == "Bonus" else len(rows(sheet)))
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{last_row}", name
        assert all(c.font.bold for c in sheet[1]), name


def test_kpi_values_are_numbers_equal_to_our_own_count(written: Written) -> None:
    expected = expected_csat()
    sheet = book(written)["KPIs"]
    header = [c.value for c in sheet[1]]
    assert header[:10] == [
        "kpi",
        "kpi name",
        "level",
        "subject",
        "subject name",
        "unit",
        "period",
        "value",
        "measured in",
        "n",
    ]
    checked = 0
    for row in sheet.iter_rows(min_row=2):
        cells = dict(zip(header, row, strict=True))
        if cells["kpi"].value != "csat" or cells["level"].value == "person":
            continue
        subject = "organization" if cells["level"].value == "organization" else cells["subject"].value
        value = cells["value"]
        assert value.data_type == "n" and value.number_format == "0.00%"
        assert value.value == expected[(subject, cells["period"].value)], (subject, cells["period"].value)
        assert cells["target"].value == 0.9 and cells["threshold"].value == 0.8  # the KPI's own points
        assert cells["score"].number_format == "0.00%"
        assert isinstance(cells["n"].value, int)
        checked += 1
    assert checked == 4 * 5  # organization and three units, for the year and four quarters


def test_person_rows_name_their_roster_unit(written: Written) -> None:
    found = {
        (r["subject"], r["unit"], r["subject name"])
        for r in rows(book(written)["KPIs"])
        if r["level"] == "person" and r["kpi"] == "csat" and r["period"] == "2026"
    }
    assert ("e01", "frontline", "Anna Ozola") in found and ("e05", "specialist", "Ilze Jansone") in found


def test_rankings_list_every_unit_best_first_with_a_chart_per_kpi(written: Written) -> None:
    expected = expected_csat()
    workbook = book(written)
    sheet = workbook["Rankings"]
    assert sheet["A1"].value == "Customer satisfaction (CSAT) (csat) — 2026"
    ranked = [(sheet.cell(r, 2).value, sheet.cell(r, 4).value) for r in range(3, 6)]
    best_first = sorted(UNITS, key=lambda u: -expected[(u, "2026")])
    assert ranked == [(u, expected[(u, "2026")]) for u in best_first]  # root and middle units too
    assert [sheet.cell(r, 7).value for r in range(3, 6)] == [expected[("organization", "2026")]] * 3
    kpis_with_units = {r["kpi"] for r in rows(workbook["KPIs"]) if r["level"] == "unit" and r["value"] is not None}
    assert len(sheet._charts) == len(kpis_with_units) == 6


def chart_xml(written: Written, index: int) -> ET.Element:
    """The `index`-th chart (from 1) of the workbook's charts, parsed."""
    archive = zipfile.ZipFile(io.BytesIO(written.data))
    return ET.fromstring(archive.read(f"xl/charts/chart{index}.xml"))


def test_ranking_charts_are_bars_with_flat_lines_never_smoothed_nor_labelled_by_series(written: Written) -> None:
    chart = chart_xml(written, 1)
    bars, lines = chart.find(f".//{C}barChart"), chart.find(f".//{C}lineChart")
    assert bars is not None and lines is not None
    assert bars.find(f"{C}barDir").get("val") == "col"
    assert len(bars.findall(f"{C}ser")) == 1 and len(lines.findall(f"{C}ser")) == 3  # threshold, target, organization
    assert [s.find(f"{C}smooth").get("val") for s in lines.findall(f"{C}ser")] == ["0", "0", "0"]
    labels = bars.find(f"{C}dLbls")
    assert labels.find(f"{C}showSerName").get("val") == "0" and labels.find(f"{C}showVal").get("val") == "1"
    assert bars.find(f"{C}ser/{C}cat/{C}strRef/{C}f").text == "'Rankings'!$C$3:$C$5"  # the unit names


def test_trend_charts_draw_each_quarter_for_the_organization_and_the_units(written: Written) -> None:
    expected = expected_csat()
    sheet = book(written)["Trends"]
    header = ["period", "organization", "Customer Support", "Front line (tier 1)", "Specialists (tier 2)"]
    assert [c.value for c in sheet[2]] == header  # the root, then its children: tree order
    quarters = [f"2026-Q{q}" for q in range(1, 5)]
    assert [sheet.cell(r, 1).value for r in range(3, 7)] == quarters
    assert [sheet.cell(r, 2).value for r in range(3, 7)] == [expected[("organization", q)] for q in quarters]
    assert [sheet.cell(r, 4).value for r in range(3, 7)] == [expected[("frontline", q)] for q in quarters]
    assert len(sheet._charts) == 6
    chart = chart_xml(written, 7)  # the first chart of the Trends sheet
    series = chart.findall(f".//{C}lineChart/{C}ser")
    assert len(series) == 4 and {s.find(f"{C}smooth").get("val") for s in series} == {"0"}
    assert chart.find(f".//{C}dLbls/{C}showSerName") is None  # no labels at all on the lines


def test_bonus_sheet_money_in_the_plan_currency_and_the_run_on_every_row(written: Written) -> None:
    workbook = book(written)
    sheet = workbook["Bonus"]
    header = [c.value for c in sheet[1]]
    assert header[:7] == ["plan", "period", "run id", "approval", "person", "name", "unit"]
    document = results_document(written.paid.results)
    people = document["payouts"]
    for row, paid in zip(sheet.iter_rows(min_row=2, max_row=1 + len(people)), people, strict=True):
        cells = dict(zip(header, row, strict=True))
        assert [cells[k].value for k in ("plan", "period", "run id", "currency")] == [
            "support_2026",
            "2026",
            RUN["id"],
            "EUR",
        ]
        assert cells["approval"].value == "not approved when written"
        assert cells["payout"].data_type == "n" and cells["payout"].number_format == '#,##0.00 "EUR"'
        assert Decimal(str(cells["payout"].value)) == Decimal(paid["payout"])
        assert cells["total score"].value == paid["total_score"]  # the JSON's number, not 0.9999999999995
    total = [r for r in sheet.iter_rows(values_only=True) if r[0] == "total"]
    assert Decimal(str(total[0][header.index("payout")])) == sum(Decimal(p["payout"]) for p in people)
    summary = {r[0]: r[1] for r in workbook["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["plan"] == "support_2026" and summary["currency"] == "EUR"
    assert summary["run id"] == RUN["id"] and summary["approval"].startswith("not approved when written")
    assert summary["to approve"] == f"kpi runs approve WORKSPACE {RUN['id']} --by NAME"


def test_summary_names_the_run_and_its_warnings(written: Written) -> None:
    summary = book(written)["Summary"]
    pairs = {r[0]: r[1] for r in summary.iter_rows(max_col=2, values_only=True) if r[0]}
    assert pairs["organization"] == "Northwind Support" and pairs["grain"] == "quarter"
    assert pairs["definitions hash"] == "f" * 64 and pairs["period"] == "2026"
    assert pairs["rejected rows in tickets"] == 5
    codes = Counter(r[0] for r in summary.iter_rows(values_only=True) if isinstance(r[0], str) and r[0][:1] == "W")
    assert codes["W540"] == pairs["warnings"] == 6  # five rows named, and the count per source


# --- the parts ------------------------------------------------------------------------------


def test_text_that_a_spreadsheet_would_run_is_escaped_and_numbers_are_not() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    texts = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "plain", "a\x00b"]
    write_table(sheet, [Column("text", texts), Column("number", [-5, -0.5, 1, 2, 3, 4])])
    got = [sheet.cell(r, 1).value for r in range(2, 8)]
    assert got == ['\'=HYPERLINK("http://x")', "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "plain", "a\\u0000b"]
    assert all(sheet.cell(r, 1).data_type == "s" for r in range(2, 8))
    assert [sheet.cell(r, 2).value for r in range(2, 4)] == [-5, -0.5]
    assert {sheet.cell(r, 2).data_type for r in range(2, 8)} == {"n"}


def test_money_is_a_number_unless_a_double_cannot_hold_it() -> None:
    assert money_cell("2468.10") == Decimal("2468.10")
    assert money_cell("1234567890123.45") == Decimal("1234567890123.45")  # 15 digits: exact in Excel
    assert money_cell("12345678901234567.89") == "12345678901234567.89"  # 19 digits: the exact text
    assert money_cell(None) is None


def test_a_table_longer_than_a_sheet_is_refused_before_writing() -> None:
    check_rows("KPIs", EXCEL_ROWS - 1)
    with pytest.raises(KpiError) as caught:
        check_rows("KPIs", EXCEL_ROWS)
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == Code.SHEET_TOO_LONG and "1,048,577 rows" in diagnostic.message
    assert diagnostic.hint is not None and "--format csv" in diagnostic.hint
