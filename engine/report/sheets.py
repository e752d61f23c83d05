r"""Tables on XLSX sheets, written one way everywhere, and a workbook saved to the same bytes every time.

Every table gets a bold header row, frozen panes below it, an autofilter over exactly its cells,
column widths from its content and one number format per column (or per cell). Text passes
:func:`~kpi_engine.literal.printable` (control characters a workbook cannot hold become ``\uXXXX``)
and :func:`~kpi_engine.report.formats.safe_cell` (no formula injection); numbers stay numbers.

openpyxl stamps the save time into ``docProps/core.xml`` and every zip entry: :func:`workbook_bytes`
writes the run's time into the properties and a fixed time into the zip, so the same run gives the
same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from kpi_engine.errors import Code, KpiError, error
from kpi_engine.literal import printable
from kpi_engine.report.formats import safe_cell

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

EXCEL_ROWS = 1_048_576
"""Rows of one Excel sheet, header included."""
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""The time every zip entry carries: the earliest a zip can say, as reproducible builds use."""
FIXED_TIME = datetime(2000, 1, 1)
"""The workbook's created/modified time when the run has none yet (the placeholder written before recording)."""
EXACT_DIGITS = 15
"""Significant digits an Excel number (a double) always holds exactly; money with more is written as text."""
PERCENT = "0.00%"
INTEGER = "#,##0"
WIDTH = (8, 50)
"""Narrowest and widest column, in characters."""
WIDTH_SAMPLE = 2_000
"""Rows a column's width is judged from: enough for the look, not a pass over a million cells."""


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, its values, and the number format of its cells.

    `format` is one format for the whole column or one per value (None: Excel's General).
    """

    header: str
    values: Sequence[Any]
    format: str | Sequence[str | None] | None = None


def text(value: str) -> str:
    """Text as a cell holds it: control characters escaped, a leading `= + - @` made harmless."""
    return safe_cell(printable(value))  # type: ignore[no-any-return]


def money_cell(amount: str | None) -> Decimal | str | None:
    """A money string ("1234.50") as an Excel number; as its exact text when a double cannot hold it."""
    if amount is None:
        return None
    value = Decimal(amount)
    return value if len(value.as_tuple().digits) <= EXACT_DIGITS else amount


def money_format(currency: str, unit: Decimal) -> str:
    """The number format of money at the plan's unit with the ISO currency code: `#,##0.00 "EUR"`."""
    places = max(0, -int(unit.normalize().as_tuple().exponent))
    return ("#,##0." + "0" * places if places else "#,##0") + f' "{currency}"'


def value_format(unit: str | None) -> str | None:
    """How a KPI's value shows: fractions of a `percent` KPI as percentages, other values as they are."""
    return PERCENT if unit == "percent" else None


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def check_rows(sheet: str, rows: int) -> None:
    """Refuse a table longer than an Excel sheet, before any of the work of writing it (E565)."""
    if rows + 1 > EXCEL_ROWS:
        raise KpiError(
            [
                error(
                    Code.SHEET_TOO_LONG,
                    f"the {sheet} sheet would need {rows + 1:,} rows; an Excel sheet holds {EXCEL_ROWS:,}",
                    None,
                    "narrow the run (--kpi, --at, --subject) or write every row with --format csv",
                )
            ]
        )


def write_table(sheet: Worksheet, columns: Sequence[Column], top: int = 1, *, frozen: bool = True) -> str:
    """Write a table with its header on row `top`; its header bold, filtered, frozen. The range it covers."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows = len(columns[0].values) if columns else 0
    check_rows(sheet.title, top - 1 + rows)
    bold = Font(bold=True)
    for index, column in enumerate(columns, 1):
        header = sheet.cell(top, index, text(column.header))
        header.font = bold
    for row in zip(*(c.values for c in columns), strict=True):
        sheet.append([_cell(v) for v in row])
    for index, column in enumerate(columns, 1):
        _format(sheet, index, top, column)
        sheet.column_dimensions[get_column_letter(index)].width = _width(column)
    last = get_column_letter(max(1, len(columns)))
    ref = f"A{top}:{last}{top + rows}"
    if frozen:
        sheet.freeze_panes = f"A{top + 1}"
        sheet.auto_filter.ref = ref
    return ref


def _format(sheet: Worksheet, index: int, top: int, column: Column) -> None:
    if column.format is None:
        return
    cells = sheet.iter_rows(min_row=top + 1, max_row=top + len(column.values), min_col=index, max_col=index)
    if isinstance(column.format, str):
        for (cell,) in cells:
            cell.number_format = column.format
        return
    for (cell,), fmt in zip(cells, column.format, strict=True):
        if fmt is not None:
            cell.number_format = fmt


def _width(column: Column) -> float:
    def shown(value: Any) -> int:
        if value is None:
            return 0
        if isinstance(value, float):
            return min(len(repr(value)), 12)
        return len(str(value))

    longest = max([len(column.header), *map(shown, column.values[:WIDTH_SAMPLE])])
    return float(min(max(WIDTH[0], longest + 2), WIDTH[1]))


def write_pairs(sheet: Worksheet, pairs: Sequence[tuple[str, Any]], top: int = 1) -> int:
    """Label/value rows (a summary), labels bold; the next free row."""
    from openpyxl.styles import Font

    bold = Font(bold=True)
    for offset, (label, value) in enumerate(pairs):
        sheet.cell(top + offset, 1, text(label)).font = bold
        sheet.cell(top + offset, 2, _cell(value))
    return top + len(pairs)


def run_time(time: str | None) -> datetime:
    """The run's time (`2026-03-15T10:00:00Z`) for the workbook's properties; :data:`FIXED_TIME` before recording."""
    try:
        return datetime.fromisoformat((time or "").replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return FIXED_TIME


class _SteadyZip(ZipFile):
    """A zip whose entries all carry :data:`ZIP_TIME`, whatever the clock says when they are written."""

    def writestr(  # type: ignore[override]
        self,
        zinfo_or_arcname: str | ZipInfo,
        data: bytes | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if not isinstance(zinfo_or_arcname, ZipInfo):
            info = ZipInfo(zinfo_or_arcname, date_time=ZIP_TIME)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(  # type: ignore[override]
        self,
        filename: str | Path,
        arcname: str | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        # openpyxl writes each sheet through a temporary file, whose modification time must not leak in
        self.writestr(arcname or str(filename), Path(filename).read_bytes(), compress_type, compresslevel)


def workbook_bytes(book: Workbook, when: datetime) -> bytes:
    """The workbook as bytes, created and modified at `when`: the same workbook and time give the same bytes.

    Built in memory, so a full disk fails on one plain write, not inside the zip writer.
    """
    from openpyxl.writer.excel import ExcelWriter

    book.properties.created = book.properties.modified = when
    book.properties.creator = "kpi-engine"
    buffer = io.BytesIO()
    # ExcelWriter, not Workbook.save: save_workbook stamps `modified` with the clock
    with _SteadyZip(buffer, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).write_data()
    return buffer.getvalue()
