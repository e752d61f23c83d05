"""Numbers at the edges: literals, huge source values, sums and results beyond the documented limits.

Each ends in the right answer or a located, coded error naming the KPI; never an internal error.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.errors import Code, KpiError
from kpi_engine.expr import ast
from kpi_engine.expr.parser import MAX_LITERAL_DIGITS, parse
from tests.evaluation import wskit

runner = CliRunner()
PEOPLE = [["a1", "Ann", "north", "agent", "20000.00", "1", "2020-01-01", ""]]
HUGE = "1" + "0" * 200  # 1e200, written out in digits (a number column accepts it)


def _workspace(root: Path, formula: str, values: list[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(wskit, "ORG", wskit.ORG.replace("csat: integer", "csat: number"))
    kpis = (
        f"kpis:\n  k:\n    goal: g\n    source: tickets\n    by: {{person: agent}}\n    formula: {formula}\n"
        "    target: {threshold: 1, target: 2}\n"
    )
    tickets = [
        [f"t{i}", "2025-03-01 10:00", "2025-03-01 12:00", "normal", "a1", v, "false"] for i, v in enumerate(values)
    ]
    return wskit.workspace(root, kpis, PEOPLE, tickets)


def _evaluate(root: Path) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["evaluate", str(root), "--period", "2025", "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(
    ("formula", "values", "message"),
    [
        ("sum(csat * 100000000000000000000000000)", ["5"], "a value or a total of a sum or an average is out of range"),
        ("sum(csat)", [HUGE, "1"], "a value or a total of a sum or an average is out of range"),
        ("avg(csat)", [HUGE], "a value or a total of a sum or an average is out of range"),
        ("max(csat)", [HUGE], "its value 1e+200 is 10^26 or more in magnitude"),
        ("max(csat) * max(csat)", [HUGE], "its value overflows beyond the range of a double (about 1.8e308)"),
    ],
    ids=["sum_times_1e26", "sum_1e200", "avg_1e200", "max_1e200", "square_overflows"],
)
def test_values_out_of_range_are_a_located_error_naming_the_kpi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, formula: str, values: list[str], message: str
) -> None:
    root = _workspace(tmp_path / "ws", formula, values, monkeypatch)
    code, out = _evaluate(root)
    assert code == 1
    (diag,) = out["diagnostics"]  # type: ignore[misc]
    assert (diag["code"], diag["line"], diag["column"]) == (Code.VALUE_OUT_OF_RANGE.value, 6, 14)
    assert diag["file"].endswith("kpis.yaml")
    assert diag["message"] == f"KPI `k` cannot be computed: {message}"
    assert "10^26" in diag["hint"]


def test_values_below_the_limit_are_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = "9" * 13 + ".5"
    root = _workspace(tmp_path / "ws", "sum(csat * 1000000000000)", [big, big], monkeypatch)
    code, out = _evaluate(root)
    assert code == 0
    org = next(r for r in out["kpis"] if r["subject_type"] == "organization")  # type: ignore[attr-defined]
    assert org["value"] == float("2.00000000000e25")


def test_only_the_kpi_at_fault_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _workspace(tmp_path / "ws", "count()", [HUGE], monkeypatch)
    (root / "kpis.yaml").write_text(
        (root / "kpis.yaml").read_text()
        + ("  total:\n    goal: g\n    source: tickets\n    by: {person: agent}\n    formula: sum(csat)\n"),
        "utf-8",
    )
    code, out = _evaluate(root)
    assert code == 1
    (diag,) = out["diagnostics"]  # type: ignore[misc]
    assert diag["message"].startswith("KPI `total` cannot be computed")
    assert diag["line"] == 12


def test_literal_digit_limit() -> None:
    assert parse("1" * MAX_LITERAL_DIGITS) == ast.Number(Decimal("1" * MAX_LITERAL_DIGITS))
    for text in ("1" * (MAX_LITERAL_DIGITS + 1), "count() * 0." + "0" * 40, "1" * 39 + "%", "1" * 39 + "h"):
        with pytest.raises(KpiError) as caught:
            parse(text)
        (diag,) = caught.value.diagnostics
        assert diag.code == Code.NUMBER_TOO_LONG
        assert diag.hint


def test_a_38_digit_target_bonus_is_paid_exactly(tmp_path: Path) -> None:
    from tests.evaluation.test_bonus_e2e import KPIS, PEOPLE, TICKETS

    amount = "9" * 38
    root = wskit.workspace(tmp_path / "ws", KPIS.replace("10% of salary", amount), PEOPLE, TICKETS)
    result = runner.invoke(app, ["bonus", str(root), "--plan", "march", "--format", "json"])
    assert result.exit_code == 0, result.output
    payouts = json.loads(result.stdout)["payouts"]
    assert all(p["target_bonus"] == amount + ".00" for p in payouts)
    assert all(len(p["payout"].split(".")[0]) >= 37 for p in payouts if p["payout"] != "0.00")
    explained = runner.invoke(app, ["explain", str(root), "--person", "a1", "--plan", "march"])
    assert explained.exit_code == 0, explained.output
    assert amount in explained.output
