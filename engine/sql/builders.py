"""Small sqlglot builders that keep operator precedence right.

sqlglot prints a tree as built: ``exp.Sub(a, exp.Add(b, c))`` comes out as ``a - b + c``.
These helpers add the parentheses a child needs, and only those.
"""

from __future__ import annotations

import typing
from decimal import Decimal

from sqlglot import exp

DOUBLE = exp.DataType.build("DOUBLE")
DATE = exp.DataType.build("DATE")
TIMESTAMP = exp.DataType.build("TIMESTAMP")
TIMESTAMPTZ = exp.DataType.build("TIMESTAMPTZ")
SUM_DECIMAL = exp.DataType.build("DECIMAL(38, 12)")

# Binding strength of SQL operators, loosest first; anything else is an atom.
_PRECEDENCE: tuple[tuple[type[exp.Expression], int], ...] = (
    (exp.Or, 1),
    (exp.And, 2),
    (exp.Not, 3),
    (exp.EQ, 4),
    (exp.NEQ, 4),
    (exp.LT, 4),
    (exp.LTE, 4),
    (exp.GT, 4),
    (exp.GTE, 4),
    (exp.Is, 4),
    (exp.In, 4),
    (exp.Between, 4),
    (exp.Add, 5),
    (exp.Sub, 5),
    (exp.Mul, 6),
    (exp.Div, 6),
    (exp.Mod, 6),
    (exp.Neg, 7),
)
ATOM = 9


def precedence(node: exp.Expression) -> int:
    """How tightly ``node`` binds as an operand: higher binds tighter, ``ATOM`` never needs parentheses."""
    for cls, prec in _PRECEDENCE:
        if type(node) is cls:
            return prec
    return ATOM


def operand(node: exp.Expression, minimum: int) -> exp.Expression:
    """``node``, parenthesized if it binds looser than ``minimum``."""
    return exp.Paren(this=node) if precedence(node) < minimum else node


def binary(cls: type[exp.Binary], left: exp.Expression, right: exp.Expression, **args: object) -> exp.Expression:
    """A left-associative binary operator with the parentheses its operands need."""
    prec = _PRECEDENCE_OF[cls]
    minimum_left = prec if prec != 4 else 5  # comparisons do not chain
    return typing.cast(
        exp.Expression, cls(this=operand(left, minimum_left), expression=operand(right, prec + 1), **args)
    )


_PRECEDENCE_OF: dict[type[exp.Expr], int] = dict(_PRECEDENCE)


def add(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a + b``, with the parentheses its operands need."""
    return binary(exp.Add, a, b)


def sub(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a - b``, with ``b`` parenthesized when it is a sum: ``a - (b + c)``."""
    return binary(exp.Sub, a, b)


def mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a * b``, with the parentheses its operands need: ``(a + b) * c``."""
    return binary(exp.Mul, a, b)


def div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """Plain division (the divisor is known not to be zero)."""
    return binary(exp.Div, a, b)


def safe_div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a / NULLIF(b, 0)``: division by zero gives null, never inf (SPEC §3)."""
    return binary(exp.Div, a, exp.Nullif(this=b, expression=exp.Literal.number(0)))


def and_(*conditions: exp.Expression | None) -> exp.Expression | None:
    """AND of the conditions that are given; None when none is."""
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    result = present[0]
    for c in present[1:]:
        result = binary(exp.And, result, c)
    return result


def or_(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a OR b``, with the parentheses its operands need."""
    return binary(exp.Or, a, b)


def not_(a: exp.Expression) -> exp.Expression:
    """``NOT a``, parenthesizing an ``a`` that binds looser: ``NOT (a OR b)``."""
    return exp.Not(this=operand(a, 3))


def neg(a: exp.Expression) -> exp.Expression:
    """``-a``, parenthesizing an ``a`` that binds looser: ``-(a * b)``."""
    return exp.Neg(this=operand(a, 7))


def is_null(a: exp.Expression) -> exp.Expression:
    """``a IS NULL``, parenthesizing a comparison or condition: ``(a = b) IS NULL``."""
    return exp.Is(this=operand(a, 5), expression=exp.Null())


def cast(a: exp.Expression, to: exp.DataType) -> exp.Expression:
    """``CAST(a AS to)``, with a copy of the shared type so trees never share a node."""
    return exp.Cast(this=a, to=to.copy())


def number(value: Decimal | int | float) -> exp.Expression:
    """A number literal (no exponent): ``12``, ``0.5``, ``-3``."""
    text = format(Decimal(str(value)) if isinstance(value, float) else Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return exp.Literal.number(text or "0")


def double(value: Decimal | int | float) -> exp.Expression:
    """A number literal typed DOUBLE, the type of every formula number."""
    return cast(number(value), DOUBLE)


def string(value: str) -> exp.Expression:
    """A string literal, quoted and escaped by sqlglot."""
    return exp.Literal.string(value)


def case(
    whens: list[tuple[exp.Expression, exp.Expression]],
    default: exp.Expression | None = None,
    subject: exp.Expression | None = None,
) -> exp.Expression:
    """``CASE [subject] WHEN … THEN … ELSE default END``."""
    ifs = [exp.If(this=cond, true=value) for cond, value in whens]
    return exp.Case(this=subject, ifs=ifs, default=default)


def func(name: str, *args: exp.Expression) -> exp.Expression:
    """A call of a function we name ourselves (never a user's text)."""
    return exp.Anonymous(this=name, expressions=list(args))


def epoch_micros(value: exp.Expression, dialect: str) -> exp.Expression:
    """Whole microseconds since 1970-01-01 00:00 UTC of an instant (of a wall-clock TIMESTAMP: as if UTC).

    Integers are exact on every engine; seconds are then one correctly rounded division
    (:func:`epoch_seconds`), where DuckDB's own EPOCH() is not correctly rounded.
    """
    if dialect == "postgres":  # EXTRACT(EPOCH …) is an exact NUMERIC there
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=value)
        return cast(mul(seconds, number(1_000_000)), exp.DataType.build("BIGINT"))
    if dialect == "snowflake":
        return exp.Extract(this=exp.var("EPOCH_MICROSECOND"), expression=value)
    return exp.UnixMicros(this=value)


def epoch_seconds(value: exp.Expression, dialect: str) -> exp.Expression:
    """Seconds since 1970 of an instant, as DOUBLE: its whole microseconds divided by a million."""
    if dialect == "trino":  # no exact microseconds there; TO_UNIXTIME is a DOUBLE of seconds
        return exp.TimeToUnix(this=value)
    if dialect == "snowflake":
        return div(cast(epoch_micros(value, dialect), DOUBLE), number(1_000_000))
    return div(epoch_micros(value, dialect), double(1_000_000))
