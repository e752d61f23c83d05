"""CSV files → records, with the dialect declared, never sniffed.

Python's `csv` module (strict) splits the records: it recovers after a malformed record, takes
any Python codec (cp1251…) and mixed CRLF/LF line ends, and we track the source line of every
record and how many lines it spans. Every line of the file is accounted for: header, blank, or
part of exactly one record — checked against an independent count of the file's line ends.
"""

from __future__ import annotations

import codecs
import csv
import io
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kpi_engine.config.model import Column, CsvOptions
from kpi_engine.data.records import DataFile, StageRow, Tally, bad, bad_bytes, match_header, safe_text
from kpi_engine.errors import Code, KpiError, error

MAX_FIELD_CHARS = 16 * 1024 * 1024
_CHUNK = 1 << 20
_SURROGATE = re.compile("[\udc80-\udcff]")
_UNSAFE = re.compile("[\udc80-\udcff\x00]")


def text_codec(encoding: str, file: DataFile) -> str:
    """The Python codec for a declared encoding; UTF-8 drops a byte-order mark."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"`{file.label}`: unknown encoding `{encoding}`",
                    None,
                    "use a Python codec name such as utf-8, cp1251, latin-1 or utf-16",
                )
            ]
        ) from None
    return "utf-8-sig" if name == "utf-8" else name


def count_lines(path: Path, codec: str) -> tuple[int, bool]:
    """Physical lines, and whether the text holds undecodable bytes or NUL characters.

    Lines end with CRLF, LF or CR; a last unterminated line counts. Read independently of the CSV parser.
    """
    lines = 0
    unsafe = False
    last = ""
    carry_cr = False
    with path.open("r", encoding=codec, errors="surrogateescape", newline="") as handle:
        while chunk := handle.read(_CHUNK):
            lines += chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")
            if carry_cr and chunk.startswith("\n"):
                lines -= 1
            carry_cr = chunk.endswith("\r")
            unsafe = unsafe or "\x00" in chunk or _has_surrogate(chunk)
            last = chunk[-1]
    if last and last not in "\r\n":
        lines += 1
    return lines, unsafe


def read_csv_records(
    file: DataFile, columns: Mapping[str, Column], options: CsvOptions, tally: Tally
) -> Iterator[StageRow]:
    """Every data record of a CSV file, in order; malformed ones carry their reason.

    Records are staged without their text (`raw` is None): the few that end up rejected get it
    back from `record_texts`, which keeps the common path lean.
    """
    codec = text_codec(options.encoding, file)
    dialect = _dialect(options, file)
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        tally.physical_lines, unsafe = count_lines(file.path, codec)
        with file.path.open("r", encoding=codec, errors="surrogateescape", newline="") as handle:
            yield from _records(file, columns, options, csv.reader(handle, **dialect), unsafe, tally)  # type: ignore[arg-type]
    except UnicodeError as exc:
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"`{file.label}` cannot be decoded as {options.encoding}: {exc}",
                    file.span(),
                    "declare the file's encoding under `csv: {encoding: …}`",
                )
            ]
        ) from exc
    except OSError as exc:
        raise KpiError([error(Code.DATA_FILE, f"cannot read `{file.label}`: {exc.strerror or exc}")]) from exc
    _reconcile_lines(file, tally)


def _records(
    file: DataFile, columns: Mapping[str, Column], options: CsvOptions, reader: Any, unsafe: bool, tally: Tally
) -> Iterator[StageRow]:
    """Header (or positions), then the data records; the reader's line count gives each record's lines."""
    width = len(columns)
    done = 0  # source lines consumed so far
    pick, expected = _picker(list(range(width))), width
    if options.header:
        for fields in _guarded(reader, file, "the header row"):
            start, done = done + 1, reader.line_num
            if fields:
                pick, expected = _header(file, columns, fields, unsafe, start), len(fields)
                break
    while True:
        try:
            yield from _data(reader, pick, expected, width, done, unsafe, options.encoding, tally)
            return
        except csv.Error as exc:
            start, done = tally.consumed_lines + 1, reader.line_num
            count = done - start + 1
            yield tally.add(bad(start, count, None, _csv_problem(str(exc)) + _spans(start, count), width))
            tally.consumed_lines = done


def _data(
    reader: Any,
    pick: Callable[[list[str]], tuple[str, ...]],
    expected: int,
    width: int,
    done: int,
    unsafe: bool,
    encoding: str,
    tally: Tally,
) -> Iterator[StageRow]:
    """The hot loop: a tuple per record. Counters live in locals and reach `tally` when it stops."""
    records = tally.records
    try:
        for fields in reader:
            line = reader.line_num
            if len(fields) == expected and not (unsafe and _unsafe(fields)):
                records += 1
                yield (records, done + 1, line - done, None, None, None) + pick(fields)
            elif fields:
                records += 1
                row = _broken(fields, expected, done + 1, line - done, width, encoding)
                tally.swallowed += int(row[1]) - 1  # type: ignore[call-overload]
                yield (records, *row)
            done = line
    finally:
        tally.records = records
        tally.consumed_lines = done


def _guarded(reader: Any, file: DataFile, what: str) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"`{file.label}`: cannot read {what}: {_csv_problem(str(exc))}",
                    file.span(reader.line_num),
                    "check the file's delimiter, quote and encoding options",
                )
            ]
        ) from None


def _picker(positions: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    if len(positions) == 1:
        only = positions[0]
        return lambda fields: (fields[only],)
    return operator.itemgetter(*positions)  # type: ignore[return-value]


def _header(
    file: DataFile, columns: Mapping[str, Column], fields: list[str], unsafe: bool, line: int
) -> Callable[[list[str]], tuple[str, ...]]:
    if unsafe and _unsafe(fields):
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"`{file.label}`: the header row holds bytes that are not valid in the declared encoding",
                    file.span(line),
                    "declare the file's encoding under `csv:`",
                )
            ]
        )
    return _picker(match_header(fields, columns, file, line))


def _broken(fields: list[str], expected: int, line: int, count: int, width: int, encoding: str) -> StageRow:
    problem = bad_bytes("".join(fields), encoding)
    if problem is None:
        kind = "too many" if len(fields) > expected else "too few"
        problem = f"{kind} fields: {len(fields)}, the header has {expected}"
    return bad(line, count, None, problem + _spans(line, count), width)


def _spans(line: int, count: int) -> str:
    return f" (the record spans lines {line}-{line + count - 1}: {count} source lines)" if count > 1 else ""


def _unsafe(fields: list[str]) -> bool:
    return any(_UNSAFE.search(f) for f in fields)


def record_texts(file: DataFile, encoding: str, spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, str]]:
    """The source text of records given as (first line, line count), in line order, for rejects."""
    wanted = sorted(spans)
    if not wanted:
        return
    codec = text_codec(encoding, file)
    with file.path.open("r", encoding=codec, errors="surrogateescape", newline="") as handle:
        lines = enumerate(handle, start=1)
        for first, count in wanted:
            parts = []
            for number, line in lines:
                if number >= first:
                    parts.append(line)
                    if number >= first + count - 1:
                        break
            yield first, safe_text(_strip_end("".join(parts)))


def _reconcile_lines(file: DataFile, tally: Tally) -> None:
    """Every line of the file went to the header, a blank line, or exactly one record; else stop loudly.

    The lines the parser consumed must equal the line ends counted independently.
    """
    accounted = tally.consumed_lines
    if tally.physical_lines is not None and accounted != tally.physical_lines:
        raise KpiError(
            [
                error(
                    Code.DATA_RECONCILE,
                    f"`{file.label}`: the CSV reader accounted for {accounted} "
                    f"lines but the file has {tally.physical_lines}",
                    file.span(),
                    "this is a bug in the importer; please report it with the file",
                )
            ]
        )


def _dialect(options: CsvOptions, file: DataFile) -> dict[str, object]:
    if len(options.delimiter) != 1 or (options.quote and len(options.quote) != 1):
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"`{file.label}`: the delimiter and quote must be single characters",
                    None,
                    "multi-character delimiters are not supported",
                )
            ]
        )
    if options.quote == options.delimiter or options.delimiter in "\r\n":
        raise KpiError([error(Code.DATA_FILE, f"`{file.label}`: the delimiter cannot be a quote or a line end")])
    if options.quote:
        return {
            "delimiter": options.delimiter,
            "quotechar": options.quote,
            "doublequote": True,
            "strict": True,
            "quoting": csv.QUOTE_MINIMAL,
        }
    return {"delimiter": options.delimiter, "quoting": csv.QUOTE_NONE, "strict": True}


def _csv_problem(message: str) -> str:
    if message == "unexpected end of data":
        return "unterminated quoted field: it runs to the end of the file"
    if message.startswith("field larger than field limit"):
        return f"a field is longer than {MAX_FIELD_CHARS // (1024 * 1024)} MiB"
    return f"malformed quoting: {message}"


def _strip_end(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith(("\n", "\r")):
        return text[:-1]
    return text


def _has_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def raw_field(file: DataFile, options: CsvOptions, names: list[str], raw: str, column: str) -> str | None:
    """One field of a record's raw text (as kept in `rejects.raw`), found by the file's header.

    Without a header row the fields are in the declared order (`names`). None when it cannot be read.
    """
    try:
        dialect = _dialect(options, file)
        header = names
        if options.header:
            with file.path.open(
                "r", encoding=text_codec(options.encoding, file), errors="replace", newline=""
            ) as handle:
                header = next(csv.reader(handle, **dialect), [])  # type: ignore[arg-type]
        fields = next(csv.reader(io.StringIO(raw), **dialect), [])  # type: ignore[arg-type]
    except (KpiError, OSError, UnicodeError, csv.Error):
        return None
    if column not in header or header.index(column) >= len(fields):
        return None
    return fields[header.index(column)]
