"""Excel workbooks (.xlsx) → records, through openpyxl (DuckDB's excel extension needs a download).

Values are the cached results (`data_only=True`); a formula cell without one — a workbook
written by a script and never recalculated — makes the file unreadable rather than silently null.
The record's line is its row number in the sheet.

Merged cells hold their value in the range's first cell only; Excel shows it across the range, but
the other cells are empty in the file. A row whose declared column falls on such a covered cell is
rejected, naming the cell and the range, rather than read as null.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple
from xml.etree.ElementTree import ParseError, iterparse

from kpi_engine.config.model import Column, CsvOptions
from kpi_engine.data.records import DataFile, StageRow, Tally, bad, good, match_header, native_text, raw_json
from kpi_engine.errors import Code, KpiError, error

_SHOWN_CELLS = 5
_EXACT = 2.0**53  # Excel stores numbers as doubles: beyond this, digits of an ID are already lost


def read_xlsx_records(
    file: DataFile, columns: Mapping[str, Column], options: CsvOptions, sheet: str | int | None, tally: Tally
) -> Iterator[StageRow]:
    """Every non-empty row under the header row of the chosen sheet (the first one by default)."""
    workbook = _open(file, data_only=True)
    formulas = _open(file, data_only=False)
    missing: list[str] = []
    try:
        chosen = _sheet(workbook, file, sheet)
        merged = _Merged(_merged_ranges(chosen, file))
        rows = zip(chosen.iter_rows(min_row=1), _sheet(formulas, file, sheet).iter_rows(min_row=1), strict=False)
        positions: list[int] | None = None if options.header else list(range(len(columns)))
        for number, (row, formula_row) in enumerate(rows, start=1):
            missing += _uncached(row, formula_row)
            values = [cell.value for cell in row]
            covered = merged.covered(number, positions, columns) if positions is not None else None
            if all(v is None or v == "" for v in values) and covered is None:
                continue
            if positions is None:
                names = ["" if v is None else str(v) for v in values]
                positions = match_header(names, columns, file, number)
                continue
            if covered is not None:
                name, reason = covered
                yield tally.add(bad(number, 1, raw_json(values), reason, len(columns), name))
                continue
            yield tally.add(_record(row, values, positions, columns, options, number))
    finally:
        workbook.close()
        formulas.close()
    if missing:
        raise _uncached_error(file, missing)


def _record(
    row: tuple[Any, ...],
    values: list[object],
    positions: list[int],
    columns: Mapping[str, Column],
    options: CsvOptions,
    number: int,
) -> StageRow:
    raw = raw_json(values[: max(positions) + 1] if positions else values)
    texts: list[str | None] = []
    for position, (name, column) in zip(positions, columns.items(), strict=True):
        if position >= len(row):
            texts.append(None)
            continue
        cell = row[position]
        if getattr(cell, "data_type", None) == "e":
            return bad(number, 1, raw, f"cell {cell.coordinate} holds the Excel error {cell.value}", len(columns), name)
        if isinstance(cell.value, float) and abs(cell.value) >= _EXACT and column.type != "number":
            return bad(
                number,
                1,
                raw,
                f"the number {cell.value!r} has more digits than Excel keeps exactly (15); store identifiers as text",
                len(columns),
                name,
            )
        text, problem = native_text(cell.value, column, options.decimal)
        if problem is not None:
            return bad(number, 1, raw, problem, len(columns), name)
        texts.append(text)
    return good(number, 1, raw, texts)


class _Range(NamedTuple):
    min_row: int
    min_col: int
    max_row: int
    max_col: int
    ref: str


class _Merged:
    """The sheet's merged ranges, swept in row order: which declared cell of a row a range covers."""

    def __init__(self, ranges: list[_Range]) -> None:
        self.pending = sorted(ranges, reverse=True)  # popped from the end, lowest first row first
        self.active: list[_Range] = []

    def covered(self, number: int, positions: list[int], columns: Mapping[str, Column]) -> tuple[str, str] | None:
        """(column, reason) for the first declared cell of row ``number`` under a merged range, or None."""
        while self.pending and self.pending[-1].min_row <= number:
            self.active.append(self.pending.pop())
        self.active = [r for r in self.active if r.max_row >= number]
        for position, name in zip(positions, columns, strict=True):
            col = position + 1
            for r in self.active:
                if r.min_col <= col <= r.max_col and (number, col) != (r.min_row, r.min_col):
                    from openpyxl.utils import get_column_letter

                    first = f"{get_column_letter(r.min_col)}{r.min_row}"
                    return name, (
                        f"cell {get_column_letter(col)}{number} is inside the merged range {r.ref}, whose "
                        f"value is only in {first}; unmerge the cells and fill every row"
                    )
        return None


