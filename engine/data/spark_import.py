"""Sources on Spark: `path:` files read and checked by Spark itself, `table:` sources from its catalog.

Each file is read by Spark (CSV and JSON as text, Parquet as it is typed), typed in one pass with
the import's rules (:mod:`kpi_engine.data.spark_typing`), and every row failing a check goes to the
`rejects` view with its reason, counted per file: rows == loaded + rejected, nothing dropped. The
first valid row of each key is kept and each later one rejected, as `kpi import` does.

What Spark cannot give exactly: a CSV record's `line` is its record number plus the header (a quoted
field spanning lines shifts later lines), a Parquet row's `line` is Spark's row id, and the `raw`
text of a rejected row is its cells joined again (CSV) or a JSON object of its cells.

A `path:` that is a URI (`s3a://…`, `hdfs://…`, `file:///…`: SPEC §12) is listed and hashed by
Spark itself (the `binaryFile` source: each file's sha256 as `sha256sum` prints it, computed where
the file lives), so the ledger records every file a run read wherever it is; files are labelled by
the URI Spark gives them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from sqlglot import exp

from kpi_engine.config.model import Source
from kpi_engine.config.paths import is_uri
from kpi_engine.data.column_types import SHOWN_CHARS, TextFormat
from kpi_engine.data.files import FORMATS, file_sha256, source_files
from kpi_engine.data.records import DataFile, check_schema_types, match_header
from kpi_engine.data.report import FileReport, Reject, SourceReport
from kpi_engine.data.spark_typing import SPARK_TYPES, TEXT, accepts, layers, physical_type
from kpi_engine.data.table_typing import missing_columns
from kpi_engine.errors import Code, KpiError, error, warning
from kpi_engine.literal import literal
from kpi_engine.sql.render import to_sql

if TYPE_CHECKING:
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame

    from kpi_engine.data.spark import SparkEngine

__all__ = ["REJECT_COLUMNS", "attach_table", "import_file_source", "publish_rejects"]

REJECT_COLUMNS = ("source", "file", "line", "column", "reason", "raw", "record")
SAMPLE_REJECTS = 20
RESERVED = ("rejects", "runs", "approvals")
_CORRUPT = "_kpi_corrupt"
_T = TypeVar("_T")


def import_file_source(engine: SparkEngine, source: Source) -> SourceReport:
    """Read, type and check a path source's files; register its rows and keep its rejects for `rejects`."""
    _check_name(source)
    listed = _listed(engine, source)
    files = [f for f, _, _ in listed]
    refused = [f for f in files if f.format not in ("csv", "json", "ndjson", "parquet")]
    if refused:
        raise KpiError(
            [
                error(
                    Code.SOURCE_NOT_ON_ENGINE,
                    f"source `{source.id}`: the spark engine does not read {refused[0].format} files "
                    f"(`{literal(refused[0].label)}`)",
                    source.span,
                    "export the sheet as CSV or Parquet, or run with --engine duckdb",
                )
            ]
        )
    typed = [_typed_file(engine, source, f) for f in files]
    checked = typed[0]
    for frame in typed[1:]:
        checked = checked.unionByName(frame)
    checked = _with_duplicates(checked, source).cache()
    counts = _counts(checked)
    names = list(source.columns)
    table = checked.where("_kpi_bad IS NULL").select(*[f"`{n}`" for n in names], "_file", "_line")
    engine.register(source.id, table)
    rejects = _rejects(checked, source).cache()
    engine.rejected[source.id] = rejects
    sample = tuple(
        Reject(source.id, str(r[1]), int(r[2]), r[3], str(r[4]), str(r[5] or ""), int(r[6]))
        for r in rejects.orderBy("_file_no", "record", "_col_no").limit(SAMPLE_REJECTS).collect()
    )
    reports = []
    for f, sha, size in listed:
        rows, rejected = counts.get(f.number, (0, 0))
        reports.append(FileReport(f.label, sha, size, f.format, rows, rows - rejected, rejected))
    checked.unpersist()
    notes = tuple(
        warning(
            Code.DATA_EMPTY, f"`{f.file}` has no data rows", None, "an empty export or a failed export? check the file"
        )
        for f in reports
        if f.rows == 0
    )
    return SourceReport(source.id, "loaded", tuple(reports), sample, notes)


def _listed(engine: SparkEngine, source: Source) -> list[tuple[DataFile, str, int]]:
    """A path source's files with their sha256 and size: local files hashed here, a URI's by Spark."""
    if source.path is not None and is_uri(source.path):
        return _remote_files(engine, source)
    return [(f, *file_sha256(f.path)) for f in source_files(source)]


