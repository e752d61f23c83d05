"""Which SQL dialects a formula can be compiled for, and what each one cannot express.

DuckDB is the engine that runs formulas (and the one every semantic test executes). For the
other dialects the compiler emits what sqlglot generates where that output keeps the meaning
of SPEC §3, works around sqlglot where a rewrite is exact, and refuses the rest here, with a
reason, rather than emit SQL that means something else. Findings behind the table (sqlglot
30.30): see ``tests/expr/goldens/dialects.json`` for the SQL generated per dialect.
"""

from __future__ import annotations

from kpi_engine.names import DIALECTS

_OTHERS = tuple(d for d in DIALECTS if d != "duckdb")

#: (feature, dialect) → why it is refused. Features are function names or the keys below.
REFUSED: dict[tuple[str, str], str] = {
    ("median", "bigquery"): "BigQuery has no exact median aggregate (PERCENTILE_CONT is a window function there)",
    ("median", "trino"): "Trino has only approx_percentile, an approximate median",
    ("percentile", "bigquery"): "BigQuery's PERCENTILE_CONT is a window function, not an aggregate",
    ("percentile", "trino"): "Trino has only approx_percentile, an approximate percentile",
    # Timestamps read as instants; their dates and times of day need a session time zone.
    ("local_time", "bigquery"): "BigQuery has no session time zone: dates and times of day would be taken in UTC",
    # timestamp ± duration needs seconds → timestamp with sub-second precision.
    ("shift_timestamp", "snowflake"): "Snowflake's TO_TIMESTAMP(seconds) gives a timestamp without time zone",
    ("shift_timestamp", "bigquery"): "BigQuery's TIMESTAMP_SECONDS takes whole seconds only",
}
# Verified against the reference values (tests/engines/test_spark.py, tests/engines/test_postgres_formulas.py).
_CALENDAR_VERIFIED = frozenset({"spark", "postgres"})
for _dialect in (d for d in _OTHERS if d not in _CALENDAR_VERIFIED):
    for _fn in ("business_hours", "business_days"):
        REFUSED[(_fn, _dialect)] = (
            f"{_fn} is computed with DuckDB time zone functions; it is not verified for {_dialect}"
        )

#: Dialects whose GREATEST/LEAST return null when any argument is null: rewritten with COALESCE.
NULL_SENSITIVE_GREATEST = frozenset({"bigquery", "trino"})

#: Dialects whose sums and means run over DECIMAL(38, 12) (each value rounded to 12 places, added
#: exactly): the same digits whatever the order rows arrive in, parallel workers included.
EXACT_SUMS = frozenset({"duckdb", "postgres"})

#: Dialects that cannot type a bare NULL argument (PostgreSQL: "function sum(unknown) is not
#: unique"): a null literal where a number is expected is written CAST(NULL AS DOUBLE).
TYPED_NULLS = frozenset({"postgres"})

#: Dialects whose ROUND differs from DuckDB's (PostgreSQL: ROUND(double) rounds half to even and
#: ROUND(double, n) does not exist): rounding is written out in DOUBLE arithmetic, as DuckDB does it.
SPELLED_ROUND = frozenset({"postgres"})

#: Dialects whose GROUPING takes one column: GROUPING(a, b) is written GROUPING(a) * 2 + GROUPING(b).
SINGLE_ARGUMENT_GROUPING = frozenset({"spark"})

#: Dialects where integer / integer is not a true division even after sqlglot's rewrite.
CAST_DIVIDEND = frozenset({"snowflake"})


def refusal(feature: str, dialect: str) -> str | None:
    """Why ``feature`` cannot be compiled for ``dialect``, or None when it can."""
    return REFUSED.get((feature, dialect))
