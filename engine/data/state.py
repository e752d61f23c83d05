"""What the workspace database holds: which sources were imported, and from which file contents."""

from __future__ import annotations

from collections.abc import Mapping

from kpi_engine.config.model import Source
from kpi_engine.data.files import file_sha256, source_files
from kpi_engine.data.warehouse import Warehouse


def imported_files(wh: Warehouse) -> dict[str, list[tuple[str, str]]]:
    """Source id → (file label, sha256) of its last import, for every source that has one."""
    tables = {t for (t,) in wh.conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "_imports" not in tables:
        return {}
    out: dict[str, list[tuple[str, str]]] = {}
    for source, label, sha in wh.conn.execute(
            "SELECT source, file, sha256 FROM _imports ORDER BY source, file_no").fetchall():
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
