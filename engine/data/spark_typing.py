"""The import's types and checks as Spark SQL: the same rules and reasons as `kpi import` (column_types).

A file arrives as text (CSV, JSON read as strings) or as Parquet types, in columns ``c0…``. Each
declared column goes through the same layers as the DuckDB import: the cell with null tokens
removed ``t``, its well-formedness ``ok``, the wall-clock reading ``w`` of a timestamp, the value
``v`` and the reason ``r`` (NULL when the value is fine). The expressions are sqlglot trees rendered
in the ``spark`` dialect.

Where Spark reads differently from DuckDB:

* A wall-clock time in the autumn's repeated hour takes the later (standard-time) instant, as
  DuckDB's ICU does (Java takes the earlier one; the rewrite below moves it an hour on).
* A `timestamp_format` or `date_format` is translated to a Java pattern (``%d`` → ``d``); a time
  in the spring gap read through a format is not rejected (Java moves it past the gap).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from kpi_engine.config.model import Column
from kpi_engine.data.column_types import (
    _ISO_DATE,
    _ISO_TIMESTAMP,
    FALSE_WORDS,
    NUMERIC,
    TRUE_WORDS,
    TextFormat,
    _allowed,
    _concat,
    _decimal,
    _fits,
    _not_valid,
    _number_pattern,
    _shown,
    compatible,
)
from kpi_engine.errors import Code, KpiError, error

SPARK_TYPES = {
    "string": "STRING",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "decimal": "DECIMAL(38,10)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
TEXT = "VARCHAR"  # the physical type of text cells, as column_types names it
NAIVE = "TIMESTAMP"  # a Parquet timestamp without a zone (Spark's TIMESTAMP_NTZ)
_BLANKS = "^[ \t\r\n]+|[ \t\r\n]+$"
# Python strptime directives and the Java pattern letters that read the same text.
_DIRECTIVES = {
    "Y": "yyyy",
    "y": "yy",
    "m": "M",
    "d": "d",
    "H": "H",
    "M": "m",
    "S": "s",
    "f": "SSSSSS",
    "b": "MMM",
    "B": "MMMM",
    "p": "a",
    "I": "h",
    "%": "%",
}


@dataclass(frozen=True)
class Layers:
    """One column's expressions, each over the previous layer's columns (``t{i}``, ``ok{i}``, ``w{i}``, ``v{i}``)."""

    t: exp.Expr
    ok: exp.Expr
    wall: exp.Expr | None
    value: exp.Expr
    reason: exp.Expr


def physical_type(kind: object) -> str:
    """A Spark data type as column_types names physical types (DuckDB's names)."""
    from pyspark.sql import types as T

    simple = {
        T.StringType: TEXT,
        T.ByteType: "TINYINT",
        T.ShortType: "SMALLINT",
        T.IntegerType: "INTEGER",
        T.LongType: "BIGINT",
        T.FloatType: "FLOAT",
        T.DoubleType: "DOUBLE",
        T.BooleanType: "BOOLEAN",
        T.DateType: "DATE",
        T.TimestampType: "TIMESTAMP WITH TIME ZONE",
        T.TimestampNTZType: NAIVE,
    }
    if isinstance(kind, T.DecimalType):
        return f"DECIMAL({kind.precision},{kind.scale})"
    for cls, name in simple.items():
        if isinstance(kind, cls):
            return name
    return str(kind)


def accepts(column: Column, physical: str) -> bool:
    """Whether a Parquet column of that physical type can hold the declared column (as the DuckDB import)."""
    return compatible(column.type, physical)


def java_pattern(python_format: str, what: str) -> str:
    """A strptime format as a Java date-time pattern; a directive Spark cannot read is a coded error."""
    out, literal_text, i = [], [], 0
    while i < len(python_format):
        char = python_format[i]
        if char != "%":
            literal_text.append(char)
            i += 1
            continue
        directive = python_format[i + 1 : i + 2]
        if directive not in _DIRECTIVES or directive == "%":
            if directive == "%":
                literal_text.append("%")
                i += 2
                continue
            raise KpiError(
                [
                    error(
                        Code.SOURCE_NOT_ON_ENGINE,
                        f"{what} `{python_format}`: the spark engine cannot read `%{directive}`",
                        None,
                        "use %Y %m %d %H %M %S %f %b %B %p %I, or import with the duckdb engine",
                    )
                ]
            )
        if literal_text:
            out.append("'" + "".join(literal_text).replace("'", "''") + "'")
            literal_text = []
        out.append(_DIRECTIVES[directive])
        i += 2
    if literal_text:
        out.append("'" + "".join(literal_text).replace("'", "''") + "'")
    return "".join(out)


def layers(column: Column, i: int, physical: str, fmt: TextFormat, timezone: str, *, key: bool) -> Layers:
    """The expressions of declared column ``i`` whose raw cell is ``c{i}``."""
    t, ok, w, v = (exp.column(f"{p}{i}") for p in ("t", "ok", "w", "v"))
    cell = _null_cell(exp.column(f"c{i}"), column, physical, fmt)
    if physical == TEXT:
        okay, wall, value, valid, syntax, invalid = _from_text(column, fmt, t, ok, w)
    else:
        okay, wall, value, valid, syntax, invalid = _from_typed(column, physical, t, ok, w)
    checks: list[tuple[exp.Expr, exp.Expr]] = [
        (
            exp.Is(this=t.copy(), expression=exp.null()),
            _lit("missing key value") if key else _lit("missing required value") if column.required else exp.null(),
        ),
        (exp.not_(valid), syntax),
        (exp.Is(this=v.copy(), expression=exp.null()), invalid),
    ]
    if wall is not None:
        gap = exp.NEQ(this=exp.cast(v.copy(), "TIMESTAMP_NTZ"), expression=w.copy())
        checks.append(
            (gap, _concat(_shown_of(column, t), f" does not exist in {timezone} (the clocks jump forward over it)"))
        )
    checks += _extra_checks(column, physical, key, t, v)
    reason = exp.Case(ifs=[exp.If(this=cond, true=then) for cond, then in checks])
    return Layers(cell, okay, wall, value, reason)


def _null_cell(raw: exp.Expr, column: Column, physical: str, fmt: TextFormat) -> exp.Expr:
    """NULL for a null token; non-string text trimmed of blanks (as the DuckDB import)."""
    if physical != TEXT:
        return raw
    nulls = [_lit(n) for n in fmt.nulls]
    value = raw if column.type == "string" else _fn("regexp_replace", raw, _lit(_BLANKS), _lit(""))
    is_null = exp.or_(exp.Is(this=value.copy(), expression=exp.null()), exp.In(this=value.copy(), expressions=nulls))
    return exp.Case(ifs=[exp.If(this=is_null, true=exp.null())], default=value.copy())


_Parts = tuple[exp.Expr, exp.Expr | None, exp.Expr, exp.Expr, exp.Expr, exp.Expr]


def _from_text(column: Column, fmt: TextFormat, t: exp.Expr, ok: exp.Expr, w: exp.Expr) -> _Parts:
    """(ok, wall, value, valid, syntax reason, invalid reason) of a text cell."""
    shown = _shown(t)
    match column.type:
        case "string":
            return exp.true(), None, t.copy(), ok.copy(), exp.null(), exp.null()
        case "integer" | "number" | "decimal":
            return _number(column.type, fmt, t, ok, shown)
        case "boolean":
            word = exp.Lower(this=t.copy())
            okay = exp.In(this=word, expressions=[_lit(x) for x in (*TRUE_WORDS, *FALSE_WORDS)])
            value = _when(ok, exp.In(this=word.copy(), expressions=[_lit(x) for x in TRUE_WORDS]))
            syntax = _not_valid(shown, "boolean", "true/false, 1/0 or yes/no")
            return okay, None, value, ok.copy(), syntax, exp.null()
        case "date":
            return _date(fmt, t, ok, shown)
        case "timestamp":
            return _timestamp(fmt, t, ok, w, shown)
    raise ValueError(column.type)


def _number(kind: str, fmt: TextFormat, t: exp.Expr, ok: exp.Expr, shown: exp.Expr) -> _Parts:
    okay = _full_match(t, _number_pattern(fmt, integer=kind == "integer"))
    text = t.copy()
    if fmt.thousands_chars:
        separators = "[" + "".join(fmt.thousands_chars) + "]"
        text = _fn("regexp_replace", text, _lit(separators), _lit(""))
    if fmt.decimal != ".":
        text = _fn("replace", text, _lit(fmt.decimal), _lit("."))
    syntax = _not_valid(shown, kind, fmt.number_example(kind == "integer"))
    if kind == "integer":
        value = _when(ok, _try_cast(text, "BIGINT"))
        return okay, None, value, ok.copy(), syntax, _concat(shown, " is out of range for an integer")
    if kind == "number":
        number = _try_cast(text, "DOUBLE")
        finite = exp.Case(ifs=[exp.If(this=_infinite(number), true=exp.null())], default=number.copy())
        return okay, None, _when(ok, finite), ok.copy(), syntax, _concat(shown, " is out of range for a number")
    fraction = exp.Trim(
        this=_fn("regexp_extract", text, _lit("[.]([0-9]*)$"), exp.Literal.number(1)),
        expression=_lit("0"),
        position="TRAILING",
    )
    too_fine = exp.GT(this=exp.Length(this=fraction), expression=exp.Literal.number(10))
    value = exp.Case(
        ifs=[exp.If(this=exp.or_(exp.not_(ok.copy()), too_fine), true=exp.null())],
        default=_try_cast(text.copy(), SPARK_TYPES["decimal"]),
    )
    invalid = exp.Case(
        ifs=[exp.If(this=too_fine.copy(), true=_concat(shown, " has more than 10 digits after the decimal separator"))],
        default=_concat(
            shown.copy(), " is out of range for a decimal (at most 28 digits before the decimal separator)"
        ),
    )
    return okay, None, value, ok.copy(), syntax, invalid


def _date(fmt: TextFormat, t: exp.Expr, ok: exp.Expr, shown: exp.Expr) -> _Parts:
    ifs = [exp.If(this=ok.copy(), true=_try_cast(t, "DATE"))]
    valid: exp.Expr = ok.copy()
    expected = "YYYY-MM-DD"
    if fmt.date_format:
        pattern = java_pattern(fmt.date_format, "date_format")
        parsed = exp.cast(_fn("try_to_timestamp", t, _lit(pattern)), "DATE")
        ifs.append(exp.If(this=exp.true(), true=parsed))
        valid = exp.or_(valid, exp.not_(exp.Is(this=exp.column(_value_of(t)), expression=exp.null())))
        expected += f" or {fmt.date_format}"
    invalid = _concat(shown, " is not a valid date (no such day)")
    return _full_match(t, _ISO_DATE), None, exp.Case(ifs=ifs), valid, _not_valid(shown, "date", expected), invalid


def _timestamp(fmt: TextFormat, t: exp.Expr, ok: exp.Expr, w: exp.Expr, shown: exp.Expr) -> _Parts:
    """ISO text (with or without an offset) or the declared format; a naive time is a wall-clock reading."""
    expected = "YYYY-MM-DD HH:MM[:SS], optionally with an offset within ±14:00"
    time_part = _fn("substr", t, exp.Literal.number(11))
    naive = exp.and_(
        *[exp.EQ(this=_fn("instr", time_part.copy(), _lit(c)), expression=exp.Literal.number(0)) for c in "Z+-"]
    )
    readings = [exp.If(this=exp.and_(ok.copy(), naive), true=_try_cast(t, "TIMESTAMP_NTZ"))]
    # Spark reads an offset only after seconds: `10:30+03:00` becomes `10:30:00+03:00`.
    with_seconds = _fn("regexp_replace", t, _lit("^([0-9-]{10}[T ][0-9]{2}:[0-9]{2})([^:0-9].*|)$"), _lit("$1:00$2"))
    ifs = [
        exp.If(this=exp.not_(exp.Is(this=w.copy(), expression=exp.null())), true=instant(w)),
        exp.If(this=ok.copy(), true=_try_cast(with_seconds, "TIMESTAMP")),
    ]
    valid: exp.Expr = ok.copy()
    if fmt.timestamp_format:
        if "%z" in fmt.timestamp_format or "%Z" in fmt.timestamp_format:
            raise KpiError(
                [
                    error(
                        Code.SOURCE_NOT_ON_ENGINE,
                        f"timestamp_format `{fmt.timestamp_format}`: the spark engine cannot read offsets (%z, %Z) "
                        "through a format",
                        None,
                        "write the timestamps as ISO text with their offset, or import with the duckdb engine",
                    )
                ]
            )
        expected += f", or {fmt.timestamp_format}"
        pattern = java_pattern(fmt.timestamp_format, "timestamp_format")
        parsed = exp.cast(_fn("try_to_timestamp", t, _lit(pattern)), "TIMESTAMP_NTZ")
        readings.append(exp.If(this=exp.not_(ok.copy()), true=parsed))
        valid = exp.or_(valid, exp.not_(exp.Is(this=w.copy(), expression=exp.null())))
    invalid = _concat(shown, " is not a valid timestamp")
    wall = exp.Case(ifs=readings)
    okay = _full_match(t, _ISO_TIMESTAMP)
    return okay, wall, exp.Case(ifs=ifs), valid, _not_valid(shown, "timestamp", expected), invalid


def instant(wall: exp.Expr) -> exp.Expr:
    """The instant of a wall-clock reading in the session zone; in a repeated hour, the later one (as ICU)."""
    first = exp.cast(wall.copy(), "TIMESTAMP")
    later = exp.Add(this=first.copy(), expression=exp.Interval(this=_lit("1"), unit=exp.var("HOUR")))
    repeated = exp.EQ(this=exp.cast(later.copy(), "TIMESTAMP_NTZ"), expression=wall.copy())
    return exp.Case(ifs=[exp.If(this=repeated, true=later)], default=first)


def _from_typed(column: Column, physical: str, t: exp.Expr, ok: exp.Expr, w: exp.Expr) -> _Parts:
    """A Parquet value of a compatible type."""
    shown = _shown(exp.cast(t.copy(), "STRING"))
    target = SPARK_TYPES[column.type]
    if column.type == "timestamp":
        invalid = _concat(shown, " is out of range for a timestamp")
        if physical != NAIVE:
            return exp.true(), None, _try_cast(t, target), ok.copy(), exp.null(), invalid
        value = _when(exp.not_(exp.Is(this=w.copy(), expression=exp.null())), instant(w))
        return exp.true(), t.copy(), value, ok.copy(), exp.null(), invalid
    if column.type == "number" and physical in ("FLOAT", "DOUBLE"):
        okay = exp.not_(exp.or_(_fn("isnan", t), _infinite(t)))
        return (
            okay,
            None,
            _when(ok, _try_cast(t, target)),
            ok.copy(),
            _concat(shown, " is not a valid number"),
            exp.null(),
        )
    article = "an " if column.type[0] in "aeiou" else "a "
    invalid = _concat(shown, f" is out of range for {article}{column.type}")
    return exp.true(), None, _try_cast(t, target), ok.copy(), exp.null(), invalid


def _extra_checks(
    column: Column, physical: str, key: bool, t: exp.Expr, v: exp.Expr
) -> list[tuple[exp.Expr, exp.Expr]]:
    """Control characters in keys, `values`, `min`, `max`, `above`, as the DuckDB import words them."""
    shown = _shown_of(column, t)
    checks: list[tuple[exp.Expr, exp.Expr]] = []
    if key and column.type == "string" and physical == TEXT:
        control = exp.RegexpLike(this=t.copy(), expression=_lit("[\\x00-\\x1f\\x7f]"))
        checks.append((control, _lit("the key contains a control character")))
    if column.values is not None:
        allowed = _allowed(column, v, t)
        if allowed is not None:
            if column.type not in NUMERIC and column.type != "string":
                allowed = exp.In(this=exp.cast(t.copy(), "STRING"), expressions=[_lit(x) for x in column.values or ()])
            checks.append((exp.not_(allowed), _concat(shown, " is not one of: " + ", ".join(column.values))))
    if column.type in NUMERIC:
        as_decimal = _try_cast(v, SPARK_TYPES["decimal"])
        bounds = (
            (column.min, exp.LT, "is below the minimum"),
            (column.max, exp.GT, "is above the maximum"),
            (column.above, exp.LTE, "is not above"),
        )
        for bound, op, words in bounds:
            if bound is not None and _fits(bound):
                checks.append(
                    (op(this=as_decimal.copy(), expression=_decimal(bound)), _concat(shown.copy(), f" {words} {bound}"))
                )
    return checks


def _shown_of(column: Column, t: exp.Expr) -> exp.Expr:
    return _shown(t.copy() if column.type == "string" else exp.cast(t.copy(), "STRING"))


def _value_of(t: exp.Expr) -> str:
    """The value column of the cell column ``t{i}``."""
    return "v" + t.name[1:]


def _infinite(e: exp.Expr) -> exp.Expr:
    return exp.EQ(this=exp.Abs(this=e.copy()), expression=exp.cast(_lit("Infinity"), "DOUBLE"))


def _full_match(t: exp.Expr, pattern: str) -> exp.Expr:
    # Java's `$` also matches before a final line end; `\z` is the end of the text only.
    return exp.RegexpLike(this=t.copy(), expression=_lit(f"^(?:{pattern})\\z"))


def _when(cond: exp.Expr, value: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=cond.copy(), true=value)])


def _try_cast(e: exp.Expr, to: str) -> exp.Expr:
    return exp.TryCast(this=e.copy(), to=exp.DataType.build(to, dialect="spark"), safe=True)


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=[a.copy() for a in args])


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


__all__ = ["NAIVE", "SPARK_TYPES", "TEXT", "Layers", "accepts", "instant", "java_pattern", "layers", "physical_type"]
