"""The execution seam: the one contract between evaluation and the database that runs its queries.

An engine is one open session on a database. It speaks one sqlglot dialect (``dialect``) and runs
in the organization's time zone (``timezone``, set when it opens). It registers the workspace's
sources as tables named by source id, with their rejected rows in a ``rejects`` table
(``register_sources``), says which tables and views it has (``relations``), and runs a sqlglot
query (``run``): rows of plain Python values, TIMESTAMPTZ values as ISO text in the session's zone.
A query that fails raises :class:`QueryFailed`, never the driver's own exception, so evaluation
classifies failures without importing any driver. It closes, and works as a context manager.

DuckDB is the first engine (:class:`kpi_engine.data.warehouse.Warehouse`). Adding one is one new
module implementing :class:`Engine` and naming its opener in :data:`ENGINES`, plus its dialect
notes in ``docs/reference/formulas.md`` (section "SQL dialects"); what the dialect cannot compute
is refused at compile time in :mod:`kpi_engine.sql.dialects`. Callers get sessions through
:func:`open_session` and :func:`loaded`, never by naming a driver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, Self, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from sqlglot import exp

    from kpi_engine.config.model import Source
    from kpi_engine.data.report import ImportReport

__all__ = [
    "ENGINES",
    "CopiesTables",
    "Engine",
    "FailureKind",
    "QueryFailed",
    "Target",
    "loaded",
    "open_session",
    "without_credentials",
]

#: The engines by name: the module and function that open a fresh session, given the time zone and
#: the connection text (None: the engine's default). Imported on first use, so that a command that
#: never queries never loads a driver.
ENGINES: Mapping[str, tuple[str, str]] = {
    "duckdb": ("kpi_engine.data.warehouse", "open_memory"),
    "postgres": ("kpi_engine.data.postgres", "open_postgres"),
    "spark": ("kpi_engine.data.spark", "open_spark"),
}


@dataclass(frozen=True)
class Target:
    """Where a command runs its queries: an engine by name and its connection (None: the default).

    DuckDB with no connection is the workspace database, or the files read into memory.
    """

    name: str = "duckdb"
    connection: str | None = None

    @property
    def shown(self) -> str | None:
        """The connection as messages, the command line kept in the ledger and the ledger show it."""
        return without_credentials(self.connection)


_PASSWORD_PAIR = re.compile(r"""\bpassword\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S*)\s*""", re.IGNORECASE)


_SECRETS = ("password=", "token=")


def without_credentials(connection: str | None) -> str | None:
    """A connection text with its secrets removed: a URL's `user:password@`, `password=` and `token=`.

    What the ledger records and messages print; the password stays with the user (libpq reads
    PGPASSWORD and ~/.pgpass).
    """
    if connection is None:
        return None
    try:
        parts = urlsplit(connection)
    except ValueError:
        return _PASSWORD_PAIR.sub("", connection).strip()
    if not parts.scheme or not parts.netloc:
        return _PASSWORD_PAIR.sub("", connection).strip()
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}@{host}" if user.split(":", 1)[0] else host
    query = "&".join(q for q in parts.query.split("&") if q and not q.lower().startswith(_SECRETS))
    path = ";".join(p for p in parts.path.split(";") if not p.lower().startswith(_SECRETS))  # sc://h/;token=…
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


#: Why a query failed: a value out of the type's range, a value that could not be converted, or else.
FailureKind = Literal["out_of_range", "conversion", "other"]


class QueryFailed(Exception):
    """A query an engine could not run, classified by ``kind``, with the engine's own message."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message


@runtime_checkable
class Engine(Protocol):
    """What every engine implements; evaluation and everything that runs queries takes one."""

    name: str  # the engine's name in ENGINES ("duckdb", …)
    dialect: str  # the sqlglot dialect name queries are rendered in
    timezone: str  # the session time zone (an IANA name), set when the engine opens

    @property
    def version(self) -> str:
        """The engine's own version, as the ledger records it (e.g. DuckDB's ``v1.2.0``)."""
        ...

    @property
    def connection(self) -> str | None:
        """The connection the session was opened with, without credentials; None for the default."""
        ...

    def run(self, query: exp.Expression) -> list[tuple[object, ...]]:
        """Rows of a query; TIMESTAMPTZ values as ISO text in ``timezone``; raise QueryFailed on failure."""
        ...

    def register_sources(self, sources: Mapping[str, Source], only: Sequence[str] | None = None) -> ImportReport:
        """Make sources (all, or ``only`` these) readable as tables named by source id; the import's report.

        Rejected rows go to the ``rejects`` table; a file that cannot be read raises ImportFailed.
        """
        ...

    def relations(self, views: bool = False) -> set[str]:
        """The names of the tables (with ``views``: and the views) the engine can read."""
        ...

    def seal(self) -> None:
        """No more sources: from now on a query can read nothing but the registered tables."""
        ...

    def close(self) -> None:
        """End the session."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None: ...


@runtime_checkable
class CopiesTables(Protocol):
    """An engine that reads no files (PostgreSQL): `kpi test` fixtures, imported by DuckDB, are copied into it."""

    def copy_from(self, staging: Engine, sources: Mapping[str, Source]) -> None:
        """Copy the sources' tables and the rejects of another session into this one."""
        ...


def open_session(timezone: str, name: str = "duckdb", connection: str | None = None) -> Engine:
    """A fresh session of the named engine in the time zone, with nothing registered yet."""
    import importlib

    if name not in ENGINES:
        from kpi_engine.errors import Code, KpiError, did_you_mean, error

        raise KpiError(
            [
                error(
                    Code.USAGE,
                    f"unknown engine `{name}`",
                    None,
                    did_you_mean(name, list(ENGINES)) or f"choose one of: {', '.join(sorted(ENGINES))}",
                )
            ]
        )
    module, function = ENGINES[name]
    opener: Callable[[str, str | None], Engine] = getattr(importlib.import_module(module), function)
    return opener(timezone, connection)


@contextmanager
def loaded(
    sources: Mapping[str, Source], timezone: str, target: Target = Target()
) -> Iterator[tuple[Engine, ImportReport]]:
    """A fresh session with the sources registered and sealed, and the import's report; closed after.

    What `kpi test` runs its fixtures on, what `kpi diff` prices a change on, and what evaluation
    uses when the workspace has no imported database or runs on another engine.
    """
    with open_session(timezone, target.name, target.connection) as engine:
        report = engine.register_sources(sources)
        engine.seal()
        yield engine, report
