"""The workspace database (`.kpi/warehouse.duckdb`) or an in-memory one: opening, importing, locking down.

One process writes at a time (DuckDB's file lock); a second writer gets a clean error naming the
PID that holds it. Each source is imported in one transaction that replaces its previous
content; an unchanged file set (same content hashes, same declaration) is not read again. A
writing connection has a memory limit (`KPI_MEMORY_LIMIT`, else a quarter of the machine's memory,
at most 2 GiB) and spills what does not fit to `.kpi/spill/`, bounded to half the free disk space
and removed when the connection closes: an import streams instead of holding the data in memory.
After the sources are in, `lock_down` cuts DuckDB off from files, the network and extension
downloads, so a formula can read nothing but the tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from types import TracebackType

import duckdb
from sqlglot import exp

from kpi_engine.config.model import Source
from kpi_engine.data.connection import connect
from kpi_engine.data.files import file_sha256, source_files, source_hashes
from kpi_engine.data.reader import (
    DUCKDB,
    FileLoad,
    drop_relation,
    drop_work_tables,
    publish,
    read_source,
    sample_rejects,
)
from kpi_engine.data.report import FileReport, ImportFailed, ImportReport, Progress, ProgressCallback, SourceReport
from kpi_engine.errors import Code, Diagnostic, KpiError, did_you_mean, error, warning
from kpi_engine.execution import FailureKind, QueryFailed
from kpi_engine.literal import literal
from kpi_engine.sql.render import to_sql

__all__ = ["Warehouse", "open_warehouse", "open_memory", "import_sources", "lock_down", "source_hashes", "table_hash"]

# Bump when the importer's output for the same file changes, so existing imports are redone.
IMPORT_FORMAT = "2"
WAREHOUSE_FILE = Path(".kpi") / "warehouse.duckdb"
SPILL_DIR = Path(".kpi") / "spill"  # where a writing connection spills (removed when it closes)
MEMORY_LIMIT_VARIABLE = "KPI_MEMORY_LIMIT"  # e.g. 4GB; default: a quarter of memory, at most 2 GiB
_MEMORY_CAP = 2 * 2**30  # an import streams: more memory than this barely speeds it up
RESERVED_TABLES = ("rejects", "runs", "approvals")
_LOCKDOWN = (
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",
)
_TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"
# The failures a query's data can cause, as the engine-neutral kinds evaluation classifies.
_FAILURES: tuple[tuple[type[duckdb.Error], FailureKind], ...] = (
    (duckdb.OutOfRangeException, "out_of_range"),
    (duckdb.ConversionException, "conversion"),
)


class Warehouse:
    """A DuckDB connection set to the organization's time zone; the only door to the data.

    The DuckDB :class:`~kpi_engine.execution.Engine`: evaluation runs sqlglot queries on it with
    :meth:`run`; :meth:`fetch` takes SQL text and is for this package's own queries.
    """

    name = "duckdb"
    dialect = DUCKDB

    @property
    def version(self) -> str:
        """DuckDB's version, as `duckdb.__version__` gives it."""
        return str(duckdb.__version__)

    @property
    def connection(self) -> str | None:
        """None: DuckDB runs embedded on the workspace's own database or files, with no connection."""
        return None

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: Path | None, timezone: str, read_only: bool) -> None:
        self.conn = conn
        self.path = path
        self.timezone = timezone
        self.read_only = read_only
        self.locked = False
        self.spill: Path | None = None  # the folder DuckDB spills to, removed on close
        # an in-memory database: imports need no transaction, and tables keep no content hash
        self.in_memory = path is None and _in_memory(conn)

    def run(self, query: exp.Expression) -> list[tuple[object, ...]]:
        """Rows of a sqlglot query, as :meth:`fetch` gives them; DuckDB's errors raised as QueryFailed."""
        sql = to_sql(query, self.dialect)
        try:
            return self.fetch(sql)
        except duckdb.InterruptException:
            raise
        except duckdb.Error as exc:
            kind: FailureKind = next((k for t, k in _FAILURES if isinstance(exc, t)), "other")
            raise QueryFailed(kind, str(exc)) from exc

    def fetch(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[object, ...]]:
        """Rows of a query, with TIMESTAMPTZ values as ISO text in the organization's zone (no pytz)."""
        relation = self.conn.query(sql, params=list(params) if params is not None else None)
        if any(_TIMESTAMPTZ in str(t) for t in relation.types):
            items = []
            for name, kind in zip(relation.columns, relation.types, strict=True):
                column: exp.Expr = exp.column(name, quoted=True)
                if _TIMESTAMPTZ in str(kind):
                    column = exp.cast(column, "VARCHAR")
                items.append(to_sql(column.as_(name, quoted=True), DUCKDB))
            relation = relation.project(", ".join(items))
        return relation.fetchall()

    def register_sources(
        self,
        sources: Mapping[str, Source],
        only: Sequence[str] | None = None,
        max_rejects: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Import sources into this database: :func:`import_sources`."""
        return import_sources(self, sources, only, max_rejects, progress)

    def relations(self, views: bool = False) -> set[str]:
        """The tables (with ``views``: and the views) of the main schema, by name."""
        return relations(self.conn, views)

    def seal(self) -> None:
        """No more sources: the session can read nothing but its tables (:func:`lock_down`)."""
        lock_down(self)

    def close(self) -> None:
        """Close the connection (and release the file lock); remove what it spilled to disk."""
        self.conn.close()
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def open_warehouse(root: Path, timezone: str, read_only: bool = False) -> Warehouse:
    """Open `.kpi/warehouse.duckdb` under a workspace root (created when writing)."""
    root = root.parent if root.is_file() else root
    path = root / WAREHOUSE_FILE
    if read_only and not path.is_file():
        raise KpiError(
            [
                error(
                    Code.DATABASE,
                    f"no workspace database at `{path}`",
                    None,
                    "run `kpi import` first, or evaluate without it (the files are read directly)",
                )
            ]
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            from kpi_engine.data.ledger import IGNORE

            ignore.write_text(IGNORE, encoding="utf-8")
    conn = _connect(str(path), read_only)
    warehouse = _prepare(Warehouse(conn, path, timezone, read_only))
    if not read_only:
        _limit_memory(warehouse, path.parent / SPILL_DIR.name)
    return warehouse


def _limit_memory(warehouse: Warehouse, spill: Path) -> None:
    """Give a writing connection a memory limit and a bounded folder under .kpi/ to spill to.

    Holding the lock, this process alone writes there: files left by one that did not close go first.
    """
    chosen = os.environ.get(MEMORY_LIMIT_VARIABLE, "").strip()
    shutil.rmtree(spill, ignore_errors=True)
    settings = {
        "memory_limit": chosen or f"{min(_physical_memory() // 4, _MEMORY_CAP)}B",
        "temp_directory": str(spill),
        "max_temp_directory_size": f"{shutil.disk_usage(spill.parent).free // 2}B",
    }
    try:
        for name, value in settings.items():
            warehouse.conn.execute(f"SET {name} = {to_sql(exp.Literal.string(value), DUCKDB)}")
    except duckdb.Error as exc:
        warehouse.conn.close()
        raise KpiError(
            [
                error(
                    Code.BAD_VALUE,
                    f"{MEMORY_LIMIT_VARIABLE}={chosen!r} is not a memory size: {str(exc).splitlines()[0]}",
                    None,
                    "write it like 4GB, 512MB or 2GiB, or unset it for the default",
                )
            ]
        ) from None
    warehouse.spill = spill


def _physical_memory() -> int:
    """The machine's memory in bytes, or the container's limit when lower (cgroup v2); the cap if unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows)
        return 4 * _MEMORY_CAP
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def open_memory(timezone: str, connection: str | None = None) -> Warehouse:
    """An in-memory database for evaluating without an import: the same checks, nothing kept.

    DuckDB takes no connection (its database is the workspace's own); one given is a usage error.
    """
    if connection is not None:
        raise KpiError(
            [
                error(
                    Code.USAGE,
                    f"--connection `{literal(connection)}` is not used by the duckdb engine",
                    None,
                    "DuckDB runs embedded on the workspace's own data; drop --connection, or choose "
                    "--engine spark or --engine postgres",
                )
            ]
        )
    return _prepare(Warehouse(_connect(":memory:", False), None, timezone, False))


