"""Load one source into DuckDB: stage every record as text, type it in SQL, reject, deduplicate.

Per file: the format reader yields every record (broken ones with a reason); they are written to
a canonical staging CSV (our own dialect, UTF-8, every field quoted) that DuckDB reads with
`auto_detect=false` and every column VARCHAR. Parquet is staged straight from `read_parquet`
after a schema check. SQL then validates and casts each column (engine/data/column_types.py). Every
record ends either in the candidate table or in the rejects, and the counts are reconciled per
file: `records == loaded + rejected`.

Work tables are temporary (`_kpi_*`); `publish` swaps them into the source's table and the
`rejects` table inside the caller's transaction.
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

from kpi_engine.config.model import Column, Source
from kpi_engine.data.column_types import DUCKDB_TYPES, TextFormat, compatible, null_cell, parse_column, reject_reason
from kpi_engine.data.csvfile import read_csv_records, record_texts
from kpi_engine.data.jsonfile import read_json_records, read_ndjson_records
from kpi_engine.data.records import DataFile, StageRow, Tally, check_declaration, match_header
from kpi_engine.data.report import Progress, ProgressCallback, Reject
from kpi_engine.data.xlsxfile import read_xlsx_records
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.sql.render import to_sql

STAGE, TYPED, CANDIDATES, REJECTS, FILES, DUPLICATES = (
    "_kpi_stage",
    "_kpi_typed",
    "_kpi_candidates",
    "_kpi_rejects",
    "_kpi_files",
    "_kpi_duplicates",
)
_BASE = ("_record", "_line", "_lines", "_raw", "_error", "_error_column")
_MAX_LINE_BYTES = 64 * 1024 * 1024
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

    @property
    def rejected(self) -> int:
        """Rows rejected across the source's files."""
        return sum(f.rejected for f in self.files)


