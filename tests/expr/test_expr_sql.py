"""Formula → SQL goldens (DuckDB for every value case, other dialects for a selection) and
checks on the shape of the generated SQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlglot
from cases import ALL, Case
from conftest import GOLDENS
from exprkit import ONE_CALENDAR, SCOPE, assert_single_expression, sql_of

from kpi_engine.errors import Code, KpiError
from kpi_engine.sql.dialects import DIALECTS


def _sql(case: Case, dialect: str = "duckdb") -> str:
    return sql_of(case.text, case.kind, dialect, ONE_CALENDAR if case.one_calendar else SCOPE)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_duckdb_golden(case: Case, golden: Any) -> None:
    sql = _sql(case)
    assert_single_expression(sql, "duckdb")
    golden("duckdb.json").check(case.id, {"kind": case.kind, "formula": case.text, "sql": sql})


def test_no_stale_goldens(update_goldens: bool) -> None:
    if update_goldens:
        pytest.skip("rewriting goldens")
    stored = json.loads((GOLDENS / "duckdb.json").read_text(encoding="utf-8"))
    assert set(stored) == {c.id for c in ALL}


DIALECT_CASES = [
    c
    for c in ALL
    if c.id
    in {
        "count_rows",
        "count_distinct_string",
        "count_if_segment",
        "sum_amount",
        "avg_amount",
        "sum_if_boolean",
        "min_amount",
        "median_amount",
        "percentile_75",
        "stddev_amount",
        "share_among",
        "share_sla_param",
        "avg_minutes",
        "timestamp_plus_duration",
        "date_minus_date",
        "sum_weekday",
        "sum_quarter",
        "local_date",
        "weekday_of_date",
        "timestamp_literal_eq",
        "business_hours_sum",
        "business_days_sum",
        "divide_by_zero",
        "true_division",
        "round_two_digits",
        "round_half_away",
        "least_ignores_null",
        "greatest_all_null",
        "coalesce_fallback",
        "if_null_condition",
        "in_list",
        "not_between",
        "not_or",
        "quote_in_string",
        "relation_compare",
        "derived_ratio",
        "derived_growth",
        "where_sla",
        "row_upper",
        "row_trim",
    }
]


@pytest.mark.parametrize("case", DIALECT_CASES, ids=[c.id for c in DIALECT_CASES])
def test_dialect_golden(case: Case, golden: Any) -> None:
    out: dict[str, str] = {"formula": case.text}
    for dialect in DIALECTS:
        try:
            sql = _sql(case, dialect)
        except KpiError as exc:
            assert {d.code for d in exc.diagnostics} == {Code.DIALECT_UNSUPPORTED}
            out[dialect] = "refused: " + exc.diagnostics[0].message
            continue
        assert_single_expression(sql, dialect)
        out[dialect] = sql
    golden("dialects.json").check(case.id, out)


@pytest.mark.parametrize(
    ("formula", "dialect", "needle"),
    [
        ("median(amount)", "bigquery", "no exact median"),
        ("median(amount)", "trino", "approx_percentile"),
        ("percentile(amount, 90%)", "trino", "approximate"),
        ("percentile(amount, 90%)", "bigquery", "window function"),
        ("sum(business_hours(created_at, resolved_at, 'office'))", "trino", "business_hours"),
        ("sum(business_days(created_at, resolved_at, 'office'))", "snowflake", "business_days"),
        ("count_if(resolved_at <= created_at + 4h)", "bigquery", "whole seconds"),
        ("sum(year(created_at))", "bigquery", "time zone"),
    ],
)
def test_refused_with_reason(formula: str, dialect: str, needle: str) -> None:
    with pytest.raises(KpiError) as caught:
        sql_of(formula, "formula", dialect)
    (diag,) = caught.value.diagnostics
    assert diag.code is Code.DIALECT_UNSUPPORTED
    assert needle in diag.message
    assert diag.span is not None


def test_unknown_dialect() -> None:
    with pytest.raises(KpiError) as caught:
        sql_of("count()", "formula", "oracle")
    assert caught.value.diagnostics[0].code is Code.DIALECT_UNSUPPORTED


@pytest.mark.parametrize(
    ("formula", "dialect", "fragment"),
    [
        # sqlglot's own output would be wrong here; the compiler works around it
        ("count_if(weekday(created_at) = 1)", "postgres", "EXTRACT(ISODOW FROM"),
        ("count_if(weekday(created_at) = 1)", "spark", "EXTRACT(DAYOFWEEK_ISO FROM"),
        ("sum(quarter(created_at))", "postgres", "EXTRACT(QUARTER FROM"),
        ("greatest(sum(amount), 1, null)", "trino", "COALESCE("),
        ("greatest(sum(amount), 1, null)", "bigquery", "COALESCE("),
        ("greatest(sum(amount), 1, null)", "snowflake", "GREATEST_IGNORE_NULLS("),
        ("share(down)", "snowflake", "CAST(COUNT_IF("),
        ("percentile(amount, 90%)", "spark", "PERCENTILE("),
        ("median(amount)", "postgres", "PERCENTILE_CONT(0.5) WITHIN GROUP"),
        ("round(avg(amount), 1)", "postgres", "CAST(AVG("),
        ("sum(hours(resolved_at - created_at))", "snowflake", "EPOCH_MICROSECOND"),
        ("sum(hours(resolved_at - created_at))", "bigquery", "UNIX_MICROS("),
    ],
)
def test_dialect_workarounds(formula: str, dialect: str, fragment: str) -> None:
    assert fragment in sql_of(formula, "formula", dialect)


def test_row_filter_applies_to_every_aggregate() -> None:
    condition = sqlglot.condition('"t"."channel" = \'email\'')
    sql = sql_of(
        "share(down) + count() + avg(amount) + stddev(amount) + median(amount) + count_distinct(priority)",
        "formula",
        row_filter=condition,
    )
    assert sql.count("FILTER(WHERE") == 7  # share has two counts
    assert sql.count('"t"."channel" = \'email\'') == 7


def test_row_filter_combines_with_own_condition() -> None:
    condition = sqlglot.condition('"t"."x" OR "t"."y"')
    sql = sql_of("count_if(down)", "formula", row_filter=condition)
    assert sql == 'COUNT(*) FILTER(WHERE "t"."down" AND ("t"."x" OR "t"."y"))'


def test_output_is_deterministic() -> None:
    text = (
        "share(hours(resolved_at - created_at) <= $sla_hours, critical) + avg(business_hours(created_at, "
        "resolved_at, 'office'))"
    )
    assert len({sql_of(text) for _ in range(5)}) == 1
