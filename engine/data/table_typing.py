"""A table read in place (PostgreSQL): its declared columns typed and checked in SQL, the failing rows set apart.

The DuckDB import types text it reads from files (:mod:`kpi_engine.data.typing_query`). A table of
another database already has types: each declared column is taken from the table's own type when
that type can hold it, and checked the way an import checks a value — required and key values
present, integers whole, decimals within 10 places, `values:`, `min`, `max`, numbers, integers,
decimals and booleans written as text, wall-clock timestamps that exist in the zone, one row per key.
A declared type the table's type cannot give (a date from a number, money from a float) is an error
before any row is read. Rows with a reason go to ``rejects``, one row per failing column; the view
named by the source id holds the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from kpi_engine.config.model import Column, Source
from kpi_engine.data.column_types import DECIMAL_SCALE, FALSE_WORDS, NUMERIC, SHOWN_CHARS, TRUE_WORDS
from kpi_engine.errors import Code, Diagnostic, error
from kpi_engine.literal import literal

__all__ = ["ROW", "SQL_TYPES", "TypedTable", "family", "missing_columns", "type_problems", "typed_table"]

ROW = "__row"  # the table's alias: ROW_TO_JSON of it is a rejected row's raw text
_NUMBER = r"^\s*-?[0-9]+([.][0-9]+)?\s*$"
_INTEGER = r"^\s*-?[0-9]{1,18}\s*$"  # at most 18 digits: always within BIGINT
_DECIMAL_DIGITS = 28
#: What a declared type can be read from: the families of the table's column types.
_READS: Mapping[str, tuple[str, ...]] = {
    "string": ("text", "integer", "numeric", "float", "boolean", "date", "timestamp", "timestamptz", "other"),
    "integer": ("integer", "numeric", "float", "text"),
    "number": ("integer", "numeric", "float", "text"),
    "decimal": ("integer", "numeric", "text"),
    "boolean": ("boolean", "text"),
    "date": ("date",),
    "timestamp": ("timestamptz", "timestamp", "date"),
}
#: Each declared type in PostgreSQL, as the DuckDB import types it (engine/data/README.md).
SQL_TYPES = {
    "string": "TEXT",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "decimal": f"DECIMAL(38, {DECIMAL_SCALE})",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
}


def family(sql_type: str) -> str:
    """The family of a PostgreSQL column type as ``format_type`` writes it (``character varying(20)`` → text)."""
    name = sql_type.lower()
    if name.startswith(("text", "character", "name", "citext")):
        return "text"
    if name in ("smallint", "integer", "bigint"):
        return "integer"
    if name.startswith("numeric"):
        return "numeric"
    if name in ("real", "double precision"):
        return "float"
    if name in ("boolean", "date"):
        return name
    if name.startswith("timestamp"):
        return "timestamptz" if "with time zone" in name else "timestamp"
    return "other"


@dataclass(frozen=True)
class TypedTable:
    """The view's query (the rows that pass, typed) and the query of the rejects (one row per failing column)."""

    view: exp.Select
    rejects: exp.Select


def missing_columns(source: Source, table: str, names: Sequence[str]) -> Diagnostic | None:
    """The declared columns a table read in place lacks (any engine), named with the ones it has."""
    missing = [c for c in source.columns if c not in names]
    if not missing:
        return None
    return error(
        Code.DATA_COLUMN,
        f"table `{literal(table)}` lacks declared column{'s' if len(missing) > 1 else ''} "
        + ", ".join(f"`{m}`" for m in missing)
        + "; it has: "
        + ", ".join(names),
        source.span,
        "declare the table's own column names under `columns:`",
    )


def type_problems(source: Source, table: str, types: Mapping[str, str]) -> list[Diagnostic]:
    """Declared columns the table lacks, or whose type the table's column cannot give."""
    missing = missing_columns(source, table, list(types))
    if missing is not None:
        return [missing]
    return [
        error(
            Code.DATA_COLUMN,
            f"source `{source.id}`: column `{c.name}` is declared {c.type}, but table `{table}` holds it as "
            f"{types[c.name]}",
            source.span,
            f"declare it as one of the types a {types[c.name]} column can give (string always can), or change "
            "the table's column type",
        )
        for c in source.columns.values()
        if family(types[c.name]) not in _READS[c.type]
    ]