def read_source(
    conn: duckdb.DuckDBPyConnection,
    source: Source,
    timezone: str,
    files: Sequence[tuple[DataFile, str, int]],
    progress: ProgressCallback | None = None,
) -> SourceLoad:
    """Read every file of a source (with its sha256 and size) into the work tables and reconcile."""
    check_declaration(source.columns, source.key, source.csv, source.id)
    _create_work_tables(conn, source)
    staged: list[tuple[DataFile, str, int, Tally]] = []
    with tempfile.TemporaryDirectory(prefix="kpi-import-") as tmp:
        offset = 0  # bytes of the earlier files of this source, for progress
        for file, sha, size in files:
            tally = Tally()
            tell = _teller(progress, source.id, file.label, tally, offset, size)
            tell("reading", 0, 0, 0)
            conn.execute(f"INSERT INTO {FILES} VALUES (?, ?)", [file.number, file.label])
            if file.format == "parquet":
                physical = _stage_parquet(conn, source, file, tally)
            else:
                _stage_text(conn, _records(file, source, tally), tally, Path(tmp), len(source.columns), tell)
                physical = ["VARCHAR"] * len(source.columns)
            tell("typing", size * _READ_SHARE // 100, 0, 0)
            _type_file(conn, source, physical, timezone, file.number)
            offset += size
            staged.append((file, sha, size, tally))
        if source.key is not None:
            _reject_duplicates(conn, source)
        for file, *_ in staged:
            if file.format == "csv":
                _fill_raw(conn, file, source.csv.encoding, Path(tmp))
            elif file.format == "parquet":
                _fill_raw_parquet(conn, source, file)
    return SourceLoad(source, _reconcile(conn, staged))


def publish(conn: duckdb.DuckDBPyConnection, load: SourceLoad) -> None:
    """Replace the source's table and its rows in `rejects` with the work tables' content."""
    source = load.source
    names = list(source.columns)
    select = (
        exp.select(
            *[exp.column(f"v{i}", table="c").as_(name, quoted=True) for i, name in enumerate(names)],
            exp.column("file", table="f").as_("_file"),
            exp.column("_line", table="c").as_("_line"),
        )
        .from_(exp.to_table(CANDIDATES).as_("c"))
        .join(exp.to_table(FILES).as_("f"), using=["_file_no"])
        .order_by(exp.column("_file_no", table="c"), exp.column("_record", table="c"))
    )
    drop_relation(conn, source.id)
    target = exp.Table(this=exp.to_identifier(source.id, quoted=True))
    conn.execute(to_sql(exp.Create(this=target, kind="TABLE", expression=select), DUCKDB))
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
    """Remove the temporary work tables."""
    for name in (STAGE, TYPED, CANDIDATES, REJECTS, FILES, DUPLICATES):
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def drop_relation(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the table or view `name` in the main schema, if there is one."""
    kinds = conn.execute(
        """SELECT 'TABLE' FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?
                            UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE schema_name = 'main'
                            AND view_name = ? AND NOT internal""",
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


def _create_work_tables(conn: duckdb.DuckDBPyConnection, source: Source) -> None:
    drop_work_tables(conn)
    typed = ", ".join(f"v{i} {DUCKDB_TYPES[c.type]}" for i, c in enumerate(source.columns.values()))
    conn.execute(f"""CREATE TEMP TABLE {CANDIDATES} (_file_no INTEGER, _record BIGINT, _line BIGINT, _lines INTEGER,
                     _raw VARCHAR, {typed})""")
    conn.execute(f"""CREATE TEMP TABLE {REJECTS} (_file_no INTEGER, _record BIGINT, _line BIGINT, _lines INTEGER,
                     _col_no INTEGER, col VARCHAR, reason VARCHAR, raw VARCHAR)""")
    conn.execute(f"CREATE TEMP TABLE {FILES} (_file_no INTEGER, file VARCHAR)")


def _stage_text(
    conn: duckdb.DuckDBPyConnection, records: Iterator[StageRow], tally: Tally, tmp: Path, width: int, tell: Teller
) -> None:
    """Write records to a canonical CSV and load it as the staging table; check none went missing."""
    path = tmp / "stage.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        # QUOTE_ALL: a lone CR inside a value must be quoted too. None and "" both stage as NULL.
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        while chunk := list(islice(records, _CHUNK_RECORDS)):
            writer.writerows(chunk)
            number, line, lines = chunk[-1][:3]
            tell("reading", None, int(line) + int(lines) - 1, int(number))  # type: ignore[call-overload]
    columns = ", ".join(
        [
            *(
                f"'{name}': '{kind}'"
                for name, kind in zip(
                    _BASE, ("BIGINT", "BIGINT", "INTEGER", "VARCHAR", "VARCHAR", "VARCHAR"), strict=True
                )
            ),
            *(f"'c{i}': 'VARCHAR'" for i in range(width)),
        ]
    )
    # Our own file, in our own dialect: nothing here is sniffed; an empty field is NULL.
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT * FROM read_csv(?, auto_detect = false,
                     header = false, delim = ',', quote = '"', escape = '"', new_line = '\\n', encoding = 'utf-8',
                     strict_mode = true, max_line_size = {_MAX_LINE_BYTES}, columns = {{{columns}}})""",
        [str(path)],
    )
    (loaded,) = _one(conn, f"SELECT count(*) FROM {STAGE}")
    if loaded != tally.records:
        raise KpiError(
            [
                error(
                    Code.DATA_RECONCILE,
                    f"staging wrote {tally.records} records but DuckDB read {loaded}",
                    None,
                    "this is a bug in the importer; please report it with the file",
                )
            ]
        )


Teller = Callable[[str, int | None, int, int], None]
_CHUNK_RECORDS = 65_536  # records staged between two progress reports
_READ_SHARE = 70  # per cent of a file's bytes shown as done once it is read, before typing


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


def _stage_parquet(conn: duckdb.DuckDBPyConnection, source: Source, file: DataFile, tally: Tally) -> list[str]:
    """Check a Parquet file's schema against the declaration and stage it; the column types."""
    try:
        schema = conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(file.path)]).fetchall()
        (expected,) = _one(conn, "SELECT num_rows FROM parquet_file_metadata(?)", [str(file.path)])
    except duckdb.Error as exc:
        raise KpiError(
            [error(Code.DATA_FILE, f"`{file.label}` is not a readable Parquet file: {exc}", file.span())]
        ) from exc
    types = {name: kind for name, kind, *_ in schema}
    match_header([name for name, *_ in schema], source.columns, file, place="file's schema")
    wrong = [
        f"`{name}` is {types[name]} (declared {column.type})"
        for name, column in source.columns.items()
        if not compatible(column.type, types[name])
    ]
    if wrong:
        raise KpiError(
            [
                error(
                    Code.DATA_COLUMN,
                    f"`{file.label}`: column types do not match the declaration: " + "; ".join(wrong),
                    file.span(),
                    "money must arrive as DECIMAL or text, never floating point; dates as DATE or text",
                )
            ]
        )
    cells = [exp.column(name, quoted=True) for name in source.columns]
    row_number = exp.Add(this=exp.column("file_row_number"), expression=exp.Literal.number(1))
    # No `_raw` text here: a JSON copy of every row would double the import's memory. Rejected rows
    # get theirs from the file afterwards (`_fill_raw_parquet`), as CSV rows do.
    select = exp.select(
        row_number.as_("_record"),
        row_number.copy().as_("_line"),
        exp.Literal.number(1).as_("_lines"),
        exp.cast(exp.null(), "VARCHAR").as_("_raw"),
        exp.cast(exp.null(), "VARCHAR").as_("_error"),
        exp.cast(exp.null(), "VARCHAR").as_("_error_column"),
        *[cell.copy().as_(f"c{i}") for i, cell in enumerate(cells)],
    )
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGE} AS {to_sql(select, DUCKDB)} "
        "FROM read_parquet(?, file_row_number = true)",
        [str(file.path)],
    )
    (count,) = _one(conn, f"SELECT count(*) FROM {STAGE}")
    if count != expected:
        raise KpiError(
            [
                error(
                    Code.DATA_RECONCILE,
                    f"`{file.label}`: the Parquet footer says {expected} rows, {count} were read",
                    file.span(),
                )
            ]
        )
    tally.records = count
    return [types[name] for name in source.columns]


