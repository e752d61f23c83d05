"""Column types: their DuckDB types, and the SQL that turns a staged value into a typed one.

Every value arrives as text (CSV, JSON, Excel) or as a Parquet type. Text is validated with a
regular expression *before* an explicit cast, because DuckDB's casts are lenient: `'12.5'::BIGINT`
is 13, `'1e3'::DECIMAL` is 1000. Each column yields a typed value and a reason (NULL when the
value is fine); a row with any reason is rejected.

The typing query computes each column in layers, each expression once (`Cell` names them): the
cell with null tokens removed `t`, its well-formedness `ok`, for timestamps the wall-clock reading
`w` and its zone offset `z` (`engine/data/zone.py`), the value `v`, and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlglot import exp

from kpi_engine.config.model import Column, CsvOptions
from kpi_engine.data.zone import instant

DUCKDB_TYPES: Mapping[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "decimal": "DECIMAL(38,10)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
}
DECIMAL_SCALE = 10
DECIMAL_INTEGER_DIGITS = 28
NUMERIC = ("integer", "number", "decimal")
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
SHOWN_CHARS = 80

_ISO_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ISO_TIME = "[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]{1,6})?)?"
# UTC offsets exist from -12:00 to +14:00; anything beyond ±14:00 is a typo, not a place (`+99:00`
# would move the instant by four days).
_OFFSET = "(?:Z|[+-](?:(?:0[0-9]|1[0-3])(?::?[0-5][0-9])?|14(?::?00)?))"
_ISO_TIMESTAMP = f"{_ISO_DATE}[T ]{_ISO_TIME}{_OFFSET}?"
# Parquet physical types each declared type accepts without going through text.
_INTEGER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)
# Parquet timestamps without a zone (any precision): wall-clock times in the organization's zone.
_NAIVE_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")
_DECIMAL_TYPE = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_Parts = tuple[exp.Expr, exp.Expr, exp.Expr, exp.Expr]  # ok, value, syntax reason, invalid reason


@dataclass(frozen=True)
class TextFormat:
    """How numbers, dates and nulls are written in text cells (the source's `csv:` options)."""

    decimal: str = "."
    thousands: str | None = None
    nulls: tuple[str, ...] = ("",)
    date_format: str | None = None
    timestamp_format: str | None = None

    @classmethod
    def of(cls, options: CsvOptions) -> TextFormat:
        """The text format declared by a source's `csv:` options; an empty cell is always null."""
        nulls = tuple(dict.fromkeys(("", *options.nulls)))
        return cls(options.decimal, options.thousands or None, nulls, options.date_format, options.timestamp_format)

    @property
    def thousands_chars(self) -> tuple[str, ...]:
        """Accepted thousands separators: a declared space also accepts the no-break spaces."""
        if self.thousands is None:
            return ()
        if self.thousands == " ":
            return (" ", "\u00a0", "\u202f")
        return (self.thousands,)

    def number_example(self, integer: bool) -> str:
        """How a number must be written, for reasons: `-1234.5`, `-1 234,5`."""
        whole = f"1{self.thousands}234" if self.thousands else "1234"
        return f"-{whole}" if integer else f"-{whole}{self.decimal}5"


@dataclass(frozen=True)
class Cell:
    """References to one column's computed values in the typing query's layers.

    `t` the staged value (NULL for null tokens), `ok` its well-formedness, `wall` the wall-clock
    reading of a timestamp, `offset` that reading's zone offset (None when no zone table is used),
    `value` the typed value.
    """

    t: exp.Expr
    ok: exp.Expr
    wall: exp.Expr
    offset: exp.Expr | None
    value: exp.Expr

    @classmethod
    def named(cls, i: int, zoned: bool = False) -> Cell:
        """The references of column `i` (`t0`, `ok0`, `w0`, `z0`, `v0`)."""
        return cls(
            exp.column(f"t{i}"),
            exp.column(f"ok{i}"),
            exp.column(f"w{i}"),
            exp.column(f"z{i}") if zoned else None,
            exp.column(f"v{i}"),
        )


@dataclass(frozen=True)
class Parsed:
    """A column's SQL over its staged value: well-formed?, its wall-clock reading, its typed value.

    `ok` is computed over `t`; `wall` (timestamps without an offset) over `t` and `ok`; `value` over
    those and the offset; `valid` (over the references) says whether the value was well-formed. Also
    the reasons for a malformed value (`syntax`) and for a well-formed one without a value (`invalid`).
    """

    ok: exp.Expr
    wall: exp.Expr | None
    value: exp.Expr
    valid: exp.Expr
    syntax: exp.Expr
    invalid: exp.Expr


def compatible(column_type: str, physical: str) -> bool:
    """Whether a Parquet column of DuckDB type `physical` can hold a declared column type."""
    if physical == "VARCHAR":
        return True
    decimal = _DECIMAL_TYPE.fullmatch(physical)
    match column_type:
        case "string":
            return physical in _INTEGER_TYPES
        case "integer":
            return physical in _INTEGER_TYPES or bool(decimal and decimal.group(2) == "0")
        case "number":
            return physical in _INTEGER_TYPES or physical in ("FLOAT", "DOUBLE") or decimal is not None
        case "decimal":
            return physical in _INTEGER_TYPES or bool(decimal and int(decimal.group(2)) <= DECIMAL_SCALE)
        case "boolean":
            return physical == "BOOLEAN"
        case "date":
            return physical == "DATE"
        case "timestamp":
            return physical.startswith("TIMESTAMP")
    return False


def parse_column(column: Column, physical: str, fmt: TextFormat, cell: Cell) -> Parsed:
    """Validity, wall-clock reading and typed value of one column whose staged value is `cell.t`.

    `physical` is VARCHAR for text, else the Parquet column's DuckDB type. The expressions refer to
    the columns of earlier layers (`cell`), so each regular expression and conversion runs once.
    """
    if column.type == "timestamp":
        if physical == "VARCHAR":
            return _timestamp_from_text(fmt, cell)
        return _timestamp_from_typed(physical, cell)
    if column.type == "date" and physical == "VARCHAR":
        return _date_from_text(fmt, cell)
    if physical == "VARCHAR":
        ok, value, syntax, invalid = _from_text(column.type, fmt, cell.t, cell.ok)
    else:
        ok, value, syntax, invalid = _from_typed(column.type, physical, cell.t, cell.ok)
    return Parsed(ok, None, value, cell.ok.copy(), syntax, invalid)


def reject_reason(column: Column, physical: str, timezone: str, *, key: bool, parsed: Parsed, cell: Cell) -> exp.Expr:
    """Why a row's value is rejected, or NULL; `cell` refers to the computed columns."""
    checks: list[tuple[exp.Expr, exp.Expr]] = [
        (
            exp.Is(this=cell.t.copy(), expression=exp.null()),
            _lit("missing key value") if key else _lit("missing required value") if column.required else exp.null(),
        ),
        (exp.not_(parsed.valid.copy()), parsed.syntax),
        (exp.Is(this=cell.value.copy(), expression=exp.null()), parsed.invalid),
    ]
    checks += _extra_checks(column, physical, timezone, key, parsed, cell)
    return exp.Case(ifs=[exp.If(this=cond, true=then) for cond, then in checks])


def null_cell(raw: exp.Expr, column: Column, physical: str, fmt: TextFormat) -> exp.Expr:
    """The staged value `t`: NULL for a null token, text trimmed of blanks for non-string types."""
    if physical != "VARCHAR":
        return raw
    nulls = [_lit(n) for n in fmt.nulls]
    is_null = exp.or_(exp.Is(this=raw.copy(), expression=exp.null()), exp.In(this=raw.copy(), expressions=nulls))
    if column.type == "string":
        return exp.Case(ifs=[exp.If(this=is_null, true=exp.null())], default=raw.copy())
    # Trimming is slow in DuckDB; most cells have nothing to trim, and a regex finds the others.
    trimmed = _fn("trim", raw, _lit(" \t\r\n"))
    padded = _fn("regexp_matches", raw, _lit("^[ \t\r\n]|[ \t\r\n]$"))
    blank = exp.Case(
        ifs=[exp.If(this=exp.In(this=trimmed, expressions=[n.copy() for n in nulls]), true=exp.null())],
        default=trimmed.copy(),
    )
    return exp.Case(ifs=[exp.If(this=is_null, true=exp.null()), exp.If(this=padded, true=blank)], default=raw.copy())


def _from_text(column_type: str, fmt: TextFormat, t: exp.Expr, valid: exp.Expr) -> _Parts:
    """(ok, value, syntax reason, invalid reason) of a text cell."""
    shown = _shown(t)
    match column_type:
        case "string":
            return exp.true(), t, exp.null(), exp.null()
        case "integer":
            ok = _full_match(t, _number_pattern(fmt, integer=True))
            value = _try_cast(_normalised(t, fmt), "BIGINT")
            return (
                ok,
                _when(valid, value),
                _not_valid(shown, "integer", fmt.number_example(True)),
                _concat(shown, " is out of range for an integer"),
            )
        case "number":
            ok = _full_match(t, _number_pattern(fmt, integer=False))
            number = _try_cast(_normalised(t, fmt), "DOUBLE")
            finite = exp.Case(ifs=[exp.If(this=_fn("isinf", number), true=exp.null())], default=number.copy())
            return (
                ok,
                _when(valid, finite),
                _not_valid(shown, "number", fmt.number_example(False)),
                _concat(shown, " is out of range for a number"),
            )
        case "decimal":
            return _decimal_from_text(t, fmt, shown, valid)
        case "boolean":
            word = exp.Lower(this=t)
            ok = exp.In(this=word, expressions=[_lit(w) for w in (*TRUE_WORDS, *FALSE_WORDS)])
            value = exp.In(this=word.copy(), expressions=[_lit(w) for w in TRUE_WORDS])
            return ok, _when(valid, value), _not_valid(shown, "boolean", "true/false, 1/0 or yes/no"), exp.null()
    raise ValueError(f"unknown column type {column_type!r}")


def _decimal_from_text(t: exp.Expr, fmt: TextFormat, shown: exp.Expr, valid: exp.Expr) -> _Parts:
    ok = _full_match(t, _number_pattern(fmt, integer=False))
    number = _normalised(t, fmt)
    fraction = _fn("rtrim", _fn("regexp_extract", number, _lit(r"[.]([0-9]*)$"), exp.Literal.number(1)), _lit("0"))
    too_fine = exp.GT(this=exp.Length(this=fraction), expression=exp.Literal.number(DECIMAL_SCALE))
    value = exp.Case(
        ifs=[exp.If(this=exp.or_(exp.not_(valid.copy()), too_fine), true=exp.null())],
        default=_try_cast(number.copy(), DUCKDB_TYPES["decimal"]),
    )
    invalid = exp.Case(
        ifs=[
            exp.If(
                this=too_fine.copy(),
                true=_concat(shown, f" has more than {DECIMAL_SCALE} digits after the decimal separator"),
            )
        ],
        default=_concat(
            shown.copy(),
            f" is out of range for a decimal (at most {DECIMAL_INTEGER_DIGITS} digits before the decimal separator)",
        ),
    )
    return ok, value, _not_valid(shown, "decimal", fmt.number_example(False)), invalid


def _date_from_text(fmt: TextFormat, cell: Cell) -> Parsed:
    """A date written as ISO or in the declared format; the regular expression and the format read once each."""
    t, ok = cell.t, cell.ok
    shown = _shown(t)
    expected = "YYYY-MM-DD"
    ifs = [exp.If(this=ok.copy(), true=_try_cast(t, "DATE"))]
    valid: exp.Expr = ok.copy()
    if fmt.date_format:
        ifs.append(exp.If(this=exp.true(), true=exp.cast(_fn("try_strptime", t, _lit(fmt.date_format)), "DATE")))
        valid = exp.or_(valid, _is_not_null(cell.value))  # not ISO, but the format read it
        expected += f" or {fmt.date_format}"
    return Parsed(
        _full_match(t, _ISO_DATE),
        None,
        exp.Case(ifs=ifs),
        valid,
        _not_valid(shown, "date", expected),
        _concat(shown, " is not a valid date (no such day)"),
    )


def _timestamp_from_text(fmt: TextFormat, cell: Cell) -> Parsed:
    """A timestamp written as text: ISO (with or without an offset) or the declared format.

    A time without an offset is a wall-clock reading (`wall`) that the zone's offset (or ICU) turns
    into an instant; a time with an offset is cast as written.
    """
    t, ok, wall = cell.t, cell.ok, cell.wall
    shown = _shown(t)
    expected = "YYYY-MM-DD HH:MM[:SS], optionally with an offset within ±14:00"
    # After the date, a naive ISO time has no `Z`, `+` or `-`: cheaper than another regex.
    time_part = _fn("substr", t, exp.Literal.number(11))
    naive = exp.and_(
        *[exp.EQ(this=_fn("strpos", time_part, _lit(c)), expression=exp.Literal.number(0)) for c in ("Z", "+", "-")]
    )
    readings = [exp.If(this=exp.and_(ok.copy(), naive), true=_try_cast(t, "TIMESTAMP"))]
    ifs = [
        exp.If(this=_is_not_null(wall), true=instant(wall, cell.offset)),
        exp.If(this=ok.copy(), true=_try_cast(t, "TIMESTAMPTZ")),
    ]
    valid: exp.Expr = ok.copy()
    if fmt.timestamp_format:
        expected += f", or {fmt.timestamp_format}"
        parsed = _fn("try_strptime", t, _lit(fmt.timestamp_format))
        if "%z" in fmt.timestamp_format or "%Z" in fmt.timestamp_format:
            ifs.append(exp.If(this=exp.true(), true=exp.cast(parsed, "TIMESTAMPTZ")))
            valid = exp.or_(valid, _is_not_null(cell.value))
        else:  # the format's reading is a wall-clock time too, checked for the DST gap like ISO text
            readings.append(exp.If(this=exp.not_(ok.copy()), true=parsed))
            valid = exp.or_(valid, _is_not_null(wall))
    return Parsed(
        _full_match(t, _ISO_TIMESTAMP),
        exp.Case(ifs=readings),
        exp.Case(ifs=ifs),
        valid,
        _not_valid(shown, "timestamp", expected),
        _concat(shown, " is not a valid timestamp"),
    )


def _timestamp_from_typed(physical: str, cell: Cell) -> Parsed:
    """A Parquet timestamp: with a zone it is an instant; without one, a wall-clock reading."""
    shown = _shown(exp.cast(cell.t, "VARCHAR"))
    invalid = _concat(shown, " is out of range for a timestamp")
    if physical not in _NAIVE_TIMESTAMPS:
        return Parsed(exp.true(), None, _try_cast(cell.t, "TIMESTAMPTZ"), cell.ok.copy(), exp.null(), invalid)
    wall = cell.t.copy() if physical == "TIMESTAMP" else _try_cast(cell.t, "TIMESTAMP")
    value = exp.Case(ifs=[exp.If(this=_is_not_null(cell.wall), true=instant(cell.wall, cell.offset))])
    return Parsed(exp.true(), wall, value, cell.ok.copy(), exp.null(), invalid)


def approximate_wall(column: Column, physical: str, fmt: TextFormat, raw: exp.Expr) -> exp.Expr | None:
    """A cheap wall-clock reading of a staged timestamp, to find the span of hours a file covers.

    Near enough is enough: the zone table (`engine/data/zone.py`) is exact over whatever span it
    covers, and values outside it go through ICU. None for columns without wall-clock readings.
    """
    if column.type != "timestamp":
        return None
    if physical in _NAIVE_TIMESTAMPS:
        return raw.copy() if physical == "TIMESTAMP" else _try_cast(raw, "TIMESTAMP")
    if physical != "VARCHAR":
        return None
    reading = _try_cast(raw, "TIMESTAMP")
    if fmt.timestamp_format and "%z" not in fmt.timestamp_format and "%Z" not in fmt.timestamp_format:
        return exp.Coalesce(this=reading, expressions=[_fn("try_strptime", raw, _lit(fmt.timestamp_format))])
    return reading


def _from_typed(column_type: str, physical: str, t: exp.Expr, valid: exp.Expr) -> _Parts:
    """(ok, value, syntax reason, invalid reason) of a Parquet value of a compatible type."""
    shown = _shown(exp.cast(t, "VARCHAR"))
    target = DUCKDB_TYPES[column_type]
    if column_type == "number" and physical in ("FLOAT", "DOUBLE"):
        ok = exp.not_(exp.or_(_fn("isnan", t), _fn("isinf", t)))
        return ok, _when(valid, _try_cast(t, target)), _concat(shown, " is not a valid number"), exp.null()
    return exp.true(), _try_cast(t, target), exp.null(), _concat(shown, f" is out of range for {_article(column_type)}")


def _extra_checks(
    column: Column, physical: str, timezone: str, key: bool, parsed: Parsed, cell: Cell
) -> list[tuple[exp.Expr, exp.Expr]]:
    """Checks after the value parsed: DST gap, control characters in keys, `values`, `min`, `max`."""
    t, value = cell.t, cell.value
    shown = _shown(t if column.type == "string" else exp.cast(t, "VARCHAR"))
    checks: list[tuple[exp.Expr, exp.Expr]] = []
    if parsed.wall is not None:
        # ICU gives a time in the gap back as another reading; an hour the zone table covers has no gap.
        gap: exp.Expr = exp.NEQ(this=exp.cast(value.copy(), "TIMESTAMP"), expression=cell.wall.copy())
        if cell.offset is not None:
            gap = exp.and_(exp.Is(this=cell.offset.copy(), expression=exp.null()), gap)
        checks.append((gap, _concat(shown, f" does not exist in {timezone} (the clocks jump forward over it)")))
    if key and column.type == "string" and physical == "VARCHAR":  # a Parquet integer key has no control character
        checks.append(
            (_fn("regexp_matches", t, _lit("[\\x00-\\x1f\\x7f]")), _lit("the key contains a control character"))
        )
    if column.values is not None:
        allowed = _allowed(column, value, t)
        if allowed is not None:
            checks.append((exp.not_(allowed), _concat(shown, " is not one of: " + ", ".join(column.values))))
    if column.type in NUMERIC:
        as_decimal = exp.cast(value.copy(), DUCKDB_TYPES["decimal"])
        if column.min is not None and _fits(column.min):
            checks.append(
                (
                    exp.LT(this=as_decimal, expression=_decimal(column.min)),
                    _concat(shown, f" is below the minimum {column.min}"),
                )
            )
        if column.max is not None and _fits(column.max):
            checks.append(
                (
                    exp.GT(this=as_decimal.copy(), expression=_decimal(column.max)),
                    _concat(shown.copy(), f" is above the maximum {column.max}"),
                )
            )
        if column.above is not None and _fits(column.above):
            checks.append(
                (
                    exp.LTE(this=as_decimal.copy(), expression=_decimal(column.above)),
                    _concat(shown.copy(), f" is not above {column.above}"),
                )
            )
    return checks


def _allowed(column: Column, value: exp.Expr, t: exp.Expr) -> exp.Expr | None:
    """`value IN (values)`: numbers compare as numbers (`01` is `1`), anything else as text."""
    if column.type not in NUMERIC:
        text = t if column.type == "string" else exp.cast(t, "VARCHAR")
        return exp.In(this=text, expressions=[_lit(v) for v in column.values or ()])
    numbers = []
    for v in column.values or ():
        try:
            number = Decimal(v)
        except InvalidOperation:
            continue
        if number.is_finite() and _fits(number):
            numbers.append(_decimal(number))
    if not numbers:
        return exp.false()
    return exp.In(this=exp.cast(value.copy(), DUCKDB_TYPES["decimal"]), expressions=numbers)


def _number_pattern(fmt: TextFormat, *, integer: bool) -> str:
    """`-?digits(.digits)?` in the declared notation; thousands only in groups of three."""
    digits = "[0-9]+"
    if fmt.thousands_chars:
        sep = "[" + "".join(_class_escape(c) for c in fmt.thousands_chars) + "]"
        digits = f"(?:[0-9]{{1,3}}(?:{sep}[0-9]{{3}})+|[0-9]+)"
    if integer:
        return f"-?{digits}"
    return f"-?{digits}(?:[{_class_escape(fmt.decimal)}][0-9]+)?"


def _normalised(t: exp.Expr, fmt: TextFormat) -> exp.Expr:
    """The text with thousands separators removed and `.` as the decimal separator."""
    out = t
    if fmt.thousands_chars:
        sep = "[" + "".join(_class_escape(c) for c in fmt.thousands_chars) + "]"
        out = _fn("regexp_replace", out, _lit(sep), _lit(""), _lit("g"))
    if fmt.decimal != ".":
        out = _fn("replace", out, _lit(fmt.decimal), _lit("."))
    return out


def _class_escape(char: str) -> str:
    return "\\" + char if char in "]\\^-[" else char


def _fits(number: Decimal) -> bool:
    return abs(number) < Decimal(10) ** DECIMAL_INTEGER_DIGITS


def _decimal(number: Decimal) -> exp.Expr:
    return exp.cast(_lit(format(number, "f")), DUCKDB_TYPES["decimal"])


def _article(column_type: str) -> str:
    return ("an " if column_type[0] in "aeiou" else "a ") + column_type


def _not_valid(shown: exp.Expr, column_type: str, expected: str) -> exp.Expr:
    return _concat(shown, f" is not a valid {column_type} (expected {expected})")


def _shown(t: exp.Expr) -> exp.Expr:
    """The offending value as reasons quote it: in quotes, cut after SHOWN_CHARS characters."""
    cut = exp.Case(
        ifs=[
            exp.If(
                this=exp.GT(this=exp.Length(this=t), expression=exp.Literal.number(SHOWN_CHARS)),
                true=_concat(_fn("left", t.copy(), exp.Literal.number(SHOWN_CHARS)), "…"),
            )
        ],
        default=t.copy(),
    )
    return _fn("concat", _lit("'"), cut, _lit("'"))


def _concat(first: exp.Expr, text: str) -> exp.Expr:
    return _fn("concat", first, _lit(text))


def _is_not_null(e: exp.Expr) -> exp.Expr:
    return exp.not_(exp.Is(this=e.copy(), expression=exp.null()))


def _when(cond: exp.Expr, value: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=cond.copy(), true=value)])


def _full_match(t: exp.Expr, pattern: str) -> exp.Expr:
    return _fn("regexp_full_match", t.copy(), _lit(pattern))


def _try_cast(e: exp.Expr, to: str) -> exp.Expr:
    return exp.TryCast(this=e.copy(), to=exp.DataType.build(to, dialect="duckdb"))


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    # Anonymous keeps DuckDB's own function names: sqlglot must not translate strptime formats.
    return exp.Anonymous(this=name, expressions=[a.copy() for a in args])


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)
