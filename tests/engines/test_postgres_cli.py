"""The `kpi` commands on PostgreSQL (SPEC §12), through the real Typer app and a throwaway cluster:
`--engine`/`--connection` and `organization.engine`, what the ledger records of the engine, and
`runs verify` recomputing on the engine the run used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.pipeline import load_workspace

pytest.importorskip("psycopg")
from tests.engines.test_postgres_examples import _tables  # noqa: E402  (the examples' data copied into tables)

runner = CliRunner()
SUPPORT = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support"


def kpi(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def on_tables(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The support example with its sources pointed at PostgreSQL tables (same data as its files)."""
    ws = tmp_path_factory.mktemp("cli") / "support"
    shutil.copytree(SUPPORT, ws, ignore=shutil.ignore_patterns(".kpi"))
    _tables(postgres_url, load_workspace(ws), "support_cli", "wall")
    sources = ws / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    for name in ("employees", "tickets"):
        text = text.replace(f"path: data/{name}.csv", f"table: support_cli.{name}")
    sources.write_text(text, encoding="utf-8")
    return ws


def test_kpi_test_runs_on_postgres(postgres_url: str) -> None:
    result = kpi("test", SUPPORT, "--engine", "postgres", "--connection", postgres_url)
    assert result.exit_code == 0, result.output
    assert "failed" not in result.stdout.lower() or " 0 failed" in result.stdout


def test_bonus_on_postgres_is_recorded_with_its_engine_and_verifies_there(on_tables: Path, postgres_url: str) -> None:
    on_files = kpi("bonus", SUPPORT, "--format", "json")
    assert on_files.exit_code == 0, on_files.output
    result = kpi("bonus", on_tables, "--format", "json", "--engine", "postgres", "--connection", postgres_url)
    assert result.exit_code == 0, result.output
    paid, expected = json.loads(result.stdout), json.loads(on_files.stdout)
    assert paid["payouts"] == expected["payouts"] and paid["total"] == expected["total"]
    run_id = paid["run"]["id"]
    shown = json.loads(kpi("runs", "show", on_tables, run_id, "--format", "json").stdout)
    engine = shown["options"]["engine"]
    assert engine["name"] == "postgres" and engine["version"].split(".")[0].isdigit()
    assert engine["connection"] == postgres_url  # the fixture's URL has no password to remove
    assert f"--engine postgres --connection {postgres_url}" in shown["command"]
    text = kpi("runs", "show", on_tables, run_id).stdout
    assert f"PostgreSQL {engine['version']} at {postgres_url}" in text
    verified = kpi("runs", "verify", on_tables, run_id)  # recomputed on PostgreSQL, as recorded
    assert verified.exit_code == 0, verified.output
    assert "verified" in verified.stdout


def test_organization_engine_is_the_default_and_the_command_line_wins(on_tables: Path, postgres_url: str) -> None:
    organization = on_tables / "organization.yaml"
    original = organization.read_text(encoding="utf-8")
    try:
        organization.write_text(
            original.replace(
                "organization:\n", f"organization:\n  engine: {{name: postgres, connection: '{postgres_url}'}}\n", 1
            ),
            encoding="utf-8",
        )
        by_default = kpi("evaluate", on_tables, "--period", "2026-03", "--kpi", "csat", "--format", "csv")
        assert by_default.exit_code == 0, by_default.output
        on_duckdb = kpi("evaluate", on_tables, "--period", "2026-03", "--engine", "duckdb", "--format", "csv")
        assert on_duckdb.exit_code == 1  # DuckDB has no such tables: the command line won
        assert "support_cli" in on_duckdb.output
    finally:
        organization.write_text(original, encoding="utf-8")


def test_rows_on_postgres_are_the_rows_duckdb_lists(on_tables: Path, postgres_url: str) -> None:
    args = ("--kpi", "resolved_in_sla.critical", "--period", "2026", "--subject", "frontline", "--format", "json")
    on_files = json.loads(kpi("rows", SUPPORT, *args).stdout)
    result = kpi("rows", on_tables, *args, "--engine", "postgres", "--connection", postgres_url)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["total"] == on_files["total"] > 0
    key = sorted((r["ticket_id"], r["counted"]) for r in listed["rows"])
    assert key == sorted((r["ticket_id"], r["counted"]) for r in on_files["rows"])


def test_a_rolling_window_on_postgres_gives_duckdbs_values(postgres_url: str, support_with_window: Path) -> None:
    ws = support_with_window
    args = ("--kpi", "csat", "--period", "2026-Q2", "--grain", "month", "--format", "json")
    on_duckdb = json.loads(kpi("evaluate", ws, *args).stdout)["kpis"]
    _tables(postgres_url, load_workspace(ws), "support_window", "wall")
    sources = ws / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    for name in ("employees", "tickets"):
        text = text.replace(f"path: data/{name}.csv", f"table: support_window.{name}")
    sources.write_text(text, encoding="utf-8")
    on_postgres = kpi("evaluate", ws, *args, "--engine", "postgres", "--connection", postgres_url)
    assert on_postgres.exit_code == 0, on_postgres.output
    assert json.loads(on_postgres.stdout)["kpis"] == on_duckdb and len(on_duckdb) > 10