def _type_file(
    conn: duckdb.DuckDBPyConnection, source: Source, physical: list[str], timezone: str, file_no: int
) -> None:
    """Validate and cast the staged file; good records to the candidates, the others to the rejects."""
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {TYPED} AS "
        + _typing_query(source.columns, source.key, physical, TextFormat.of(source.csv), timezone)
    )
    conn.execute(f"DROP TABLE {STAGE}")
    n = len(source.columns)
    conn.execute(
        f"""INSERT INTO {REJECTS} SELECT ?, _record, _line, _lines, -1, _error_column, _error, _raw
                     FROM {TYPED} WHERE _error IS NOT NULL""",
        [file_no],
    )
    for i, name in enumerate(source.columns):
        conn.execute(
            f"""INSERT INTO {REJECTS} SELECT ?, _record, _line, _lines, ?, ?, r{i}, _raw FROM {TYPED}
                         WHERE _error IS NULL AND r{i} IS NOT NULL""",
            [file_no, i, name],
        )
    fine = " AND ".join(["_error IS NULL", *(f"r{i} IS NULL" for i in range(n))])
    conn.execute(
        f"INSERT INTO {CANDIDATES} SELECT ?, _record, _line, _lines, _raw, "
        f"{', '.join(f'v{i}' for i in range(n))} FROM {TYPED} WHERE {fine}",
        [file_no],
    )
    conn.execute(f"DROP TABLE {TYPED}")


def _typing_query(
    columns: Mapping[str, Column], key: str | None, physical: list[str], fmt: TextFormat, timezone: str
) -> str:
    """The typing query in layers, so each test runs once.

    Null tokens → `t{i}`; validity → `ok{i}`; value → `v{i}`; reasons → `r{i}`.
    """
    base = [exp.column(name) for name in _BASE]
    items = list(columns.values())
    t = [exp.column(f"t{i}") for i in range(len(items))]
    ok = [exp.column(f"ok{i}") for i in range(len(items))]
    value = [exp.column(f"v{i}") for i in range(len(items))]
    parsed = [parse_column(c, physical[i], fmt, t[i], ok[i]) for i, c in enumerate(items)]
    cells = exp.select(
        *base, *[null_cell(exp.column(f"c{i}"), c, physical[i], fmt).as_(f"t{i}") for i, c in enumerate(items)]
    ).from_(STAGE)
    valid = exp.select(exp.Star(), *[p.ok.as_(f"ok{i}") for i, p in enumerate(parsed)]).from_(cells.subquery("cells"))
    typed = exp.select(exp.Star(), *[p.value.as_(f"v{i}") for i, p in enumerate(parsed)]).from_(valid.subquery("valid"))
    reasons = [
        reject_reason(
            c, physical[i], fmt, timezone, key=c.name == key, parsed=parsed[i], t=t[i], ok=ok[i], value=value[i]
        )
        for i, c in enumerate(items)
    ]
    final = exp.select(*[b.copy() for b in base], *value, *[r.as_(f"r{i}") for i, r in enumerate(reasons)]).from_(
        typed.subquery("typed")
    )
    return to_sql(final, DUCKDB)


