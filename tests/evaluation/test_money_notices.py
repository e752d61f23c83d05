"""Nothing silent about people and money (SPEC §14), end to end through the CLI on real files.

One small workspace holds every case: roster rows that must be rejected (bad money, bad fte, a role
outside `values`), a person without a salary or a target-bonus cell, a ticket with a bad rating, a
ticket without a time, a scorecard that matches nobody, a quarterly plan. Expected money is worked
out here by hand: every agent with tickets scores 100%, so payout = target bonus × fte.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.config.money import minor_unit
from tests.evaluation.wskit import write_csv

runner = CliRunner()

ORG = """\
organization:
  name: Money
  version: "m1"
  currency: {currency}
  timezone: UTC
  people: {{source: people, id: pid, unit: unit, role: role, name: name, base_salary: salary, fte: fte}}
units:
  north: {{name: North}}
goals:
  g: {{name: Good service}}
sources:
  people:
    path: people.csv
    key: pid
    columns:
      pid: string
      name: string
      unit: string
      role: {{type: string, values: [agent, lead]}}
      salary: decimal
      fte: number
      bonus: string
  tickets:
    path: tickets.csv
    key: id
    time: created
    columns: {{id: string, created: timestamp, agent: string, csat: {{type: integer, min: 1, max: 5}}}}
kpis:
  volume: {{goal: g, source: tickets, by: {{person: agent}}, formula: count(), category: volume, target: {{target: 1}}}}
  rating:
    goal: g
    source: tickets
    by: {{person: agent}}
    formula: avg(csat)
    category: satisfaction
    target: {{target: 1}}
  rated:
    goal: g
    source: tickets
    by: {{person: agent}}
    formula: share(csat is not null)
    category: quality
    target: {{target: 100%}}
    scoring: {{method: ratio}}
scorecards:
  agent:
    applies_to: {{roles: [agent]}}
    kpis:
      - {{kpi: volume, weight: 50%}}
      - {{kpi: rating, weight: 25%, scoring: {{method: binary}}}}
      - {{kpi: rated, weight: 25%}}
  ghost:
    applies_to: {{roles: [lead]}}
    kpis:
      - {{kpi: volume, weight: 50%}}
      - {{kpi: rating, weight: 25%}}
      - {{kpi: rated, weight: 25%}}
bonus_plans:
  pct:
    scorecards: [agent, ghost]
    period: quarter
    target_bonus: 10% of salary
    payout: {{gate: {gate}, cap: 150%}}
  col:
    scorecards: [agent]
    period: quarter
    target_bonus: column bonus
