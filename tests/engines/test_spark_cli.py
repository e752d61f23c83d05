"""The `kpi` commands on Spark (SPEC §12), through the real Typer app on the tests' local[2] session:
Spark reads the example's files itself, `bonus` pays what DuckDB pays, the ledger records Spark and
its version, and `runs verify` recomputes on Spark."""

from __future__ import annotations

import hashlib
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


def _on_spark_from_a_uri(ws: Path, uri: str, allowed: Path) -> None:
    """The support example as a Spark workspace whose tickets Spark reads from ``uri``."""
    sources = ws / "sources.yaml"
    sources.write_text(sources.read_text().replace("path: data/tickets.csv", f"path: {uri}"))
    org = ws / "organization.yaml"
    org.write_text(
        org.read_text().replace(
            "\n  timezone: Europe/Riga\n",
            f"\n  timezone: Europe/Riga\n  engine: {{name: spark, connection: '{MASTER}'}}\n"
            f"  allow_paths: ['{allowed.as_posix()}']\n",
            1,
        )
    )


@pytest.mark.usefixtures("spark_session")
def test_spark_reads_a_uri_source_hashes_its_files_and_verify_sees_them_change(tmp_path: Path) -> None:
    """A `path:` URI (SPEC §12: `s3a://`, `hdfs://`, …) is read, listed and hashed by Spark; `file://` is
    the one file system every machine has, and goes through the same Hadoop listing as any other."""
    expected = kpi("bonus", SUPPORT, "--format", "json")
    assert expected.exit_code == 0, expected.output
    ws = tmp_path / "support"
    shutil.copytree(SUPPORT, ws, ignore=shutil.ignore_patterns(".kpi"))
    _on_spark_from_a_uri(ws, f"file://{(ws / 'data').as_posix()}/ticket*.csv", ws / "data")
    assert kpi("validate", ws).exit_code == 0
    paid = kpi("bonus", ws, "--format", "json")
    assert paid.exit_code == 0, paid.output
    got, want = json.loads(paid.stdout), json.loads(expected.stdout)
    assert got["payouts"] == want["payouts"] and got["total"] == want["total"]
    assert got["rejects"] == want["rejects"]
    run_id = got["run"]["id"]
    shown = json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)
    (tickets,) = [d for d in shown["data"] if d["source"] == "tickets"]
    assert tickets["file"].startswith("file:") and tickets["file"].endswith("/data/tickets.csv")
    assert tickets["sha256"] == hashlib.sha256((ws / "data" / "tickets.csv").read_bytes()).hexdigest()
    assert kpi("runs", "verify", ws, run_id).exit_code == 0
    report = ("report", ws, "--period", "2026", "--grain", "quarter", "--format", "html", "--out", tmp_path / "r")
    assert kpi(*report).exit_code == 0  # one session for both evaluations; each run records the files it read
    reported = [r["id"] for r in json.loads(kpi("runs", "list", ws, "--format", "json").stdout)["runs"]][:2]
    for run in reported:
        (read,) = [
            d
            for d in json.loads(kpi("runs", "show", ws, run, "--format", "json").stdout)["data"]
            if d["source"] == "tickets"
        ]
        assert (read["file"], read["sha256"]) == (tickets["file"], tickets["sha256"]), run
    with (ws / "data" / "tickets.csv").open("a", encoding="utf-8") as more:
        more.write("\n")
    changed = kpi("runs", "verify", ws, run_id)
    assert changed.exit_code == 1 and "tickets.csv` changed since the run" in changed.output, changed.output
    on_duckdb = kpi("bonus", ws, "--engine", "duckdb")
    assert on_duckdb.exit_code == 1
    assert "sources.yaml:17:11: error[E132]" in on_duckdb.stderr and "--engine spark" in on_duckdb.stderr


def test_a_file_uri_leads_nowhere_a_path_may_not(tmp_path: Path) -> None:
    """A `file:` URI is a local path in disguise: it stays inside the workspace or an allowed folder."""
    ws = tmp_path / "support"
    shutil.copytree(SUPPORT, ws, ignore=shutil.ignore_patterns(".kpi"))
    _on_spark_from_a_uri(ws, "file:///etc/*.csv", ws / "data")
    refused = kpi("validate", ws)
    assert refused.exit_code == 1 and "sources.yaml:17:11: error[E131]" in refused.output, refused.output


@pytest.mark.usefixtures("spark_session")
def test_rows_on_spark_are_the_rows_duckdb_lists_with_their_file_lines() -> None:
    args = ("--kpi", "resolved_in_sla.critical", "--period", "2026", "--subject", "frontline", "--format", "json")
    on_duckdb = json.loads(kpi("rows", SUPPORT, *args).stdout)
    result = kpi("rows", SUPPORT, *args, "--engine", "spark", "--connection", MASTER)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["total"] == on_duckdb["total"] > 0
    key = [(r["ticket_id"], r["counted"], r["file"], r["line"]) for r in listed["rows"]]
    assert key == [(r["ticket_id"], r["counted"], r["file"], r["line"]) for r in on_duckdb["rows"]]


@pytest.mark.usefixtures("spark_session")
def test_a_rolling_window_on_spark_gives_duckdbs_values(support_with_window: Path) -> None:
    ws = support_with_window
    args = ("evaluate", ws, "--kpi", "csat", "--period", "2026-Q2", "--grain", "month", "--format", "json")
    on_duckdb = json.loads(kpi(*args).stdout)["kpis"]
    on_spark = kpi(*args, "--engine", "spark", "--connection", MASTER)
    assert on_spark.exit_code == 0, on_spark.output
    assert json.loads(on_spark.stdout)["kpis"] == on_duckdb and len(on_duckdb) > 10
