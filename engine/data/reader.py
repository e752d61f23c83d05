"""Load one source into DuckDB: one SQL pass per file reads, types and judges every record; reject, deduplicate.

Per file: CSV, JSON and Excel go through their Python reader, which yields every record (broken
ones with a reason) into a canonical staging CSV (our own dialect, UTF-8, every field quoted);
Parquet is read where it lies, after a schema check. One INSERT reads that relation, types every
column and gives each row its reasons (engine/data/typing_query.py) into the work table, the only
copy of the data. The rejects come from the rows with reasons, and later rows of a key from a
window over the duplicated keys alone. Every record ends either kept or in the rejects, and the
counts are reconciled per file: `records == loaded + rejected`. Rows stay in file and line order
as read: nothing sorts them.

In memory (evaluating from the files) rejected rows are deleted from the work table. In the
workspace database the work table is written compressed as it fills (DuckDB spills past its memory
limit), and a delete there would make DuckDB rewrite it at commit: the INSERT keeps only the good
rows, and a second pass, when the count says some are missing, puts the others in a temporary
table. `publish` drops the bookkeeping columns and renames the work table to the source's: no
second copy either way.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import duckdb
from sqlglot import exp

from kpi_engine.config.model import Source
from kpi_engine.data import zone
from kpi_engine.data.column_types import DUCKDB_TYPES, TextFormat, compatible
from kpi_engine.data.csvfile import read_csv_records, record_texts
from kpi_engine.data.jsonfile import read_json_records, read_ndjson_records
from kpi_engine.data.records import DataFile, StageRow, Tally, check_declaration, check_schema_types, match_header
from kpi_engine.data.report import Progress, ProgressCallback, Reject
from kpi_engine.data.typing_query import (
    MAX_LINE_BYTES,
    WorkColumns,
    parquet_relation,
    span_query,
    spans,
    staged_relation,
    typing_query,
)
from kpi_engine.data.xlsxfile import read_xlsx_records
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.sql.render import to_sql

WORK, BAD, REJECTS, FILES, DUPLICATES, DUPLICATE_KEYS, RAW, FILLED = (
    "_kpi_work",
    "_kpi_bad_rows",
    "_kpi_rejects",
    "_kpi_files",
    "_kpi_duplicates",
    "_kpi_duplicate_keys",
    "_kpi_raw",
    "_kpi_rejects_filled",
)
SAMPLE_REJECTS = 20
DUCKDB = "duckdb"  # sqlglot's name for DuckDB's dialect: this package's SQL is rendered in it


@dataclass(frozen=True)
class FileLoad:
    """What one file gave: records, loaded and rejected (distinct records), lines, content hash."""

    file: DataFile
    sha256: str
    size: int
    rows: int
    loaded: int
    rejected: int
    lines: int | None
    swallowed: int


@dataclass(frozen=True)
class SourceLoad:
    """A source read into the work tables, not yet published."""

    source: Source
    files: tuple[FileLoad, ...]
    work: WorkColumns

    @property
    def rejected(self) -> int:
        """Rows rejected across the source's files."""
        return sum(f.rejected for f in self.files)


@dataclass(frozen=True)
class _Job:
    """What every file of a source is read with.

    `in_memory`: rejected rows stay in the work table, to be deleted (in the workspace database a
    second pass sets them apart instead).
    """

    source: Source
    timezone: str
    work: WorkColumns
    in_memory: bool
    tmp: Path

    @property
    def fmt(self) -> TextFormat:
        """How the source writes numbers, dates and nulls in text."""
        return TextFormat.of(self.source.csv)