def _remote_files(engine: SparkEngine, source: Source) -> list[tuple[DataFile, str, int]]:
    """The files a URI (a glob allowed) names, as Spark lists them, each hashed where it lives."""
    from pyspark.sql import functions as F

    uri = str(source.path)
    try:
        listing = engine.session.read.format("binaryFile").load(uri)
        found = listing.select("path", F.sha2("content", 256), "length").orderBy("path").collect()
    except Exception as exc:  # noqa: BLE001 - every listing failure means nothing readable there
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"source `{source.id}`: Spark finds no file at `{literal(uri)}`: {first}",
                    source.span,
                    "check the URI and that the cluster can reach it (credentials, the file system's jars)",
                )
            ]
        ) from None
    out = []
    for number, (location, sha, size) in enumerate(found, start=1):
        name = PurePosixPath(urlsplit(location).path).name
        fmt = FORMATS.get(PurePosixPath(name).suffix.lower())
        if fmt is None:
            raise KpiError(
                [
                    error(
                        Code.DATA_FILE,
                        f"source `{source.id}`: `{literal(location)}` is not a supported file type",
                        source.span,
                        "use .csv, .parquet, .json or .ndjson",
                    )
                ]
            )
        out.append((DataFile(Path(name), location, number, fmt, uri=location), str(sha), int(size)))
    return out


def publish_rejects(engine: SparkEngine) -> None:
    """The `rejects` view: the rejected rows of every path source registered so far."""
    from pyspark.sql import types as T

    frames = [f.select(*REJECT_COLUMNS) for f in engine.rejected.values()]
    if not frames:
        schema = T.StructType(
            [
                T.StructField("source", T.StringType()),
                T.StructField("file", T.StringType()),
                T.StructField("line", T.LongType()),
                T.StructField("column", T.StringType()),
                T.StructField("reason", T.StringType()),
                T.StructField("raw", T.StringType()),
                T.StructField("record", T.LongType()),
            ]
        )
        engine.register("rejects", engine.session.createDataFrame([], schema))
        return
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    engine.register("rejects", union)


def attach_table(engine: SparkEngine, source: Source) -> SourceReport:
    """A `table:` source: a table of Spark's catalog with the declared columns, exposed under the id.

    A TIMESTAMP_NTZ column is a wall-clock time in the organization's zone (the session zone).
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    _check_name(source)
    table = source.table or source.id
    if not engine.session.catalog.tableExists(table):
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"source `{source.id}` reads table `{literal(table)}`, which is not in Spark's catalog",
                    source.span,
                    "create the table in the cluster's catalog (Hive metastore, Unity Catalog), or declare a `path:`",
                )
            ]
        )
    frame = engine.session.table(table)
    kinds = {f.name: f.dataType for f in frame.schema.fields}
    missing = missing_columns(source, table, list(kinds))
    if missing is not None:
        raise KpiError([missing])
    columns = [
        F.col(f"`{name}`").cast("timestamp").alias(name)
        if isinstance(kinds[name], T.TimestampNTZType)
        else F.col(f"`{name}`")
        for name in kinds
    ]
    engine.register(source.id, frame.select(*columns))
    return SourceReport(source.id, "table")


def _typed_file(engine: SparkEngine, source: Source, file: DataFile) -> DataFrame:
    """One file's rows typed and judged: declared columns, `_file`, `_line`, work columns, `r0…` reasons."""
    from pyspark.sql import functions as F

    base, physical = _read(engine, source, file)
    items = list(source.columns.values())
    fmt = TextFormat.of(source.csv)
    built = [layers(c, i, physical[i], fmt, engine.timezone, key=c.name == source.key) for i, c in enumerate(items)]
    frame = base.select("*", *(_col(b.t, f"t{i}") for i, b in enumerate(built)))
    frame = frame.select("*", *(_col(b.ok, f"ok{i}") for i, b in enumerate(built)))
    walls = [_col(b.wall, f"w{i}") for i, b in enumerate(built) if b.wall is not None]
    if walls:
        frame = frame.select("*", *walls)
    frame = frame.select("*", *(_col(b.value, f"v{i}") for i, b in enumerate(built)))
    frame = frame.select("*", *(_col(b.reason, f"r{i}") for i, b in enumerate(built)))
    return frame.select(
        *(F.col(f"v{i}").cast(SPARK_TYPES[c.type]).alias(c.name) for i, c in enumerate(items)),
        F.lit(file.label).alias("_file"),
        F.col("_line"),
        F.lit(file.number).alias("_file_no"),
        F.col("_record"),
        F.col("_raw"),
        F.col("_error"),
        *(F.col(f"r{i}") for i in range(len(items))),
    )


