"""What the workspace database holds: which sources were imported, and from which file contents."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kpi_engine.config.model import Source
from kpi_engine.data.files import file_sha256, source_files
from kpi_engine.data.warehouse import WAREHOUSE_FILE, Warehouse, open_warehouse, relations, table_hash


def imported_files(wh: Warehouse) -> dict[str, list[tuple[str, str]]]:
    """Source id → (file label, sha256) of its last import, for every source that has one."""
    tables = relations(wh.conn)
    if "_imports" not in tables:
        return {}
    out: dict[str, list[tuple[str, str]]] = {}
    for source, label, sha in wh.conn.execute(
        "SELECT source, file, sha256 FROM _imports ORDER BY source, file_no"
    ).fetchall():
        if source in tables:
            out.setdefault(str(source), []).append((str(label), str(sha)))
    return out


def stale_sources(sources: Mapping[str, Source], imported: Mapping[str, list[tuple[str, str]]]) -> list[str]:
    """Sources whose files changed since they were imported."""
    stale = []
    for source_id, source in sorted(sources.items()):
        if source.path is None or source_id not in imported:
            continue
        current = [(f.label, file_sha256(f.path)[0]) for f in source_files(source)]
        if current != imported[source_id]:
            stale.append(source_id)
    return stale


def imported_table_hashes(wh: Warehouse) -> dict[str, str | None]:
    """Source id → the content hash its table had when it was imported (None for an import before hashes)."""
    tables = relations(wh.conn)
    if "_imports" not in tables:
        return {}
    columns = {
        c
        for (c,) in wh.conn.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = '_imports'").fetchall()
    }
    if "table_hash" not in columns:
        return {}
    return {
        str(s): h
        for s, h in wh.conn.execute("SELECT DISTINCT source, table_hash FROM _imports ORDER BY source").fetchall()
        if s in tables
    }


def read_table_hashes(
    root: Path, timezone: str, sources: Mapping[str, Source], live: bool = False
) -> dict[str, str | None]:
    """Source id → content hash of the table evaluation reads in the workspace database.

    {} when evaluation reads the files (no import, or not every file source imported: the rule of `open_data`).

    Imported sources give the hash stored at import, or with `live` the table's hash now; `table:`
    sources always give the table's hash now.
    """
    path = (root.parent if root.is_file() else root) / WAREHOUSE_FILE
    if not path.is_file():
        return {}
    with open_warehouse(root, timezone, read_only=True) as wh:
        imported = imported_files(wh)
        if not all(s in imported for s, src in sources.items() if src.path is not None):
            return {}
        stored = imported_table_hashes(wh)
        out: dict[str, str | None] = {}
        for source_id, source in sorted(sources.items()):
            if source.path is None:
                out[source_id] = table_hash(wh.conn, source.table or source_id)
            else:
                out[source_id] = table_hash(wh.conn, source_id) if live else stored.get(source_id)
        return out
