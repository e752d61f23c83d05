"""The closed set of formula types and the rules that combine them (SPEC §3).

Durations are a type of their own (elapsed seconds underneath); dates promote to timestamps
(midnight in the organization's zone) wherever a timestamp is expected; ``null`` fits anywhere.
"""

from __future__ import annotations

from enum import StrEnum


class Type(StrEnum):
    """The type of a formula value; ``NULL`` is the type of a bare ``null``, which fits anywhere."""

    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    DURATION = "duration"
    NULL = "null"


#: Declared source column types (SPEC §2.3, the names in kpi_engine.names) → formula types.
COLUMN_TYPES: dict[str, Type] = {
    "string": Type.STRING,
    "integer": Type.NUMBER,
    "number": Type.NUMBER,
    "decimal": Type.NUMBER,
    "boolean": Type.BOOLEAN,
    "date": Type.DATE,
    "timestamp": Type.TIMESTAMP,
}

ORDERED = frozenset({Type.NUMBER, Type.STRING, Type.DATE, Type.TIMESTAMP, Type.DURATION})
TEMPORAL = frozenset({Type.DATE, Type.TIMESTAMP})

# (left, op, right) → result, for the arithmetic operators. Null operands are handled apart.
_ARITHMETIC: dict[tuple[Type, str, Type], Type] = {}
for _op in "+-*/":
    _ARITHMETIC[(Type.NUMBER, _op, Type.NUMBER)] = Type.NUMBER
for _t in TEMPORAL:
    _ARITHMETIC[(_t, "+", Type.DURATION)] = Type.TIMESTAMP
    _ARITHMETIC[(_t, "-", Type.DURATION)] = Type.TIMESTAMP
    _ARITHMETIC[(Type.DURATION, "+", _t)] = Type.TIMESTAMP
    for _u in TEMPORAL:
        _ARITHMETIC[(_t, "-", _u)] = Type.DURATION
_ARITHMETIC.update(
    {
        (Type.DURATION, "+", Type.DURATION): Type.DURATION,
        (Type.DURATION, "-", Type.DURATION): Type.DURATION,
        (Type.DURATION, "*", Type.NUMBER): Type.DURATION,
        (Type.NUMBER, "*", Type.DURATION): Type.DURATION,
        (Type.DURATION, "/", Type.NUMBER): Type.DURATION,
        (Type.DURATION, "/", Type.DURATION): Type.NUMBER,
    }
)


def arithmetic(left: Type, op: str, right: Type) -> Type | None:
    """The type of ``left op right``, or None when the operator does not apply."""
    if left is Type.NULL and right is Type.NULL:
        return Type.NULL
    if left is Type.NULL or right is Type.NULL:
        known = right if left is Type.NULL else left
        candidates = {
            result
            for (a, o, b), result in _ARITHMETIC.items()
            if o == op and (a if left is not Type.NULL else b) is known
        }
        return candidates.pop() if len(candidates) == 1 else (Type.NULL if candidates else None)
    return _ARITHMETIC.get((left, op, right))


def unify(left: Type, right: Type) -> Type | None:
    """The common type of two values that may stand in the same place (if/coalesce/in)."""
    if left is right:
        return left
    if left is Type.NULL:
        return right
    if right is Type.NULL:
        return left
    if {left, right} == TEMPORAL:
        return Type.TIMESTAMP
    return None


def comparable(left: Type, right: Type, ordered: bool) -> bool:
    """Whether ``left`` and ``right`` may be compared (with ``<``-style operators if ordered)."""
    common = unify(left, right)
    if common is None:
        return False
    if ordered:
        return common in ORDERED or common is Type.NULL
    return True


def article(t: Type) -> str:
    """A type name with its article, for messages: 'a number', 'an …'."""
    return ("an " if t.value[0] in "aeiou" else "a ") + t.value