def read_source(
    conn: duckdb.DuckDBPyConnection,
    source: Source,
    timezone: str,
    files: Sequence[tuple[DataFile, str, int]],
    progress: ProgressCallback | None = None,
    in_memory: bool = False,
) -> SourceLoad:
    """Read every file of a source (with its sha256 and size) into the work tables and reconcile.

    `in_memory`: the database is in memory, where rejected rows are simply deleted from the work table.
    """
    check_declaration(source.columns, source.key, source.csv, source.id)
    work = WorkColumns.beside(list(source.columns))
    _create_work_tables(conn, source, work, in_memory)
    staged: list[tuple[DataFile, str, int, Tally]] = []
    with tempfile.TemporaryDirectory(prefix="kpi-import-") as tmp:
        job = _Job(source, timezone, work, in_memory, Path(tmp))
        offset = 0  # bytes of the earlier files of this source, for progress
        for file, sha, size in files:
            tally = Tally()
            tell = _teller(progress, source.id, file.label, tally, offset, size)
            tell("reading", 0, 0, 0)
            conn.execute(f"INSERT INTO {FILES} VALUES (?, ?)", [file.number, file.label])
            _read_file(conn, job, file, tally, tell, size)
            offset += size
            staged.append((file, sha, size, tally))
        _collect_rejects(conn, source, work, f"main.{WORK}" if in_memory else BAD)
        conn.execute(f"DROP TABLE IF EXISTS {BAD}")
        duplicates = source.key is not None and _reject_duplicates(conn, source, work)
        _drop_rejected(conn, work, duplicates, in_memory)
        _fill_raw(conn, source, [file for file, *_ in staged], Path(tmp))
    return SourceLoad(source, _reconcile(conn, staged, work), work)


def publish(conn: duckdb.DuckDBPyConnection, load: SourceLoad) -> None:
    """Make the work table the source's table, and replace the source's rows in `rejects`."""
    source, work = load.source, load.work
    target = to_sql(exp.to_identifier(source.id, quoted=True), DUCKDB)
    drop_relation(conn, source.id)
    for name, _ in work.definitions():
        conn.execute(f"ALTER TABLE main.{WORK} DROP COLUMN {_ident(name)}")
    conn.execute(f"ALTER TABLE main.{WORK} RENAME TO {target}")
    conn.execute("DELETE FROM rejects WHERE source = ?", [source.id])
    conn.execute(
        f"""INSERT INTO rejects SELECT ?, f.file, r._line, r.col, r.reason, r.raw, r._record
                     FROM {REJECTS} r JOIN {FILES} f USING (_file_no) ORDER BY r._file_no, r._record, r._col_no""",
        [source.id],
    )


def sample_rejects(conn: duckdb.DuckDBPyConnection, source_id: str, limit: int = SAMPLE_REJECTS) -> tuple[Reject, ...]:
    """The first rejects of the source just read, in file and line order."""
    rows = conn.execute(
        f"""SELECT f.file, r._line, r.col, r.reason, r.raw, r._record FROM {REJECTS} r
                            JOIN {FILES} f USING (_file_no) ORDER BY r._file_no, r._record, r._col_no LIMIT ?""",
        [limit],
    ).fetchall()
    return tuple(Reject(source_id, *row) for row in rows)


def drop_work_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Remove the work tables (the one in the main schema too, if it was not published)."""
    conn.execute(f"DROP TABLE IF EXISTS main.{WORK}")
    for name in (BAD, REJECTS, FILES, DUPLICATES, DUPLICATE_KEYS, RAW, FILLED):
        conn.execute(f"DROP TABLE IF EXISTS temp.main.{name}")


def drop_relation(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the table or view `name` in the main schema, if there is one."""
    kinds = conn.execute(
        """SELECT 'TABLE' FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ? AND NOT temporary
                            UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE schema_name = 'main'
                            AND view_name = ? AND NOT internal AND NOT temporary""",
        [name, name],
    ).fetchall()
    ident = to_sql(exp.to_identifier(name, quoted=True), DUCKDB)
    for (kind,) in kinds:
        conn.execute(f"DROP {kind} main.{ident}")


def _records(file: DataFile, source: Source, tally: Tally) -> Iterator[StageRow]:
    match file.format:
        case "csv":
            return read_csv_records(file, source.columns, source.csv, tally)
        case "json":
            return read_json_records(file, source.columns, source.csv, tally)
        case "ndjson":
            return read_ndjson_records(file, source.columns, source.csv, tally)
        case "xlsx":
            return read_xlsx_records(file, source.columns, source.csv, source.sheet, tally)
    raise KpiError([error(Code.DATA_FILE, f"`{file.label}`: unsupported format {file.format}")])


