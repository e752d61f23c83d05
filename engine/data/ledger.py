"""The audit ledger's storage: an append-only `runs` table and `approvals` table in the workspace database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpi_engine.data.warehouse import open_warehouse
from kpi_engine.errors import Code, KpiError, error

_RUNS = """CREATE TABLE IF NOT EXISTS runs (
    id VARCHAR PRIMARY KEY, time VARCHAR NOT NULL, kind VARCHAR NOT NULL, command VARCHAR NOT NULL,
    arguments VARCHAR NOT NULL, engine_version VARCHAR NOT NULL, duckdb_version VARCHAR NOT NULL,
    version VARCHAR NOT NULL, definitions_hash VARCHAR NOT NULL, definitions VARCHAR NOT NULL,
    data_hashes VARCHAR NOT NULL, period VARCHAR, options VARCHAR NOT NULL, plan VARCHAR,
    results VARCHAR NOT NULL, results_hash VARCHAR NOT NULL)"""
_APPROVALS = """CREATE TABLE IF NOT EXISTS approvals (
    run_id VARCHAR PRIMARY KEY, approved_by VARCHAR NOT NULL, time VARCHAR NOT NULL, note VARCHAR)"""
COLUMNS = ("id", "time", "kind", "command", "arguments", "engine_version", "duckdb_version", "version",
           "definitions_hash", "definitions", "data_hashes", "period", "options", "plan", "results", "results_hash")


@dataclass(frozen=True)
class RunRecord:
    """One ledger row."""

    id: str
    time: str
    kind: str
    command: str
    arguments: tuple[str, ...]
    engine_version: str
    duckdb_version: str
    version: str
    definitions_hash: str
    definitions: str
    data_hashes: Mapping[str, str]
    period: str | None
    options: Mapping[str, Any]
    plan: str | None
    results: Any
    results_hash: str
    approved_by: str | None = None
    approved_at: str | None = None
    approval_note: str | None = None


def duckdb_version() -> str:
    """The DuckDB library version, recorded in every run."""
    import duckdb

    return str(duckdb.__version__)


def _check_layout(conn: Any) -> None:
    found = [c for (c,) in conn.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'runs' "
                                        "ORDER BY column_index").fetchall()]
    if found and tuple(found) != COLUMNS:
        raise KpiError([error(Code.DATABASE, "the ledger in .kpi/warehouse.duckdb was written by another version "
                              "of kpi-engine", None, "keep that database for the record, move it aside, and "
                              "import again")])


def append_run(root: Path, timezone: str, record: RunRecord) -> None:
    """Append a run to the ledger (creating the workspace database if needed)."""
    with open_warehouse(root, timezone) as wh:
        _check_layout(wh.conn)
        wh.conn.execute(_RUNS)
        wh.conn.execute(_APPROVALS)
        values = [record.id, record.time, record.kind, record.command, json.dumps(list(record.arguments)),
                  record.engine_version, record.duckdb_version, record.version, record.definitions_hash,
                  record.definitions, json.dumps(dict(record.data_hashes), sort_keys=True), record.period,
                  json.dumps(dict(record.options), sort_keys=True), record.plan,
                  json.dumps(record.results, sort_keys=True), record.results_hash]
        wh.conn.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(values))})", values)


def _from_row(row: Sequence[Any]) -> RunRecord:
    data = dict(zip([*COLUMNS, "approved_by", "approved_at", "approval_note"], row, strict=True))
    return RunRecord(
        data["id"], data["time"], data["kind"], data["command"], tuple(json.loads(data["arguments"])),
        data["engine_version"], data["duckdb_version"], data["version"], data["definitions_hash"],
        data["definitions"], json.loads(data["data_hashes"]), data["period"], json.loads(data["options"]),
        data["plan"],
        json.loads(data["results"]), data["results_hash"], data["approved_by"], data["approved_at"],
        data["approval_note"])


def _query(root: Path, timezone: str, where: str = "", params: Sequence[object] = ()) -> list[RunRecord]:
    path = root / ".kpi" / "warehouse.duckdb"
    if not path.is_file():
        return []
    with open_warehouse(root, timezone, read_only=True) as wh:
        tables = {t for (t,) in wh.conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "runs" not in tables:
            return []
        _check_layout(wh.conn)
        rows = wh.conn.execute(
            f"SELECT {', '.join('r.' + c for c in COLUMNS)}, a.approved_by, a.time, a.note FROM runs r "
            f"LEFT JOIN approvals a ON a.run_id = r.id {where} ORDER BY r.rowid DESC",
            list(params)).fetchall()
    return [_from_row(r) for r in rows]


def list_runs(root: Path, timezone: str) -> list[RunRecord]:
    """Every run, newest first."""
    return _query(root, timezone)


def get_run(root: Path, timezone: str, run_id: str) -> RunRecord:
    """One run by id (a unique prefix is enough)."""
    found = _query(root, timezone, "WHERE starts_with(r.id, ?)", [run_id])
    if len(found) != 1:
        known = [r.id for r in list_runs(root, timezone)][:5]
        message = f"no run `{run_id}` in the ledger" if not found else f"`{run_id}` matches {len(found)} runs"
        raise KpiError([error(Code.UNKNOWN_REFERENCE, message, None,
                              "recent runs: " + ", ".join(known) if known else "no run has been recorded yet")])
    return found[0]


def approve_run(root: Path, timezone: str, run_id: str, by: str, time: str, note: str | None) -> RunRecord:
    """Mark a bonus run approved, once; approvals are append-only."""
    run = get_run(root, timezone, run_id)
    if run.kind != "bonus":
        raise KpiError([error(Code.BAD_VALUE, f"run `{run.id}` is an {run.kind} run; only bonus runs are approved",
                              None, "approve the `kpi bonus` run that HR pays from")])
    if run.approved_by is not None:
        raise KpiError([error(Code.BAD_VALUE, f"run `{run.id}` was already approved by {run.approved_by} at "
                              f"{run.approved_at}", None, "approvals cannot be changed; record a new run")])
    with open_warehouse(root, timezone) as wh:
        wh.conn.execute(_APPROVALS)
        wh.conn.execute("INSERT INTO approvals VALUES (?, ?, ?, ?)", [run.id, by, time, note])
    return get_run(root, timezone, run.id)
