"""Shared output conventions: numbers at 12 significant digits, money as strings, safe CSV cells."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Context, Decimal
from typing import Any

from kpi_engine.scoring.exact import to_decimal12

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN = re.compile(r"[A-Za-z0-9_.%/+-][A-Za-z0-9_.%/+ -]*")


def number(value: Decimal | int | None) -> float | int | None:
    """A JSON number rounded to 12 significant digits (an int stays an int)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return value
    rounded = to_decimal12(value)
    if rounded == rounded.to_integral_value() and abs(rounded) < 10**15:
        return int(rounded)  # counts print as 12, not 12.0
    # A 12-digit decimal converts to the float whose shortest repr has the same digits.
    return float(rounded)


def money(value: Decimal | None, unit: Decimal = Decimal("0.01")) -> str | None:
    """Money as a string at the plan's unit ("1234.50"), never "-0.00".

    Amounts reaching here are already rounded to the unit; quantize only fixes the scale (3000 → 3000.00).
    """
    if value is None:
        return None
    if value == 0:
        value = abs(value)
    exponent = unit.normalize().as_tuple().exponent
    scale = Decimal(1).scaleb(min(0, int(exponent))) if isinstance(exponent, int) else Decimal(1)
    # The default context (28 digits) cannot rescale a larger amount; money is exact, so widen it.
    return format(value.quantize(scale, context=Context(prec=max(28, value.adjusted() + 40))), "f")


def to_json(document: Any) -> str:
    """Deterministic, human-readable JSON (UTF-8, two-space indent, a final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def safe_cell(value: Any) -> Any:
    """Escape text that a spreadsheet would run as a formula; numbers are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """UTF-8 CSV with a header, `,` separators, `\\n` line ends, minimal quoting, nulls as empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in row])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return json.dumps(value)
    return safe_cell(value)


def written(value: Any, nested: bool = False) -> str:
    """A value as the user wrote it: scalars as text, mappings and lists in YAML flow style."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {written(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(written(v, True) for v in value) + "]"
    text = str(value)
    if nested and not isinstance(value, int) and (not _PLAIN.fullmatch(text) or text.strip() != text
                                                   or text in ("true", "false", "null", "~")):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