def _create_work_tables(conn: duckdb.DuckDBPyConnection, source: Source, work: WorkColumns, in_memory: bool) -> None:
    drop_work_tables(conn)
    columns = [
        *((name, DUCKDB_TYPES[c.type]) for name, c in source.columns.items()),
        ("_file", "VARCHAR"),
        ("_line", "BIGINT"),
        *work.definitions(),
    ]
    definition = ", ".join(f"{_ident(name)} {kind}" for name, kind in columns)
    conn.execute(f"CREATE TABLE main.{WORK} ({definition})")  # to become the source's table
    if not in_memory:
        conn.execute(f"CREATE TEMP TABLE {BAD} ({definition})")
    conn.execute(f"""CREATE TEMP TABLE {REJECTS} (_file_no INTEGER, _record BIGINT, _line BIGINT, _lines INTEGER,
                     _col_no INTEGER, col VARCHAR, reason VARCHAR, raw VARCHAR)""")
    conn.execute(f"CREATE TEMP TABLE {FILES} (_file_no INTEGER, file VARCHAR)")


Teller = Callable[[str, int | None, int, int], None]
_CHUNK_RECORDS = 65_536  # records staged between two progress reports
_READ_SHARE = 70  # per cent of a file's bytes shown as done once it is read, before typing


def _read_file(
    conn: duckdb.DuckDBPyConnection, job: _Job, file: DataFile, tally: Tally, tell: Teller, size: int
) -> None:
    """Type one file into the work table: Parquet where it lies, other formats from their staging CSV."""
    source = job.source
    if file.format == "parquet":
        physical = _check_parquet(conn, source, file, tally)
        relation, path = parquet_relation(list(source.columns)), file.path
    else:
        path = _stage_text(_records(file, source, tally), tally, job.tmp, tell)
        physical = ["VARCHAR"] * len(source.columns)
        relation = staged_relation(len(source.columns))
    tell("typing", size * _READ_SHARE // 100, 0, 0)
    found = _zone(conn, job, relation, physical, str(path), tally.records)
    typed = typing_query(relation, source.columns, source.key, physical, job.fmt, job.timezone, found, job.work)
    query = to_sql(typed, DUCKDB)
    params = {"path": str(path), "label": file.label, "file_no": file.number}
    if job.in_memory:
        read = _inserted(conn, f"INSERT INTO main.{WORK} {query}", params)
    else:
        bad = _ident(job.work.bad)
        read = _inserted(conn, f"INSERT INTO main.{WORK} SELECT * FROM ({query}) WHERE {bad} IS NULL", params)
        if read < tally.records:  # some rows have reasons: a second pass sets them apart
            read += _inserted(conn, f"INSERT INTO {BAD} SELECT * FROM ({query}) WHERE {bad} IS NOT NULL", params)
    if file.format != "parquet":
        path.unlink()
    if read == tally.records:
        return
    if file.format == "parquet":
        message = f"`{file.label}`: the Parquet footer says {tally.records} rows, {read} were read"
        raise KpiError([error(Code.DATA_RECONCILE, message, file.span())])
    message = f"staging wrote {tally.records} records but DuckDB read {read}"
    raise KpiError(
        [error(Code.DATA_RECONCILE, message, None, "this is a bug in the importer; please report it with the file")]
    )


def _inserted(conn: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object]) -> int:
    ((count,),) = conn.execute(sql, params).fetchall()
    return int(count)


