"""Records as the file readers hand them over: one per data record of a file, good or broken.

A reader never drops a record: one it cannot read is still a Record, with `error` set, so that
for every file `loaded + rejected == records` can be checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from kpi_engine.config.model import Column, CsvOptions
from kpi_engine.errors import Code, KpiError, did_you_mean, error
from kpi_engine.source import Span

RESERVED_COLUMNS = ("_file", "_line")
_UNSAFE = re.compile("[\ud800-\udfff\x00]")
# Numbers that would print as thousands of digits are refused before they are written out.
MAX_EXPONENT = 60


# A record as staged: (record, line, lines, raw, error, error_column, *values).
# `record` numbers the records of a file from 1: their identity, as JSON elements may share a line.
# `line` is where the record starts and `lines` how many source lines it spans; `raw` is its text
# (None when it is re-read from the file for rejects only); `values` are the declared columns in
# declaration order (None for an empty cell). A record that could not be read has an error and no
# values. Plain tuples: a million of them go straight to the staging file's csv.writer.
StageRow = tuple[object, ...]


def good(line: int, lines: int, raw: str | None, values: Sequence[str | None]) -> StageRow:
    """A record that was read (without its number: `Tally.add` gives it); values are checked in SQL."""
    return (line, lines, raw, None, None, *values)


def bad(line: int, lines: int, raw: str | None, reason: str, width: int, column: str | None = None) -> StageRow:
    """A record that could not be read, with the reason (and the column, when one is to blame)."""
    return (line, lines, raw, reason, column, *(None,) * width)


@dataclass
class Tally:
    """What a reader saw besides records, filled while it reads (for reconciliation)."""

    records: int = 0
    swallowed: int = 0
    physical_lines: int | None = None
    consumed_lines: int = 0

    def add(self, row: StageRow) -> StageRow:
        """Count a record on its way to the staging file and number it."""
        self.records += 1
        if row[3] is not None:
            self.swallowed += int(row[1]) - 1  # type: ignore[call-overload]
        return (self.records, *row)


@dataclass(frozen=True)
class DataFile:
    """A file of a source: its path, the label stored in `_file`/`rejects.file`, its position.

    A file Spark reads from a URI (`s3a://…`) has ``uri`` set; ``path`` is then only its name.
    """

    path: Path
    label: str
    number: int
    format: str
    uri: str | None = None

    @property
    def location(self) -> str:
        """Where an engine reads the file: its URI, else its local path."""
        return self.uri if self.uri is not None else str(self.path)

    def span(self, line: int = 1, col: int = 1) -> Span:
        """A diagnostic location in this file."""
        return Span(self.location, line, col)


def check_schema_types(
    file: DataFile, columns: Mapping[str, Column], types: Mapping[str, str], fits: Callable[[Column, str], bool]
) -> None:
    """A typed file's column types (Parquet's schema, as its reader names them) against the declaration.

    ``fits`` says whether a file type can give the declared column; every column that cannot is named
    in one E504.
    """
    wrong = [
        f"`{name}` is {types[name]} (declared {column.type})"
        for name, column in columns.items()
        if not fits(column, types[name])
    ]
    if wrong:
        raise KpiError(
            [
                error(
                    Code.DATA_COLUMN,
                    f"`{file.label}`: column types do not match the declaration: " + "; ".join(wrong),
                    file.span(),
                    "money must arrive as DECIMAL or text, never floating point; dates as DATE or text",
                )
            ]
        )


def match_header(
    names: Sequence[str], columns: Mapping[str, Column], file: DataFile, line: int = 1, place: str = "header"
) -> list[int]:
    """The position of each declared column in a header row (or a schema: `place`).

    Raises on a missing or repeated name.
    """
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        if name != "":
            seen.setdefault(name, []).append(position)
    problems = []
    for name, positions in sorted(seen.items(), key=lambda item: item[1][0]):
        if len(positions) > 1:
            numbers = [str(p + 1) for p in positions]
            where = ", ".join(numbers[:-1]) + " and " + numbers[-1]
            problems.append(
                error(
                    Code.DATA_COLUMN,
                    f"`{file.label}`: column `{name}` appears {len(positions)} times in the {place} (columns {where})",
                    file.span(line),
                    "give every column a distinct name in the export",
                )
            )
    missing = [name for name in columns if name not in seen]
    if missing:
        expected = ", ".join(columns)
        found = ", ".join(n for n in names if n) or "(nothing)"
        hints = [h for h in (did_you_mean(m, seen) for m in missing) if h]
        problems.append(
            error(
                Code.DATA_COLUMN,
                f"`{file.label}`: declared column{'s' if len(missing) > 1 else ''} "
                + ", ".join(f"`{m}`" for m in missing)
                + f" not in the {place}; expected: {expected}; found: {found}",
                file.span(line),
                "; ".join(hints) or "rename the column in the file or in `columns:`",
            )
        )
    if problems:
        raise KpiError(problems)
    return [seen[name][0] for name in columns]


def check_declaration(columns: Mapping[str, Column], key: str | None, options: CsvOptions, source_id: str) -> None:
    """Refuse declarations the importer cannot honour: reserved names, an undeclared key, ambiguous numbers."""
    problems = [
        error(
            Code.DATA_COLUMN,
            f"source `{source_id}`: column name `{name}` is reserved for the importer",
            None,
            "rename the column with a different `columns:` key",
        )
        for name in columns
        if name in RESERVED_COLUMNS
    ]
    if not columns:
        problems.append(
            error(
                Code.DATA_COLUMN,
                f"source `{source_id}` declares no columns",
                None,
                "list the columns to read under `columns:`",
            )
        )
    if options.thousands and options.thousands == options.decimal:
        problems.append(
            error(
                Code.DATA_COLUMN,
                f"source `{source_id}`: the thousands and decimal separators are both `{options.decimal}`",
                None,
                "numbers like 1.234 would be ambiguous",
            )
        )
    if key is not None and key not in columns:
        problems.append(
            error(
                Code.DATA_COLUMN,
                f"source `{source_id}`: key `{key}` is not a declared column",
                None,
                did_you_mean(key, columns) or "declare the key under `columns:`",
            )
        )
    if problems:
        raise KpiError(problems)


def native_text(value: object, column: Column, decimal: str) -> tuple[str | None, str | None]:
    """A JSON or Excel value as the text the SQL checks read, or (None, reason) when it cannot be.

    Numbers are written in the source's decimal notation, so text and native numbers go through
    the same checks; dates keep ISO form.
    """
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int | Decimal | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            return None, f"{value} is not a valid number"
        if column.type in ("date", "timestamp"):
            return (
                None,
                f"a number ({value}) in a {column.type} column: write the {column.type} as text or "
                f"format the cell as a {column.type} (serial numbers are not read as dates)",
            )
        if abs(number.adjusted()) > MAX_EXPONENT:
            return None, f"{value} is out of range"
        text = format(number, "f")
        return (text.replace(".", decimal) if decimal != "." else text), None
    if isinstance(value, datetime):
        if column.type == "date" and value.time() == time(0):
            return value.date().isoformat(), None
        return value.isoformat(sep=" "), None
    if isinstance(value, date | time):
        return value.isoformat(), None
    if isinstance(value, str):
        if _UNSAFE.search(value):
            return None, "the value contains a NUL character, an invalid byte or an unpaired surrogate"
        return value, None
    kind = "an object" if isinstance(value, dict) else "a list" if isinstance(value, list) else type(value).__name__
    return None, f"holds {kind}, expected a single value"


def safe_text(text: str) -> str:
    r"""Text that can be stored: undecodable bytes and NULs written as `\xNN`."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_escaped, text)


def bad_bytes(text: str, encoding: str) -> str | None:
    """A reason naming the undecodable bytes (or NUL) in a record, or None when it is clean."""
    found = _UNSAFE.findall(text)
    if not found:
        return None
    if all(c == "\x00" for c in found):
        return "the record contains a NUL character"
    shown = " ".join(f"0x{_byte(c):02x}" for c in found if c != "\x00")
    return f"invalid {encoding} byte{'s' if len(found) > 1 else ''} {shown[:60]}"


def raw_json(values: Sequence[object]) -> str:
    """A row of native values as JSON text, for the `raw` column of rejects."""
    return json.dumps(
        [v if isinstance(v, str | int | float | bool) or v is None else str(v) for v in values], ensure_ascii=False
    )


def _byte(char: str) -> int:
    code = ord(char)
    return code - 0xDC00 if 0xDC80 <= code <= 0xDCFF else code


def _escaped(match: re.Match[str]) -> str:
    code = _byte(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
