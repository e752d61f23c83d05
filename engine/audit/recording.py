"""Recording runs in the ledger: what was computed, from which definitions and data, by which engine."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi_engine import __version__
from kpi_engine.audit.hashing import canonical_definitions, definitions_hash, results_hash
from kpi_engine.config import model as m
from kpi_engine.config.paths import is_uri
from kpi_engine.data.files import file_sha256, source_files
from kpi_engine.data.ledger import Head, ResultRows, RunRecord, append_run, duckdb_version, read_results
from kpi_engine.data.state import read_table_hashes
from kpi_engine.documents import LAYOUT, SCHEMA, Results, Table, stored_number

if TYPE_CHECKING:
    from kpi_engine.evaluation import Evaluation
    from kpi_engine.pay import BonusRun

ENGINE_VERSION = __version__


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: UTC time plus random hex."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunHeader:
    """The `run` block printed with every result."""

    id: str
    time: str
    definitions_hash: str
    version: str
    period: str | None
    head: Head | None = field(default=None, compare=False)

    def block(self) -> dict[str, Any]:
        """The `run` block of the JSON outputs (SPEC §7.2)."""
        return {
            "id": self.id,
            "time": self.time,
            "definitions_hash": self.definitions_hash,
            "version": self.version,
            "period": self.period,
        }


def stored_definitions(ws: m.Workspace) -> str:
    """What the ledger keeps to recompute a run.

    The canonical definitions, and where each source's relative paths start (relative to the
    workspace root).
    """
    import os

    dirs = {sid: os.path.relpath(s.base_dir, ws.root) for sid, s in sorted(ws.sources.items())}
    return json.dumps({"definitions": json.loads(canonical_definitions(ws)), "source_dirs": dirs}, sort_keys=True)


def utc_timestamp(now: datetime) -> str:
    """How the ledger writes a time: UTC to the second, ISO 8601 with a Z."""
    return now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def os_identity() -> tuple[str, str]:
    """The operating-system user and host, recorded with every run and approval (`unknown` when unavailable)."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):
        user = ""
    try:
        host = socket.gethostname()
    except OSError:
        host = ""
    return user or "unknown", host or "unknown"


def run_data(
    ws: m.Workspace, live: bool = False, read: Mapping[str, Sequence[tuple[str, str]]] | None = None
) -> list[dict[str, Any]]:
    """The data a run reads, one row per file; a `table:` source is one row with no file.

    Each row: {source, file, sha256 (as `sha256sum` prints it), table_hash (of the imported table
    the run reads, null when it reads the files)}. A URI's files (read by Spark) are those the run's
    session listed and hashed, ``read``; a URI source it did not read is one row with no file.
    """
    tables = read_table_hashes(ws.root, ws.organization.timezone, ws.sources, live)
    out: list[dict[str, Any]] = []
    for source_id, source in sorted(ws.sources.items()):
        if source.path is None:
            out.append({"source": source_id, "file": None, "sha256": None, "table_hash": tables.get(source_id)})
            continue
        if is_uri(source.path):
            listed = (read or {}).get(source_id)
            if not listed:
                out.append({"source": source_id, "file": None, "sha256": None, "table_hash": None})
            out += [{"source": source_id, "file": f, "sha256": sha, "table_hash": None} for f, sha in listed or ()]
            continue
        out += [
            {
                "source": source_id,
                "file": f.label,
                "sha256": file_sha256(f.path)[0],
                "table_hash": tables.get(source_id),
            }
            for f in source_files(source)
        ]
    return out


def manifest(results: Results) -> dict[str, Any]:
    """What a run's entry keeps of its results beside `results_hash`: the layout, the fields, rows per table."""
    return {"layout": LAYOUT, "fields": results.fields, "rows": {n: len(t) for n, t in results.tables.items()}}


def record(
    ws: m.Workspace,
    period: str | None,
    arguments: Sequence[str],
    results: Results,
    options: Mapping[str, Any],
    plan: str | None = None,
    read: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> RunHeader:
    """Append a run and its result rows to the workspace ledger; its header (with the ledger's new head).

    Each column is written as JSON text once: the results hash covers that text and the ledger loads
    the rows from it.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    run_id = new_run_id(now)
    user, host = os_identity()
    rows = [ResultRows(name, table.columns, len(table), table.json) for name, table in results.tables.items()]
    head = append_run(
        ws.root,
        RunRecord(
            run_id,
            utc_timestamp(now),
            results.kind,
            "kpi " + results.kind,
            tuple(arguments),
            ENGINE_VERSION,
            duckdb_version(),
            ws.organization.version,
            definitions_hash(ws),
            stored_definitions(ws),
            tuple(run_data(ws, read=read)),
            period,
            options,
            plan,
            manifest(results),
            results_hash(results),
            user,
            host,
        ),
        rows,
    )
    return RunHeader(run_id, utc_timestamp(now), definitions_hash(ws), ws.organization.version, period, head)


def record_evaluation(
    ws: m.Workspace, result: Evaluation, results: Results, arguments: Sequence[str], options: Mapping[str, Any]
) -> RunHeader:
    """Record an evaluate run: its results (:func:`kpi_engine.documents.evaluation_results`) and its plan."""
    ran = with_engine(options, result.engine)
    return record(ws, result.period.label, arguments, results, ran, result.plan.explain(), result.read)


def record_bonus(
    ws: m.Workspace, run: BonusRun, results: Results, arguments: Sequence[str], options: Mapping[str, Any]
) -> RunHeader:
    """Record a bonus run: its results (:func:`kpi_engine.documents.bonus_results`) and its evaluation's plan."""
    ran = with_engine(options, run.evaluation.engine)
    return record(ws, run.period.label, arguments, results, ran, run.evaluation.plan.explain(), run.evaluation.read)


def with_engine(options: Mapping[str, Any], engine: Mapping[str, str | None]) -> dict[str, Any]:
    """A run's options as recorded: a run on DuckDB as before; on another engine, with `engine` added.

    `engine` is the name, version and connection (without secrets) of the session the run used.
    Runs on DuckDB keep their options unchanged: their engine is DuckDB at the entry's `duckdb_version`.
    """
    kept = {k: v for k, v in options.items() if k not in ("engine", "connection")}  # the command line's words
    if not engine or engine.get("name") == "duckdb":
        return kept
    return {**kept, "engine": dict(engine)}


def stored_results(root: Path, run: RunRecord) -> Results | dict[str, Any]:
    """A run's results as the ledger holds them: its rows read back as tables, or an older run's document.

    The `number` columns come back as :func:`kpi_engine.documents.number` gave them. A run of an
    unknown kind has no tables.
    """
    if not run.columnar:
        return run.results if isinstance(run.results, dict) else {}
    schema = SCHEMA.get(run.kind, {})
    found = read_results(root, run.id, schema)
    tables = {}
    for name, columns in schema.items():
        data = [
            [stored_number(v) for v in values] if kind == "number" else values
            for (_, kind), values in zip(columns, found[name], strict=True)
        ]
        tables[name] = Table(name, columns, tuple(data))
    fields = run.results.get("fields")
    return Results(run.kind, fields if isinstance(fields, dict) else {}, tables)
