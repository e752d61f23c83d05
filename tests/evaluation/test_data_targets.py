"""Targets from data (SPEC §10): each rep's own quarterly quota from a `quotas` source, and points
from roster columns; a rep without one gets no status, no score and a warning naming them, and
their scorecard leaves the KPI out. Expected points and scores are worked out by hand below."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.pipeline import compile_workspace, evaluate, load_workspace
from tests.evaluation.wskit import write_csv

runner = CliRunner()
WORKSPACE = """\
organization:
  name: Tiny Sales
  version: "s1"
  currency: EUR
  timezone: Europe/Riga
  people: {source: reps, id: rep_id, unit: unit, role: role, name: name, base_salary: salary}
units:
  sales: {name: Sales}
goals:
  g: {name: Sell}
sources:
  reps:
    path: reps.csv
    key: rep_id
    columns: {rep_id: string, name: string, unit: string, role: string, salary: decimal,
              deal_quota: integer, min_deals: integer}
  deals:
    path: deals.csv
    key: id
    time: closed_at
    columns: {id: string, closed_at: timestamp, owner: string, amount: decimal, stage: string}
  quotas:
    path: quotas.csv
    columns: {employee_id: string, period: string, quota: decimal}
kpis:
  revenue_won:
    goal: g
    source: deals
    by: {person: owner}
    formula: sum_if(amount, stage = 'won')
    target:
      from: {source: quotas, subject: employee_id, period: period, value: quota}
      threshold: 80%
      stretch: 120%
  deals_closed:
    goal: g
    source: deals
    by: {person: owner}
    formula: count_if(stage = 'won')
    target: {threshold: column min_deals, target: column deal_quota}
scorecards:
  rep:
    applies_to: {roles: [rep]}
    kpis:
      - {kpi: revenue_won, weight: 50%}
      - {kpi: deals_closed, weight: 50%}