def typed_table(source: Source, table: exp.Table, types: Mapping[str, str], timezone: str) -> TypedTable:
    """The typed view and the rejects of a table whose column types passed :func:`type_problems`."""
    values, reasons = [], []
    for i, column in enumerate(source.columns.values()):
        raw = exp.column(column.name, table=ROW, quoted=True)
        value, reason = _typed(column, family(types[column.name]), raw, timezone, key=column.name == source.key)
        values.append(value.as_(f"v{i}"))
        reasons.append(reason.as_(f"r{i}"))
    whole_row = exp.cast(exp.func("ROW_TO_JSON", exp.column(ROW, quoted=True)), "TEXT").as_("raw")
    width = len(values)
    keyed = source.key is not None and source.key in source.columns
    checked = []
    for extra in ([], [whole_row]):
        select = exp.select(*(v.copy() for v in values), *(r.copy() for r in reasons), *extra)
        select = select.from_(exp.alias_(table.copy(), ROW, quoted=True))
        checked.append(_ranked(select, list(source.columns).index(str(source.key)), width) if keyed else select)
    width += keyed  # the duplicate-key reason is one more column
    passed = exp.and_(*(exp.column(f"r{i}").is_(exp.null()) for i in range(width)))
    view = exp.select(*(exp.column(f"v{i}").as_(name, quoted=True) for i, name in enumerate(source.columns)))
    view = view.from_(checked[0].subquery("checked")).where(passed)
    return TypedTable(view, _rejects(source, table, checked[1], width))


def _typed(column: Column, kind: str, raw: exp.Expr, timezone: str, *, key: bool) -> tuple[exp.Expr, exp.Expr]:
    """(value, reason or NULL) of one column read from a table column of family ``kind``."""
    target = SQL_TYPES[column.type]
    checks: list[tuple[exp.Expr, exp.Expr]] = []
    missing = "missing key value" if key else "missing required value" if column.required else None
    if missing is not None:
        checks.append((raw.copy().is_(exp.null()), _lit(missing)))
    value: exp.Expr = exp.cast(raw.copy(), target)
    if kind == "text" and column.type in ("integer", "number", "decimal", "boolean"):
        value, check = _from_text(column.type, raw)
        checks.append(check)
    elif column.type == "integer" and kind in ("numeric", "float"):
        whole = exp.EQ(this=raw.copy(), expression=exp.func("TRUNC", raw.copy()))
        fits = exp.Between(this=raw.copy(), low=exp.Literal.number(-(2**63)), high=exp.Literal.number(2**63 - 1))
        checks.append((exp.not_(exp.and_(whole, fits)), _concat(_shown(raw), " is not a whole number")))
    elif column.type == "decimal" and kind == "numeric":
        fine = exp.EQ(this=raw.copy(), expression=exp.Round(this=raw.copy(), decimals=exp.Literal.number(10)))
        checks.append((exp.not_(fine), _concat(_shown(raw), f" has more than {DECIMAL_SCALE} digits after the point")))
        big = exp.GTE(this=exp.Abs(this=raw.copy()), expression=exp.Literal.number(10**_DECIMAL_DIGITS))
        checks.append((big, _concat(_shown(raw), " is out of range for a decimal")))
    elif column.type == "timestamp" and kind in ("timestamp", "date"):
        wall = exp.cast(raw.copy(), "TIMESTAMP")
        value = exp.AtTimeZone(this=wall, zone=_lit(timezone))
        again = exp.AtTimeZone(this=value.copy(), zone=_lit(timezone))
        gap = exp.NEQ(this=again, expression=wall.copy())
        checks.append((gap, _concat(_shown(raw), f" does not exist in {timezone} (the clocks jump forward over it)")))
    checks += _constraints(column, value, raw)
    if not checks:
        return value, exp.cast(exp.null(), "TEXT")
    valid = exp.and_(*(exp.not_(exp.Coalesce(this=c.copy(), expressions=[exp.false()])) for c, _ in checks))
    guarded = exp.Case(ifs=[exp.If(this=valid, true=value)]) if kind == "text" else value
    reason = exp.Case(ifs=[exp.If(this=c, true=r) for c, r in checks])
    return guarded, reason


def _from_text(column_type: str, raw: exp.Expr) -> tuple[exp.Expr, tuple[exp.Expr, exp.Expr]]:
    """A number, integer, decimal or boolean written as text: its value and its syntax check."""
    text = exp.Trim(this=raw.copy())
    if column_type == "boolean":
        word = exp.Lower(this=text)
        ok: exp.Expr = exp.In(this=word, expressions=[_lit(w) for w in (*TRUE_WORDS, *FALSE_WORDS)])
        value: exp.Expr = exp.In(this=word.copy(), expressions=[_lit(w) for w in TRUE_WORDS])
        expected = "true/false, 1/0 or yes/no"
    else:
        pattern = _INTEGER if column_type == "integer" else _NUMBER
        ok = exp.RegexpLike(this=raw.copy(), expression=_lit(pattern))
        value = exp.cast(text.copy(), SQL_TYPES[column_type])
        expected = "digits, a point as decimal separator" if column_type != "integer" else "digits"
    reason = _concat(_shown(raw), f" is not a valid {column_type} (expected {expected})")
    return value, (exp.and_(raw.copy().is_(exp.null()).not_(), exp.not_(ok)), reason)