def _merged_ranges(sheet: Any, file: DataFile) -> list[_Range]:
    """The merged ranges of a read-only sheet, read from its XML (openpyxl does not keep them there)."""
    from openpyxl.utils.cell import range_boundaries

    source = getattr(sheet, "_get_source", None)
    if source is None:
        return []
    found: list[_Range] = []
    try:
        with source() as xml:
            for _, element in iterparse(xml, events=("end",)):
                if element.tag.endswith("}mergeCell") or element.tag == "mergeCell":
                    ref = element.get("ref") or ""
                    try:
                        min_col, min_row, max_col, max_row = range_boundaries(ref)
                    except (TypeError, ValueError):
                        continue
                    if None not in (min_col, min_row, max_col, max_row):
                        found.append(_Range(min_row, min_col, max_row, max_col, ref))  # type: ignore[arg-type]
                element.clear()
    except ParseError as exc:
        raise _unreadable(file, exc) from exc
    return found


def _uncached(row: tuple[Any, ...], formula_row: tuple[Any, ...]) -> list[str]:
    """Coordinates of formula cells in a row whose value was never calculated and saved."""
    return [
        formula.coordinate
        for value, formula in zip(row, formula_row, strict=False)
        if getattr(formula, "data_type", None) == "f" and value.value is None
    ]


def _uncached_error(file: DataFile, missing: list[str]) -> KpiError:
    shown = ", ".join(missing[:_SHOWN_CELLS]) + (
        f" and {len(missing) - _SHOWN_CELLS} more" if len(missing) > _SHOWN_CELLS else ""
    )
    plural = len(missing) > 1
    return KpiError(
        [
            error(
                Code.DATA_FILE,
                f"`{file.label}`: formula cell{'s' if plural else ''} {shown} "
                f"ha{'ve' if plural else 's'} no saved value",
                file.span(),
                "open the workbook in Excel (or LibreOffice) and save it, so formulas are calculated",
            )
        ]
    )


def _unreadable(file: DataFile, exc: Exception) -> KpiError:
    return KpiError(
        [
            error(
                Code.DATA_FILE,
                f"`{file.label}` is not a readable .xlsx workbook: {exc}",
                file.span(),
                "save the file as an Excel workbook (.xlsx)",
            )
        ]
    )


def _open(file: DataFile, *, data_only: bool) -> Any:
    import openpyxl  # only when a workbook is read: it costs 80 ms to import
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(file.path, read_only=True, data_only=data_only)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _unreadable(file, exc) from exc


def _sheet(workbook: Any, file: DataFile, sheet: str | int | None) -> Any:
    names = workbook.sheetnames
    if sheet is None:
        chosen = workbook.worksheets[0]
    elif isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(names):
            raise _no_sheet(file, f"has no sheet number {sheet} (0-based)", names)
        chosen = workbook.worksheets[sheet]
    elif str(sheet) in names:
        chosen = workbook[str(sheet)]
    else:
        raise _no_sheet(file, f"has no sheet `{sheet}`", names)
    if hasattr(chosen, "reset_dimensions"):
        # A missing or stale <dimension> tag would otherwise cut rows off.
        chosen.reset_dimensions()
    return chosen


def _no_sheet(file: DataFile, what: str, names: list[str]) -> KpiError:
    return KpiError(
        [
            error(
                Code.DATA_FILE,
                f"`{file.label}` {what}; sheets: " + ", ".join(names),
                file.span(),
                "set `sheet:` to one of the sheet names",
            )
        ]
    )
