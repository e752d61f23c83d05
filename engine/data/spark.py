"""The Spark engine: a PySpark session in the organization's time zone (SPEC §12).

``--connection`` is a master URL (``local[N]``, ``spark://host:7077``, ``yarn``) or a Spark Connect
URL (``sc://host:15002``); the default is ``local[*]``. Queries are sqlglot expressions rendered in
the ``spark`` dialect (:func:`~kpi_engine.sql.render.to_sql`); rows come back as plain Python
values with TIMESTAMP values as ISO text in the session zone, written as DuckDB writes them
(``2025-03-30 04:30:00.5+03``). ``path:`` sources are read and checked by Spark itself
(:mod:`kpi_engine.data.spark_import`); ``table:`` sources are tables of Spark's catalog.

PySpark is an optional extra and loads only here; without it, or without Java, opening the engine
is a coded error with a hint, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from kpi_engine.config.model import Source
from kpi_engine.data.report import ImportFailed, ImportReport, SourceReport
from kpi_engine.errors import Code, Diagnostic, KpiError, error
from kpi_engine.execution import FailureKind, QueryFailed, without_credentials
from kpi_engine.literal import literal
from kpi_engine.sql.render import to_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkEngine", "open_spark"]

DEFAULT_MASTER = "local[*]"
SPARK = "spark"
_INSTALL_HINT = 'install the extra with `pip install "kpi-engine[spark]"` and Java 17 (set JAVA_HOME)'
# Spark's error conditions, as the engine-neutral kinds evaluation classifies.
_FAILURES: Mapping[str, FailureKind] = {
    "ARITHMETIC_OVERFLOW": "out_of_range",
    "NUMERIC_VALUE_OUT_OF_RANGE": "out_of_range",
    "CAST_OVERFLOW": "out_of_range",
    "DATETIME_OVERFLOW": "out_of_range",
    "CAST_INVALID_INPUT": "conversion",
    "CAST_OVERFLOW_IN_TABLE_INSERT": "conversion",
}
_LOG4J = """rootLogger.level = off
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %m%n
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = off
"""


class SparkEngine:
    """A Spark session set to the organization's time zone; the sources are temporary views."""

    name = SPARK
    dialect = SPARK

    def __init__(self, session: SparkSession, timezone: str, connection: str | None, owned: bool) -> None:
        self.session = session
        self.timezone = timezone
        self._connection = connection
        self._owned = owned  # a session this engine started, stopped when it closes
        self._views: dict[str, DataFrame] = {}  # registered sources and `rejects`, kept cached
        self.rejected: dict[str, DataFrame] = {}  # each path source's rejected rows, for `rejects`
        self.sealed = False

    @property
    def version(self) -> str:
        """Spark's version, as ``spark.version`` gives it."""
        return str(self.session.version)

    @property
    def connection(self) -> str | None:
        """The master or Spark Connect URL without user, password or token; None for the default."""
        return without_credentials(self._connection)

    def run(self, query: exp.Expression) -> list[tuple[object, ...]]:
        """Rows of a sqlglot query; TIMESTAMP values as ISO text in the session zone; QueryFailed on failure."""
        sql = to_sql(query, self.dialect)
        try:
            frame = self.session.sql(sql)
            return [tuple(row) for row in _timestamps_as_text(frame).collect()]
        except Exception as exc:  # noqa: BLE001 - PySpark raises many classes; each becomes QueryFailed
            raise _failure(exc) from exc

    def frame(self, query: exp.Expression) -> DataFrame:
        """A query as a Spark DataFrame, for this package's own work (the import's counts)."""
        return self.session.sql(to_sql(query, self.dialect))

    def register_sources(self, sources: Mapping[str, Source], only: Sequence[str] | None = None) -> ImportReport:
        """Read every path source with Spark and check it like `kpi import`; expose `table:` sources.

        Each source becomes a temporary view named by its id, its rejected rows a view `rejects`.
        """
        from kpi_engine.data.spark_import import attach_table, import_file_source, publish_rejects

        if self.sealed:
            raise KpiError([error(Code.DATABASE, "cannot register sources in a sealed Spark session")])
        problems: list[Diagnostic] = []
        notes: list[Diagnostic] = []
        reports: list[SourceReport] = []
        for source_id in only if only is not None else list(sources):
            source = sources[source_id]
            try:
                if source.path is None:
                    report = attach_table(self, source)
                else:
                    report = import_file_source(self, source)
            except KpiError as exc:
                problems += exc.diagnostics
                continue
            notes += report.diagnostics
            reports.append(report)
        publish_rejects(self)
        result = ImportReport(tuple(reports), None, tuple(notes + problems))
        if problems:
            raise ImportFailed(tuple(problems), result)
        return result

    def register(self, name: str, frame: DataFrame) -> None:
        """Expose a DataFrame as a temporary view, cached: the evaluation's queries read it many times."""
        old = self._views.pop(name, None)
        if old is not None:
            old.unpersist()
        frame = frame.cache()
        frame.createOrReplaceTempView(name)
        self._views[name] = frame

    def relations(self, views: bool = False) -> set[str]:
        """The registered sources and `rejects`, and the tables (with ``views``: and views) of the catalog."""
        names = set(self._views)
        try:
            for table in self.session.catalog.listTables():
                if views or table.tableType != "VIEW":
                    names.add(table.name)
        except Exception:  # noqa: BLE001, S110 - a catalog that cannot be listed adds nothing
            pass
        return names

    def seal(self) -> None:
        """No more sources. Formulas compile to SQL over the registered views only: nothing else to lock."""
        self.sealed = True

    def close(self) -> None:
        """Drop the cached views; stop the session when this engine started it."""
        for frame in [*self._views.values(), *self.rejected.values()]:
            frame.unpersist()
        self._views.clear()
        self.rejected.clear()
        if self._owned:
            self.session.stop()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def open_spark(timezone: str, connection: str | None = None) -> SparkEngine:
    """A Spark session in the time zone: ``connection`` a master or Spark Connect URL (default ``local[*]``).

    A session already running in this process with the same master is reused (Spark allows one
    per process) and left running on close; its time zone is set for this engine's queries.
    """
    session, owned = _session(connection or DEFAULT_MASTER)
    _set_zone(session, timezone)
    return SparkEngine(session, timezone, connection, owned)


