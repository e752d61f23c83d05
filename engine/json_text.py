"""JSON text byte for byte as ``json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)`` writes it.

The standard library writes indented JSON in pure Python, one generator step per value: a million
result rows take seconds. Here a long list of records — dicts with the same keys in the same order,
the rows of a result table — is written column by column instead: each column's values are encoded
in one pass chosen by their types, then every row is one ``%`` of a template holding its keys and
indentation. Everything else (and every value this module does not know) is left to ``json.dumps``,
so the text, and every error, is the standard library's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from itertools import repeat
from json.encoder import encode_basestring  # the C encoder when available; not ASCII-only, as ensure_ascii=False
from operator import itemgetter
from typing import Any

RECORDS = 8
"""Shortest list written column by column; shorter ones are not worth the template."""

_NONE = type(None)
_INDENT = "  "


def dumps(value: Any, level: int = 0) -> str:
    """``value`` as indented JSON text (no final newline); `level`: as nested that deep in a document."""
    return _encode(value, level)


def _encode(value: Any, level: int) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        return _object(value, level)
    if kind is list or kind is tuple:
        return _array(value, level)
    return _scalar(value, level)


def _scalar(value: Any, level: int) -> str:
    kind = type(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _standard(value, level)  # subclasses, non-finite floats, unknown types: the library decides


def _standard(value: Any, level: int) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    return text.replace("\n", "\n" + _INDENT * level) if level else text


def _object(value: dict[Any, Any], level: int) -> str:
    if not value:
        return "{}"
    if any(type(k) is not str for k in value):
        return _standard(value, level)  # keys json.dumps converts (numbers, booleans, None)
    inner = "\n" + _INDENT * (level + 1)
    members = ("," + inner).join(encode_basestring(k) + ": " + _encode(v, level + 1) for k, v in value.items())
    return "{" + inner + members + "\n" + _INDENT * level + "}"


def _array(value: Sequence[Any], level: int) -> str:
    if not value:
        return "[]"
    keys = _record_keys(value) if len(value) >= RECORDS else None
    if keys is not None:
        return _records(value, keys, level)
    inner = "\n" + _INDENT * (level + 1)
    return "[" + inner + ("," + inner).join(_encode(v, level + 1) for v in value) + "\n" + _INDENT * level + "]"


def _record_keys(items: Sequence[Any]) -> tuple[str, ...] | None:
    """The keys every item has, in the same order, when every item is a non-empty dict with string keys."""
    first = items[0]
    if type(first) is not dict or not first:
        return None
    keys = tuple(first)
    if any(type(k) is not str for k in keys):
        return None
    for item in items:
        if type(item) is not dict or tuple(item) != keys:
            return None
    return keys


def _records(items: Sequence[dict[str, Any]], keys: tuple[str, ...], level: int) -> str:
    """A list of records at `level`."""
    return array(_record_rows(items, keys, level + 1), level)


def _record_rows(items: Sequence[dict[str, Any]], keys: tuple[str, ...], level: int) -> list[str]:
    """Each record as its text at `level`, encoded one column at a time."""
    return record_rows(keys, [encode_column(list(map(itemgetter(k), items)), level + 1) for k in keys], level)


def record_rows(keys: Sequence[str], cells: Sequence[Sequence[str]], level: int) -> list[str]:
    """Records laid out at `level` from their members' JSON texts, one sequence of texts per key.

    Each row is one ``"".join`` of its cells between the constant texts around them (keys, indentation).
    """
    row, member = _INDENT * level, _INDENT * (level + 1)
    parts: list[Iterable[str]] = []
    for i, (key, column) in enumerate(zip(keys, cells, strict=True)):
        before = (row + "{\n" if i == 0 else ",\n") + member + encode_basestring(key) + ": "
        parts += [repeat(before), column]
    parts.append(repeat("\n" + row + "}"))
    return list(map("".join, zip(*parts, strict=False)))  # the repeats never end: the columns' length counts


def array(items: Sequence[str], level: int) -> str:
    """A list at `level` from its items' JSON texts (each already at `level` + 1)."""
    if not items:
        return "[]"
    return "".join(("[\n", ",\n".join(items), "\n", _INDENT * level, "]"))  # one copy of a long list's text


def members(pairs: Sequence[tuple[str, str]], level: int) -> str:
    """An object at `level` from (key, JSON text of the value at `level` + 1) pairs."""
    if not pairs:
        return "{}"
    inner = "\n" + _INDENT * (level + 1)
    parts = ["{"]
    for i, (key, text) in enumerate(pairs):
        parts += ["," + inner if i else inner, encode_basestring(key), ": ", text]
    parts += ["\n", _INDENT * level, "}"]
    return "".join(parts)


def encode_column(values: Sequence[Any], level: int) -> list[str]:
    """Every value of one column as JSON text at `level`, in one pass chosen by the types the column holds."""
    kinds = set(map(type, values))
    if kinds <= {str, _NONE}:
        if _NONE not in kinds:
            return list(map(encode_basestring, values))
        return ["null" if v is None else encode_basestring(v) for v in values]
    if kinds <= {int, float, _NONE} and all(map(math.isfinite, (v for v in values if type(v) is float))):
        # The C encoder writes ints and floats as the indented writer does, and their text holds no comma.
        return json.dumps(values, separators=(",", ":"))[1:-1].split(",") if values else []
    if kinds == {list}:
        nested = _nested_records(values, level)
        if nested is not None:
            return nested
    return [_encode(v, level) for v in values]


def _nested_records(values: Sequence[list[Any]], level: int) -> list[str] | None:
    """A column of lists of records with the same keys (a scorecard's items): every record encoded at once."""
    flat = [item for value in values for item in value]
    keys = _record_keys(flat) if len(flat) >= RECORDS else None
    if keys is None:
        return None
    rows, end = _record_rows(flat, keys, level + 1), 0
    out = []
    for value in values:
        start, end = end, end + len(value)
        out.append(array(rows[start:end], level))
    return out