"""
REPS = [
    ["r1", "Rita", "sales", "rep", "30000", "3", "1"],
    ["r2", "Raul", "sales", "rep", "30000", "4", "2"],
    ["r3", "Rene", "sales", "rep", "30000", "", ""],  # no quota row, empty roster cells
]
QUOTAS = [["r1", "2026-Q1", "10000"], ["r2", "2026-q1", "20000"]]  # r2's period as people type it
DEALS = [
    ["d1", "2026-01-10 10:00", "r1", "4000", "won"],
    ["d2", "2026-02-10 10:00", "r1", "5000", "won"],
    ["d3", "2026-02-11 10:00", "r1", "7000", "lost"],
    ["d4", "2026-01-05 10:00", "r2", "10000", "won"],
    ["d5", "2026-02-05 10:00", "r2", "10000", "won"],
    ["d6", "2026-03-05 10:00", "r2", "5000", "won"],
    ["d7", "2026-03-06 10:00", "r3", "5000", "won"],
]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "sales"
    root.mkdir()
    (root / "workspace.yaml").write_text(WORKSPACE, encoding="utf-8")
    write_csv(root / "reps.csv", ["rep_id", "name", "unit", "role", "salary", "deal_quota", "min_deals"], REPS)
    write_csv(root / "quotas.csv", ["employee_id", "period", "quota"], QUOTAS)
    write_csv(root / "deals.csv", ["id", "closed_at", "owner", "amount", "stage"], DEALS)
    return root


def test_each_rep_is_scored_against_their_own_quota(ws: Path) -> None:
    result = evaluate(compile_workspace(load_workspace(ws)), "2026-Q1")
    got = {(r.kpi, r.subject): r for r in result.kpis if r.subject_type == "person"}
    r1 = got[("revenue_won", "r1")]  # 9000 won against 10000: threshold 8000 (80%), stretch 12000 (120%)
    assert (r1.target.threshold, r1.target.target, r1.target.stretch) == (8000, 10000, 12000)
    assert r1.value == 9000 and r1.status == "yellow" and r1.score == Decimal("0.75")  # 50% + 50% × 1000/2000
    r2 = got[("revenue_won", "r2")]  # 25000 against 20000: above the stretch 24000
    assert r2.target.target == 20000 and r2.status == "green" and r2.score == Decimal("1.5")
    r3 = got[("revenue_won", "r3")]
    assert r3.value == 5000 and r3.status is None and r3.score is None and r3.target is None
    deals = got[("deals_closed", "r1")]  # 2 won against deal_quota 3, min_deals 1: 50% + 50% × 1/2
    assert (deals.target.threshold, deals.target.target) == (1, 3) and deals.score == Decimal("0.75")
    assert got[("deals_closed", "r3")].status is None


def test_a_rep_without_a_target_is_named_and_left_out_of_their_scorecard(ws: Path) -> None:
    result = evaluate(compile_workspace(load_workspace(ws)), "2026-Q1")
    said = [d.message for d in result.diagnostics if d.code.value == "W544"]
    assert any("revenue_won" in m and "person r3 in 2026-Q1" in m and "quotas" in m for m in said), said
    assert any("deals_closed" in m and "person r3 in 2026-Q1" in m and "min_deals" in m for m in said), said
    assert any("scorecard `rep` of r3 in 2026-Q1 leaves out `revenue_won`, `deals_closed`" in m for m in said), said
    cards = {c.person: c for c in result.scorecards}
    assert cards["r3"].total_score is None  # nothing left to score
    assert cards["r1"].total_score == Decimal("0.75")  # 75% and 75%, half each


def test_a_month_has_no_quarterly_row(ws: Path) -> None:
    """Rows match the evaluated period exactly: a quarterly quota does not apply to a month."""
    result = evaluate(compile_workspace(load_workspace(ws)), "2026-01")
    r1 = next(r for r in result.kpis if r.kpi == "revenue_won" and r.subject == "r1")
    assert r1.status is None
    assert any("person r1 in 2026-01" in d.message for d in result.diagnostics if d.code.value == "W544")


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("source: quotas,", "source: quota,", "unknown source `quota`"),
        ("value: quota}", "value: quotas}", "has no column `quotas`"),
        ("column deal_quota}", "column deal_qouta}", "did you mean `deal_quota`?"),
        (
            "      threshold: 80%\n",
            "      threshold: 80%\n      target: 10\n",
            "`target` cannot be combined with `from`",
        ),
    ],
)
def test_target_mistakes_are_located(ws: Path, old: str, new: str, said: str) -> None:
    path = ws / "workspace.yaml"
    path.write_text(path.read_text().replace(old, new, 1), encoding="utf-8")
    done = runner.invoke(app, ["validate", str(ws)])
    assert done.exit_code == 1, done.output
    assert "workspace.yaml:" in done.output and said in done.output, done.output


def test_bonus_and_json_carry_the_resolved_points(ws: Path) -> None:
    done = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-Q1", "--format", "json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert any(w["code"] == "W544" for w in document["warnings"])


def test_the_top_units_row_is_the_organizations_target_too(ws: Path) -> None:
    """Everyone is under the one top unit `sales`: its quota (here 40000) scores the organization's value too."""
    with (ws / "quotas.csv").open("a", encoding="utf-8") as more:
        more.write("sales,2026-Q1,40000\n")
    result = evaluate(compile_workspace(load_workspace(ws)), "2026-Q1")
    got = {(r.subject_type, r.subject): r for r in result.kpis if r.kpi == "revenue_won"}
    # 9000 + 25000 + 5000 = 39000 won against 40000: threshold 32000, target 40000 -> 50% + 7000/8000 * 50%
    for key in (("unit", "sales"), ("organization", None)):
        assert got[key].value == 39000 and got[key].target.target == 40000, key
        assert got[key].score == Decimal("0.9375") and got[key].status == "yellow", key