def _zone(
    conn: duckdb.DuckDBPyConnection, job: _Job, relation: exp.Select, physical: list[str], path: str, records: int
) -> zone.Zone | None:
    """The zone table for a file's wall-clock timestamps, when it has enough of them to pay (engine/data/zone.py)."""
    found = span_query(relation, job.source.columns, physical, job.fmt)
    if found is None or records * found[1] < zone.MIN_VALUES:
        return None
    ((*row,),) = conn.execute(to_sql(found[0], DUCKDB), {"path": path}).fetchall()
    windowed = span_query(relation, job.source.columns, physical, job.fmt, windowed=True)
    if windowed is not None and not zone.inside(spans(row)):  # a typo far off: the span of the other readings
        ((*row,),) = conn.execute(to_sql(windowed[0], DUCKDB), {"path": path}).fetchall()
    return zone.zone_for(conn, spans(row), records * found[1])


def _stage_text(records: Iterator[StageRow], tally: Tally, tmp: Path, tell: Teller) -> Path:
    """Write records to a canonical CSV for DuckDB to read: no value is lost or reinterpreted."""
    path = tmp / "stage.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        # QUOTE_ALL: a lone CR inside a value must be quoted too. None and "" both stage as NULL.
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        while chunk := list(islice(records, _CHUNK_RECORDS)):
            writer.writerows(chunk)
            number, line, lines = chunk[-1][:3]
            tell("reading", None, int(line) + int(lines) - 1, int(number))  # type: ignore[call-overload]
    return path


def _teller(progress: ProgressCallback | None, source: str, label: str, tally: Tally, offset: int, size: int) -> Teller:
    """Report a file's step and bytes done; while reading, bytes follow the lines read (when counted)."""

    def tell(step: str, done: int | None, line: int = 0, records: int = 0) -> None:
        if progress is None:
            return
        if done is None:  # reading: the share of the file's lines read so far (CSV counts them first)
            lines = tally.physical_lines
            done = min(size, size * line // lines) * _READ_SHARE // 100 if lines else 0
        progress(Progress(source, step, label, records or tally.records, offset + done, 0))

    return tell


def _check_parquet(conn: duckdb.DuckDBPyConnection, source: Source, file: DataFile, tally: Tally) -> list[str]:
    """Check a Parquet file's schema against the declaration; its row count goes to the tally. The column types."""
    try:
        schema = conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(file.path)]).fetchall()
        (expected,) = _one(conn, "SELECT num_rows FROM parquet_file_metadata(?)", [str(file.path)])
    except duckdb.Error as exc:
        raise KpiError(
            [error(Code.DATA_FILE, f"`{file.label}` is not a readable Parquet file: {exc}", file.span())]
        ) from exc
    types = {name: kind for name, kind, *_ in schema}
    match_header([name for name, *_ in schema], source.columns, file, place="file's schema")
    check_schema_types(file, source.columns, types, lambda column, kind: compatible(column.type, kind))
    tally.records = expected
    return [types[name] for name in source.columns]


def _collect_rejects(conn: duckdb.DuckDBPyConnection, source: Source, work: WorkColumns, table: str) -> None:
    """Every reason of the bad rows in `table` into the rejects: the record's own error, else one per column."""
    w = _WorkSql(work)
    conn.execute(
        f"""INSERT INTO {REJECTS} SELECT {w.file_no}, {w.record}, _line, {w.lines}, -1, {w.bad}[1], {w.bad}[2], {w.raw}
                     FROM {table} WHERE {w.bad} IS NOT NULL AND {w.bad}[2] IS NOT NULL"""
    )
    conn.execute(
        f"""INSERT INTO {REJECTS} SELECT file_no, record, line, lines, col_no, $names[col_no + 1], reason, raw FROM (
                         SELECT {w.file_no} AS file_no, {w.record} AS record, _line AS line, {w.lines} AS lines,
                                {w.raw} AS raw, unnest(range(len({w.bad}) - 2)) AS col_no, unnest({w.bad}[3:]) AS reason
                         FROM {table} WHERE {w.bad} IS NOT NULL AND {w.bad}[2] IS NULL)
                     WHERE reason IS NOT NULL""",
        {"names": list(source.columns)},
    )


