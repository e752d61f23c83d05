"""Helpers for the import tests: write real files, import them, check nothing was lost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kpi_engine.config.model import Column, CsvOptions, Source
from kpi_engine.data import SourceReport, Warehouse, import_sources, open_memory

ColumnSpec = str | Column


def columns(**spec: ColumnSpec) -> dict[str, Column]:
    """`columns(rep="string", amount="decimal")`; a Column passes through (its name is set)."""
    out = {}
    for name, kind in spec.items():
        if isinstance(kind, Column):
            out[name] = Column(name, kind.type, kind.required, kind.values, kind.min, kind.max)
        else:
            out[name] = Column(name, kind)
    return out


def col(
    kind: str, *, required: bool = False, values: tuple[str, ...] | None = None, min: Any = None, max: Any = None
) -> Column:
    """A constrained column (its name is filled in by `columns`)."""
    return Column(
        "",
        kind,
        required,
        values,
        None if min is None else Decimal(str(min)),
        None if max is None else Decimal(str(max)),
    )


def write(root: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Write a data file exactly as given (str is encoded, newlines untouched)."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


@dataclass
class Loaded:
    """One source after an import: its report, its rows (dicts, file order) and its rejects."""

    warehouse: Warehouse
    report: SourceReport
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[tuple[str, int, str | None, str, str]] = field(default_factory=list)

    def values(self, name: str) -> list[Any]:
        return [row[name] for row in self.rows]

    def reasons(self) -> list[tuple[int, str | None, str]]:
        """(line, column, reason) of every reject, in order."""
        return [(line, column, reason) for _, line, column, reason, _ in self.rejects]


def load(
    root: Path,
    path: str,
    cols: Mapping[str, Column],
    *,
    key: str | None = None,
    csv: CsvOptions | None = None,
    sheet: str | int | None = None,
    timezone: str = "Europe/Riga",
    source_id: str = "src",
    warehouse: Warehouse | None = None,
    max_rejects: int | None = None,
) -> Loaded:
    """Import one source from files already written under `root`, and check it reconciles."""
    source = Source(source_id, root, path, key=key, columns=dict(cols), csv=csv or CsvOptions(), sheet=sheet)
    wh = warehouse or open_memory(timezone)
    report = import_sources(wh, {source_id: source}, max_rejects=max_rejects).source(source_id)
    assert_reconciled(wh, report)
    loaded = Loaded(wh, report)
    if report.status != "over_limit" or warehouse is not None:
        loaded.rows = table(wh, source_id) if _exists(wh, source_id) else []
    loaded.rejects = [
        (r[1], r[2], r[3], r[4], r[5])
        for r in wh.fetch(
            'SELECT source, file, line, "column", reason, raw FROM rejects WHERE source = ? ORDER BY file, record',
            [source_id],
        )
    ]
    return loaded


def table(wh: Warehouse, name: str) -> list[dict[str, Any]]:
    """A table's rows as dicts, in file and line order (TIMESTAMPTZ as text)."""
    names = [
        r[0]
        for r in wh.fetch("SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [name])
    ]
    rows = wh.fetch(f'SELECT * FROM "{name}" ORDER BY _file, _line')
    return [dict(zip(names, row, strict=True)) for row in rows]


def assert_reconciled(wh: Warehouse, report: SourceReport) -> None:
    """For every file: loaded + rejected == records, and the tables agree with the report."""
    for f in report.files:
        assert f.loaded + f.rejected == f.rows, f
        if report.status != "loaded":
            continue
        (in_table,) = wh.fetch(f'SELECT count(*) FROM "{report.source}" WHERE _file = ?', [f.file])[0]
        (rejected,) = wh.fetch(
            "SELECT count(DISTINCT record) FROM rejects WHERE source = ? AND file = ?", [report.source, f.file]
        )[0]
        assert (in_table, rejected) == (f.loaded, f.rejected), f
        if f.format == "json":  # elements of a JSON array may share a line
            continue
        both = wh.fetch(
            f"""SELECT count(*) FROM (SELECT _line FROM "{report.source}" WHERE _file = ?
                            INTERSECT SELECT line FROM rejects WHERE source = ? AND file = ?)""",
            [f.file, report.source, f.file],
        )[0][0]
        assert both == 0, "a line is both loaded and rejected"


def _exists(wh: Warehouse, name: str) -> bool:
    return bool(wh.fetch("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name])[0][0])
