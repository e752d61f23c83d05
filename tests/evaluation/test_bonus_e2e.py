"""End to end on a small organization: scorecards in `evaluate`, payouts in `bonus` JSON/CSV/XLSX, and the
statement of `explain` agree with each other and with expectations computed here by hand."""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from tests.evaluation.wskit import workspace

runner = CliRunner()

PEOPLE = [
    ["a1", "Ann", "north", "agent", "20000.00", "1", "2020-01-01", ""],
    ["a2", "Bob", "north", "agent", "20000.00", "1", "2020-01-01", ""],
    ["b1", "Cid", "south", "agent", "22000.00", "0.5", "2025-03-01", ""],
    ["n1", "Dee", "north", "lead", "30000.00", "1", "2019-01-01", ""],
]
TICKETS = [
    ["T1", "2025-03-03 09:00", "2025-03-03 11:00", "critical", "a1", 5, "false"],
    ["T2", "2025-03-04 10:00", "2025-03-04 16:00", "critical", "a1", 4, "true"],
    ["T3", "2025-03-05 11:00", "2025-03-06 17:00", "normal", "a1", None, "false"],
    ["T4", "2025-03-06 12:00", "2025-03-06 15:00", "critical", "a2", 2, "false"],
    ["T5", "2025-03-07 13:00", "2025-03-10 01:00", "normal", "a2", 3, "false"],
    ["T6", "2025-03-10 08:00", None, "normal", "a2", None, "true"],
    ["T7", "2025-03-11 09:00", "2025-03-11 10:00", "critical", "b1", 5, "false"],
    ["T8", "2025-03-20 09:00", "2025-03-20 19:00", "normal", "b1", None, "false"],
    ["T9", "2025-03-28 09:00", "2025-03-29 09:00", "normal", "a1", 5, "false"],
]
KPIS = """\
kpis:
  resolved:
    name: Requests resolved
    goal: g
    source: tickets
    by: {person: agent}
    formula: share(resolved is not null)
    unit: percent
    category: quality
    target: {threshold: 50%, target: 80%, stretch: 100%}
  csat:
    name: Average rating
    goal: g
    source: tickets
    by: {person: agent}
    formula: avg(csat)
    category: satisfaction
    target: {threshold: 3, target: 4, stretch: 5}
  volume:
    goal: g
    source: tickets
    by: {person: agent}
    formula: count()
    category: volume
    target: {threshold: 2, target: 4, stretch: 6}
scorecards:
  agent:
    applies_to: {roles: [agent]}
    kpis:
      - {kpi: resolved, weight: 40%}
      - {kpi: csat, weight: 40%}
      - {kpi: volume, weight: 20%}
bonus_plans:
  march:
    scorecards: [agent]
    period: 2025-03
    target_bonus: 10% of salary
    payout: {gate: 60%, cap: 150%}
"""
POOL = """\
  march_pool:
    scorecards: [agent]
    period: 2025-03
    target_bonus: 10% of salary
    payout: {gate: 60%, cap: 150%}
    pool: {amount: 3000}
"""


def linear(value: Fraction, threshold: Fraction, target: Fraction, stretch: Fraction) -> Fraction:
    """Linear scoring through 50% / 100% / 150%, computed independently of the engine."""
    if value < threshold:
        return Fraction(0)
    if value >= stretch:
        return Fraction(3, 2)
    if value < target:
        return Fraction(1, 2) + Fraction(1, 2) * (value - threshold) / (target - threshold)
    return 1 + Fraction(1, 2) * (value - target) / (stretch - target)


def r12(x: Fraction) -> Fraction:
    """The engine reports values at 12 significant digits before scoring them."""
    return Fraction(format(Decimal(x.numerator) / Decimal(x.denominator), ".12g"))


def expected_totals() -> dict[str, Fraction]:
    totals = {}
    for person in ("a1", "a2", "b1"):
        rows = [t for t in TICKETS if t[4] == person]
        resolved = Fraction(sum(1 for t in rows if t[2]), len(rows))
        ratings = [t[5] for t in rows if t[5] is not None]
        csat = r12(Fraction(sum(ratings), len(ratings)))  # type: ignore[arg-type]
        s_res = linear(r12(resolved), Fraction(1, 2), Fraction(4, 5), Fraction(1))
        s_csat = linear(csat, Fraction(3), Fraction(4), Fraction(5))
        s_vol = linear(Fraction(len(rows)), Fraction(2), Fraction(4), Fraction(6))
        totals[person] = Fraction(2, 5) * s_res + Fraction(2, 5) * s_csat + Fraction(1, 5) * s_vol
    return totals