def import_sources(
    target: Warehouse | duckdb.DuckDBPyConnection,
    sources: Mapping[str, Source],
    only: Sequence[str] | None = None,
    max_rejects: int | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Load sources (all, or `only` these), one transaction per source; raise ImportFailed on file errors.

    A source whose rejects exceed `max_rejects` loads nothing (it keeps its previous content).
    """
    warehouse = _warehouse(target)
    if warehouse.read_only or warehouse.locked:
        state = "read-only" if warehouse.read_only else "locked down"
        raise KpiError([error(Code.DATABASE, f"cannot import into a {state} database")])
    problems: list[Diagnostic] = []
    notes: list[Diagnostic] = []
    reports: list[SourceReport] = []
    selected = _selected(sources, only)
    sizes = {s: _bytes(sources[s]) for s in selected} if progress else {}
    offset = 0
    for source_id in selected:
        source = sources[source_id]
        try:
            if source.path is None:
                report = _attach_table(warehouse, source)
            else:
                report = _import_source(warehouse, source, max_rejects, _shifted(progress, offset, sum(sizes.values())))
        except KpiError as exc:
            problems += exc.diagnostics
            continue
        finally:
            offset += sizes.get(source_id, 0)
        notes += report.diagnostics
        reports.append(report)
    result = ImportReport(tuple(reports), max_rejects, tuple(notes + problems))
    if problems:
        raise ImportFailed(tuple(problems), result)
    return result


def _bytes(source: Source) -> int:
    """The size of a source's files, for progress (0 when they cannot be listed: the import says why)."""
    try:
        return sum(f.path.stat().st_size for f in source_files(source))
    except (KpiError, OSError):
        return 0


def _shifted(progress: ProgressCallback | None, offset: int, total: int) -> ProgressCallback | None:
    """A source's progress events counted in the bytes of the whole import."""
    if progress is None:
        return None

    def shifted(event: Progress) -> None:
        progress(replace(event, done=offset + event.done, total=total))

    return shifted


def lock_down(target: Warehouse | duckdb.DuckDBPyConnection) -> None:
    """Cut DuckDB off from files, network and extensions, lock the settings, and prove it."""
    conn = target.conn if isinstance(target, Warehouse) else target
    ((locked,),) = conn.execute("SELECT current_setting('lock_configuration')").fetchall()
    if not locked:
        for statement in _LOCKDOWN:
            conn.execute(statement)
    canary = str(Path(__file__).resolve())
    try:
        conn.execute("SELECT count(*) FROM read_text(?)", [canary]).fetchall()
    except duckdb.PermissionException:
        pass
    else:
        raise RuntimeError("DuckDB could still read files after lock_down")
    if isinstance(target, Warehouse):
        target.locked = True


def _import_source(
    warehouse: Warehouse, source: Source, max_rejects: int | None, progress: ProgressCallback | None
) -> SourceReport:
    conn = warehouse.conn
    _check_name(source)
    files = source_files(source)
    hashed = [(f, *file_sha256(f.path)) for f in files]
    declaration = _declaration(source, warehouse.timezone)
    in_memory = warehouse.in_memory
    unchanged = _unchanged(conn, source.id, [(f.label, sha) for f, sha, _ in hashed], declaration, not in_memory)
    if unchanged is not None:
        if progress:
            progress(Progress(source.id, "unchanged", done=sum(size for *_, size in hashed)))
        return _unchanged_report(source.id, unchanged, max_rejects)
    with _importing(warehouse, source.id):
        load = read_source(conn, source, warehouse.timezone, hashed, progress, in_memory=in_memory)
        sample = sample_rejects(conn, source.id)
        over = max_rejects is not None and load.rejected > max_rejects
        if not over:  # else nothing is written: the source keeps its previous table and rejects
            publish(conn, load)
            # The content hash is for runs and `kpi runs verify`, which read the workspace database only.
            _record(conn, source.id, load.files, declaration, None if in_memory else table_hash(conn, source.id))
    # Over the limit, `loaded` still counts the rows that passed (so rows == loaded + rejected holds);
    # the status says none of them was written.
    reports = tuple(
        FileReport(f.file.label, f.sha256, f.size, f.file.format, f.rows, f.loaded, f.rejected, f.lines, f.swallowed)
        for f in load.files
    )
    notes = tuple(
        warning(
            Code.DATA_EMPTY,
            f"source `{source.id}`: `{f.file.label}` has no data rows",
            f.file.span(),
            "a quiet period, or a failed export? check the file",
        )
        for f in load.files
        if f.rows == 0
    )
    if over:
        notes += (
            error(
                Code.DATA_REJECTS,
                f"source `{source.id}`: {load.rejected} rejected rows, more than "
                f"--max-rejects {max_rejects}; nothing was loaded for it",
                None,
                "see the rejected rows, fix the files, and import again",
            ),
        )
    if progress:
        progress(
            Progress(
                source.id,
                "over_limit" if over else "loaded",
                rows=sum(f.loaded for f in load.files),
                done=sum(size for *_, size in hashed),
            )
        )
    return SourceReport(source.id, "over_limit" if over else "loaded", reports, sample, notes)


def _unchanged_report(source_id: str, unchanged: tuple[FileReport, ...], max_rejects: int | None) -> SourceReport:
    """A source whose files were imported as they are: nothing read, its last import's numbers."""
    rejected = sum(f.rejected for f in unchanged)
    if max_rejects is None or rejected <= max_rejects:
        return SourceReport(source_id, "unchanged", unchanged)
    # The data in place came from files with that many rejects: the limit holds for it too.
    return SourceReport(
        source_id,
        "over_limit",
        unchanged,
        (),
        (
            error(
                Code.DATA_REJECTS,
                f"source `{source_id}`: its unchanged files had {rejected} rejected rows at "
                f"their import, more than --max-rejects {max_rejects}",
                None,
                "see the rejected rows (table `rejects`), fix the files, and import again",
            ),
        ),
    )


@contextmanager
def _importing(warehouse: Warehouse, source_id: str) -> Iterator[None]:
    """One source's import: a transaction in the workspace database, its work tables dropped after.

    In memory there is no transaction: nothing outlives the process, and a transaction would make
    DuckDB rewrite the table at commit for the rejected rows deleted in place; on failure the work
    tables are simply dropped. DuckDB running out of memory, spill space or disk becomes a diagnostic.
    """
    conn, in_memory = warehouse.conn, warehouse.in_memory
    if not in_memory:
        conn.begin()
    try:
        yield
        if not in_memory:
            conn.commit()
    except (duckdb.OutOfMemoryException, duckdb.IOException) as exc:
        if not in_memory:
            conn.rollback()
        raise KpiError([_out_of_resources(source_id, exc)]) from None
    except BaseException:
        if not in_memory:
            conn.rollback()
        raise
    finally:
        drop_work_tables(conn)


def _out_of_resources(source_id: str, exc: duckdb.Error) -> Diagnostic:
    """What to do when DuckDB could not get the memory, spill space or disk an import needed."""
    detail = str(exc).splitlines()[0]
    if isinstance(exc, duckdb.OutOfMemoryException):
        return error(
            Code.DATABASE,
            f"source `{source_id}`: DuckDB ran out of memory or of spill space: {detail}",
            None,
            f"set {MEMORY_LIMIT_VARIABLE} higher (e.g. 8GB), or free disk space for .kpi/{SPILL_DIR.name}/",
        )
    return error(
        Code.DATABASE,
        f"source `{source_id}`: DuckDB could not read or write a file: {detail}",
        None,
        "check the free disk space for .kpi/ and that the source's files are still there and readable",
    )


def _attach_table(warehouse: Warehouse, source: Source) -> SourceReport:
    """A `table:` source: check the table is there with the declared columns; expose it under the id."""
    conn, table = warehouse.conn, source.table or source.id
    _check_name(source)
    found = conn.execute(
        """SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main'
                            AND table_name = ? ORDER BY column_index""",
        [table],
    ).fetchall()
    if not found:
        where = "the workspace database" if warehouse.path else "memory (tables exist only in the workspace database)"
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"source `{source.id}` reads table `{table}`, which is not in {where}",
                    None,
                    "load the table into .kpi/warehouse.duckdb, or declare a `path:`",
                )
            ]
        )
    names = [name for (name,) in found]
    missing = [c for c in source.columns if c not in names]
    if missing:
        raise KpiError(
            [
                error(
                    Code.DATA_COLUMN,
                    f"table `{table}` lacks declared column"
                    f"{'s' if len(missing) > 1 else ''} "
                    + ", ".join(f"`{m}`" for m in missing)
                    + "; it has: "
                    + ", ".join(names),
                )
            ]
        )
    if table != source.id:
        view = to_sql(exp.to_identifier(source.id, quoted=True), DUCKDB)
        body = to_sql(exp.to_identifier(table, quoted=True), DUCKDB)
        conn.begin()
        try:
            drop_relation(conn, source.id)
            conn.execute(f"CREATE VIEW main.{view} AS SELECT * FROM main.{body}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return SourceReport(source.id, "table")


def _unchanged(
    conn: duckdb.DuckDBPyConnection, source_id: str, files: list[tuple[str, str]], declaration: str, hashed: bool
) -> tuple[FileReport, ...] | None:
    """The stored reports when the last import read exactly these files under this declaration.

    `hashed`: the import must also have stored its table's content hash (not kept in memory).
    """
    rows = conn.execute(
        """SELECT file, sha256, size, format, rows, loaded, rejected, lines, swallowed, declaration,
                           table_hash FROM _imports WHERE source = ? ORDER BY file_no""",
        [source_id],
    ).fetchall()
    if not rows or [(r[0], r[1]) for r in rows] != files or any(r[9] != declaration for r in rows):
        return None
    if hashed and any(r[10] is None for r in rows):
        return None
    if source_id not in relations(conn):
        return None
    return tuple(FileReport(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], skipped=True) for r in rows)


