"""The audit ledger's storage: `.kpi/ledger.duckdb`, apart from the imported data.

Runs and approvals are entries of one hash chain (SPEC §13). Entry `seq` n stores `prev_hash`, the
hash of entry n-1 (sixty-four zeros for the first), and `hash` = sha256 of `prev_hash` followed by
the entry's canonical content: every stored column but `hash`, as stored, in canonical JSON. An
edited, deleted, inserted or reordered entry breaks the chain at that entry (audit/chain.py).
Re-importing, damaging or deleting `.kpi/warehouse.duckdb` never touches this file. The ledger is a
DuckDB file whatever engine evaluates (kpi_engine.execution): it is the workspace's record, not its data.

A run's results are rows of their own tables, `results_<name>` (`run_id`, `row`, then typed columns:
one row per KPI result, scorecard, scorecard item, goal or payout), written in the transaction that
appends the run. The run's entry keeps a small manifest in its `results` column and `results_hash`,
which covers every row (audit/hashing.py), so the chain covers the results through that hash and
reading, listing or extending the chain never reads a run's rows. Runs recorded before those tables
existed keep their whole results document in `results`, hashed as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from kpi_engine.data.connection import connect
from kpi_engine.errors import Code, KpiError, error

LEDGER_FILE = Path(".kpi") / "ledger.duckdb"
GENESIS = "0" * 64
IGNORE = "# kpi's workspace files: imported data (a cache) and the ledger (the audit record: back it up)\n*\n"
RUN_COLUMNS = (
    "seq",
    "id",
    "time",
    "kind",
    "command",
    "arguments",
    "engine_version",
    "duckdb_version",
    "version",
    "definitions_hash",
    "definitions",
    "data",
    "period",
    "options",
    "plan",
    "results",
    "results_hash",
    "user",
    "host",
    "prev_hash",
    "hash",
)
APPROVAL_COLUMNS = ("seq", "id", "run_id", "approved_by", "time", "note", "user", "host", "prev_hash", "hash")
_TABLES = {"runs": RUN_COLUMNS, "approvals": APPROVAL_COLUMNS}
_INTEGER = {"seq"}
_LARGE = ("definitions", "plan", "results")  # what listing runs does not read
_SQL_TYPES = {"text": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "texts": "VARCHAR[]"}
_JSON_TYPES = {"text": '["VARCHAR"]', "number": '["DOUBLE"]', "integer": '["BIGINT"]', "texts": '[["VARCHAR"]]'}
_NAME = re.compile(r"[a-z][a-z_]*")

ColumnSpec = tuple[tuple[str, str], ...]
"""A result table's columns: (name, kind), the kind one of text, number, integer, texts."""


@dataclass(frozen=True)
class ResultRows:
    """One result table of a run, to append: its columns and each column's values as a JSON array."""

    name: str
    columns: ColumnSpec
    rows: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class Approval:
    """One approval entry."""

    id: str
    run_id: str
    approved_by: str
    time: str
    note: str | None
    user: str
    host: str
    seq: int = 0
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True)
class RunRecord:
    """One run entry, with the approvals recorded for it."""

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
    data: tuple[Mapping[str, Any], ...]
    period: str | None
    options: Mapping[str, Any]
    plan: str | None
    results: Any
    results_hash: str
    user: str = ""
    host: str = ""
    seq: int = 0
    prev_hash: str = ""
    hash: str = ""
    approvals: tuple[Approval, ...] = field(default=())
    stored_definitions: str = ""
    stored_results: str = ""

    @property
    def columnar(self) -> bool:
        """Whether the run's results are rows of the result tables (else its `results` is the whole document)."""
        return isinstance(self.results, dict) and isinstance(self.results.get("layout"), str)

    @property
    def approved_by(self) -> str | None:
        """Who approved the run (the first approval), if anyone did."""
        return self.approvals[0].approved_by if self.approvals else None

    @property
    def approved_at(self) -> str | None:
        """When the run was approved (UTC), if it was."""
        return self.approvals[0].time if self.approvals else None

    @property
    def approval_note(self) -> str | None:
        """The approval's note, if any."""
        return self.approvals[0].note if self.approvals else None