def _session(master: str) -> tuple[SparkSession, bool]:
    """The process's Spark session for ``master``: (session, whether it was started here)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise KpiError([error(Code.ENGINE_MISSING, "the spark engine needs PySpark", None, _INSTALL_HINT)]) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    if not master.startswith("sc://") and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise KpiError(
            [error(Code.ENGINE_MISSING, "the spark engine needs Java, and none was found", None, _INSTALL_HINT)]
        )
    builder: Any = SparkSession.builder.appName("kpi-engine")
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    for key, value in _settings(master).items():
        builder = builder.config(key, value)
    log = Path(tempfile.gettempdir()) / "kpi-engine-spark.log"
    try:
        with _stderr_to(log, not master.startswith("sc://")):
            session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - Py4J, Java and connection errors all mean the same to a user
        raise KpiError(
            [
                error(
                    Code.ENGINE_UNREACHABLE,
                    f"cannot start Spark with connection `{literal(master)}`: {_first_line(exc)}",
                    None,
                    "check the master URL (local[N], spark://host:7077, yarn or sc://host:15002) and "
                    f"that Java 17 is installed; the JVM's own messages are in {log}",
                )
            ]
        ) from None
    if not master.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    return session, True


@contextmanager
def _stderr_to(log: Path, started_here: bool) -> Iterator[None]:
    """While the driver's JVM starts, file descriptor 2 is ``log``: the JVM inherits it for good.

    Java and Spark print start-up notices there before any log setting applies ("Using incubator
    modules", "Setting default log level"); a user's stderr keeps kpi's own diagnostics only. Spark's
    errors still reach kpi as exceptions.
    """
    if not started_here:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


def _settings(master: str) -> dict[str, str]:
    """Quiet logs; for local masters few shuffle partitions and no UI (start-up and small queries dominate)."""
    if master.startswith("sc://"):
        return {}
    config = Path(tempfile.gettempdir()) / "kpi-engine-spark-log4j2-v1.properties"
    if not config.is_file():
        config.write_text(_LOG4J, encoding="utf-8")
    settings = {
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{config}",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.log.structuredLogging.enabled": "false",
    }
    if master.startswith("local"):
        settings |= {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4", "spark.driver.memory": "2g"}
    return settings


def _set_zone(session: SparkSession, timezone: str) -> None:
    """The organization's zone as the session zone; an unknown zone is a coded error."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise KpiError(
            [
                error(
                    Code.BAD_VALUE,
                    f"unknown time zone `{literal(timezone)}`",
                    None,
                    "use an IANA name like Europe/Riga",
                )
            ]
        ) from None
    session.conf.set("spark.sql.session.timeZone", timezone)


def _timestamps_as_text(frame: DataFrame) -> DataFrame:
    """TIMESTAMP columns as DuckDB writes TIMESTAMPTZ text: ``2025-03-30 04:30:00.5+03`` (session zone)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    kinds = [field.dataType for field in frame.schema.fields]
    if not any(isinstance(kind, TimestampType) for kind in kinds):
        return frame
    names = [f"c{i}" for i in range(len(kinds))]
    frame = frame.toDF(*names)
    columns = []
    for name, kind in zip(names, kinds, strict=True):
        column = F.col(name)
        if isinstance(kind, TimestampType):
            offset = F.regexp_replace(F.date_format(column, "xxx"), ":00$", "")
            column = F.concat(column.cast("string"), offset)
        columns.append(column.alias(name))
    return frame.select(*columns)


def _failure(exc: Exception) -> QueryFailed:
    """A Spark error as QueryFailed, classified by its error condition."""
    condition = ""
    for method in ("getCondition", "getErrorClass"):
        found = getattr(exc, method, None)
        if callable(found):
            try:
                condition = str(found() or "")
            except Exception:  # noqa: BLE001 - an old PySpark without conditions
                condition = ""
            if condition:
                break
    kind = _FAILURES.get(condition.split(".")[0], "other")
    return QueryFailed(kind, _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