def _record(
    conn: duckdb.DuckDBPyConnection,
    source_id: str,
    files: Sequence[FileLoad],
    declaration: str,
    content_hash: str | None,
) -> None:
    conn.execute("DELETE FROM _imports WHERE source = ?", [source_id])
    for f in files:
        conn.execute(
            """INSERT INTO _imports (source, file_no, file, sha256, size, format, rows, loaded, rejected,
                        lines, swallowed, declaration, imported_at, table_hash)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)""",
            [
                source_id,
                f.file.number,
                f.file.label,
                f.sha256,
                f.size,
                f.file.format,
                f.rows,
                f.loaded,
                f.rejected,
                f.lines,
                f.swallowed,
                declaration,
                content_hash,
            ],
        )


def relations(conn: duckdb.DuckDBPyConnection, views: bool = False) -> set[str]:
    """The tables (with `views`: and the views) of the database's main schema, by name."""
    query = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
    if views:
        query += " UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal"
    return {str(name) for (name,) in conn.execute(query).fetchall()}


def table_hash(conn: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """A content hash of a table, independent of row order; None when there is no such table.

    sha256 over the row count and the sums of two 64-bit hashes of every row (DuckDB's `hash`, plain
    and salted). It is a consistency check, 30 times faster than serialising every row for sha256:
    it catches an edited, added or removed row, not a collision crafted on purpose, and it is tied
    to the DuckDB version (which every run records). Files are hashed with sha256 themselves.
    """
    if table not in relations(conn):
        return None
    row = exp.column("t")
    sums = [
        exp.func("sum", exp.cast(exp.func("hash", *args), "HUGEINT"))
        for args in ((row,), (row, exp.Literal.string("kpi-engine")))
    ]
    query = exp.select(exp.func("count", exp.Star()), *sums).from_(
        exp.Table(this=exp.to_identifier(table, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("t")))
    )
    (found,) = conn.execute(to_sql(query, DUCKDB)).fetchall()
    return hashlib.sha256(":".join(str(v or 0) for v in found).encode()).hexdigest()


def _declaration(source: Source, timezone: str) -> str:
    """A hash of everything that shapes an import of the same files: columns, options, zone, importer."""
    columns = [
        [
            c.name,
            c.type,
            c.required,
            list(c.values) if c.values is not None else None,
            None if c.min is None else str(c.min),
            None if c.max is None else str(c.max),
        ]
        + ([str(c.above)] if c.above is not None else [])
        for c in source.columns.values()
    ]
    text = json.dumps(
        {
            "format": IMPORT_FORMAT,
            "timezone": timezone,
            "key": source.key,
            "columns": columns,
            "csv": asdict(source.csv),
            "sheet": source.sheet,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _selected(sources: Mapping[str, Source], only: Sequence[str] | None) -> list[str]:
    if only is None:
        return list(sources)
    unknown = [name for name in only if name not in sources]
    if unknown:
        raise KpiError(
            [
                error(
                    Code.UNKNOWN_REFERENCE,
                    f"unknown source `{name}`",
                    None,
                    did_you_mean(name, sources) or "sources: " + ", ".join(sources),
                )
                for name in unknown
            ]
        )
    return list(dict.fromkeys(only))


def _check_name(source: Source) -> None:
    if source.id in RESERVED_TABLES:
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"source id `{source.id}` is reserved for a table of the workspace database",
                    None,
                    "rename the source",
                )
            ]
        )


