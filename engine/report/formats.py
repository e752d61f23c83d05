"""CSV text, cells a spreadsheet will not run as formulas, and how long a table may get.

Values come as kpi_engine.documents writes them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kpi_engine.errors import Code, Diagnostic, warning

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TABLE_ROWS = 10_000
"""A table with more rows than this is no use on a screen, and takes minutes to lay out (~1.5 ms a row)."""
TABLE_SHOWN = 1_000
"""How many rows of such a table are printed: a look at its shape, in about a second."""


def safe_cell(value: Any) -> Any:
    """Escape text that a spreadsheet would run as a formula; numbers are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    r"""UTF-8 CSV with a header, `,` separators, `\n` line ends, minimal quoting, nulls as empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in row])
    return out.getvalue()


class Written(list[str]):
    """A column already written as CSV cells (numbers from their JSON text): left as it is."""


def csv_numbers(text: str) -> Written:
    """A JSON array of numbers (:func:`kpi_engine.documents.column_json`) as CSV cells: null as empty."""
    return Written(text[1:-1].replace("null", "").split(",") if len(text) > 2 else [])


def csv_columns(header: Sequence[str], columns: Sequence[Sequence[Any]]) -> str:
    """The same CSV as :func:`csv_text`, from columns: each column prepared in one pass, rows written by the C writer.

    Numbers (ints and floats) print as JSON prints them, None as an empty cell; text is escaped with
    :func:`safe_cell`; a :class:`Written` column is taken as it is.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(zip(*map(_csv_column, columns), strict=True))
    return out.getvalue()


def _csv_column(values: Sequence[Any]) -> Sequence[Any]:
    if isinstance(values, Written):
        return values
    kinds = set(map(type, values))
    if kinds <= {int, float, type(None)}:
        return values  # the writer prints None as an empty cell and numbers with repr, as JSON does
    if kinds <= {str, type(None)}:
        # ids, periods and statuses repeat: each distinct text is looked at once
        if any(v is not None and v.startswith(FORMULA_PREFIXES) for v in set(values)):
            return [safe_cell(v) for v in values]
        return values
    return ["" if v is None else _csv_value(v) for v in values]


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return json.dumps(value)
    return safe_cell(value)


def shown(rows: int) -> int:
    """How many of a table's rows the table output prints (:data:`TABLE_ROWS`, :data:`TABLE_SHOWN`)."""
    return rows if rows <= TABLE_ROWS else TABLE_SHOWN


def left_out(rows: int, what: str) -> str:
    """The last line of a shortened table: how many rows are not printed."""
    return f"… and {rows - shown(rows):,} more {what} not shown (the first {shown(rows):,} of {rows:,})"


def shortened(counts: Mapping[str, int], hint: str) -> Diagnostic | None:
    """W010 when a table output leaves rows out: which tables, how many rows, and where to get them all."""
    cut = {what: rows for what, rows in counts.items() if shown(rows) < rows}
    if not cut:
        return None
    parts = ", ".join(f"{TABLE_SHOWN:,} of {rows:,} {what}" for what, rows in cut.items())
    return warning(
        Code.TABLE_SHORTENED,
        f"the table shows the first {parts}: more than {TABLE_ROWS:,} rows do not fit a screen",
        None,
        hint,
    )
