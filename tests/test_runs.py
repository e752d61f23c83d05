"""The audit ledger through the real CLI: recorded runs, verify, approvals, adjustments, determinism."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "kpi_definitions" / "examples" / "support"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    target = tmp_path / "support"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".kpi"))
    return target


def _bonus(ws: Path) -> dict:
    result = runner.invoke(app, ["bonus", str(ws), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_runs_are_listed_newest_first(ws: Path) -> None:
    first = _bonus(ws)["run"]["id"]
    evaluated = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-Q1", "--format", "json"])
    second = json.loads(evaluated.stdout)["run"]["id"]
    listed = json.loads(runner.invoke(app, ["runs", "list", str(ws), "--format", "json"]).stdout)["runs"]
    assert [r["id"] for r in listed] == [second, first]
    assert set(listed[0]) >= {"id", "time", "command", "version", "definitions_hash", "approved_by"}
    assert listed[1]["command"].startswith("kpi bonus")


def test_verify_identical(ws: Path) -> None:
    run_id = _bonus(ws)["run"]["id"]
    result = runner.invoke(app, ["runs", "verify", str(ws), run_id])
    assert result.exit_code == 0, result.output
    assert "identical" in result.stdout
    assert "current definitions are the run's" in result.stdout


def test_verify_names_the_changed_source(ws: Path) -> None:
    run_id = _bonus(ws)["run"]["id"]
    tickets = ws / "data" / "tickets.csv"
    lines = tickets.read_text().splitlines()
    # the first ticket is now resolved a day later, which changes at least one SLA share
    fields = lines[1].split(",")
    fields[3] = "2026-12-30 10:00"
    lines[1] = ",".join(fields)
    tickets.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["runs", "verify", str(ws), run_id])
    assert result.exit_code == 1
    assert "DIFFERS" in result.stdout
    assert "data changed since the run: source `tickets`" in result.stdout


def test_verify_uses_the_stored_definitions(ws: Path) -> None:
    run_id = _bonus(ws)["run"]["id"]
    cards = ws / "scorecards.yaml"
    cards.write_text(cards.read_text().replace("gate: 60%", "gate: 70%"))
    result = runner.invoke(app, ["runs", "verify", str(ws), run_id])
    assert result.exit_code == 0, result.output
    assert "definitions changed since this run" in result.stdout


def test_approval_is_once_and_later_runs_show_adjustments(ws: Path) -> None:
    run_id = _bonus(ws)["run"]["id"]
    evaluate_id = json.loads(runner.invoke(app, ["evaluate", str(ws), "--period", "2026", "--format", "json"]).stdout)[
        "run"
    ]["id"]
    refused = runner.invoke(app, ["runs", "approve", str(ws), evaluate_id, "--by", "HR"])
    assert refused.exit_code == 1 and "only bonus runs are approved" in refused.output
    ok = runner.invoke(
        app, ["runs", "approve", str(ws), run_id, "--by", "HR Lead", "--note", "Q4 payroll", "--format", "json"]
    )
    assert ok.exit_code == 0, ok.output
    approval = json.loads(ok.stdout)
    assert {k: approval[k] for k in ("id", "approved_by", "note")} == {
        "id": run_id,
        "approved_by": "HR Lead",
        "note": "Q4 payroll",
    }
    assert approval["approved_at"] and approval["user"] and approval["host"]
    assert approval["ledger"] == {"entries": 3, "head": approval["hash"]}
    again = runner.invoke(app, ["runs", "approve", str(ws), run_id, "--by", "Someone"])
    assert again.exit_code == 1 and "already approved by HR Lead" in again.output
    approved = json.loads(runner.invoke(app, ["runs", "list", str(ws), "--approved", "--format", "json"]).stdout)
    assert [r["id"] for r in approved["runs"]] == [run_id]
    cards = ws / "scorecards.yaml"
    cards.write_text(cards.read_text().replace("cap: 150%", "cap: 120%"))
    later = runner.invoke(app, ["bonus", str(ws), "--format", "json"])
    assert later.exit_code == 0
    assert f"differs from run {run_id}, approved by HR Lead" in later.stderr
    assert "adjustment -" in later.stderr


def test_same_inputs_give_byte_identical_output(ws: Path) -> None:
    outputs = []
    for _ in range(3):
        result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026", "--grain", "quarter", "--format", "json"])
        doc = json.loads(result.stdout)
        doc["run"].pop("id")
        doc["run"].pop("time")
        outputs.append(json.dumps(doc, sort_keys=True))
    assert len(set(outputs)) == 1
    runs = json.loads(runner.invoke(app, ["runs", "list", str(ws), "--format", "json"]).stdout)["runs"]
    hashes = {
        json.loads(runner.invoke(app, ["runs", "show", str(ws), r["id"], "--format", "json"]).stdout)["results_hash"]
        for r in runs
    }
    assert len(runs) == 3 and len(hashes) == 1