def _warehouse(target: Warehouse | duckdb.DuckDBPyConnection) -> Warehouse:
    if isinstance(target, Warehouse):
        return target
    ((zone,),) = target.execute("SELECT current_setting('TimeZone')").fetchall()
    return _prepare(Warehouse(target, None, str(zone), False))


def _connect(database: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return connect(database, read_only)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            pid = re.search(r"PID (\d+)", message)
            raise KpiError(
                [
                    error(
                        Code.WORKSPACE_LOCKED,
                        "the workspace is in use by another kpi process" + (f" (PID {pid.group(1)})" if pid else ""),
                        None,
                        "wait for it to finish (one process writes at a time), then retry",
                    )
                ]
            ) from None
        raise KpiError(
            [
                error(
                    Code.DATABASE,
                    f"cannot open `{database}`: {message.splitlines()[0]}",
                    None,
                    "the file may come from a newer DuckDB or be damaged; delete .kpi/warehouse.duckdb "
                    "and import again (the ledger is in .kpi/ledger.duckdb and is kept)",
                )
            ]
        ) from None
    except duckdb.ConnectionException as exc:
        raise KpiError(
            [
                error(
                    Code.WORKSPACE_LOCKED,
                    f"the workspace database is already open in this process "
                    f"with other settings: {str(exc).splitlines()[0]}",
                )
            ]
        ) from None
    except duckdb.Error as exc:
        raise KpiError([error(Code.DATABASE, f"cannot open `{database}`: {str(exc).splitlines()[0]}")]) from None


def _in_memory(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's database lives in memory (it has no file)."""
    found = conn.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return not found or found[0][0] is None


def _prepare(warehouse: Warehouse) -> Warehouse:
    """Set the time zone (checked against ICU's list) and create the bookkeeping tables."""
    conn = warehouse.conn
    try:
        ((known,),) = conn.execute(
            "SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [warehouse.timezone]
        ).fetchall()
        if not known:
            names = [n for (n,) in conn.execute("SELECT name FROM pg_timezone_names()").fetchall()]
            raise KpiError(
                [
                    error(
                        Code.BAD_VALUE,
                        f"unknown time zone `{warehouse.timezone}`",
                        None,
                        did_you_mean(warehouse.timezone, names) or "use an IANA name like Europe/Riga",
                    )
                ]
            )
        conn.execute(f"SET TimeZone = {to_sql(exp.Literal.string(warehouse.timezone), DUCKDB)}")
        if not warehouse.read_only:
            conn.execute("""CREATE TABLE IF NOT EXISTS rejects (source VARCHAR, file VARCHAR, line BIGINT,
                            "column" VARCHAR, reason VARCHAR, raw VARCHAR, record BIGINT)""")
            conn.execute("""CREATE TABLE IF NOT EXISTS _imports (source VARCHAR, file_no INTEGER, file VARCHAR,
                            sha256 VARCHAR, size BIGINT, format VARCHAR, rows BIGINT, loaded BIGINT,
                            rejected BIGINT, lines BIGINT, swallowed BIGINT, declaration VARCHAR,
                            imported_at TIMESTAMPTZ)""")
            # the content hash of the table an import wrote, which runs record and `runs verify` checks
            conn.execute("ALTER TABLE _imports ADD COLUMN IF NOT EXISTS table_hash VARCHAR")
    except BaseException:
        conn.close()
        raise
    return warehouse