@dataclass(frozen=True)
class Entry:
    """A ledger entry as stored: which table, and its columns."""

    table: str
    row: Mapping[str, Any]

    @property
    def kind(self) -> str:
        """Which table the entry is from: `run` or `approval`."""
        return "run" if self.table == "runs" else "approval"


@dataclass(frozen=True)
class Head:
    """The end of the chain: how many entries, and the last one's hash."""

    entries: int
    hash: str

    def line(self) -> str:
        """The head as printed after each append, to be kept and checked later with --head."""
        return f"ledger head: {self.entries} entr{'y' if self.entries == 1 else 'ies'}, {self.hash}"


def duckdb_version() -> str:
    """The DuckDB library version, recorded in every run."""
    return str(duckdb.__version__)


def entry_hash(table: str, row: Mapping[str, Any]) -> str:
    """sha256 of `prev_hash` followed by the canonical content of an entry (every column but `hash`)."""
    content = {k: v for k, v in row.items() if k != "hash"}
    content["entry"] = "run" if table == "runs" else "approval"
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((str(row.get("prev_hash")) + text).encode("utf-8")).hexdigest()


def ledger_path(root: Path) -> Path:
    """`.kpi/ledger.duckdb` of a workspace (beside the file for a single-file workspace)."""
    return (root.parent if root.is_file() else root) / LEDGER_FILE


@contextmanager
def _open(root: Path, write: bool) -> Iterator[duckdb.DuckDBPyConnection | None]:
    path = ledger_path(root)
    if not path.is_file():
        if not write and not _old_runs(root):
            yield None
            return
        write = True
    fresh = not path.is_file()
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text(IGNORE, encoding="utf-8")
    conn = _connect(path, read_only=not write)
    try:
        if write:
            for table, columns in _TABLES.items():
                body = ", ".join(f'"{c}" {"BIGINT" if c in _INTEGER else "VARCHAR"}' for c in columns)
                conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        _check_layout(conn, path)
        if fresh:
            try:
                _migrate(root, conn)
            except BaseException:
                conn.close()
                path.unlink()  # the file this call created, half filled: the next open migrates again
                raise
        yield conn
    finally:
        conn.close()


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return connect(str(path), read_only)
    except duckdb.IOException as exc:
        message = str(exc).splitlines()[0]
        if "lock" in message.lower():
            raise KpiError(
                [
                    error(
                        Code.WORKSPACE_LOCKED,
                        "the ledger is in use by another kpi process",
                        None,
                        "wait for it to finish (one process writes at a time), then retry",
                    )
                ]
            ) from None
        raise KpiError(
            [
                error(
                    Code.LEDGER_UNREADABLE,
                    f"cannot open the ledger `{path}`: {message}",
                    None,
                    "keep the file: it is the audit record; restore it from a backup or open it with "
                    "the DuckDB version that wrote it",
                )
            ]
        ) from None
    except duckdb.Error as exc:
        raise KpiError(
            [
                error(
                    Code.LEDGER_UNREADABLE,
                    f"cannot open the ledger `{path}`: {str(exc).splitlines()[0]}",
                    None,
                    "keep the file: it is the audit record; restore it from a backup",
                )
            ]
        ) from None


def _check_layout(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    for table, columns in _TABLES.items():
        found = tuple(
            c
            for (c,) in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
            ).fetchall()
        )
        if found != columns:
            raise KpiError(
                [
                    error(
                        Code.LEDGER_UNREADABLE,
                        f"the ledger `{path}` has no `{table}` table of this kpi-engine's layout",
                        None,
                        "keep the file for the record; it may come from another version of kpi-engine",
                    )
                ]
            )


def entries(root: Path) -> list[Entry]:
    """Every entry of the chain, in `seq` order (then table, for duplicated numbers)."""
    with _open(root, write=False) as conn:
        return [] if conn is None else _entries(conn)


