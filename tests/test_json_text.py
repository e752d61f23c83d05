"""The JSON writer: exactly what ``json.dumps(indent=2, ensure_ascii=False, allow_nan=False)`` writes.

Every JSON output (evaluate, bonus, runs show, diff, import) goes through it; byte-identical output is
what golden files and the ledger's users rely on.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_engine.json_text import RECORDS, dumps

texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8) | st.sampled_from(
    ["", "%s", "%", '"', "\\", "\n", "\x1b[2J", "é", "\u2028", "𝄞", "=1+1"]
)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(texts, inner, max_size=6),
    max_leaves=60,
)


def standard(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)


@given(values)
def test_the_writer_is_json_dumps(value: object) -> None:
    assert dumps(value) == standard(value)


@given(st.lists(st.fixed_dictionaries({"k": scalars, "%s": scalars, "by": values, "n": st.integers()}), max_size=30))
def test_lists_of_records_are_written_as_json_dumps_writes_them(rows: list[dict[str, object]]) -> None:
    for document in (rows, {"run": {"id": "x"}, "kpis": rows}, [[rows]]):
        assert dumps(document) == standard(document)


@pytest.mark.parametrize(
    "value",
    [
        [{"a": 1}] * RECORDS + [{"b": 1}],  # a record with other keys
        [{"a": 1, "b": 2}] * RECORDS + [{"b": 2, "a": 1}],  # the same keys in another order
        [{"a": True}, {"a": 1}, {"a": 1.0}, {"a": None}] * RECORDS,  # booleans among numbers
        [{"a": {}}, {"a": []}, {"a": [{}]}] * RECORDS,
        [{1: "x"}] * RECORDS,  # keys json.dumps converts
        {True: 1, None: 2, 1.5: 3},
        (1, (2, 3)),
    ],
)
def test_records_that_do_not_fit_the_fast_path_still_match(value: object) -> None:
    assert dumps(value) == standard(value)


@pytest.mark.parametrize("value", [math.nan, [{"a": math.inf}] * RECORDS, Decimal("1"), {"a": {1, 2}}])
def test_what_json_refuses_the_writer_refuses(value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        standard(value)
    with pytest.raises((ValueError, TypeError)):
        dumps(value)
