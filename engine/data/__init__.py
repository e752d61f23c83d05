"""Importing sources, rejects, and the workspace database: the only package that talks to DuckDB."""

from kpi_engine.data.files import source_hashes
from kpi_engine.data.report import FileReport, ImportFailed, ImportReport, Progress, Reject, SourceReport
from kpi_engine.data.types import DUCKDB_TYPES
from kpi_engine.data.warehouse import Warehouse, import_sources, lock_down, open_memory, open_warehouse

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
