"""Formula → value, executed on tiny DuckDB tables, against hand-written expected values;
the reference evaluator must agree too (SPEC §3 semantics)."""

from __future__ import annotations

import datetime
from typing import Any

import duckdb
import pytest
from cases import ALL, Case
from exprkit import OFFICE, ONE_CALENDAR, ROWS, SCOPE, checked, oracle, run, same


def _expected(value: Any) -> Any:
    if isinstance(value, list):
        return [_expected(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_value(case: Case, table: duckdb.DuckDBPyConnection) -> None:
    in_scope = ONE_CALENDAR if case.one_calendar else SCOPE
    calendars = {"office": OFFICE} if case.one_calendar else None
    expr = checked(case.text, case.kind, in_scope)  # type: ignore[arg-type]
    expected = _expected(case.expected)
    actual = run(table, expr, case.kind, calendars=calendars)  # type: ignore[arg-type]
    assert same(actual, expected), f"DuckDB gave {actual!r}, expected {expected!r}"
    reference = oracle(expr, case.kind, ROWS, calendars=calendars)  # type: ignore[arg-type]
    assert same(reference, expected), f"reference gave {reference!r}, expected {expected!r}"


def test_enough_value_cases() -> None:
    assert len(ALL) >= 150
    assert len({c.id for c in ALL}) == len(ALL)
