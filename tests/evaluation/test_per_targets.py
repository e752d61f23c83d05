"""Targets `per` a length of time (SPEC §10): the points scale with the number of such lengths the
evaluated period spans — whole ones exactly, a partial one by its share of days. Expected points are
worked out by hand on the calendar (March 2026 has 31 days; 1 March 2026 is a Sunday)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.periods import parse_period, periods_spanned
from kpi_engine.pipeline import compile_workspace, evaluate, load_workspace
from tests.evaluation.wskit import workspace

runner = CliRunner()
PEOPLE = [["a1", "Ann", "north", "agent", "20000.00", "1", "2020-01-01", ""]]
KPIS = """\
kpis:
  volume:
    goal: g
    source: tickets
    by: {person: agent}
    formula: count()
    target: {threshold: 2, target: 4, per: week}
scorecards:
  agent:
    applies_to: {roles: [agent]}
    kpis:
      - {kpi: volume, weight: 100%}
"""


def _ticket(i: int, created: datetime) -> list[object]:
    return [f"t{i}", created.strftime("%Y-%m-%d %H:%M"), "", "normal", "a1", 5, "false"]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    # one ticket a day at noon, 1–20 March 2026
    tickets = [_ticket(i, datetime(2026, 3, 1, 12) + timedelta(days=i)) for i in range(20)]
    return workspace(tmp_path / "per", KPIS, PEOPLE, tickets)


def _person(ws: Path, period: str, grain: str | None = None) -> dict[str, object]:
    result = evaluate(compile_workspace(load_workspace(ws)), period, grain=grain)
    return {r.period: r for r in result.kpis if r.subject == "a1"}


@pytest.mark.parametrize(
    ("period", "per", "spanned"),
    [
        ("2026-03", "week", Decimal(31) / 7),  # 31 days of ISO weeks, a partial week at each end
        ("2026-03-01..2026-03-14", "week", Decimal(2)),  # Sunday 1 March (1/7), W10 whole, 9–14 March (6/7)
        ("2026-02", "month", Decimal(1)),
        ("2026-02-01..2026-02-14", "month", Decimal("0.5")),  # 14 of February's 28 days
        ("2026-Q1", "month", Decimal(3)),
        ("2026-03", "day", Decimal(31)),
        ("2026", "quarter", Decimal(4)),
    ],
)
def test_periods_spanned_by_hand(period: str, per: str, spanned: Decimal) -> None:
    assert periods_spanned(parse_period(period), per) == spanned  # type: ignore[arg-type]


def test_points_per_week_scale_to_each_period(ws: Path) -> None:
    two_weeks = _person(ws, "2026-03-01..2026-03-14")["2026-03-01..2026-03-14"]
    assert (two_weeks.target.threshold, two_weeks.target.target) == (4, 8)  # 2 weeks: 2 × 2, 2 × 4
    assert two_weeks.value == 14 and two_weeks.status == "green"  # 14 tickets ≥ 8
    march = _person(ws, "2026-03")["2026-03"]
    assert march.target.target == Decimal("17.7142857143")  # 4 × 31/7 at 12 digits: 20 tickets meet it
    assert march.value == 20 and march.status == "green"


def test_each_sub_period_gets_its_own_points(ws: Path) -> None:
    weekly = _person(ws, "2026-03-02..2026-03-22", grain="week")  # W10, W11, W12: whole weeks
    assert {label: r.target.target for label, r in weekly.items()} == {"2026-W10": 4, "2026-W11": 4, "2026-W12": 4}
    assert [weekly[w].value for w in ("2026-W10", "2026-W11", "2026-W12")] == [7, 7, 5]  # tickets end on 20 March
    assert [weekly[w].status for w in ("2026-W10", "2026-W11", "2026-W12")] == ["green", "green", "green"]
    daily = _person(ws, "2026-03-20..2026-03-21", grain="day")  # a day is 1/7 of a week: 4/7 points
    assert daily["2026-03-20"].target.target == Decimal("0.571428571429")  # 4/7 at 12 digits
    assert daily["2026-03-20"].status == "green"
    assert daily["2026-03-21"].value is None or daily["2026-03-21"].status in ("no_data", None)


def test_a_scorecard_entry_uses_the_scaled_points(ws: Path) -> None:
    result = evaluate(compile_workspace(load_workspace(ws)), "2026-03-01..2026-03-14")
    (card,) = result.scorecards
    (item,) = card.items
    assert item.target.target == 8 and item.status == "green"


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("{threshold: 50%, target: 80%, per: month}", "`threshold` is a share"),
        ("{vs: previous, change: +10%, per: month}", "`vs` is relative"),
        ("{target: 4, per: fortnight}", "per"),
    ],
)
def test_per_is_refused_where_it_cannot_scale(tmp_path: Path, target: str, said: str) -> None:
    ws = workspace(tmp_path / "bad", KPIS.replace("{threshold: 2, target: 4, per: week}", target), PEOPLE, [])
    done = runner.invoke(app, ["validate", str(ws)])
    assert done.exit_code == 1, done.output
    assert "kpis.yaml:7:" in done.output and said in done.output, done.output