def _constraints(column: Column, value: exp.Expr, raw: exp.Expr) -> list[tuple[exp.Expr, exp.Expr]]:
    """`values`, `min`, `max` and `above` of a column, on its typed value."""
    shown = _shown(raw)
    checks: list[tuple[exp.Expr, exp.Expr]] = []
    if column.values is not None:
        if column.type in NUMERIC:
            allowed = [exp.Literal.number(v) for v in column.values if _is_number(v)]
            test: exp.Expr = exp.In(this=exp.cast(value.copy(), "NUMERIC"), expressions=allowed or [exp.null()])
        else:
            test = exp.In(this=exp.cast(value.copy(), "TEXT"), expressions=[_lit(v) for v in column.values])
        checks.append((exp.not_(test), _concat(shown, " is not one of: " + ", ".join(column.values))))
    if column.type in NUMERIC:
        number = exp.cast(value.copy(), "NUMERIC")
        for bound, cls, words in (
            (column.min, exp.LT, "is below the minimum"),
            (column.max, exp.GT, "is above the maximum"),
            (column.above, exp.LTE, "is not above"),
        ):
            if bound is not None:
                limit = exp.Literal.number(format(bound, "f"))
                checks.append((cls(this=number.copy(), expression=limit), _concat(shown.copy(), f" {words} {bound}")))
    return checks


def _ranked(checked: exp.Select, key: int, width: int) -> exp.Select:
    """``checked`` with one more reason: a later row of a key already seen (rows ordered by their values)."""
    good = exp.and_(*(exp.column(f"r{i}").is_(exp.null()) for i in range(width)))
    order = [exp.Ordered(this=exp.cast(exp.column(f"v{i}"), "TEXT"), nulls_first=False) for i in range(width)]
    window = exp.Window(
        this=exp.Anonymous(this="ROW_NUMBER"),
        partition_by=[exp.column(f"v{key}"), exp.Paren(this=good)],
        order=exp.Order(expressions=order),
    )
    duplicate = exp.And(this=good.copy(), expression=exp.GT(this=window, expression=exp.Literal.number(1)))
    shown = exp.Anonymous(
        this="CONCAT", expressions=[_lit("duplicate key '"), exp.cast(exp.column(f"v{key}"), "TEXT"), _lit("'")]
    )
    reason = exp.Case(ifs=[exp.If(this=duplicate, true=shown)])
    return exp.select(exp.Star(), reason.as_(f"r{width}")).from_(checked.subquery("typed"))


def _rejects(source: Source, table: exp.Table, checked: exp.Select, width: int) -> exp.Select:
    """One row per failing column: (source, file, line, column, reason, raw, record), records numbered."""
    record = exp.Window(this=exp.Anonymous(this="ROW_NUMBER"), over="OVER")
    numbered = exp.select(exp.Star(), record.as_("record")).from_(checked.subquery("flagged"))
    names = [*source.columns, *([str(source.key)] if width > len(source.columns) else [])]
    file = _lit(str(source.table))
    parts = [
        exp.select(
            _lit(source.id).as_("source"),
            file.copy().as_("file"),
            exp.column("record").as_("line"),
            _lit(name).as_("column", quoted=True),
            exp.column(f"r{i}").as_("reason"),
            exp.column("raw"),
            exp.column("record"),
        )
        .from_("numbered")
        .where(exp.column(f"r{i}").is_(exp.null()).not_())
        for i, name in enumerate(names)
    ]
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return exp.select(exp.Star()).from_(union.subquery("found")).with_("numbered", numbered)


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except ArithmeticError:
        return False


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _concat(first: exp.Expr, text: str) -> exp.Expr:
    return exp.Anonymous(this="CONCAT", expressions=[first, _lit(text)])


def _shown(raw: exp.Expr) -> exp.Expr:
    """The offending value as reasons quote it: its text in quotes, cut after SHOWN_CHARS characters."""
    text = exp.cast(raw.copy(), "TEXT")
    cut = exp.Case(
        ifs=[
            exp.If(
                this=exp.GT(this=exp.Length(this=text), expression=exp.Literal.number(SHOWN_CHARS)),
                true=_concat(
                    exp.Anonymous(this="LEFT", expressions=[text.copy(), exp.Literal.number(SHOWN_CHARS)]), "…"
                ),
            )
        ],
        default=text.copy(),
    )
    return exp.Anonymous(this="CONCAT", expressions=[_lit("'"), cut, _lit("'")])
