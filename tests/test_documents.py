"""Numbers as every output and the ledger show them, and CSV written from columns.

A number must read back from its float storage in the ledger as :func:`number` gave it: the
results hash and `kpi runs show` depend on it.
"""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_engine.documents import number, stored_number
from kpi_engine.report.formats import csv_columns, csv_text
from kpi_engine.scoring.exact import to_decimal12

# --- numbers -----------------------------------------------------------------------------------------


def old_number(value: Decimal | None) -> float | int | None:
    """`number` as it was: to_decimal12, then an int when integral below 10^15."""
    if value is None:
        return None
    rounded = to_decimal12(value)
    if rounded == rounded.to_integral_value() and abs(rounded) < 10**15:
        return int(rounded)
    return float(rounded)


decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20, places=None)


@given(decimals | st.sampled_from([Decimal("999999999999999.5"), Decimal("-0"), Decimal("1E+15"), Decimal("0E-30")]))
def test_number_rounds_as_before(value: Decimal) -> None:
    new, old = number(value), old_number(value)
    assert new == old and type(new) is type(old)


@given(decimals)
def test_a_number_stored_as_a_float_reads_back_as_it_was(value: Decimal) -> None:
    n = number(value)
    stored = None if n is None else float(n)
    back = stored_number(stored)
    assert back == n and type(back) is type(n) and json.dumps(back) == json.dumps(n)


def test_number_keeps_small_ints_and_rounds_large_ones() -> None:
    assert number(12) == 12 and number(-(10**15) + 1) == -(10**15) + 1
    assert number(10**15) == 1e15 and isinstance(number(10**15), float)
    with pytest.raises(TypeError):
        number(True)  # type: ignore[arg-type]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=50))
def test_duckdb_reads_the_json_of_a_float_column_exactly(values: list[float]) -> None:
    """The ledger loads number columns from their JSON text: the doubles must come back bit for bit."""
    with duckdb.connect() as conn:
        (back,) = conn.execute("SELECT from_json(?, '[\"DOUBLE\"]')", [json.dumps(values)]).fetchone()  # type: ignore[misc]
    assert [v.hex() for v in back] == [v.hex() for v in values]


# --- CSV from columns ------------------------------------------------------------------------------


texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8) | st.sampled_from(
    ["", ",", '"', "\n", "\r", "=1+1", "-3", "+x", "@a", "\tx", "é"]
)
cells = st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts


@given(st.lists(st.tuples(cells, cells, cells), max_size=20))
def test_csv_from_columns_is_csv_from_rows(rows: list[tuple[object, object, object]]) -> None:
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[], [], []]
    assert csv_columns(["a", "b", "c"], columns) == csv_text(["a", "b", "c"], rows)
