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

from kpi_engine.documents import SCHEMA, Results, Table, make_table, number, results_document, stored_number, to_json
from kpi_engine.json_text import dumps
from kpi_engine.report.formats import csv_columns, csv_text
from kpi_engine.report.results_json import document_json, results_json
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


# --- the results document written from columns ------------------------------------------------------

numbers = st.none() | st.integers(-(10**14), 10**14) | st.floats(allow_nan=False, allow_infinity=False)
maybe_text = st.none() | texts


def _table(kind: str, name: str, rows: list[list[object]]) -> Table:
    width = len(SCHEMA[kind][name])
    return make_table(kind, name, [[r[i] for r in rows] for i in range(width)])


@st.composite
def evaluation(draw: st.DrawFn) -> Results:
    names = draw(st.lists(texts, max_size=2, unique=True))
    kpi_row = st.tuples(texts, texts, maybe_text, texts, numbers, st.integers(0, 10**6), maybe_text, numbers)
    kpis = [
        [
            *row,
            draw(st.none() | st.integers(1, 99)),
            draw(st.lists(maybe_text, min_size=len(names), max_size=len(names))) if names else None,
        ]
        for row in draw(st.lists(kpi_row, max_size=12))
    ]
    cards = [list(r) for r in draw(st.lists(st.tuples(texts, texts, texts, numbers), max_size=4))]
    item_row = st.tuples(texts, texts, maybe_text, numbers, numbers, maybe_text, numbers, numbers)
    items = (
        [[draw(st.integers(0, len(cards) - 1)), *row] for row in draw(st.lists(item_row, max_size=12))] if cards else []
    )
    items.sort(key=lambda r: r[0])
    goals = [list(r) for r in draw(st.lists(st.tuples(texts, texts, maybe_text, numbers), max_size=3))]
    tables = {"kpis": kpis, "scorecards": cards, "items": items, "goals": goals}
    return Results("evaluate", {"by": names}, {n: _table("evaluate", n, rows) for n, rows in tables.items()})


@st.composite
def bonus(draw: st.DrawFn) -> Results:
    row = st.tuples(texts, maybe_text, numbers, numbers, numbers, maybe_text, texts, texts, numbers, maybe_text)
    payouts = [list(r) for r in draw(st.lists(row, max_size=12))]
    fields = {"plan": draw(texts), "currency": "EUR", "pool": draw(maybe_text), "total": draw(texts)}
    return Results("bonus", fields, {"payouts": _table("bonus", "payouts", payouts)})


@given(evaluation() | bonus(), st.booleans())
def test_the_results_json_written_from_columns_is_the_documents_json(results: Results, sort_keys: bool) -> None:
    document = results_document(results, sort_keys=sort_keys)
    assert results_json(results, 0, sort_keys) == dumps(document)
    nested = results_json(results, 2, sort_keys)
    assert dumps({"a": {"b": document}}).endswith(nested + "\n  }\n}")
    assert document_json(results, {"run": {"id": "x"}}, {"warnings": []}) == to_json(
        {"run": {"id": "x"}, **results_document(results), "warnings": []}
    )