"""

PEOPLE = [  # line 1 is the header
    ["a1", "Ann", "north", "agent", "30000.00", "1", "1000"],  # line 2
    ["a2", "Bob", "north", "agent", "20000", "0.5", "500.5"],  # line 3
    ["a3", "Cid", "north", "agent", "", "1", ""],  # line 4: no salary, no bonus cell
    ["a4", "Dee", "north", "agent", "1e5", "1", "1"],  # line 5: rejected
    ["a5", "Eve", "north", "agent", "-100", "1", "1"],  # line 6: rejected, negative
    ["a6", "Fay", "north", "agent", "100", "1.5", "1"],  # line 7: rejected, fte above 1
    ["a7", "Gus", "north", "agent", "100", "1", "0x10"],  # line 8: rejected, hex bonus
    ["a8", "Hal", "north", "boss", "100", "1", "1"],  # line 9: rejected, role outside values
    ["a9", "Ida", "north", "agent", "NaN", "1", "1"],  # line 10: rejected
    ["b1", "Jo", "north", "agent", "１０００", "1", "1"],  # line 11: rejected, fullwidth digits
    ["b2", "Kim", "north", "agent", "100", "0", "1"],  # line 12: rejected, fte 0
    ["b3", "Lu", "north", "agent", "1_000", "1", "1"],  # line 13: rejected
]
REJECTED_PEOPLE = {"a4": 5, "a5": 6, "a6": 7, "a7": 8, "a8": 9, "a9": 10, "b1": 11, "b2": 12, "b3": 13}
TICKETS = [
    ["T1", "2026-01-05 10:00", "a1", 5],  # line 2
    ["T2", "2026-02-05 10:00", "a2", 4],  # line 3
    ["T3", "2026-03-05 10:00", "a3", 3],  # line 4
    ["T4", "", "a1", 5],  # line 5: no time
    ["T5", "2026-01-06 10:00", "a1", 9],  # line 6: rejected, rating above 5
]


def make(root: Path, currency: str = "EUR", gate: str = "50%") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "org.yaml").write_text(ORG.format(currency=currency, gate=gate), encoding="utf-8")
    write_csv(root / "people.csv", ["pid", "name", "unit", "role", "salary", "fte", "bonus"], PEOPLE)
    write_csv(root / "tickets.csv", ["id", "created", "agent", "csat"], TICKETS)
    return root


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make(tmp_path_factory.mktemp("money"))


def _stderr(result: object) -> str:
    try:
        return str(result.stderr)  # type: ignore[attr-defined]
    except ValueError:
        return str(result.output)  # type: ignore[attr-defined]


def _warnings(doc: dict[str, object], code: str) -> list[dict[str, object]]:
    return [w for w in doc["warnings"] if w["code"] == code]  # type: ignore[attr-defined, index]


def test_evaluate_json_reports_rejects_and_warnings(ws: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-Q1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc)[:5] == ["run", "kpis", "scorecards", "goals", "warnings"]  # old fields first, unchanged
    assert doc["rejects"] == {"people": len(REJECTED_PEOPLE), "tickets": 1}
    rows = _warnings(doc, "W540")
    assert any(w["file"].endswith("tickets.csv") and w["line"] == 6 and "csat" in w["message"] for w in rows)
    assert all(set(w) == {"code", "message", "file", "line"} for w in doc["warnings"])
    (timeless,) = _warnings(doc, "W542")
    assert "1 row has no `created`" in timeless["message"] and timeless["file"].endswith("org.yaml")
    stderr = _stderr(result)
    assert "warning[W540]" in stderr and "warning[W542]" in stderr


def test_every_rejected_roster_row_is_named_with_its_reason(ws: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-Q1", "--format", "json"])
    doc = json.loads(result.stdout)
    named = {}
    for w in _warnings(doc, "W541"):
        person = str(w["message"]).split("`")[1]
        named[person] = (w["line"], w["message"])
        assert str(w["file"]).endswith("people.csv")
    assert {p: line for p, (line, _) in named.items()} == REJECTED_PEOPLE
    assert "`salary`" in named["a4"][1] and "1e5" in named["a4"][1]
    assert "below the minimum 0" in named["a5"][1]
    assert "above the maximum 1" in named["a6"][1]
    assert "`bonus`" in named["a7"][1] and "0x10" in named["a7"][1]
    assert "`role`" in named["a8"][1] and "not one of" in named["a8"][1]
    assert "not above 0" in named["b2"][1]
    # The roster's rejects are named by person, not repeated as anonymous rows.
    assert not [w for w in _warnings(doc, "W540") if str(w["file"]).endswith("people.csv")]


def test_bonus_pays_by_hand_and_says_why_a_payout_is_zero(ws: Path) -> None:
    result = runner.invoke(app, ["bonus", str(ws), "--plan", "pct", "--period", "2026-Q1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    payouts = {p["person"]: p for p in doc["payouts"]}
    # 10% of the salary × fte: a1 30000 × 0.1 × 1, a2 20000 × 0.1 × 0.5; a3 has no salary.
    assert {p: v["payout"] for p, v in payouts.items()} == {"a1": "3000.00", "a2": "1000.00", "a3": "0.00"}
    assert doc["total"] == "4000.00"
    assert [payouts[p]["reason"] for p in ("a1", "a2", "a3")] == [None, None, "no_base_salary"]
    assert doc["rejects"]["people"] == len(REJECTED_PEOPLE)
    (missing,) = _warnings(doc, "W543")
    assert "`a3`" in missing["message"] and missing["line"] == 4
    (nobody,) = _warnings(doc, "W420")
    assert "`ghost`" in nobody["message"]
    assert len(_warnings(doc, "W541")) == len(REJECTED_PEOPLE)

    column = runner.invoke(app, ["bonus", str(ws), "--plan", "col", "--period", "2026-Q1", "--format", "csv"])
    assert column.exit_code == 0, column.output
    rows = {r["person"]: r for r in csv.DictReader(io.StringIO(column.stdout))}
    # column bonus × fte: a1 1000 × 1, a2 500.5 × 0.5 = 250.25; a3 has no bonus cell.
    assert {p: (r["payout"], r["reason"]) for p, r in rows.items()} == {
        "a1": ("1000.00", ""),
        "a2": ("250.25", ""),
        "a3": ("0.00", "no_target_bonus"),
    }
    assert "warning[W543]" in _stderr(column) and "a3" in _stderr(column)


def test_explain_names_rejected_people_and_the_entry_method(ws: Path) -> None:
    result = runner.invoke(app, ["explain", str(ws), "--person", "a1", "--plan", "pct", "--period", "2026-Q1"])
    assert result.exit_code == 0, result.output
    assert "person `a4`" in _stderr(result) and "warning[W541]" in _stderr(result)
    text = result.stdout
    assert "ly\n" not in text and "ratioly" not in text and "binaryly" not in text
    assert "scored as met or not met (binary) (this scorecard's method)" in text
    assert "scored as the ratio of value to target" in text
    assert "scored linearly between the target points" in text
    assert "payout         3000.00 EUR" in text
    no_salary = runner.invoke(app, ["explain", str(ws), "--person", "a3", "--plan", "pct", "--period", "2026-Q1"])
    assert "target bonus   none (the roster has no `salary` for them: nothing is paid)" in no_salary.stdout


def test_plan_period_kind_must_match(ws: Path) -> None:
    result = runner.invoke(app, ["bonus", str(ws), "--plan", "pct", "--period", "2026"])
    assert result.exit_code == 1
    out = _stderr(result)
    assert "error[E421]" in out and "quarter" in out and "--period 2026 is a year" in out
    assert "org.yaml:" in out


def test_gate_at_or_above_cap_is_a_validation_error(tmp_path: Path) -> None:
    root = make(tmp_path / "gate", gate="150%")
    result = runner.invoke(app, ["validate", str(root), "--format", "json", "--no-data"])
    assert result.exit_code == 1
    (found,) = [d for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "E420"]
    lines = (root / "org.yaml").read_text(encoding="utf-8").splitlines()
    assert "gate: 150%" in lines[found["line"] - 1]
    assert lines[found["line"] - 1][found["column"] - 1 :].startswith("150%")


def test_scorecard_matching_nobody_warns_and_fails_strict(ws: Path) -> None:
    plain = runner.invoke(app, ["validate", str(ws), "--format", "json"])
    assert plain.exit_code == 0, plain.output
    codes = [d["code"] for d in json.loads(plain.stdout)["diagnostics"]]
    assert codes == ["W420"]
    strict = runner.invoke(app, ["validate", str(ws), "--strict", "--format", "json"])
    assert strict.exit_code == 1
    assert [d["severity"] for d in json.loads(strict.stdout)["diagnostics"]] == ["error"]
    assert "W420" not in [
        d["code"]
        for d in json.loads(runner.invoke(app, ["validate", str(ws), "--no-data", "--format", "json"]).stdout)[
            "diagnostics"
        ]
    ]


@pytest.mark.parametrize(
    ("currency", "plan", "expected"),
    [
        ("JPY", "pct", {"a1": "3000", "a2": "1000", "a3": "0"}),
        ("KWD", "col", {"a1": "1000.000", "a2": "250.250", "a3": "0.000"}),
        ("EUR", "col", {"a1": "1000.00", "a2": "250.25", "a3": "0.00"}),
    ],
    ids=["jpy-whole-yen", "kwd-three-decimals", "eur-cents"],
)
def test_money_carries_the_currency_minor_unit(
    tmp_path: Path, currency: str, plan: str, expected: dict[str, str]
) -> None:
    root = make(tmp_path / currency, currency=currency)
    result = runner.invoke(app, ["bonus", str(root), "--plan", plan, "--period", "2026-Q1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {p["person"]: p["payout"] for p in doc["payouts"]} == expected
    assert doc["total"] == str(sum(Decimal(v) for v in expected.values()))
    table = runner.invoke(app, ["bonus", str(root), "--plan", plan, "--period", "2026-Q1"])
    assert f"{expected['a2']} {currency}" in table.stdout


def test_an_explicit_rounding_unit_still_wins(tmp_path: Path) -> None:
    root = make(tmp_path / "jpy", currency="JPY")
    text = (root / "org.yaml").read_text(encoding="utf-8")
    (root / "org.yaml").write_text(
        text.replace("target_bonus: column bonus", "target_bonus: column bonus\n    rounding: {to: 0.01}"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["bonus", str(root), "--plan", "col", "--period", "2026-Q1", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert {p["person"]: p["payout"] for p in json.loads(result.stdout)["payouts"]}["a2"] == "250.25"


def test_imported_roster_rejects_are_still_named(tmp_path: Path) -> None:
    root = make(tmp_path / "imported")
    assert runner.invoke(app, ["import", str(root)]).exit_code == 0
    result = runner.invoke(app, ["bonus", str(root), "--plan", "pct", "--period", "2026-Q1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["rejects"] == {"people": len(REJECTED_PEOPLE), "tickets": 1}
    assert len(_warnings(doc, "W541")) == len(REJECTED_PEOPLE)


@pytest.mark.parametrize(
    ("currency", "unit"),
    [("EUR", "0.01"), ("jpy", "1"), ("KWD", "0.001"), ("BHD", "0.001"), ("USD", "0.01"), ("KRW", "1")],
)
def test_minor_units(currency: str, unit: str) -> None:
    assert minor_unit(currency) == Decimal(unit)


def test_a_repeated_roster_id_says_the_first_row_counts(tmp_path: Path) -> None:
    root = make(tmp_path / "dup")
    with (root / "people.csv").open("a", encoding="utf-8") as f:
        f.write("a1,Ann again,north,agent,99999,1,1\n")  # line 14
    result = runner.invoke(app, ["bonus", str(root), "--plan", "pct", "--period", "2026-Q1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (again,) = [w for w in _warnings(doc, "W541") if w["line"] == 14]
    assert "second roster row of person `a1`" in again["message"] and "only the first row counts" in again["message"]
    assert {p["person"]: p["payout"] for p in doc["payouts"]}["a1"] == "3000.00"  # paid from the first row


def test_a_rejected_json_roster_row_is_named_too(tmp_path: Path) -> None:
    root = make(tmp_path / "ndjson")
    (root / "org.yaml").write_text(
        (root / "org.yaml").read_text(encoding="utf-8").replace("path: people.csv", "path: people.ndjson"),
        encoding="utf-8",
    )
    (root / "people.ndjson").write_text(
        '{"pid": "a1", "name": "Ann", "unit": "north", "role": "agent", "salary": "30000.00", "fte": 1, "bonus": "1"}\n'
        '{"pid": "z9", "name": "Zed", "unit": "north", "role": "agent", "salary": "1e5", "fte": 1, "bonus": "1"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["bonus", str(root), "--plan", "pct", "--period", "2026-Q1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (named,) = _warnings(doc, "W541")
    assert "person `z9`" in named["message"] and named["line"] == 2
    assert {p["person"]: p["payout"] for p in doc["payouts"]} == {"a1": "3000.00"}
