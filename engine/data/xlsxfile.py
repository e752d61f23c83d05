"""Excel workbooks (.xlsx) → records, through openpyxl (DuckDB's excel extension needs a download).

Values are the cached results (`data_only=True`); a formula cell without one — a workbook
written by a script and never recalculated — makes the file unreadable rather than silently null.
The record's line is its row number in the sheet.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

from kpi_engine.config.model import Column, CsvOptions
from kpi_engine.data.records import DataFile, StageRow, Tally, bad, good, match_header, native_text, raw_json
from kpi_engine.errors import Code, KpiError, error

_SHOWN_CELLS = 5
_EXACT = 2.0**53  # Excel stores numbers as doubles: beyond this, digits of an ID are already lost


def read_xlsx_records(file: DataFile, columns: Mapping[str, Column], options: CsvOptions,
                      sheet: str | int | None, tally: Tally) -> Iterator[StageRow]:
    """Every non-empty row under the header row of the chosen sheet (the first one by default)."""
    workbook = _open(file, data_only=True)
    formulas = _open(file, data_only=False)
    missing: list[str] = []
    try:
        rows = zip(_sheet(workbook, file, sheet).iter_rows(min_row=1),
                   _sheet(formulas, file, sheet).iter_rows(min_row=1), strict=False)
        positions: list[int] | None = None if options.header else list(range(len(columns)))
        for number, (row, formula_row) in enumerate(rows, start=1):
            missing += _uncached(row, formula_row)
            values = [cell.value for cell in row]
            if all(v is None or v == "" for v in values):
                tally.blank_lines += 1
                continue
            if positions is None:
                names = ["" if v is None else str(v) for v in values]
                positions = match_header(names, columns, file, number)
                tally.header_lines = 1
                continue
            yield tally.add(_record(row, values, positions, columns, options, number))
    finally:
        workbook.close()
        formulas.close()
    if missing:
        raise _uncached_error(file, missing)


def _record(row: tuple[Any, ...], values: list[object], positions: list[int], columns: Mapping[str, Column],
            options: CsvOptions, number: int) -> StageRow:
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
            return bad(number, 1, raw, f"the number {cell.value!r} has more digits than Excel keeps exactly (15); "
                                       "store identifiers as text", len(columns), name)
        text, problem = native_text(cell.value, column, options.decimal)
        if problem is not None:
            return bad(number, 1, raw, problem, len(columns), name)
        texts.append(text)
    return good(number, 1, raw, texts)


def _uncached(row: tuple[Any, ...], formula_row: tuple[Any, ...]) -> list[str]:
    """Coordinates of formula cells in a row whose value was never calculated and saved."""
    return [formula.coordinate for value, formula in zip(row, formula_row, strict=False)
            if getattr(formula, "data_type", None) == "f" and value.value is None]


def _uncached_error(file: DataFile, missing: list[str]) -> KpiError:
    shown = ", ".join(missing[:_SHOWN_CELLS]) + (f" and {len(missing) - _SHOWN_CELLS} more"
                                                 if len(missing) > _SHOWN_CELLS else "")
    plural = len(missing) > 1
    return KpiError([error(Code.DATA_FILE, f"`{file.label}`: formula cell{'s' if plural else ''} {shown} "
                           f"ha{'ve' if plural else 's'} no saved value", file.span(),
                           "open the workbook in Excel (or LibreOffice) and save it, so formulas are calculated")])


def _open(file: DataFile, *, data_only: bool) -> Any:
    import openpyxl  # only when a workbook is read: it costs 80 ms to import
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(file.path, read_only=True, data_only=data_only)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise KpiError([error(Code.DATA_FILE, f"`{file.label}` is not a readable .xlsx workbook: {exc}",
                              file.span(), "save the file as an Excel workbook (.xlsx)")]) from exc


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
    return KpiError([error(Code.DATA_FILE, f"`{file.label}` {what}; sheets: " + ", ".join(names), file.span(),
                           "set `sheet:` to one of the sheet names")])