def _read(engine: SparkEngine, source: Source, file: DataFile) -> tuple[DataFrame, list[str]]:
    """The file's base rows (`_record`, `_line`, `_raw`, `_error`, `c0…`) and each column's physical type."""
    if file.format == "parquet":
        return _read_parquet(engine, source, file)
    if file.format == "csv":
        return _read_csv(engine, source, file), [TEXT] * len(source.columns)
    return _read_json(engine, source, file), [TEXT] * len(source.columns)


def _read_csv(engine: SparkEngine, source: Source, file: DataFile) -> DataFrame:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    options = source.csv
    reader = engine.session.read.options(
        header=False,
        multiLine=True,
        sep=options.delimiter,
        quote=options.quote,
        escape=options.quote,
        encoding=options.encoding,
        mode="PERMISSIVE",
        nullValue=None,
        emptyValue="",
        inferSchema=False,
    )
    first = _unreadable(file, lambda: reader.csv(file.location).first())
    if first is None:
        empty = T.StructType([T.StructField(f"_c{i}", T.StringType()) for i in range(len(source.columns))])
        return _base(engine.session.createDataFrame([], empty), list(range(len(source.columns))), None, 0)
    width = len(first)
    positions = (
        match_header([str(v or "") for v in first], source.columns, file)
        if options.header
        else list(range(len(source.columns)))
    )
    schema = T.StructType(
        [T.StructField(f"_c{i}", T.StringType()) for i in range(width)] + [T.StructField(_CORRUPT, T.StringType())]
    )
    frame = reader.options(columnNameOfCorruptRecord=_CORRUPT).schema(schema).csv(file.location)
    frame = frame.withColumn("_kpi_id", F.monotonically_increasing_id())
    if options.header:
        frame = frame.where(F.col("_kpi_id") > 0)
    else:
        frame = frame.withColumn("_kpi_id", F.col("_kpi_id") + 1)
    cells = [F.coalesce(F.col(f"_c{i}"), F.lit("")) for i in range(width)]
    raw = F.coalesce(F.col(_CORRUPT), F.concat_ws(options.delimiter, *cells))
    problem = F.when(F.col(_CORRUPT).isNotNull(), F.lit(f"wrong number of fields: the header has {width}"))
    return _base(frame, positions, (raw, problem), 1 if options.header else 0)


def _read_json(engine: SparkEngine, source: Source, file: DataFile) -> DataFrame:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    names = list(source.columns)
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names] + [T.StructField(_CORRUPT, T.StringType())])
    reader = engine.session.read.options(
        multiLine=file.format == "json", mode="PERMISSIVE", columnNameOfCorruptRecord=_CORRUPT, encoding="UTF-8"
    )
    frame = reader.schema(schema).json(file.location)
    if file.format == "ndjson":
        frame = frame.coalesce(1)  # one partition: the row id is the line number
    frame = frame.toDF(*[f"_c{i}" for i in range(len(names))], _CORRUPT)
    frame = frame.withColumn("_kpi_id", F.monotonically_increasing_id() + 1)
    raw = F.coalesce(F.col(_CORRUPT), F.to_json(F.struct(*(F.col(f"_c{i}").alias(n) for i, n in enumerate(names)))))
    problem = F.when(F.col(_CORRUPT).isNotNull(), F.lit("not valid JSON, or not an object of plain values"))
    return _base(frame, list(range(len(names))), (raw, problem), 0)


def _read_parquet(engine: SparkEngine, source: Source, file: DataFile) -> tuple[DataFrame, list[str]]:
    from pyspark.sql import functions as F

    frame = _unreadable(file, lambda: engine.session.read.parquet(file.location))
    kinds = {f.name: physical_type(f.dataType) for f in frame.schema.fields}
    match_header(list(kinds), source.columns, file, place="file's schema")
    check_schema_types(file, source.columns, kinds, accepts)
    names = list(source.columns)
    frame = frame.select(*(F.col(f"`{n}`").alias(f"_c{i}") for i, n in enumerate(names)))
    frame = frame.withColumn("_kpi_id", F.monotonically_increasing_id() + 1)
    raw = F.to_json(F.struct(*(F.col(f"_c{i}").cast("string").alias(n) for i, n in enumerate(names))))
    return _base(frame, list(range(len(names))), (raw, None), 0), [kinds[n] for n in names]


def _base(
    frame: DataFrame, positions: list[int], extra: tuple[SparkColumn, SparkColumn | None] | None, header: int
) -> DataFrame:
    """The base columns over a read: `_record`, `_line`, `_raw`, `_error` and the declared cells `c0…`."""
    from pyspark.sql import functions as F

    if extra is None:
        return frame.select(
            F.lit(0).cast("bigint").alias("_record"),
            F.lit(0).cast("bigint").alias("_line"),
            F.lit(None).cast("string").alias("_raw"),
            F.lit(None).cast("string").alias("_error"),
            *(F.col(f"_c{p}").alias(f"c{i}") for i, p in enumerate(positions)),
        )
    raw, problem = extra
    return frame.select(
        F.col("_kpi_id").alias("_record"),
        (F.col("_kpi_id") + header).alias("_line"),
        raw.alias("_raw"),
        (problem if problem is not None else F.lit(None).cast("string")).alias("_error"),
        *(F.col(f"_c{p}").alias(f"c{i}") for i, p in enumerate(positions)),
    )


