"""JSON arrays of objects and NDJSON → records, read as text with exact numbers.

Python's `json` silently keeps the last of two duplicate keys and accepts NaN; here a duplicate
key or NaN rejects the record, and numbers are read as Decimal (no float rounding, no digit limit).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal

from kpi_engine.config.model import Column, CsvOptions
from kpi_engine.data.csvfile import text_codec
from kpi_engine.data.records import DataFile, StageRow, Tally, bad, bad_bytes, good, native_text, safe_text
from kpi_engine.errors import Code, KpiError, error

_WHITESPACE = " \t\r\n"


class _Object(dict[str, object]):
    """A JSON object that remembers the keys it saw twice."""

    duplicates: tuple[str, ...] = ()


class _Constant:
    """NaN, Infinity or -Infinity as written; a record holding one in a declared column is rejected."""

    def __init__(self, text: str) -> None:
        self.text = text


def _object(pairs: list[tuple[str, object]]) -> _Object:
    obj = _Object()
    duplicates = []
    for name, value in pairs:
        if name in obj:
            duplicates.append(name)
        obj[name] = value
    obj.duplicates = tuple(duplicates)
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_float=Decimal, parse_int=Decimal, parse_constant=_Constant)


def read_json_records(
    file: DataFile, columns: Mapping[str, Column], options: CsvOptions, tally: Tally
) -> Iterator[StageRow]:
    """Each element of a top-level JSON array is a record; a syntax error makes the file unreadable."""
    text = _read(file, options)
    tally.physical_lines = None
    present: set[str] = set()
    pos = _skip(text, 0)
    if pos >= len(text):
        return
    if text[pos] != "[":
        raise _syntax(file, text, pos, "a .json file must hold an array of objects (use .ndjson for one per line)")
    pos = _skip(text, pos + 1)
    line, counted = 1, 0
    while pos < len(text) and text[pos] != "]":
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise _syntax(file, text, exc.pos, exc.msg) from None
        except RecursionError:
            raise _syntax(file, text, pos, "the element is nested too deeply") from None
        line += text.count("\n", counted, pos)
        counted = pos
        raw = text[pos:end]
        yield tally.add(_record(value, raw, line, raw.count("\n") + 1, columns, options, present))
        pos = _skip(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
        elif pos >= len(text) or text[pos] != "]":
            raise _syntax(file, text, pos, "expected `,` or `]` after an array element")
    if pos >= len(text):
        raise _syntax(file, text, pos, "the array is not closed with `]`")
    if _skip(text, pos + 1) < len(text):
        raise _syntax(file, text, _skip(text, pos + 1), "unexpected text after the array")
    _check_present(file, columns, present, tally.records)


def read_ndjson_records(
    file: DataFile, columns: Mapping[str, Column], options: CsvOptions, tally: Tally
) -> Iterator[StageRow]:
    """Each non-blank line is a record; a line that is not a JSON object is a rejected record."""
    codec = text_codec(options.encoding, file)
    present: set[str] = set()
    lines = 0
    try:
        with file.path.open("r", encoding=codec, errors="surrogateescape", newline="") as handle:
            for lines, text in enumerate(handle, start=1):  # noqa: B007 — `lines` is the count after the loop
                raw = text.rstrip("\r\n")
                if not raw.strip(_WHITESPACE):
                    continue
                problem = bad_bytes(raw, options.encoding)
                if problem is None:
                    try:
                        value = _DECODER.decode(raw)
                    except json.JSONDecodeError as exc:
                        problem = f"not valid JSON: {exc.msg} (column {exc.colno})"
                    except RecursionError:
                        problem = "not valid JSON: nested too deeply"
                if problem is not None:
                    yield tally.add(bad(lines, 1, safe_text(raw), problem, len(columns)))
                    continue
                yield tally.add(_record(value, raw, lines, 1, columns, options, present))
    except UnicodeError as exc:
        raise KpiError(
            [error(Code.DATA_FILE, f"`{file.label}` cannot be decoded as {options.encoding}: {exc}", file.span())]
        ) from exc
    tally.physical_lines = lines
    _check_present(file, columns, present, tally.records)


def _record(
    value: object,
    raw: str,
    line: int,
    lines: int,
    columns: Mapping[str, Column],
    options: CsvOptions,
    present: set[str],
) -> StageRow:
    raw = safe_text(raw)
    if not isinstance(value, _Object):
        kind = {list: "an array", str: "a string", Decimal: "a number", bool: "a boolean"}.get(type(value), "null")
        return bad(line, lines, raw, f"the element is {kind}, expected an object", len(columns))
    if value.duplicates:
        names = ", ".join(f"`{d}`" for d in dict.fromkeys(value.duplicates))
        return bad(line, lines, raw, f"duplicate key {names} in the object", len(columns))
    values: list[str | None] = []
    for name, column in columns.items():
        if name not in value:
            values.append(None)
            continue
        present.add(name)
        cell = value[name]
        if isinstance(cell, _Constant):
            return bad(line, lines, raw, f"{cell.text} is not a valid value", len(columns), name)
        text, problem = native_text(cell, column, options.decimal)
        if problem is not None:
            return bad(line, lines, raw, problem, len(columns), name)
        values.append(text)
    return good(line, lines, raw, values)


def _check_present(file: DataFile, columns: Mapping[str, Column], present: set[str], count: int) -> None:
    """A declared column that no object has is missing from the file, like a missing CSV header."""
    missing = [name for name in columns if name not in present]
    if count and missing:
        raise KpiError(
            [
                error(
                    Code.DATA_COLUMN,
                    f"`{file.label}`: declared column"
                    f"{'s' if len(missing) > 1 else ''} "
                    + ", ".join(f"`{m}`" for m in missing)
                    + " in no object of the file; expected: "
                    + ", ".join(columns),
                    file.span(),
                    "rename the key in the file or in `columns:`",
                )
            ]
        )


def _read(file: DataFile, options: CsvOptions) -> str:
    codec = text_codec(options.encoding, file)
    try:
        return file.path.read_bytes().decode(codec, errors="surrogateescape")
    except UnicodeError as exc:
        raise KpiError(
            [error(Code.DATA_FILE, f"`{file.label}` cannot be decoded as {options.encoding}: {exc}", file.span())]
        ) from exc
    except OSError as exc:
        raise KpiError([error(Code.DATA_FILE, f"cannot read `{file.label}`: {exc.strerror or exc}")]) from exc


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _syntax(file: DataFile, text: str, pos: int, message: str) -> KpiError:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return KpiError(
        [
            error(
                Code.DATA_FILE,
                f"`{file.label}` is not valid JSON: {message}",
                file.span(line, col),
                "fix the file; a JSON array cannot be read past a syntax error",
            )
        ]
    )
