"""AST → formula text with the fewest parentheses that keep its meaning.

``parse(to_text(e)) == e`` for every tree the parser can produce.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import assert_never

from kpi_engine.expr import ast
from kpi_engine.expr.ast import Expr

# Binding strength, loosest first (SPEC §3): or, and, not, comparisons, + -, * /, unary -.
OR, AND, NOT, COMPARE, SUM, PRODUCT, UNARY, ATOM = range(1, 9)
_BINARY_PREC = {"or": OR, "and": AND, "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEYWORDS = frozenset({"and", "or", "not", "is", "in", "between", "true", "false", "null"})
_UNIT_SECONDS = {"s": Decimal(1), "min": Decimal(60), "h": Decimal(3600), "d": Decimal(86400), "w": Decimal(604800)}


def to_text(expr: Expr) -> str:
    """The formula as text."""
    return _text(expr)[0]


def quote_name(part: str) -> str:
    """A name part as written in a formula: bare when it can be, else in backticks."""
    if _IDENT.fullmatch(part) and part.lower() not in KEYWORDS:
        return part
    return "`" + part.replace("`", "``") + "`"


def number_text(value: Decimal) -> str:
    """A non-negative decimal without exponent or trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _wrap(part: tuple[str, int], minimum: int) -> str:
    text, prec = part
    return f"({text})" if prec < minimum else text


def _text(expr: Expr) -> tuple[str, int]:  # noqa: C901 - one flat case per node kind, checked by assert_never
    match expr:
        case ast.Arith() | ast.Logic():
            leaf, chain = ast.left_spine(expr)
            acc = _text(leaf)
            for node in chain:
                prec = _BINARY_PREC[node.op]
                right_min = NOT if prec == AND else prec + 1
                acc = (f"{_wrap(acc, prec)} {node.op} {_wrap(_text(node.right), right_min)}", prec)
            return acc
        case ast.Number(value=value, percent=percent):
            if percent:
                return number_text(value * 100) + "%", ATOM
            return number_text(value), ATOM
        case ast.DurationLit(seconds=seconds, unit=unit):
            return _duration_text(seconds, unit), ATOM
        case ast.String(value=value):
            return "'" + value.replace("'", "''") + "'", ATOM
        case ast.Boolean(value=value):
            return ("true" if value else "false"), ATOM
        case ast.Null():
            return "null", ATOM
        case ast.DateLit(value=value):
            return f"date '{value.isoformat()}'", ATOM
        case ast.TimestampLit(value=value):
            return f"timestamp '{value.isoformat(sep=' ')}'", ATOM
        case ast.Name(parts=parts):
            return ".".join(quote_name(p) for p in parts), ATOM
        case ast.Param(name=name):
            return "$" + name, ATOM
        case ast.Neg(operand=operand):
            inner = _wrap(_text(operand), UNARY)
            return ("- " if inner.startswith("-") else "-") + inner, UNARY
        case ast.Not(operand=operand):
            return "not " + _wrap(_text(operand), NOT), NOT
        case ast.Compare(op=op, left=left, right=right):
            return f"{_wrap(_text(left), SUM)} {op} {_wrap(_text(right), SUM)}", COMPARE
        case ast.IsNull(operand=operand, negated=negated):
            return f"{_wrap(_text(operand), SUM)} is {'not ' if negated else ''}null", COMPARE
        case ast.InList(operand=operand, items=items, negated=negated):
            listed = ", ".join(_text(i)[0] for i in items)
            return f"{_wrap(_text(operand), SUM)} {'not ' if negated else ''}in ({listed})", COMPARE
        case ast.Between(operand=operand, low=low, high=high, negated=negated):
            shown = [_wrap(_text(e), SUM) for e in (operand, low, high)]
            return f"{shown[0]} {'not ' if negated else ''}between {shown[1]} and {shown[2]}", COMPARE
        case ast.Call(name=name, args=args):
            return f"{name}({', '.join(_text(a)[0] for a in args)})", ATOM
        case _:
            assert_never(expr)


def _duration_text(seconds: Decimal, unit: str) -> str:
    size = _UNIT_SECONDS.get(unit, Decimal(1))
    try:
        amount = seconds / size
        if amount * size == seconds:
            return number_text(amount) + unit
    except InvalidOperation:  # pragma: no cover - decimals from the parser are finite
        pass
    return number_text(seconds) + "s"
