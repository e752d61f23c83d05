"""The `kpi` commands on Spark (SPEC §12), through the real Typer app on the tests' local[2] session:
Spark reads the example's files itself, `bonus` pays what DuckDB pays, the ledger records Spark and
its version, and `runs verify` recomputes on Spark."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from spark_session import MASTER, spark_missing, spark_session  # noqa: E402,F401

from kpi_engine.cli.main import app  # noqa: E402

runner = CliRunner()
SUPPORT = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support"


def kpi(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.usefixtures("spark_session")
def test_bonus_on_spark_pays_what_duckdb_pays_and_verifies_there(tmp_path: Path) -> None:
    ws = tmp_path / "support"
    shutil.copytree(SUPPORT, ws, ignore=shutil.ignore_patterns(".kpi"))
    on_duckdb = kpi("bonus", ws, "--format", "json")
    assert on_duckdb.exit_code == 0, on_duckdb.output
    on_spark = kpi("bonus", ws, "--format", "json", "--engine", "spark", "--connection", MASTER)
    assert on_spark.exit_code == 0, on_spark.output
    paid, expected = json.loads(on_spark.stdout), json.loads(on_duckdb.stdout)
    assert paid["payouts"] == expected["payouts"] and paid["total"] == expected["total"]
    assert paid["rejects"] == expected["rejects"]  # Spark read and checked the files itself
    run_id = paid["run"]["id"]
    shown = json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)
    assert shown["options"]["engine"]["name"] == "spark" and shown["options"]["engine"]["connection"] == MASTER
    assert shown["options"]["engine"]["version"][0].isdigit()
    verified = kpi("runs", "verify", ws, run_id)  # recomputed on Spark, as recorded
    assert verified.exit_code == 0, verified.output


def test_kpi_test_runs_on_spark_with_a_quiet_stderr() -> None:
    """The installed `kpi` as a process (its own JVM): Java's and Spark's start-up notices go to a log."""
    if spark_missing():
        pytest.skip(str(spark_missing()))
    kpi_command = Path(sys.executable).with_name("kpi")
    done = subprocess.run(
        [str(kpi_command), "test", str(SUPPORT), "--engine", "spark", "--connection", MASTER],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "incubator" not in done.stderr and "log level" not in done.stderr, done.stderr