def _with_duplicates(frame: DataFrame, source: Source) -> DataFrame:
    """`_kpi_bad` (the row is rejected) and `_kpi_duplicate` (the reason a later row of a key is rejected)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    reasons = [F.col("_error"), *(F.col(f"r{i}") for i in range(len(source.columns)))]
    failed = F.coalesce(*reasons)
    frame = frame.withColumn("_kpi_failed", failed)
    if source.key is None:
        return frame.withColumn("_kpi_duplicate", F.lit(None).cast("string")).withColumn("_kpi_bad", failed)
    key = F.col(f"`{source.key}`")
    order = Window.partitionBy(key, F.col("_kpi_failed").isNull()).orderBy("_file_no", "_record")
    text = key.cast("string")
    shown = F.when(F.length(text) > SHOWN_CHARS, F.concat(F.substring(text, 1, SHOWN_CHARS), F.lit("…"))).otherwise(
        text
    )
    duplicate = F.when(
        F.col("_kpi_failed").isNull() & (F.row_number().over(order) > 1),
        F.concat(
            F.lit("duplicate key '"),
            shown,
            F.lit("' (first at "),
            F.first("_file").over(order),
            F.lit(":"),
            F.first("_line").over(order).cast("string"),
            F.lit(")"),
        ),
    )
    frame = frame.withColumn("_kpi_duplicate", duplicate)
    return frame.withColumn("_kpi_bad", F.coalesce(F.col("_kpi_failed"), F.col("_kpi_duplicate")))


def _counts(frame: DataFrame) -> dict[int, tuple[int, int]]:
    """(rows, rejected) per file number."""
    from pyspark.sql import functions as F

    rows = (
        frame.groupBy("_file_no")
        .agg(F.count(F.lit(1)).alias("rows"), F.count(F.col("_kpi_bad")).alias("rejected"))
        .collect()
    )
    return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}


def _rejects(frame: DataFrame, source: Source) -> DataFrame:
    """One row per problem: the record's own error, else one per failing column, else the duplicate key."""
    from pyspark.sql import functions as F

    names = list(source.columns)
    key_no = names.index(source.key) if source.key in names else -1
    problems = [
        F.struct(F.lit(-1).alias("no"), F.lit(None).cast("string").alias("column"), F.col("_error").alias("reason"))
    ]
    problems += [
        F.struct(
            F.lit(i).alias("no"),
            F.lit(n).alias("column"),
            F.when(F.col("_error").isNull(), F.col(f"r{i}")).alias("reason"),
        )
        for i, n in enumerate(names)
    ]
    problems.append(
        F.struct(
            F.lit(key_no).alias("no"),
            F.lit(source.key).cast("string").alias("column"),
            F.col("_kpi_duplicate").alias("reason"),
        )
    )
    exploded = frame.where(F.col("_kpi_bad").isNotNull()).select(
        "_file", "_line", "_raw", "_record", "_file_no", F.explode(F.array(*problems)).alias("p")
    )
    return exploded.where(F.col("p.reason").isNotNull()).select(
        F.lit(source.id).alias("source"),
        F.col("_file").alias("file"),
        F.col("_line").alias("line"),
        F.col("p.column").alias("column"),
        F.col("p.reason").alias("reason"),
        F.col("_raw").alias("raw"),
        F.col("_record").alias("record"),
        F.col("_file_no"),
        F.col("p.no").alias("_col_no"),
    )


def _col(expression: exp.Expr, name: str) -> SparkColumn:
    """A sqlglot expression as a named Spark column (rendered by to_sql)."""
    from pyspark.sql import functions as F

    return F.expr(to_sql(expression, "spark")).alias(name)


def _unreadable(file: DataFile, read: Callable[[], _T]) -> _T:
    """Run a read; a file Spark cannot read is a file error naming it."""
    try:
        return read()
    except KpiError:
        raise
    except Exception as exc:  # noqa: BLE001 - every Spark read failure means an unreadable file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KpiError(
            [error(Code.DATA_FILE, f"`{literal(file.label)}` cannot be read by Spark: {first}", file.span())]
        ) from None


def _check_name(source: Source) -> None:
    if source.id in RESERVED:
        raise KpiError(
            [
                error(
                    Code.DATA_FILE, f"source id `{source.id}` is reserved for a table", source.span, "rename the source"
                )
            ]
        )
