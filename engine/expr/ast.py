"""The formula AST: small frozen dataclasses gathered in the closed union :data:`Expr`.

Every node carries a ``span`` (where it was written) and, after type checking, a ``type``;
both are excluded from equality and hashing, so structurally equal formulas compare equal.
A :class:`Name` also carries what it resolved to (``ref``), filled in by the type checker.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from kpi_engine.expr.types import Type
from kpi_engine.source import Span

ArithOp = Literal["+", "-", "*", "/"]
CompareOp = Literal["=", "<>", "<", "<=", ">", ">="]
LogicOp = Literal["and", "or"]


class Ref(StrEnum):
    """What a name resolved to."""

    COLUMN = "column"
    SEGMENT = "segment"
    KPI = "kpi"


def _span() -> Span | None:
    return field(default=None, compare=False, repr=False)


def _type() -> Type | None:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Number:
    """A number literal; ``percent`` only remembers that it was written ``80%``."""

    value: Decimal
    percent: bool = field(default=False, compare=False)
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class DurationLit:
    """A duration literal (``4h``) as exact seconds; ``unit`` only remembers the spelling."""

    seconds: Decimal
    unit: str = field(default="s", compare=False)
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class String:
    """A text literal in single quotes (``'critical'``)."""

    value: str
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Boolean:
    """``true`` or ``false``."""

    value: bool
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Null:
    """The ``null`` literal: no value, of any type."""

    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class DateLit:
    """A date literal (``date '2026-03-01'``)."""

    value: datetime.date
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class TimestampLit:
    """A timestamp literal: naive means wall-clock time in the organization's zone."""

    value: datetime.datetime
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Name:
    """A column, a relation path (``agent.unit``), a segment or a KPI id."""

    parts: tuple[str, ...]
    span: Span | None = _span()
    type: Type | None = _type()
    ref: Ref | None = field(default=None, compare=False, repr=False)

    @property
    def dotted(self) -> str:
        """The parts joined with dots (``agent.unit``): how a segment or KPI id is spelled."""
        return ".".join(self.parts)


@dataclass(frozen=True)
class Param:
    """A ``$name`` reference to a param of the KPI, its variant or the workspace."""

    name: str
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Neg:
    """Unary minus (``-x``)."""

    operand: Expr
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Not:
    """Boolean negation (``not x``)."""

    operand: Expr
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Arith:
    """An arithmetic operation (``a + b``, ``a / b``); chains nest to the left."""

    op: ArithOp
    left: Expr
    right: Expr
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Logic:
    """``a and b`` or ``a or b``; chains nest to the left."""

    op: LogicOp
    left: Expr
    right: Expr
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Compare:
    """A comparison (``a >= b``); it does not chain."""

    op: CompareOp
    left: Expr
    right: Expr
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class IsNull:
    """``x is null``, or ``x is not null`` when ``negated``."""

    operand: Expr
    negated: bool = False
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class InList:
    """``x in (a, b, …)``, or ``x not in (…)`` when ``negated``."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Between:
    """``x between low and high`` (both ends included), or ``not between`` when ``negated``."""

    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False
    span: Span | None = _span()
    type: Type | None = _type()


@dataclass(frozen=True)
class Call:
    """A call of a built-in function (``share(csat >= 4)``); the registry gives its signature."""

    name: str
    args: tuple[Expr, ...]
    span: Span | None = _span()
    type: Type | None = _type()


Binary = Arith | Logic
Expr = (
    Number
    | DurationLit
    | String
    | Boolean
    | Null
    | DateLit
    | TimestampLit
    | Name
    | Param
    | Neg
    | Not
    | Arith
    | Logic
    | Compare
    | IsNull
    | InList
    | Between
    | Call
)


def constant_number(expr: Expr, param: Callable[[str], object]) -> Decimal | None:
    """The value of a constant argument: a number, a negated number, or a numeric `$param`."""
    match expr:
        case Number(value=value):
            return value
        case Neg(operand=Number(value=value)):
            return -value
        case Param(name=name):
            given = param(name)
            return given if isinstance(given, Decimal) else None
    return None


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node, in source order."""
    match expr:
        case Neg(operand=o) | Not(operand=o) | IsNull(operand=o):
            return (o,)
        case Arith(left=a, right=b) | Logic(left=a, right=b) | Compare(left=a, right=b):
            return (a, b)
        case InList(operand=o, items=items):
            return (o, *items)
        case Between(operand=o, low=lo, high=hi):
            return (o, lo, hi)
        case Call(args=args):
            return args
        case _:
            return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children; iterative, so any depth is fine."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def left_spine(expr: Expr) -> tuple[Expr, list[Binary]]:
    """Split a left-deep chain of binary operators (``a + b - c * d + …``).

    Returns the leftmost operand that is not an Arith/Logic node and the chain's nodes from
    the innermost to the outermost. Passes fold over this list instead of recursing into
    ``left``, so a 2,000-term chain costs no Python stack.
    """
    chain: list[Binary] = []
    node = expr
    while isinstance(node, Arith | Logic):
        chain.append(node)
        node = node.left
    chain.reverse()
    return node, chain


def depth(expr: Expr) -> int:
    """Nesting depth, where continuing a left-deep operator chain costs nothing.

    A leaf has depth 0, ``a + b + c + …`` depth 1 whatever its length, ``f(g(h(x)))`` depth 3.
    """
    best = 0
    stack: list[tuple[Expr, int]] = [(expr, 0)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        if isinstance(node, Arith | Logic):
            stack.append((node.left, d))
            stack.append((node.right, d + 1))
            continue
        stack.extend((child, d + 1) for child in children(node))
    return best


def size(expr: Expr) -> int:
    """Number of nodes."""
    return sum(1 for _ in walk(expr))
