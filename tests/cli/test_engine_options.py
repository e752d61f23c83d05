"""Choosing the engine (SPEC §12): --engine and --connection, organization.engine, what the ledger keeps.

DuckDB only here; the other engines' own tests start them (tests/engines/).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.execution import Target, without_credentials

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    target = tmp_path / "support"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".kpi"))
    return target


def kpi(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


def set_engine(ws: Path, block: str) -> None:
    """Add `block` (one line) under the `organization:` key."""
    organization = ws / "organization.yaml"
    text = organization.read_text(encoding="utf-8")
    organization.write_text(text.replace("organization:\n", f"organization:\n  {block}", 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("postgresql://kpi:s3cret@db.example.com:5432/metrics", "postgresql://kpi@db.example.com:5432/metrics"),
        ("postgresql://db/m?sslmode=require&password=s3cret", "postgresql://db/m?sslmode=require"),
        ("host=db user=kpi password=s3cret dbname=m", "host=db user=kpi dbname=m"),
        ("host=db password='a b\\' c' dbname=m", "host=db dbname=m"),
        ("sc://spark.example.com:15002/;token=s3cret;user_id=kpi", "sc://spark.example.com:15002/;user_id=kpi"),
        ("local[2]", "local[2]"),
        ("spark://master:7077", "spark://master:7077"),
        (None, None),
    ],
)
def test_a_connection_is_kept_without_its_secrets(given: str | None, kept: str | None) -> None:
    assert without_credentials(given) == kept
    assert Target("postgres", given).shown == kept


def test_duckdb_takes_no_connection(ws: Path) -> None:
    result = kpi("evaluate", ws, "--period", "2026-03", "--engine", "duckdb", "--connection", "x")
    assert result.exit_code == 2
    assert "E001" in result.stderr and "--connection" in result.stderr and "Traceback" not in result.output


def test_an_unknown_engine_is_a_usage_error(ws: Path) -> None:
    result = kpi("bonus", ws, "--engine", "oracle")
    assert result.exit_code == 2 and "oracle" in result.stderr


def test_organization_engine_duckdb_with_a_connection_is_located(ws: Path) -> None:
    set_engine(ws, "engine: {name: duckdb, connection: 'local[2]'}\n")
    result = kpi("validate", ws)
    assert result.exit_code == 1
    assert "organization.yaml:" in result.output and "E125" in result.output and "takes no connection" in result.output


def test_organization_engine_name_is_checked_by_the_schema(ws: Path) -> None:
    set_engine(ws, "engine: {name: sparkk}\n")
    result = kpi("validate", ws)
    assert result.exit_code == 1 and "organization.yaml:" in result.output and "sparkk" in result.output


def test_compile_prints_what_the_engine_runs(ws: Path) -> None:
    by_engine = kpi("compile", ws, "--period", "2026", "--engine", "postgres")
    by_dialect = kpi("compile", ws, "--period", "2026", "--dialect", "postgres")
    assert by_engine.exit_code == 0 and by_engine.stdout == by_dialect.stdout
    set_engine(ws, "engine: {name: postgres, connection: 'postgresql://db/metrics'}\n")
    assert kpi("compile", ws, "--period", "2026").stdout == by_dialect.stdout  # the organization's engine
    clash = kpi("compile", ws, "--engine", "postgres", "--dialect", "spark")
    assert clash.exit_code == 2 and "disagree" in clash.stderr


def test_a_run_on_duckdb_records_its_options_as_before(ws: Path) -> None:
    result = kpi("bonus", ws, "--format", "json", "--engine", "duckdb")
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.stdout)["run"]["id"]
    shown = json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)
    assert "engine" not in shown["options"] and "connection" not in shown["options"]
    assert "--engine" not in shown["command"]
    verified = kpi("runs", "verify", ws, run_id, "--engine", "duckdb")
    assert verified.exit_code == 0, verified.output
