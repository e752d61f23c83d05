"""`kpi rows` output: the rows behind a KPI's value as a table, CSV, JSON or an Excel sheet.

JSON (SPEC §10): ``{"kpi", "period", "subject_type", "subject", "total", "rows": [{<declared
columns>, "file", "line", "counted"}]}`` — a derived KPI's rows also name the source KPI they
belong to (``"kpi"`` first in each row). ``total`` counts the rows before ``--limit``. Times are
ISO text in the organization's zone, as the engine gives them; decimals are JSON numbers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from kpi_engine.errors import Diagnostic
from kpi_engine.evaluation.drilldown import RowsListing
from kpi_engine.json_text import dumps
from kpi_engine.literal import cells
from kpi_engine.report.formats import csv_text, left_out, safe_cell, shortened, shown


def header(listing: RowsListing) -> list[str]:
    """The columns of every part, in order of first appearance; `kpi` first for a derived KPI."""
    names: list[str] = ["kpi"] if listing.derived else []
    for part in listing.parts:
        names += [c for c in part.columns if c not in names]
    return names


def records(listing: RowsListing) -> list[dict[str, Any]]:
    """Every row as a mapping of the columns its part has (plus `kpi` for a derived KPI)."""
    out = []
    for part in listing.parts:
        for row in part.rows:
            record: dict[str, Any] = {"kpi": part.kpi} if listing.derived else {}
            record |= {name: _plain(value) for name, value in zip(part.columns, row, strict=True)}
            out.append(record)
    return out


def rows_json(listing: RowsListing) -> str:
    """The JSON document (see the module docstring)."""
    document = {
        "kpi": listing.kpi,
        "period": listing.period.label,
        "subject_type": listing.level,
        "subject": listing.subject,
        "total": sum(p.total for p in listing.parts),
        "rows": records(listing),
    }
    return dumps(document) + "\n"


def rows_csv(listing: RowsListing) -> str:
    """One CSV of every row: a column a part lacks is empty; texts a spreadsheet would run are escaped."""
    names = header(listing)
    return csv_text(names, ([safe_cell(_cell(r.get(n))) for n in names] for r in records(listing)))


def rows_table(listing: RowsListing) -> str:
    """A table for people: the first rows when there are more than a screen holds, and how many there are."""
    names = header(listing)
    found = records(listing)
    table = Table(title=_title(listing), title_justify="left")
    for name in names:
        table.add_column(name, justify="right" if name == "line" else "left")
    for record in found[: shown(len(found))]:
        table.add_row(*cells(*(_cell(record.get(n)) for n in names)))
    if shown(len(found)) < len(found):
        table.caption = left_out(len(found), "rows")
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(table)
    total = sum(p.total for p in listing.parts)
    more = f" (of {total:,}; --limit)" if total > len(found) else ""
    return out.getvalue() + f"{len(found):,} rows{more}\n"


def table_notice(listing: RowsListing) -> Diagnostic | None:
    """W010 when the table leaves rows out."""
    rows = sum(len(p.rows) for p in listing.parts)
    return shortened({"rows": rows}, "write them all with --format csv --out rows.csv, or narrow with --limit")


def rows_xlsx(listing: RowsListing) -> bytes:
    """One sheet of every row, numbers as numbers, with a frozen, filtered header (the same rows, the same bytes)."""
    from openpyxl import Workbook

    from kpi_engine.report.sheets import FIXED_TIME, Column, check_rows, workbook_bytes, write_table

    names = header(listing)
    found = records(listing)
    check_rows("Rows", len(found) + 1)
    book = Workbook()
    sheet = book.active
    sheet.title = "Rows"
    write_table(sheet, [Column(name, [safe_cell(r.get(name)) for r in found]) for name in names])
    return workbook_bytes(book, FIXED_TIME)


def _title(listing: RowsListing) -> str:
    who = "the organization" if listing.subject is None else f"{listing.level} {listing.subject}"
    return f"Rows of {listing.kpi} for {who}, {listing.period.label}"


def _plain(value: object) -> Any:
    """A JSON-ready value: exact decimals as numbers, dates and times as ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 10**15 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


__all__: Sequence[str] = ["rows_csv", "rows_json", "rows_table", "rows_xlsx", "table_notice"]
