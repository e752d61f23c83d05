"""The PostgreSQL engine: formulas run where the data lives, on a server reached with a libpq URL.

Optional (``pip install "kpi-engine[postgres]"``, psycopg 3); this is the only module that imports
psycopg. A session sets ``TimeZone`` to the organization's zone, reads each `table:` source in place
through a temporary view named by the source id — the declared types and checks applied in SQL
(:mod:`kpi_engine.data.table_typing`), failing rows counted per reason in a temporary ``rejects``
table — and refuses `path:` sources: files are DuckDB's (or Spark's). `kpi test` fixtures still run
here: DuckDB imports them in memory with their usual checks and :meth:`PostgresEngine.copy_from`
copies the typed tables into temporary tables (COPY). :meth:`PostgresEngine.seal` makes every later
transaction read-only and the search path the session's temporary schema alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType, TracebackType
from typing import Any, cast

from sqlglot import exp

from kpi_engine.config.model import Source
from kpi_engine.data.report import FileReport, ImportFailed, ImportReport, Reject, SourceReport
from kpi_engine.data.table_typing import SQL_TYPES, type_problems, typed_table
from kpi_engine.errors import Code, Diagnostic, KpiError, did_you_mean, error
from kpi_engine.execution import Engine, FailureKind, QueryFailed, without_credentials
from kpi_engine.sql.render import to_sql

__all__ = ["PostgresEngine", "open_postgres"]

DIALECT = "postgres"
REJECTS = "rejects"
SAMPLE_REJECTS = 20
_REJECT_COLUMNS = (
    ("source", "TEXT"),
    ("file", "TEXT"),
    ("line", "BIGINT"),
    ("column", "TEXT"),
    ("reason", "TEXT"),
    ("raw", "TEXT"),
    ("record", "BIGINT"),
)
# SQLSTATEs of a query's data: numeric value out of range; invalid text, datetime format, datetime overflow.
_FAILURES: Mapping[str, FailureKind] = {
    "22003": "out_of_range",
    "22P02": "conversion",
    "22007": "conversion",
    "22008": "conversion",
}
_SETTINGS = {"DateStyle": "ISO", "IntervalStyle": "iso_8601", "extra_float_digits": "3"}


def _driver() -> ModuleType:
    """psycopg, or a coded error saying how to install it."""
    try:
        import psycopg
    except ImportError:
        raise KpiError(
            [
                error(
                    Code.ENGINE_MISSING,
                    "the postgres engine needs psycopg, which is not installed",
                    None,
                    'pip install "kpi-engine[postgres]"',
                )
            ]
        ) from None
    return psycopg


def open_postgres(timezone: str, connection: str | None = None) -> PostgresEngine:
    """A session on the server of ``connection`` (a libpq URL; None: libpq's environment defaults)."""
    psycopg = _driver()
    shown = without_credentials(connection) if connection else "libpq's default (PGHOST, PGDATABASE, …)"
    try:
        conn = psycopg.connect(connection or "", autocommit=True)
    except psycopg.Error as exc:
        detail = (str(exc).strip().splitlines() or ["no reason given"])[0]
        raise KpiError(
            [
                error(
                    Code.ENGINE_UNREACHABLE,
                    f"cannot connect to PostgreSQL at `{shown}`: {detail}",
                    None,
                    "check --connection, a libpq URL such as postgresql://user@host:5432/db (keep the password "
                    "in ~/.pgpass or PGPASSWORD, not in the URL), and that the server is running",
                )
            ]
        ) from None
    from psycopg.types.string import TextLoader

    conn.adapters.register_loader("timestamptz", TextLoader)  # instants come back as ISO text in the zone
    engine = PostgresEngine(conn, connection, timezone)
    try:
        engine.prepare()
    except BaseException:
        conn.close()
        raise
    return engine


class PostgresEngine:
    """One PostgreSQL session in the organization's time zone: the postgres :class:`~kpi_engine.execution.Engine`."""

    name = "postgres"
    dialect = DIALECT

    def __init__(self, conn: Any, url: str | None, timezone: str) -> None:
        self.conn = conn
        self.url = url
        self.timezone = timezone
        self.sealed = False

    @property
    def version(self) -> str:
        """The server's version, as ``SHOW server_version`` gives it."""
        ((version,),) = self._fetch("SHOW server_version")
        return str(version)

    @property
    def connection(self) -> str | None:
        """The connection URL without its password; None for libpq's defaults."""
        return without_credentials(self.url)

    def prepare(self) -> None:
        """Check and set the time zone, fix the text formats, create the temporary ``rejects`` table."""
        ((known,),) = self._fetch("SELECT count(*) FROM pg_timezone_names WHERE name = %s", [self.timezone])
        if not known:
            names = [str(n) for (n,) in self._fetch("SELECT name FROM pg_timezone_names")]
            raise KpiError(
                [
                    error(
                        Code.BAD_VALUE,
                        f"unknown time zone `{self.timezone}` on this PostgreSQL server",
                        None,
                        did_you_mean(self.timezone, names) or "use an IANA name like Europe/Riga",
                    )
                ]
            )
        for name, value in {"TimeZone": self.timezone, **_SETTINGS}.items():
            self._fetch("SELECT set_config(%s, %s, false)", [name, value])
        columns = [
            exp.ColumnDef(this=exp.to_identifier(n, quoted=True), kind=exp.DataType.build(t, dialect=DIALECT))
            for n, t in _REJECT_COLUMNS
        ]
        self._execute(_create_temp(exp.Schema(this=exp.to_identifier(REJECTS), expressions=columns)))

    def run(self, query: exp.Expression) -> list[tuple[object, ...]]:
        """Rows of a sqlglot query; PostgreSQL's errors raised as QueryFailed."""
        psycopg = _driver()
        try:
            return self._fetch(to_sql(query, DIALECT))
        except psycopg.Error as exc:
            kind = _FAILURES.get(str(getattr(exc, "sqlstate", "") or ""), "other")
            raise QueryFailed(kind, str(exc).strip()) from exc

    def register_sources(self, sources: Mapping[str, Source], only: Sequence[str] | None = None) -> ImportReport:
        """Each `table:` source (all, or ``only`` these) as a typed view; a `path:` source is refused."""
        problems: list[Diagnostic] = []
        reports: list[SourceReport] = []
        for source_id in only if only is not None else list(sources):
            source = sources[source_id]
            try:
                reports.append(self._attach(source))
            except KpiError as exc:
                problems += exc.diagnostics
        report = ImportReport(tuple(reports))
        if problems:
            raise ImportFailed(tuple(problems), report)
        return report

    def copy_from(self, staging: Engine, sources: Mapping[str, Source]) -> None:
        """Copy the sources' tables and the rejects of another session (DuckDB's import) into temporary tables.

        What `kpi test` runs its fixtures on: the rows as DuckDB typed and checked them.
        """
        for source in sources.values():
            names = [*source.columns, "_file", "_line"]
            types = [*(SQL_TYPES[c.type] for c in source.columns.values()), "TEXT", "BIGINT"]
            table = exp.to_identifier(source.id, quoted=True)
            columns = [
                exp.ColumnDef(this=exp.to_identifier(n, quoted=True), kind=exp.DataType.build(t, dialect=DIALECT))
                for n, t in zip(names, types, strict=True)
            ]
            self._execute(_create_temp(exp.Schema(this=table, expressions=columns)))
            rows = staging.run(exp.select(*(exp.column(n, quoted=True) for n in names)).from_(table.copy()))
            self._copy(
                exp.Schema(this=table.copy(), expressions=[exp.to_identifier(n, quoted=True) for n in names]), rows
            )
        names = [n for n, _ in _REJECT_COLUMNS]
        rows = staging.run(exp.select(*(exp.column(n, quoted=True) for n in names)).from_(REJECTS))
        self._copy(
            exp.Schema(this=exp.to_identifier(REJECTS), expressions=[exp.to_identifier(n, quoted=True) for n in names]),
            rows,
        )

    def relations(self, views: bool = False) -> set[str]:
        """The tables (with ``views``: and the views) of the session's temporary schema."""
        kinds = ["r", "v"] if views else ["r"]
        rows = self._fetch(
            "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relkind = ANY(%s)", [kinds]
        )
        return {str(name) for (name,) in rows}

    def seal(self) -> None:
        """Every later transaction read-only; names resolve in the session's temporary schema alone."""
        self._fetch("SELECT set_config('search_path', 'pg_temp', false)")
        self._fetch("SELECT set_config('default_transaction_read_only', 'on', false)")
        self.sealed = True

    def close(self) -> None:
        """End the session (its temporary views and tables go with it)."""
        self.conn.close()

    def __enter__(self) -> PostgresEngine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # --- this module's own statements ------------------------------------------------------

    def _fetch(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[object, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cast("list[tuple[object, ...]]", cursor.fetchall() if cursor.description else [])

    def _execute(self, statement: exp.Expression) -> None:
        self._fetch(to_sql(statement, DIALECT))

    def _copy(self, target: exp.Schema, rows: Sequence[Sequence[object]]) -> None:
        with self.conn.cursor() as cursor, cursor.copy(f"COPY {to_sql(target, DIALECT)} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _attach(self, source: Source) -> SourceReport:
        """A `table:` source as a typed view named by its id, its failing rows in ``rejects``."""
        if source.path is not None or source.table is None:
            raise KpiError(
                [
                    error(
                        Code.SOURCE_NOT_ON_ENGINE,
                        f"source `{source.id}` reads files (`path:`); the postgres engine reads tables only",
                        source.span,
                        "load the files into a PostgreSQL table and declare `table: schema.name` instead of "
                        "`path:`, or run with --engine duckdb",
                    )
                ]
            )
        if source.id == REJECTS:
            raise KpiError(
                [error(Code.DATA_FILE, f"source id `{REJECTS}` is reserved", source.span, "rename the source")]
            )
        table = _table(source.table)
        shown = to_sql(table, DIALECT)
        # The table's schema-qualified name: a view named by the source id may later hide an unqualified one.
        found = self._fetch(
            """SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""",
            [shown],
        )
        if not found:
            raise KpiError(
                [
                    error(
                        Code.DATA_FILE,
                        f"source `{source.id}` reads table `{source.table}`, which this PostgreSQL database "
                        "does not have (or this user cannot see)",
                        source.span,
                        "check the name (schema-qualified, e.g. sales.orders) and --connection's database",
                    )
                ]
            )
        types = {str(name): str(kind) for _, _, name, kind in found}
        table = exp.Table(
            this=exp.to_identifier(str(found[0][1]), quoted=True), db=exp.to_identifier(str(found[0][0]), quoted=True)
        )
        problems = type_problems(source, source.table, types)
        if problems:
            raise KpiError(problems)
        typed = typed_table(source, table, types, self.timezone)
        view = exp.Create(
            this=exp.Table(this=exp.to_identifier(source.id, quoted=True)),
            kind="VIEW",
            replace=True,
            expression=typed.view,
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self._execute(exp.insert(typed.rejects, REJECTS))
        self._execute(view)
        return self._report(source, table)

    def _report(self, source: Source, table: exp.Table) -> SourceReport:
        """The table's rows and rejected rows, with the first rejects as a sample."""
        ((rows,),) = self.run(exp.select(exp.func("count", exp.Star())).from_(table.copy()))
        where = exp.column("source").eq(exp.Literal.string(source.id))
        record = exp.column("record")
        ((rejected,),) = self.run(
            exp.select(exp.Count(this=exp.Distinct(expressions=[record.copy()]))).from_(REJECTS).where(where)
        )
        names = [exp.column(n, quoted=True) for n, _ in _REJECT_COLUMNS]
        sample = self.run(
            exp.select(*names)
            .from_(REJECTS)
            .where(where.copy())
            .order_by(record.copy(), exp.column("column", quoted=True))
            .limit(SAMPLE_REJECTS)
        )
        total, bad = int(cast(int, rows)), int(cast(int, rejected))
        files = (FileReport(str(source.table), "", 0, "table", total, total - bad, bad),)
        return SourceReport(source.id, "table", files, tuple(Reject(*r) for r in sample))  # type: ignore[arg-type]


def _table(name: str) -> exp.Table:
    """A table name as written in `table:` (``orders`` or ``sales.orders``), each part quoted as it is."""
    schema, _, table = name.rpartition(".")
    return exp.Table(
        this=exp.to_identifier(table, quoted=True), db=exp.to_identifier(schema, quoted=True) if schema else None
    )


def _create_temp(schema: exp.Schema) -> exp.Create:
    """``CREATE TEMPORARY TABLE IF NOT EXISTS`` of a table with its columns."""
    return exp.Create(
        this=schema,
        kind="TABLE",
        exists=True,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
