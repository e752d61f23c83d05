"""The one SQL pass that reads a file and types it: values, reasons, and the rows to reject.

A file is read as a relation of text (the canonical staging CSV of a CSV, JSON or Excel file) or
straight from Parquet, with the same base columns: `_record`, `_line`, `_lines`, `_raw`, `_error`,
`_error_column` (a record that could not be read) and `c0…` (the declared columns in order). The
typing query stacks its layers over it, each expression computed once (`column_types.Cell`):

    cells  t:  null tokens → NULL, blanks trimmed      walls  w:  wall-clock reading (timestamps)
    valid  ok: well-formed?                             zoned  z:  the reading's zone offset
    typed  v:  the value                                final:     the row as the work table holds it

and gives each row its declared columns typed, `_file`, `_line`, the work columns (file number,
record, lines, raw text) and `bad`: NULL for a good row, else the list [error column, error,
reason of column 0, reason of column 1, …] with NULL where a column is fine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp

from kpi_engine.config.model import Column
from kpi_engine.data.column_types import (
    Cell,
    TextFormat,
    approximate_wall,
    null_cell,
    parse_column,
    reject_reason,
)
from kpi_engine.data.zone import Zone, in_window

BASE = ("_record", "_line", "_lines", "_raw", "_error", "_error_column")
BASE_TYPES = ("BIGINT", "BIGINT", "INTEGER", "VARCHAR", "VARCHAR", "VARCHAR")
MAX_LINE_BYTES = 64 * 1024 * 1024
_ROLES = ("file_no", "record", "lines", "raw", "bad")
_ROLE_TYPES = ("INTEGER", "BIGINT", "INTEGER", "VARCHAR", "VARCHAR[]")


@dataclass(frozen=True)
class WorkColumns:
    """Names of the work table's bookkeeping columns, chosen so that no declared column has them."""

    file_no: str
    record: str
    lines: str
    raw: str
    bad: str

    @classmethod
    def beside(cls, columns: Sequence[str]) -> WorkColumns:
        """`_kpi_file_no`…, with more underscores while a declared name (case aside) starts the same way."""
        taken = [name.lower() for name in columns]
        prefix = "_kpi_"
        while any(name.startswith(prefix) for name in taken):
            prefix += "_"
        return cls(*(prefix + role for role in _ROLES))

    def definitions(self) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each bookkeeping column, in table order."""
        return list(zip((getattr(self, role) for role in _ROLES), _ROLE_TYPES, strict=True))


def parquet_relation(names: Sequence[str]) -> exp.Select:
    """The base columns read from a Parquet file (`$path`); `_line` is the row number."""
    row_number = exp.Add(this=exp.column("file_row_number"), expression=exp.Literal.number(1))
    source = exp.Anonymous(
        this="read_parquet",
        expressions=[
            exp.Placeholder(this="path"),
            exp.PropertyEQ(this=exp.var("file_row_number"), expression=exp.true()),
        ],
    )
    # No `_raw` here: rejected rows get theirs from the file afterwards (a JSON copy of every row
    # would double the memory of the import).
    return exp.select(
        row_number.as_("_record"),
        row_number.copy().as_("_line"),
        exp.cast(exp.Literal.number(1), "INTEGER").as_("_lines"),
        *(exp.cast(exp.null(), "VARCHAR").as_(name) for name in BASE[3:]),
        *(exp.column(name, quoted=True).as_(f"c{i}") for i, name in enumerate(names)),
    ).from_(source)


def staged_relation(width: int) -> exp.Select:
    """The base columns read from the canonical staging CSV (`$path`): our own dialect, nothing sniffed."""
    columns = [*zip(BASE, BASE_TYPES, strict=True), *((f"c{i}", "VARCHAR") for i in range(width))]
    options: list[tuple[str, exp.Expr]] = [
        ("auto_detect", exp.false()),
        ("header", exp.false()),
        ("delim", exp.Literal.string(",")),
        ("quote", exp.Literal.string('"')),
        ("escape", exp.Literal.string('"')),
        ("new_line", exp.Literal.string("\\n")),
        ("encoding", exp.Literal.string("utf-8")),
        ("strict_mode", exp.true()),
        ("max_line_size", exp.Literal.number(MAX_LINE_BYTES)),
        (
            "columns",
            exp.Struct(
                expressions=[
                    exp.PropertyEQ(this=exp.Literal.string(name), expression=exp.Literal.string(kind))
                    for name, kind in columns
                ]
            ),
        ),
    ]
    source = exp.Anonymous(
        this="read_csv",
        expressions=[
            exp.Placeholder(this="path"),
            *(exp.PropertyEQ(this=exp.var(name), expression=value) for name, value in options),
        ],
    )
    return exp.select(exp.Star()).from_(source)


def span_query(
    relation: exp.Select,
    columns: Mapping[str, Column],
    physical: Sequence[str],
    fmt: TextFormat,
    *,
    windowed: bool = False,
) -> tuple[exp.Select, int] | None:
    """(first, last) per timestamp column of its wall-clock readings, as microseconds; with the number of such columns.

    Parquet answers the plain query from its statistics, without reading the values; `windowed`
    leaves out readings beyond the years a zone table may cover. None when no column has wall-clock readings.
    """
    parts: list[exp.Expr] = []
    for i, column in enumerate(columns.values()):
        reading = approximate_wall(column, physical[i], fmt, exp.column(f"c{i}"))
        if reading is None:
            continue
        for fn in ("min", "max"):
            found: exp.Expr = exp.func(fn, reading.copy())
            if windowed:
                found = exp.Filter(this=found, expression=exp.Where(this=in_window(reading)))
            parts.append(exp.Anonymous(this="epoch_us", expressions=[found]))
    if not parts:
        return None
    return exp.select(*parts).from_(relation.subquery("source")), len(parts) // 2


def spans(row: Sequence[object]) -> list[tuple[int | None, int | None]]:
    """The (first, last) pairs of a `span_query` row."""
    values = [_int(value) for value in row]
    return list(zip(values[::2], values[1::2], strict=True))


def typing_query(
    relation: exp.Select,
    columns: Mapping[str, Column],
    key: str | None,
    physical: Sequence[str],
    fmt: TextFormat,
    timezone: str,
    zone: Zone | None,
    work: WorkColumns,
) -> exp.Select:
    """The rows of one file as the work table holds them (`$label` and `$file_no` name the file)."""
    items = list(columns.values())
    zoned = [zone is not None and c.type == "timestamp" for c in items]
    cells = [Cell.named(i, zoned[i]) for i in range(len(items))]
    parsed = [parse_column(c, physical[i], fmt, cells[i]) for i, c in enumerate(items)]
    layer = exp.select(
        *(exp.column(name) for name in BASE),
        *(null_cell(exp.column(f"c{i}"), c, physical[i], fmt).as_(f"t{i}") for i, c in enumerate(items)),
    ).from_(relation.subquery("source"))
    layer = _over(layer, "cells", [p.ok.as_(f"ok{i}") for i, p in enumerate(parsed)])
    walls = [(i, p.wall) for i, p in enumerate(parsed) if p.wall is not None]
    if walls:
        layer = _over(layer, "valid", [wall.as_(f"w{i}") for i, wall in walls])
        if zone is not None:
            layer = _over(layer, "walls", [zone.offset(cells[i].wall).as_(f"z{i}") for i, _ in walls if zoned[i]])
    layer = _over(layer, "zoned", [p.value.as_(f"v{i}") for i, p in enumerate(parsed)])
    reasons = [
        reject_reason(c, physical[i], timezone, key=c.name == key, parsed=parsed[i], cell=cells[i]).as_(f"r{i}")
        for i, c in enumerate(items)
    ]
    layer = _over(layer, "typed", reasons)
    found = [exp.column("_error"), *(exp.column(f"r{i}") for i in range(len(items)))]
    problem = exp.or_(*(exp.not_(exp.Is(this=r, expression=exp.null())) for r in found))
    bad = exp.Case(ifs=[exp.If(this=problem, true=exp.Array(expressions=[exp.column("_error_column"), *found]))])
    return exp.select(
        *(cell.value.copy() for cell in cells),
        exp.Placeholder(this="label").as_("_file"),
        exp.column("_line"),
        exp.Placeholder(this="file_no").as_(work.file_no),
        exp.column("_record").as_(work.record),
        exp.column("_lines").as_(work.lines),
        exp.column("_raw").as_(work.raw),
        bad.as_(work.bad),
    ).from_(layer.subquery("checked"))


def _over(inner: exp.Select, alias: str, columns: list[exp.Expr]) -> exp.Select:
    """A layer: everything of `inner` plus `columns`, computed from it."""
    return exp.select(exp.Star(), *columns).from_(inner.subquery(alias))


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


__all__ = [
    "BASE",
    "BASE_TYPES",
    "MAX_LINE_BYTES",
    "WorkColumns",
    "parquet_relation",
    "span_query",
    "spans",
    "staged_relation",
    "typing_query",
]