def _reject_duplicates(conn: duckdb.DuckDBPyConnection, source: Source, work: WorkColumns) -> bool:
    """Keep the first good row of each key (in file, then line order); reject each later one. Whether there were any.

    Only the keys found more than once are ranked: a source without duplicates costs one aggregation.
    """
    w = _WorkSql(work)
    names = list(source.columns)
    k = names.index(source.key or "")
    key = _ident(names[k])
    conn.execute(f"""CREATE OR REPLACE TEMP TABLE {DUPLICATE_KEYS} AS SELECT {key} AS k FROM main.{WORK}
                     WHERE {w.bad} IS NULL GROUP BY ALL HAVING count(*) > 1""")
    (found,) = _one(conn, f"SELECT count(*) FROM {DUPLICATE_KEYS}")
    if not found:
        conn.execute(f"DROP TABLE {DUPLICATE_KEYS}")
        return False
    conn.execute(f"""CREATE OR REPLACE TEMP TABLE {DUPLICATES} AS
        SELECT _file_no, _record, _line, _lines, _raw, CAST(k AS VARCHAR) AS key_text, first_file, first_line
        FROM (SELECT {w.file_no} AS _file_no, {w.record} AS _record, _line, {w.lines} AS _lines, {w.raw} AS _raw,
                     {key} AS k, row_number() OVER v AS n,
                     first_value({w.file_no}) OVER v AS first_file, first_value(_line) OVER v AS first_line
              FROM main.{WORK} WHERE {w.bad} IS NULL AND {key} IN (SELECT k FROM {DUPLICATE_KEYS})
              WINDOW v AS (PARTITION BY {key} ORDER BY {w.file_no}, {w.record}))
        WHERE n > 1""")
    conn.execute(f"DROP TABLE {DUPLICATE_KEYS}")
    conn.execute(
        f"""INSERT INTO {REJECTS} SELECT d._file_no, d._record, d._line, d._lines, ?, ?,
                         concat('duplicate key ''', CASE WHEN length(d.key_text) > 80
                                THEN left(d.key_text, 80) || '…' ELSE d.key_text END,
                                ''' (first at ', f.file, ':', d.first_line, ')'), d._raw
                     FROM {DUPLICATES} d JOIN {FILES} f ON f._file_no = d.first_file""",
        [k, source.key],
    )
    return True


def _drop_rejected(conn: duckdb.DuckDBPyConnection, work: WorkColumns, duplicates: bool, in_memory: bool) -> None:
    """Delete the rejected rows from the work table: what stays is the source's table, in its order.

    In the workspace database only later rows of a key can be there (the others were set apart).
    """
    w = _WorkSql(work)
    if in_memory:
        conn.execute(f"DELETE FROM main.{WORK} WHERE {w.bad} IS NOT NULL")
    if duplicates:
        conn.execute(f"""DELETE FROM main.{WORK} w WHERE EXISTS (SELECT 1 FROM {DUPLICATES} d
                         WHERE d._file_no = w.{w.file_no} AND d._record = w.{w.record})""")
        conn.execute(f"DROP TABLE {DUPLICATES}")  # its rows are in the rejects


def _fill_raw(conn: duckdb.DuckDBPyConnection, source: Source, files: list[DataFile], tmp: Path) -> None:
    """Give the rejects of CSV and Parquet files their source text, re-read from the files (staging skips it).

    CSV records by line, Parquet rows by row number (as JSON). The rejects table is rebuilt with the
    texts joined in, which DuckDB does far faster than updating its rows.
    """
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {RAW} (_file_no INTEGER, _line BIGINT, raw VARCHAR)")
    for file in files:
        if file.format == "csv":
            _csv_texts(conn, file, source.csv.encoding, tmp)
        elif file.format == "parquet":
            _parquet_texts(conn, source, file)
    (found,) = _one(conn, f"SELECT count(*) FROM {RAW}")
    if found:
        conn.execute(f"""CREATE TEMP TABLE {FILLED} AS SELECT r.* REPLACE (coalesce(r.raw, t.raw) AS raw)
                         FROM {REJECTS} r LEFT JOIN {RAW} t USING (_file_no, _line)""")
        conn.execute(f"DROP TABLE {REJECTS}")
        conn.execute(f"ALTER TABLE {FILLED} RENAME TO {REJECTS}")
    conn.execute(f"DROP TABLE {RAW}")