def _entries(conn: duckdb.DuckDBPyConnection, small: bool = False) -> list[Entry]:
    """The entries with every column, or (`small`) without a run's definitions, plan and results."""
    out = []
    for table, every in _TABLES.items():
        columns = tuple(c for c in every if not (small and c in _LARGE))
        names = ", ".join(f'"{c}"' for c in columns)
        for row in conn.execute(f"SELECT {names} FROM {table}").fetchall():
            out.append(Entry(table, dict(zip(columns, row, strict=True))))
    out.sort(key=lambda e: (e.row["seq"] if e.row["seq"] is not None else -1, e.table))
    return out


_LAST = """SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM approvals), seq, hash
           FROM (SELECT seq, hash FROM runs UNION ALL SELECT seq, hash FROM approvals)
           ORDER BY seq DESC NULLS LAST LIMIT 1"""


def _append(
    conn: duckdb.DuckDBPyConnection, table: str, row: dict[str, Any], results: Sequence[ResultRows] = ()
) -> Head:
    """Append one entry after the current last one, with its result rows, in one transaction.

    Only the last entry's seq and hash are read.
    """
    conn.begin()
    try:
        for rows in results:
            _insert_results(conn, str(row["id"]), rows)
        last = conn.execute(_LAST).fetchall()
        count, seq, previous = last[0] if last else (0, 0, GENESIS)
        row["seq"] = int(seq or 0) + 1
        row["prev_hash"] = str(previous)
        row["hash"] = entry_hash(table, row)
        columns = _TABLES[table]
        conn.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", [row[c] for c in columns])
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return Head(int(count) + 1, row["hash"])


def _result_table(conn: duckdb.DuckDBPyConnection, name: str, columns: ColumnSpec, create: bool) -> str | None:
    """The table `results_<name>` (created when `create`); None when it does not exist; E520 when its layout differs."""
    if not _NAME.fullmatch(name) or any(not _NAME.fullmatch(c) or k not in _SQL_TYPES for c, k in columns):
        raise ValueError(f"not a result table: {name} {columns}")
    table = f"results_{name}"
    if create:
        body = ", ".join(f'"{c}" {_SQL_TYPES[k]}' for c, k in columns)
        conn.execute(f'CREATE TABLE IF NOT EXISTS {table} (run_id VARCHAR, "row" BIGINT, {body})')
    found = conn.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
    ).fetchall()
    if not found and not create:
        return None
    expected = [("run_id", "VARCHAR"), ("row", "BIGINT"), *((c, _SQL_TYPES[k]) for c, k in columns)]
    if [(str(c), str(t)) for c, t in found] != expected:
        raise KpiError(
            [
                error(
                    Code.LEDGER_UNREADABLE,
                    f"the ledger's `{table}` table is not of this kpi-engine's layout",
                    None,
                    "keep the file for the record; it may come from another version of kpi-engine",
                )
            ]
        )
    return table


def _insert_results(conn: duckdb.DuckDBPyConnection, run_id: str, rows: ResultRows) -> None:
    """A run's rows of one result table, loaded by DuckDB from the JSON arrays of its columns."""
    table = _result_table(conn, rows.name, rows.columns, create=True)
    cells = ", ".join(f"unnest(from_json(${i + 3}, '{_JSON_TYPES[k]}'))" for i, (_, k) in enumerate(rows.columns))
    conn.execute(f"INSERT INTO {table} SELECT $1, unnest(range($2)), {cells}", [run_id, rows.rows, *rows.values])


def read_results(root: Path, run_id: str, tables: Mapping[str, ColumnSpec]) -> dict[str, list[list[Any]]]:
    """One run's rows of each result table, as one list per column in row order (empty when none are stored)."""
    found: dict[str, list[list[Any]]] = {}
    with _open(root, write=False) as conn:
        for name, columns in tables.items():
            table = None if conn is None else _result_table(conn, name, columns, create=False)
            found[name] = [[] for _ in columns]
            if conn is not None and table is not None:
                # a column at a time, as lists: no row tuples to build and transpose
                lists = ", ".join(f'list("{c}" ORDER BY "row")' for c, _ in columns)
                row = conn.execute(f"SELECT {lists} FROM {table} WHERE run_id = ?", [run_id]).fetchone()
                found[name] = [list(values or []) for values in row or ()] or found[name]
    return found


