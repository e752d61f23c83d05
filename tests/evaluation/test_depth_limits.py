"""Long chains and deep trees: 1,500-long include, segment and derived-KPI chains, unit trees deeper
than the limit (from YAML and from data). Each is a documented limit with a code at a location, or
a correct result — never a RecursionError or an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.config.dependencies import MAX_DERIVED_DEPTH
from kpi_engine.config.model import MAX_UNIT_DEPTH
from kpi_engine.errors import Code
from tests.evaluation import wskit

runner = CliRunner()
LONG = 1500
PEOPLE = [["a1", "Ann", "north", "agent", "20000.00", "1", "2020-01-01", ""]]
TICKETS = [["t1", "2025-03-01 10:00", "2025-03-01 12:00", "normal", "a1", "5", "false"]]
COUNT = "kpis:\n  k:\n    goal: g\n    source: tickets\n    by: {person: agent}\n    formula: count()\n"


def _diagnostics(root: Path) -> list[dict[str, object]]:
    """`validate` and `evaluate` agree: exit 1 with located, coded errors (and never a traceback)."""
    checked = runner.invoke(app, ["validate", str(root), "--format", "json"])
    evaluated = runner.invoke(app, ["evaluate", str(root), "--period", "2025", "--format", "json"])
    assert (checked.exit_code, evaluated.exit_code) == (1, 1), checked.output
    assert "Traceback" not in checked.output + evaluated.output
    found = json.loads(checked.stdout)["diagnostics"]
    errors = [d for d in found if d["severity"] == "error"]
    assert errors == [d for d in json.loads(evaluated.stdout)["diagnostics"] if d["severity"] == "error"]
    assert all(d["file"] and d["line"] and d["hint"] for d in errors)
    return errors


def _value(root: Path, kpi: str) -> object:
    result = runner.invoke(app, ["evaluate", str(root), "--period", "2025", "--format", "json"])
    assert result.exit_code == 0, result.output
    return next(
        r["value"] for r in json.loads(result.stdout)["kpis"] if r["kpi"] == kpi and r["subject_type"] == "organization"
    )


def _derived_chain(length: int) -> str:
    return COUNT + "".join(
        f"  d{i}:\n    goal: g\n    formula: {'k' if i == 0 else f'd{i - 1}'} + 1\n" for i in range(length)
    )


def test_derived_chain_of_1500_is_refused_at_the_first_kpi_too_deep(tmp_path: Path) -> None:
    root = wskit.workspace(tmp_path / "ws", _derived_chain(LONG), PEOPLE, TICKETS)
    (diag,) = _diagnostics(root)
    assert diag["code"] == Code.DERIVED_TOO_DEEP.value
    assert diag["message"] == (
        f"derived KPI `d{MAX_DERIVED_DEPTH}` is built on 64 levels of derived KPIs; the limit is 64"
    )


def test_derived_chain_at_the_limit_is_evaluated(tmp_path: Path) -> None:
    root = wskit.workspace(tmp_path / "ws", _derived_chain(MAX_DERIVED_DEPTH), PEOPLE, TICKETS)
    assert _value(root, f"d{MAX_DERIVED_DEPTH - 1}") == 1 + MAX_DERIVED_DEPTH


@pytest.mark.parametrize("length", [64, LONG])
def test_segment_chain(tmp_path: Path, length: int) -> None:
    segments = "segments:\n" + "".join(
        f"  s{i}: {{source: tickets, where: {f's{i - 1} and ' if i else ''}csat > 0}}\n" for i in range(length)
    )
    kpis = f"kpis:\n  k:\n    goal: g\n    source: tickets\n    segment: s{length - 1}\n    formula: count()\n"
    root = wskit.workspace(tmp_path / "ws", kpis, PEOPLE, TICKETS)
    (root / "segments.yaml").write_text(segments, encoding="utf-8")
    if length == 64:
        assert _value(root, "k") == 1
        return
    (diag,) = _diagnostics(root)
    assert (diag["code"], diag["line"]) == (Code.SEGMENT_TOO_DEEP.value, 66)


@pytest.mark.parametrize("length", [64, LONG])
def test_include_chain(tmp_path: Path, length: int) -> None:
    root = wskit.workspace(
        tmp_path / "ws",
        "kpis:\n  k:\n    goal: g\n    source: tickets\n    formula: count() * $p\ninclude: [chain/f0000.yaml]\n",
        PEOPLE,
        TICKETS,
    )
    (root / "chain").mkdir()
    for i in range(length):
        text = f"include: [f{i + 1:04d}.yaml]\n" if i < length - 1 else "params:\n  p: 3\n"
        (root / "chain" / f"f{i:04d}.yaml").write_text(text, encoding="utf-8")
    if length == 64:
        assert _value(root, "k") == 3
        return
    errors = _diagnostics(root)
    assert {d["code"] for d in errors} == {Code.INCLUDE_TOO_DEEP.value}
    assert errors[0]["file"].endswith("f0063.yaml")  # type: ignore[union-attr]


def test_unit_tree_from_yaml_deeper_than_the_limit(tmp_path: Path) -> None:
    units = "units:\n" + "".join(
        f"  u{i}: {{name: U{i}, parent: {f'u{i - 1}' if i else 'org'}}}\n" for i in range(LONG)
    )
    root = wskit.workspace(tmp_path / "ws", COUNT, [[*PEOPLE[0][:2], f"u{LONG - 1}", *PEOPLE[0][3:]]], TICKETS)
    (root / "units.yaml").write_text(units, encoding="utf-8")
    (diag,) = _diagnostics(root)
    assert diag["code"] == Code.UNIT_TREE_TOO_DEEP.value
    assert diag["message"] == f"unit `u{MAX_UNIT_DEPTH - 1}` is level 33 of the unit tree; the limit is 32 levels"


@pytest.mark.parametrize("depth", [MAX_UNIT_DEPTH, LONG])
def test_unit_tree_from_data(tmp_path: Path, depth: int) -> None:
    org = wskit.ORG.replace(
        "           hired: hired, left: left}",
        "           hired: hired, left: left}\n  units: {source: depts, id: id, name: name, parent: parent}",
    ).replace(
        "sources:\n",
        "sources:\n  depts:\n    path: depts.csv\n"
        "    key: id\n    columns: {id: string, name: string, parent: string}\n",
    )
    org = org.replace(
        "units:\n  org:   {name: Company}\n  north: {name: North, parent: org, tags: [support]}\n"
        "  south: {name: South, parent: org, tags: [support]}\n",
        "",
    )
    root = wskit.workspace(tmp_path / "ws", COUNT, [[*PEOPLE[0][:2], f"d{depth - 1}", *PEOPLE[0][3:]]], TICKETS)
    (root / "org.yaml").write_text(org, encoding="utf-8")
    wskit.write_csv(
        root / "depts.csv",
        ["id", "name", "parent"],
        [[f"d{i}", f"D{i}", f"d{i - 1}" if i else ""] for i in range(depth)],
    )
    result = runner.invoke(app, ["evaluate", str(root), "--period", "2025", "--format", "json"])
    assert "Traceback" not in result.output
    if depth == MAX_UNIT_DEPTH:
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)["kpis"]
        assert {r["subject"] for r in rows if r["subject_type"] == "unit"} == {f"d{i}" for i in range(depth)}
        return
    assert result.exit_code == 1
    (diag,) = json.loads(result.stdout)["diagnostics"]
    assert diag["code"] == Code.UNIT_TREE_TOO_DEEP.value
    assert diag["file"].endswith("org.yaml") and diag["line"] == 8
    assert diag["message"] == (
        f"unit `d32` is level 33 of the unit tree; the limit is 32 levels (and {LONG - 33} more units below)"
    )


def test_derived_kpis_sharing_inputs_64_levels_deep_evaluate_quickly(tmp_path: Path) -> None:
    """Each level uses the two below it: 2^64 paths through the graph, walked once per KPI."""
    kpis = COUNT + "".join(
        f"  d{i}:\n    goal: g\n    formula: {'k' if i < 2 else f'(d{i - 1} + d{i - 2}) / 2'}\n"
        for i in range(MAX_DERIVED_DEPTH)
    )
    root = wskit.workspace(tmp_path / "ws", kpis, PEOPLE, TICKETS)
    assert _value(root, f"d{MAX_DERIVED_DEPTH - 1}") == 1
