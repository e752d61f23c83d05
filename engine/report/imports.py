"""`kpi import` output: loaded and rejected counts per source and file, with a sample of rejects."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table

from kpi_engine.data.report import ImportReport
from kpi_engine.documents import to_json
from kpi_engine.literal import cells
from kpi_engine.report.formats import csv_text

FIELDS = ("source", "file", "status", "rows", "loaded", "rejected", "sha256")


def _rows(report: ImportReport) -> list[list[Any]]:
    rows = []
    for s in report.sources:
        if not s.files:
            rows.append([s.source, None, s.status, s.rows, s.loaded, s.rejected, None])
        for f in s.files:
            rows.append([s.source, f.file, s.status, f.rows, f.loaded, f.rejected, f.sha256])
    return rows


def import_json(report: ImportReport) -> str:
    """Per source and file counts, and the sample rejects, as JSON."""
    return to_json(
        {
            "ok": report.ok,
            "files": [dict(zip(FIELDS, row, strict=True)) for row in _rows(report)],
            "rejects": [
                {
                    "source": r.source,
                    "file": r.file,
                    "line": r.line,
                    "column": r.column,
                    "reason": r.reason,
                    "raw": r.raw,
                }
                for s in report.sources
                for r in s.sample
            ],
        }
    )


def import_csv(report: ImportReport) -> str:
    """Per source and file counts as CSV."""
    return csv_text(FIELDS, _rows(report))


def import_table(report: ImportReport, width: int = 120) -> str:
    """Human tables: what was loaded and rejected, and the first rejected rows with their reasons."""
    console = Console(file=io.StringIO(), record=True, width=width, force_terminal=False, color_system=None)
    table = Table(title="Import")
    for col in ("source", "file", "status", "rows", "loaded", "rejected"):
        table.add_column(col, justify="right" if col in ("rows", "loaded", "rejected") else "left")
    for row in _rows(report):
        table.add_row(*cells(*row[:6]))
    console.print(table)
    samples = [r for s in report.sources for r in s.sample]
    if samples:
        rejects = Table(title="Rejected rows (first of each source; all are in the `rejects` table)")
        for col in ("source", "where", "column", "reason"):
            rejects.add_column(col)
        for r in samples:
            rejects.add_row(*cells(r.source, f"{r.file}:{r.line}", r.column, r.reason))
        console.print(rejects)
    return console.export_text()