def run_row(record: RunRecord) -> dict[str, Any]:
    """The stored form of a run (JSON text for the structured columns)."""
    return {
        "id": record.id,
        "time": record.time,
        "kind": record.kind,
        "command": record.command,
        "arguments": json.dumps(list(record.arguments)),
        "engine_version": record.engine_version,
        "duckdb_version": record.duckdb_version,
        "version": record.version,
        "definitions_hash": record.definitions_hash,
        "definitions": record.definitions,
        "data": json.dumps([dict(d) for d in record.data], sort_keys=True),
        "period": record.period,
        "options": json.dumps(dict(record.options), sort_keys=True),
        "plan": record.plan,
        "results": json.dumps(record.results, sort_keys=True),
        "results_hash": record.results_hash,
        "user": record.user,
        "host": record.host,
    }


def append_run(root: Path, record: RunRecord, results: Sequence[ResultRows] = ()) -> Head:
    """Append a run and its result rows to the ledger (creating the ledger file if needed); the new head."""
    with _open(root, write=True) as conn:
        assert conn is not None
        return _append(conn, "runs", run_row(record), results)


def append_approval(root: Path, approval: Approval) -> Head:
    """Append an approval entry; the new head."""
    row = {
        "id": approval.id,
        "run_id": approval.run_id,
        "approved_by": approval.approved_by,
        "time": approval.time,
        "note": approval.note,
        "user": approval.user,
        "host": approval.host,
    }
    with _open(root, write=True) as conn:
        assert conn is not None
        return _append(conn, "approvals", row)