def cents(x: Fraction) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_payouts() -> dict[str, Decimal]:
    salary = {"a1": 20000, "a2": 20000, "b1": 22000}
    fte = {"a1": Fraction(1), "a2": Fraction(1), "b1": Fraction(1, 2)}
    out = {}
    for person, total in expected_totals().items():
        factor = Fraction(0) if total < Fraction(3, 5) else min(total, Fraction(3, 2))
        out[person] = cents(Fraction(salary[person]) / 10 * factor * fte[person])  # all employed all March
    return out


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workspace(tmp_path_factory.mktemp("bonus"), KPIS, PEOPLE, TICKETS, extra=POOL)


def test_evaluate_scorecards_match_hand_computed_totals(ws: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2025-03", "--format", "json"])
    assert result.exit_code == 0, result.output
    cards = {c["person"]: c for c in json.loads(result.stdout)["scorecards"]}
    assert set(cards) == {"a1", "a2", "b1"}  # the lead has no scorecard
    for person, total in expected_totals().items():
        assert cards[person]["total_score"] == pytest.approx(float(total), abs=1e-9)
        assert sum(i["contribution"] for i in cards[person]["items"]) == pytest.approx(float(total), abs=1e-9)


def test_bonus_json_csv_xlsx_and_explain_agree(ws: Path, tmp_path: Path) -> None:
    expected = expected_payouts()
    result = runner.invoke(app, ["bonus", str(ws), "--plan", "march", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    payouts = {p["person"]: p for p in doc["payouts"]}
    assert {p: Decimal(v["payout"]) for p, v in payouts.items()} == expected
    assert payouts["a2"]["payout"] == "0.00" and payouts["a2"]["factor"] == 0  # below the 60% gate
    assert payouts["b1"]["proration"] == 0.5
    assert doc["total"] == str(sum(expected.values()))
    assert doc["pool"] is None and all(p["computed"] == p["payout"] for p in doc["payouts"])

    csv_out = runner.invoke(app, ["bonus", str(ws), "--plan", "march", "--format", "csv"])
    rows = {r["person"]: r for r in csv.DictReader(io.StringIO(csv_out.stdout))}
    assert {p: Decimal(r["payout"]) for p, r in rows.items()} == expected

    book_path = tmp_path / "payouts.xlsx"
    xlsx = runner.invoke(app, ["bonus", str(ws), "--plan", "march", "--format", "xlsx", "--out", str(book_path)])
    assert xlsx.exit_code == 0, xlsx.output
    book = load_workbook(book_path)
    sheet = book["Bonus"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, max_row=1 + len(expected), values_only=True))
    got = {row[header.index("person")]: Decimal(str(row[header.index("payout")])) for row in rows}
    assert got == expected
    assert book.sheetnames == ["Summary", "Bonus", "Scorecards"]

    for person in ("a1", "b1"):
        statement = runner.invoke(app, ["explain", str(ws), "--person", person, "--plan", "march"])
        assert statement.exit_code == 0, statement.output
        assert f"payout         {expected[person]} EUR" in statement.stdout
        assert "Average rating" in statement.stdout and "formula      avg(csat)" in statement.stdout


def test_pool_is_shared_by_largest_remainder(ws: Path) -> None:
    result = runner.invoke(app, ["bonus", str(ws), "--plan", "march_pool", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["pool"] == "3000.00" and doc["total"] == "3000.00"
    totals = expected_totals()
    computed = {
        p: Fraction(22000 if p == "b1" else 20000) / 10 * min(t, Fraction(3, 2)) * (Fraction(1, 2) if p == "b1" else 1)
        for p, t in totals.items()
        if t >= Fraction(3, 5)
    }
    whole = sum(computed.values())
    quotas = {p: Fraction(300000) * c / whole for p, c in computed.items()}  # in cents
    floors = {p: q.numerator // q.denominator for p, q in quotas.items()}
    left = 300000 - sum(floors.values())
    for p in sorted(quotas, key=lambda p: (-(quotas[p] - floors[p]), p))[:left]:
        floors[p] += 1
    got = {p["person"]: p["payout"] for p in doc["payouts"] if p["payout"] != "0.00"}
    assert got == {p: f"{Decimal(c) / 100:.2f}" for p, c in floors.items()}
    assert sum(Decimal(p["payout"]) for p in doc["payouts"]) == Decimal("3000.00")


def test_bonus_is_recorded_in_the_ledger(ws: Path) -> None:
    result = runner.invoke(app, ["bonus", str(ws), "--plan", "march", "--format", "json"])
    run_id = json.loads(result.stdout)["run"]["id"]
    assert (ws / ".kpi" / "ledger.duckdb").is_file()
    assert not (ws / ".kpi" / "warehouse.duckdb").exists()  # the ledger lives apart from imported data
    assert run_id