def _csv_texts(conn: duckdb.DuckDBPyConnection, file: DataFile, encoding: str, tmp: Path) -> None:
    """The source text of a CSV file's rejected records, by their first line."""
    spans = conn.execute(
        f"SELECT DISTINCT _line, _lines FROM {REJECTS} WHERE _file_no = ? AND raw IS NULL", [file.number]
    ).fetchall()
    if not spans:
        return
    path = tmp / "raw.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
            record_texts(file, encoding, [(int(line), int(count)) for line, count in spans])
        )
    conn.execute(
        f"""INSERT INTO {RAW} SELECT ?, line, raw FROM read_csv(?, auto_detect = false, header = false,
                     delim = ',', quote = '"', escape = '"', new_line = '\\n', encoding = 'utf-8', strict_mode = true,
                     max_line_size = {MAX_LINE_BYTES}, columns = {{'line': 'BIGINT', 'raw': 'VARCHAR'}})""",
        [file.number, str(path)],
    )
    path.unlink()


def _parquet_texts(conn: duckdb.DuckDBPyConnection, source: Source, file: DataFile) -> None:
    """A Parquet file's rejected rows as JSON text, by row number."""
    (missing,) = _one(conn, f"SELECT count(*) FROM {REJECTS} WHERE _file_no = ? AND raw IS NULL", [file.number])
    if not missing:
        return
    raw = exp.cast(
        exp.Anonymous(
            this="json_object",
            expressions=[
                part
                for name in source.columns
                for part in (exp.Literal.string(name), exp.column(name, table="t", quoted=True))
            ],
        ),
        "VARCHAR",
    )
    conn.execute(
        f"""INSERT INTO {RAW} SELECT ?, t.file_row_number + 1, {to_sql(raw, DUCKDB)}
                     FROM read_parquet(?, file_row_number = true) t
                     WHERE t.file_row_number + 1 IN (SELECT _line FROM {REJECTS} WHERE _file_no = ? AND raw IS NULL)""",
        [file.number, str(file.path), file.number],
    )


def _reconcile(
    conn: duckdb.DuckDBPyConnection, staged: list[tuple[DataFile, str, int, Tally]], work: WorkColumns
) -> tuple[FileLoad, ...]:
    """Per file: records == rows left in the work table + distinct rejected records, or stop loudly."""
    w = _WorkSql(work)
    loaded = dict(conn.execute(f"SELECT {w.file_no}, count(*) FROM main.{WORK} GROUP BY ALL").fetchall())
    rejected = dict(conn.execute(f"SELECT _file_no, count(DISTINCT _record) FROM {REJECTS} GROUP BY ALL").fetchall())
    out = []
    for file, sha, size, tally in staged:
        good, bad = int(loaded.get(file.number, 0)), int(rejected.get(file.number, 0))
        if good + bad != tally.records:
            raise KpiError(
                [
                    error(
                        Code.DATA_RECONCILE,
                        f"`{file.label}`: {tally.records} records but {good} loaded + {bad} rejected",
                        file.span(),
                        "this is a bug in the importer; please report it with the file",
                    )
                ]
            )
        out.append(FileLoad(file, sha, size, tally.records, good, bad, tally.physical_lines, tally.swallowed))
    return tuple(out)


class _WorkSql:
    """The work table's bookkeeping columns as quoted SQL identifiers."""

    def __init__(self, work: WorkColumns) -> None:
        self.file_no, self.record, self.lines, self.raw, self.bad = (_ident(name) for name, _ in work.definitions())


def _ident(name: str) -> str:
    return to_sql(exp.to_identifier(name, quoted=True), DUCKDB)


def _one(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> tuple[int, ...]:
    (row,) = conn.execute(sql, list(params)).fetchall()
    return tuple(int(v) for v in row)