def _loads(text: Any, default: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else default
    except ValueError:
        return default


def to_run(row: Mapping[str, Any], approvals: Sequence[Approval] = ()) -> RunRecord:
    """A stored run row as a record (unreadable JSON reads as empty: the chain check reports the entry)."""
    return RunRecord(
        str(row["id"]),
        str(row["time"]),
        str(row["kind"]),
        str(row["command"]),
        tuple(_loads(row["arguments"], [])),
        str(row["engine_version"]),
        str(row["duckdb_version"]),
        str(row["version"]),
        str(row["definitions_hash"]),
        str(row.get("definitions")),
        tuple(_loads(row["data"], [])),
        row["period"],
        _loads(row["options"], {}),
        row.get("plan"),
        _loads(row.get("results"), {}),
        str(row["results_hash"]),
        str(row["user"] or ""),
        str(row["host"] or ""),
        int(row["seq"] or 0),
        str(row["prev_hash"]),
        str(row["hash"]),
        tuple(approvals),
        str(row.get("definitions")),
        str(row.get("results")),
    )


def to_approval(row: Mapping[str, Any]) -> Approval:
    """A stored approval row as a record."""
    return Approval(
        str(row["id"]),
        str(row["run_id"]),
        str(row["approved_by"]),
        str(row["time"]),
        row["note"],
        str(row["user"] or ""),
        str(row["host"] or ""),
        int(row["seq"] or 0),
        str(row["prev_hash"]),
        str(row["hash"]),
    )


def list_runs(root: Path, timezone: str = "UTC") -> list[RunRecord]:
    """Every run with its approvals, newest first; without the runs' definitions, plans and results.

    :func:`get_run` reads those for one run.
    """
    with _open(root, write=False) as conn:
        found = [] if conn is None else _entries(conn, small=True)
    approvals: dict[str, list[Approval]] = {}
    for e in found:
        if e.table == "approvals":
            approvals.setdefault(str(e.row["run_id"]), []).append(to_approval(e.row))
    runs = [to_run(e.row, approvals.get(str(e.row["id"]), ())) for e in found if e.table == "runs"]
    return runs[::-1]


def get_run(root: Path, timezone: str, run_id: str) -> RunRecord:
    """One run by id (a unique prefix is enough), with everything its entry stores."""
    runs = list_runs(root)
    found = [r for r in runs if r.id.startswith(run_id)]
    if len(found) != 1:
        from kpi_engine.literal import literal

        known = [r.id for r in runs][:5]
        message = (
            f"no run `{literal(run_id)}` in the ledger"
            if not found
            else f"`{literal(run_id)}` matches {len(found)} runs"
        )
        raise KpiError(
            [
                error(
                    Code.UNKNOWN_REFERENCE,
                    message,
                    None,
                    "recent runs: " + ", ".join(literal(k) for k in known) if known else "no run has been recorded yet",
                )
            ]
        )
    return full_run(root, found[0])


def full_run(root: Path, run: RunRecord) -> RunRecord:
    """A run read by :func:`list_runs`, with its definitions, plan and results (manifest or document)."""
    with _open(root, write=False) as conn:
        assert conn is not None
        names = ", ".join(f'"{c}"' for c in RUN_COLUMNS)
        rows = conn.execute(
            f"SELECT {names} FROM runs WHERE id = ? AND seq IS NOT DISTINCT FROM ?", [run.id, run.seq or None]
        ).fetchall()
    return to_run(dict(zip(RUN_COLUMNS, rows[0], strict=True)), run.approvals) if rows else run


# --- runs kept in the workspace database by earlier versions ------------------------------------

_OLD_RUNS = (
    "id",
    "time",
    "kind",
    "command",
    "arguments",
    "engine_version",
    "duckdb_version",
    "version",
    "definitions_hash",
    "definitions",
    "data_hashes",
    "period",
    "options",
    "plan",
    "results",
    "results_hash",
)


def _warehouse_file(root: Path) -> Path:
    return (root.parent if root.is_file() else root) / ".kpi" / "warehouse.duckdb"


def _old_runs(root: Path) -> bool:
    """Whether `.kpi/warehouse.duckdb` holds a `runs` table written before the ledger had its own file."""
    path = _warehouse_file(root)
    if not path.is_file():
        return False
    try:
        with connect(str(path), True) as conn:
            found = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'").fetchall()
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():  # an import is running: the runs it may hold move over next time
            raise KpiError(
                [
                    error(
                        Code.WORKSPACE_LOCKED,
                        "the workspace database is in use by another kpi "
                        "process, and its runs must move into the new ledger first",
                        None,
                        "wait for it to finish, then retry",
                    )
                ]
            ) from None
        return False
    except duckdb.Error:
        return False
    return bool(found[0][0])


def _migrate(root: Path, conn: duckdb.DuckDBPyConnection) -> None:
    """Copy runs and approvals of an earlier version's warehouse into a new ledger, once, as chain entries.

    The copies are what was stored: user and host were not recorded then (`unknown`), nor per-file data
    hashes (`data` keeps the per-source hashes, with no file). The warehouse keeps its tables untouched.
    """
    if not _old_runs(root):
        return
    with connect(str(_warehouse_file(root)), True) as old:
        columns = tuple(
            c
            for (c,) in old.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'runs' ORDER BY column_index"
            ).fetchall()
        )
        if columns != _OLD_RUNS:
            return
        runs = old.execute(f"SELECT {', '.join(_OLD_RUNS)} FROM runs ORDER BY rowid").fetchall()
        tables = {t for (t,) in old.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        approvals = (
            old.execute("SELECT run_id, approved_by, time, note FROM approvals ORDER BY rowid").fetchall()
            if "approvals" in tables
            else []
        )
    for values in runs:
        row = dict(zip(_OLD_RUNS, values, strict=True))
        hashes = _loads(row.pop("data_hashes"), {})
        row["data"] = json.dumps(
            [{"source": s, "file": None, "sha256": h, "table_hash": None} for s, h in sorted(hashes.items())],
            sort_keys=True,
        )
        row |= {"user": "unknown", "host": "unknown"}
        _append(conn, "runs", row)
    for run_id, by, time, note in approvals:
        _append(
            conn,
            "approvals",
            {
                "id": f"{run_id}-approval",
                "run_id": run_id,
                "approved_by": by,
                "time": time,
                "note": note,
                "user": "unknown",
                "host": "unknown",
            },
        )
