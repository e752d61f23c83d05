"""`kpi validate` and `kpi schema` through the real Typer app, plus the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support"

BROKEN = """\
organization:
  name: Broken
  version: "1"
kpis:
  speed:
    source: tickets
    formula: count()
    directon: lower
"""


def _write(tmp_path: Path, text: str) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "defs.yaml").write_text(text, encoding="utf-8")
    return ws


def test_example_is_valid() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 errors, 0 warnings")


def test_text_output_points_at_the_key(tmp_path: Path) -> None:
    ws = _write(tmp_path, BROKEN)
    result = runner.invoke(app, ["validate", str(ws)])
    assert result.exit_code == 1
    assert "defs.yaml:8:5: error[E120]: unknown key `directon`" in result.output
    assert "did you mean `direction`" in result.output
    assert "^^^^^^^^" in result.output


def test_json_output(tmp_path: Path) -> None:
    ws = _write(tmp_path, BROKEN)
    result = runner.invoke(app, ["validate", str(ws), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["valid"] is False
    first = report["diagnostics"][0]
    assert set(first) == {"file", "line", "column", "severity", "code", "message", "hint"}
    assert (first["line"], first["column"], first["code"], first["severity"]) == (8, 5, "E120", "error")


def test_github_annotations(tmp_path: Path) -> None:
    ws = _write(tmp_path, BROKEN)
    result = runner.invoke(app, ["validate", str(ws), "--format", "github"])
    assert result.exit_code == 1
    assert result.output.startswith("::error file=")
    assert ",line=8,col=5," in result.output and "title=E120::" in result.output


def test_strict_turns_lints_into_errors(tmp_path: Path) -> None:
    ws = _write(
        tmp_path,
        """\
organization: {name: Lint, version: "1"}
sources:
  t: {path: t.csv, time: at, columns: {at: timestamp, who: string}}
kpis:
  rows: {source: t, formula: count()}
""",
    )
    relaxed = runner.invoke(app, ["validate", str(ws)])
    assert relaxed.exit_code == 0, relaxed.output
    assert "warning[W401]" in relaxed.output
    strict = runner.invoke(app, ["validate", str(ws), "--strict"])
    assert strict.exit_code == 1
    assert "error[W401]" in strict.output


def test_out_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["validate", str(EXAMPLE), "--format", "json", "--out", str(report)])
    assert result.exit_code == 0
    assert json.loads(report.read_text())["valid"] is True


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["validate", "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["validate", "--no-such-flag"]).exit_code == 2


def test_missing_path_is_a_diagnostic(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "E100" in result.output


def test_schema_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "kpis" in schema["properties"]


def test_installed_entry_point_never_shows_a_traceback(tmp_path: Path) -> None:
    ws = _write(tmp_path, "organization: [\n")
    kpi = Path(sys.executable).parent / "kpi"
    proc = subprocess.run([str(kpi), "validate", str(ws)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "error[E103]" in proc.stdout


def test_roster_is_checked_against_units_and_scorecards(tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "support"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns(".kpi"))
    roster = ws / "data" / "employees.csv"
    roster.write_text(roster.read_text().replace("e07,Dace Krumina,frontline,", "e07,Dace Krumina,frontlne,"))
    cards = ws / "scorecards.yaml"
    cards.write_text(cards.read_text().replace("applies_to: {roles: [lead]}", "applies_to: {roles: [lead, agent]}"))
    result = runner.invoke(app, ["validate", str(ws), "--format", "json"])
    assert result.exit_code == 1
    found = {(Path(d["file"]).name, d["line"], d["code"]) for d in json.loads(result.output)["diagnostics"]}
    line = next(i for i, text in enumerate(roster.read_text().splitlines(), 1) if text.startswith("e07,"))
    assert ("employees.csv", line, "E415") in found  # at the roster row, with "did you mean `frontline`?"
    assert ("scorecards.yaml", 15, "E414") in found  # at the applies_to of the second matching scorecard
    assert runner.invoke(app, ["validate", str(ws), "--no-data"]).exit_code == 0


def _validate_in_a_process(ws: Path, cache: Path) -> tuple[str, bool]:
    """`kpi validate WS` in a fresh process: its report, and whether it imported DuckDB."""
    script = (
        "import sys\nfrom kpi_engine.cli.main import app\n"
        f"sys.argv = ['kpi', 'validate', {str(ws)!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('duckdb imported' if 'duckdb' in sys.modules else 'no duckdb')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        check=False,
    )
    return done.stdout, done.stderr.endswith("duckdb imported")


def test_the_roster_check_is_cached_until_a_file_changes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    roster = ws / "data" / "employees.csv"
    lines = roster.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",frontline,", ",frontlin,", 1)  # a person in a unit that does not exist
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cache = tmp_path / "cache"
    first, first_duckdb = _validate_in_a_process(ws, cache)
    again, again_duckdb = _validate_in_a_process(ws, cache)
    assert "error[E415]" in first and first == again
    assert first_duckdb and not again_duckdb  # the second run did not need DuckDB
    roster.write_text(roster.read_text(encoding="utf-8").replace(",frontlin,", ",frontline,"), encoding="utf-8")
    fixed, fixed_duckdb = _validate_in_a_process(ws, cache)
    assert "E415" not in fixed and fixed_duckdb  # a changed file is checked again
    scorecards = ws / "scorecards.yaml"
    scorecards.write_text(
        "# a comment moves every line down\n" + scorecards.read_text(encoding="utf-8"), encoding="utf-8"
    )
    moved, moved_duckdb = _validate_in_a_process(ws, cache)
    assert moved_duckdb and moved == fixed
