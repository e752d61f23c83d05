"""Plan-level tests (issue 14): what `kpi compile` prints for the example organizations, as goldens
under tests/goldens/compile/ (rewrite with ``pytest --update-goldens`` and review the diff), and one
fusion decision asserted on the structure of `--explain`.

Each example is copied to tmp_path first, and its path is masked as ``<ws>`` in the output, so the
goldens do not depend on where the repository lives. The period is always given, so they do not
depend on today's date either.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "kpi_definitions" / "examples"
GOLDENS = Path(__file__).parent / "goldens" / "compile"
NAMES = ["support", "field_service", "bank_internal_service"]
PERIOD = "2026"


def copy_example(tmp_path: Path, name: str) -> Path:
    ws = tmp_path / name
    shutil.copytree(EXAMPLES / name, ws, ignore=shutil.ignore_patterns(".kpi"))
    return ws


def compile_output(ws: Path, *options: str) -> str:
    result = runner.invoke(app, ["compile", str(ws), "--period", PERIOD, *options])
    assert result.exit_code == 0, result.output
    return result.stdout.replace(str(ws), "<ws>")


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDENS / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden {path.name}: run pytest {__file__} --update-goldens"
    assert text == path.read_text(encoding="utf-8"), (
        f"golden {path.name} differs; rerun with --update-goldens and review the diff"
    )


CASES = [pytest.param(name, (), f"{name}.duckdb.sql", id=f"{name}-duckdb") for name in NAMES]
CASES += [pytest.param(name, ("--explain",), f"{name}.explain.sql", id=f"{name}-explain") for name in NAMES]
CASES += [pytest.param("support", ("--dialect", "postgres"), "support.postgres.sql", id="support-postgres")]


@pytest.mark.parametrize(("name", "options", "golden"), CASES)
def test_compile_golden(tmp_path: Path, update_goldens: bool, name: str, options: tuple[str, ...], golden: str) -> None:
    ws = copy_example(tmp_path, name)
    first = compile_output(ws, *options)
    assert compile_output(ws, *options) == first, "kpi compile printed different text on a second run"
    assert "<ws>" in first and str(tmp_path) not in first
    check_golden(golden, first, update_goldens)


def test_no_stale_goldens(update_goldens: bool) -> None:
    if update_goldens:
        pytest.skip("rewriting goldens")
    expected = {p.values[2] for p in CASES} | {"support.evaluate.txt"}
    assert {p.name for p in GOLDENS.iterdir()} == expected


SCAN = re.compile(r"^-- scan (\d+): source `([^`]+)`, time `([^`]+)`, subjects: (.+)$")
MEMBER = re.compile(r"^--   - (\S+)")
NOT_FUSED = re.compile(r"^-- not fused: source `([^`]+)` is scanned (\d+) times: (.+)$")


def explain_plan(text: str) -> tuple[dict[int, dict[str, object]], list[tuple[str, int, str]]]:
    """The scans of an `--explain` header (number → source, subjects, KPI ids) and its not-fused lines."""
    scans: dict[int, dict[str, object]] = {}
    not_fused: list[tuple[str, int, str]] = []
    current: dict[str, object] | None = None
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("-- derived KPIs"):
            current = None
        elif (m := SCAN.match(line)) and int(m[1]) not in scans:
            current = {"source": m[2], "time": m[3], "subjects": m[4], "kpis": []}
            scans[int(m[1])] = current
        elif (m := MEMBER.match(line)) and current is not None:
            current["kpis"].append(m[1])  # type: ignore[attr-defined]
        elif m := NOT_FUSED.match(line):
            not_fused.append((m[1], int(m[2]), m[3]))
        elif not line.startswith("--"):
            break
    return scans, not_fused


def test_fusion_decision_field_service(tmp_path: Path) -> None:
    """The engineers' request KPIs share one scan; reassignment_rate (the dispatcher's) cannot join
    first_time_fix (the engineer's) on the same source, and --explain says it is the attribution."""
    text = compile_output(copy_example(tmp_path, "field_service"), "--explain")
    scans, not_fused = explain_plan(text)
    by_kpi = {kpi: n for n, scan in scans.items() for kpi in scan["kpis"]}  # type: ignore[attr-defined]

    shared = by_kpi["first_time_fix"]
    assert by_kpi["repeat_visit_rate"] == shared
    assert by_kpi["on_site_in_time.critical"] == shared
    assert by_kpi["restored_in_sla.routine"] == shared
    assert scans[shared]["source"] == "requests"
    assert scans[shared]["subjects"] == "person from `engineer_id`"

    apart = by_kpi["reassignment_rate"]
    assert apart != shared
    assert scans[apart]["source"] == "requests"
    assert scans[apart]["subjects"] == "person from `dispatcher_id`"
    assert by_kpi["acknowledged_in_business_hours"] == apart

    assert not_fused == [("requests", 2, "different attribution (person:dispatcher_id, person:engineer_id)")]
    assert "utilization" not in by_kpi  # derived: computed after the scans, in none of them


def test_one_scan_when_nothing_keeps_kpis_apart(tmp_path: Path) -> None:
    scans, not_fused = explain_plan(compile_output(copy_example(tmp_path, "support"), "--explain"))
    assert list(scans) == [1]
    assert scans[1]["kpis"] == [
        "csat",
        "first_contact_resolution",
        "first_response_minutes",
        "resolved_in_sla.critical",
        "resolved_in_sla.routine",
        "tickets_handled",
    ]
    assert not_fused == []


RUN_LINE = re.compile(r"^run \d{8}T\d{6}Z-[0-9a-f]{6}$", re.MULTILINE)


def test_evaluate_table_golden(tmp_path: Path, update_goldens: bool) -> None:
    """`kpi evaluate`'s default table for the support example's units, run id masked: the layout,
    number formats, statuses, scores and ranks together."""
    ws = copy_example(tmp_path, "support")
    imported = runner.invoke(app, ["import", str(ws)])
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026", "--at", "unit"])
    assert result.exit_code == 0, result.output
    text, masked = RUN_LINE.subn("run <id>", result.stdout)
    assert masked == 1, result.stdout
    assert str(tmp_path) not in text
    check_golden("support.evaluate.txt", text, update_goldens)