def _reject_duplicates(conn: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Keep the first row of each key (in file, then line order); reject each later one."""
    names = list(source.columns)
    k = names.index(source.key or "")
    conn.execute(f"""CREATE OR REPLACE TEMP TABLE {DUPLICATES} AS
        SELECT _file_no, _record, _line, _lines, _raw, CAST(v{k} AS VARCHAR) AS key_text, first_file, first_line
        FROM (SELECT _file_no, _record, _line, _lines, _raw, v{k}, row_number() OVER w AS n,
                     first_value(_file_no) OVER w AS first_file, first_value(_line) OVER w AS first_line
              FROM {CANDIDATES} WINDOW w AS (PARTITION BY v{k} ORDER BY _file_no, _record))
        WHERE n > 1""")
    conn.execute(
        f"""INSERT INTO {REJECTS} SELECT d._file_no, d._record, d._line, d._lines, ?, ?,
                         concat('duplicate key ''', CASE WHEN length(d.key_text) > 80
                                THEN left(d.key_text, 80) || '…' ELSE d.key_text END,
                                ''' (first at ', f.file, ':', d.first_line, ')'), d._raw
                     FROM {DUPLICATES} d JOIN {FILES} f ON f._file_no = d.first_file""",
        [k, source.key],
    )
    conn.execute(f"""DELETE FROM {CANDIDATES} WHERE EXISTS (SELECT 1 FROM {DUPLICATES} d
                     WHERE d._file_no = {CANDIDATES}._file_no AND d._record = {CANDIDATES}._record)""")


def _fill_raw(conn: duckdb.DuckDBPyConnection, file: DataFile, encoding: str, tmp: Path) -> None:
    """Give a CSV file's rejects their source text, re-read from the file by line (staging skips it)."""
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
        f"""UPDATE {REJECTS} SET raw = t.raw FROM read_csv(?, auto_detect = false, header = false,
                     delim = ',', quote = '"', escape = '"', new_line = '\\n', encoding = 'utf-8', strict_mode = true,
                     max_line_size = {_MAX_LINE_BYTES}, columns = {{'line': 'BIGINT', 'raw': 'VARCHAR'}}) t
                     WHERE {REJECTS}._file_no = ? AND {REJECTS}._line = t.line""",
        [str(path), file.number],
    )


def _fill_raw_parquet(conn: duckdb.DuckDBPyConnection, source: Source, file: DataFile) -> None:
    """Give a Parquet file's rejects their row as JSON text, re-read from the file by row number."""
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
        f"""UPDATE {REJECTS} SET raw = {to_sql(raw, DUCKDB)}
                     FROM read_parquet(?, file_row_number = true) t
                     WHERE {REJECTS}._file_no = ? AND {REJECTS}.raw IS NULL
                       AND {REJECTS}._record = t.file_row_number + 1""",
        [str(file.path), file.number],
    )


def _reconcile(conn: duckdb.DuckDBPyConnection, staged: list[tuple[DataFile, str, int, Tally]]) -> tuple[FileLoad, ...]:
    """Per file: records == loaded + distinct rejected records, or stop loudly."""
    loaded = dict(conn.execute(f"SELECT _file_no, count(*) FROM {CANDIDATES} GROUP BY ALL").fetchall())
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


def _one(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> tuple[int, ...]:
    (row,) = conn.execute(sql, list(params)).fetchall()
    return tuple(int(v) for v in row)
