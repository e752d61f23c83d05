"""Importing sources, rejects, and the workspace database: the only package that talks to DuckDB.

The names below load on first use, so that importing one light module of this package (such as
``kpi_engine.data.report``) does not import DuckDB.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpi_engine.data.column_types import DUCKDB_TYPES
    from kpi_engine.data.files import source_hashes
    from kpi_engine.data.report import FileReport, ImportFailed, ImportReport, Progress, Reject, SourceReport
    from kpi_engine.data.warehouse import Warehouse, import_sources, lock_down, open_memory, open_warehouse

_HOMES = {
    "source_hashes": "files",
    "FileReport": "report",
    "ImportFailed": "report",
    "ImportReport": "report",
    "Progress": "report",
    "Reject": "report",
    "SourceReport": "report",
    "DUCKDB_TYPES": "types",
    "Warehouse": "warehouse",
    "import_sources": "warehouse",
    "lock_down": "warehouse",
    "open_memory": "warehouse",
    "open_warehouse": "warehouse",
}
__all__ = [
    "DUCKDB_TYPES",
    "FileReport",
    "ImportFailed",
    "ImportReport",
    "Progress",
    "Reject",
    "SourceReport",
    "Warehouse",
    "import_sources",
    "lock_down",
    "open_memory",
    "open_warehouse",
    "source_hashes",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kpi_engine.data' has no attribute {name!r}")
    return getattr(import_module(f"kpi_engine.data.{home}"), name)
