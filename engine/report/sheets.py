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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape
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
    """Refuse a table longer than an Excel sheet, before any of the work of writing it (E566)."""
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


class Rows:
    """An append-only sheet (openpyxl's write-only mode: rows stream to disk, memory stays flat) and its next row.

    Column widths and frozen panes are written with the first row: :meth:`widths` first, then titles,
    pairs and tables (only the first table of a sheet can be frozen).
    """

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet, self.row = sheet, 1

    def widths(self, widths: Sequence[float]) -> None:
        """Set the columns' widths, in characters (before any row)."""
        from openpyxl.utils import get_column_letter

        for index, width in enumerate(widths, 1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width

    def append(self, values: Sequence[Any]) -> None:
        """One row of values (text escaped) or ready cells."""
        self.sheet.append([_cell(v) for v in values])
        self.row += 1

    def title(self, value: str) -> None:
        """A bold line of text."""
        self.sheet.append([self._bold(value)])
        self.row += 1

    def pairs(self, pairs: Sequence[tuple[str, Any, str | None]]) -> None:
        """Label/value rows (a summary), labels bold, each value with its number format (or None)."""
        for label, value, fmt in pairs:
            self.sheet.append([self._bold(label), self.formatted(_cell(value), fmt)])
            self.row += 1

    def table(self, columns: Sequence[Column], *, frozen: bool = True) -> str:
        """A table from this row: its header bold and, when `frozen`, frozen and filtered; the range it covers."""
        from openpyxl.utils import get_column_letter

        rows = len(columns[0].values) if columns else 0
        check_rows(self.sheet.title, self.row - 1 + rows)
        top = self.row
        if frozen:  # the sheet's view is written with its first row: freeze before it
            self.sheet.freeze_panes = f"A{top + 1}"
        self.sheet.append([self._bold(c.header) for c in columns])
        formats = [[c.format] * rows if c.format is None or isinstance(c.format, str) else c.format for c in columns]
        for values, fmts in zip(
            zip(*(c.values for c in columns), strict=True), zip(*formats, strict=True), strict=True
        ):
            self.sheet.append([self.formatted(_cell(v), f) for v, f in zip(values, fmts, strict=True)])
        self.row += rows + 1
        ref = f"A{top}:{get_column_letter(max(1, len(columns)))}{top + rows}"
        if frozen:
            self.sheet.auto_filter.ref = ref
        return ref

    def _bold(self, value: str) -> Any:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        cell = WriteOnlyCell(self.sheet, text(value))
        cell.font = Font(bold=True)
        return cell

    def formatted(self, value: Any, fmt: str | None) -> Any:
        """A number in a cell of this sheet with a number format (text and None as they are)."""
        if fmt is None or value is None or isinstance(value, str):
            return value
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.sheet, value)
        cell.number_format = fmt
        return cell


def table_widths(columns: Sequence[Column]) -> list[float]:
    """Each column's width from its header and its first rows, within :data:`WIDTH`."""

    def shown(value: Any) -> int:
        if value is None:
            return 0
        if isinstance(value, float):
            return min(len(repr(value)), 12)
        return len(str(value))

    return [
        float(min(max(WIDTH[0], max([len(c.header), *map(shown, c.values[:WIDTH_SAMPLE])]) + 2), WIDTH[1]))
        for c in columns
    ]


def write_table(sheet: Worksheet, columns: Sequence[Column]) -> str:
    """A sheet that is one table: widths from its content, the header frozen and filtered; the range it covers."""
    rows = Rows(sheet)
    rows.widths(table_widths(columns))
    return rows.table(columns)


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


def stamp(when: datetime) -> str:
    """A time as the workbook's properties hold it (`docProps/core.xml`)."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def replace_texts(data: bytes, texts: Mapping[str, str], times: tuple[datetime, datetime]) -> bytes:
    """A saved workbook with whole cell texts replaced (`texts`: old → new) and its created/modified time moved.

    Only text that fills a whole XML text node (``>old<``) of a sheet is replaced, and only the times
    in `docProps/core.xml`; every entry keeps its name, order and :data:`ZIP_TIME`, so the result is
    the bytes a workbook written with the new texts in the first place has, when they are as long.
    """
    swaps = [(f">{escape(old)}<".encode(), f">{escape(new)}<".encode()) for old, new in texts.items()]
    moved = (f">{stamp(times[0])}<".encode(), f">{stamp(times[1])}<".encode())
    buffer = io.BytesIO()
    with ZipFile(io.BytesIO(data)) as source, _SteadyZip(buffer, "w", ZIP_DEFLATED, allowZip64=True) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                for old, new in swaps:
                    content = content.replace(old, new)
            elif info.filename == "docProps/core.xml":
                content = content.replace(*moved)
            target.writestr(info.filename, content)
    return buffer.getvalue()


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
