"""The example organizations on Spark equal DuckDB: values, n, statuses, scores, scorecards, payouts, rejects.

Spark reads each example's `path:` sources itself (CSV, with the import's checks); the evaluation
and every bonus plan's payouts must equal DuckDB's document for document (numbers at 12
significant digits, money exact), and so must the reject counts. `kpi test` passes on Spark too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from spark_session import MASTER, spark_session  # noqa: E402,F401

from kpi_engine import pipeline  # noqa: E402
from kpi_engine.documents import bonus_results, evaluation_results, results_document  # noqa: E402
from kpi_engine.execution import Engine, Target, loaded  # noqa: E402

EXAMPLES = Path(__file__).parents[2] / "kpi_definitions" / "examples"
# (example, period evaluated); every bonus plan is paid for its own period
CASES = [("support", "2026-02"), ("bank_internal_service", "2026-Q1"), ("field_service", "2026-03")]
SPARK = Target("spark", MASTER)


def _rounded(value: Any) -> Any:
    """Floats at 12 significant digits; money (strings) and everything else as it is."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return value


def _documents(compiled: Any, period: str, engine: Engine) -> dict[str, Any]:
    ev = pipeline.evaluate(compiled, period, engine=engine)
    out: dict[str, Any] = {"evaluation": results_document(evaluation_results(ev)), "rejects": ev.rejects}
    for plan_id in sorted(compiled.workspace.bonus_plans):
        run = pipeline.pay(compiled, plan_id, None, engine=engine)
        out[plan_id] = results_document(bonus_results(run, compiled.workspace.organization.currency))
    return out


def _run(compiled: Any, period: str, target: Target) -> tuple[dict[str, Any], dict[str, tuple[int, int, int]]]:
    ws = compiled.workspace
    with loaded(ws.sources, ws.organization.timezone, target) as (engine, report):
        counts = {s.source: (s.rows, s.loaded, s.rejected) for s in report.sources}
        return _documents(compiled, period, engine), counts


@pytest.mark.parametrize(("example", "period"), CASES, ids=[c[0] for c in CASES])
def test_example_equals_duckdb(example: str, period: str, spark_session: Any) -> None:  # noqa: F811
    compiled = pipeline.compile_workspace(EXAMPLES / example)
    duck, duck_counts = _run(compiled, period, Target())
    spark, spark_counts = _run(compiled, period, SPARK)
    assert spark_counts == duck_counts
    assert spark["rejects"] == duck["rejects"]
    assert _rounded(spark) == _rounded(duck)


def test_kpi_test_passes_on_spark(spark_session: Any) -> None:  # noqa: F811
    # One example: each test loads its fixture into a fresh set of views, a few seconds each on Spark.
    compiled = pipeline.compile_workspace(EXAMPLES / "support")
    report = pipeline.run_tests(compiled, target=SPARK)
    failed = [(t.id, t.outcome, [d.message for d in t.diagnostics]) for t in report.tests if t.outcome != "passed"]
    assert report.tests and not failed


def test_explain_equals_duckdbs(spark_session: Any) -> None:  # noqa: F811
    """A statement (every number behind a person's score and payout) reads the same on Spark."""
    compiled = pipeline.compile_workspace(EXAMPLES / "support")
    for plan in sorted(compiled.workspace.bonus_plans):
        paid = results_document(bonus_results(pipeline.pay(compiled, plan, None), "EUR"))
        person = paid["payouts"][0]["person"]
        duck, _ = pipeline.explain(compiled, person, plan, None)
        spark, _ = pipeline.explain(compiled, person, plan, None, SPARK)
        assert person in duck and spark == duck, plan
