"""The example organizations on PostgreSQL: their data in tables (typed by DuckDB's import, then
COPY), the sources pointed at those tables, and `evaluate`, `bonus` and `kpi test` giving what DuckDB
gives on the files — values, n, statuses, scores, scorecards and goals at 12 significant digits,
payouts to the cent (SPEC §12)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from kpi_engine.config import model as m
from kpi_engine.documents import bonus_results, evaluation_results, results_document
from kpi_engine.execution import Target, open_session
from kpi_engine.pipeline import compile_workspace, evaluate, explain, load_workspace, pay, run_tests

psycopg = pytest.importorskip("psycopg")

EXAMPLES = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples"
#: Each example, the periods it is evaluated for, and whether its timestamps are stored as wall-clock
#: times (`timestamp without time zone`, read in the organization's zone) or as instants (timestamptz).
CASES = [
    ("support", ("2026", "2026-03"), "wall"),
    ("bank_internal_service", ("2026", "2026-Q2"), "instant"),
    ("field_service", ("2026", "2026-Q3"), "wall"),
]
_TYPES = {
    "string": "TEXT",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "decimal": "NUMERIC(38, 10)",
    "boolean": "BOOLEAN",
    "date": "DATE",
}
_OFFSET = re.compile(r"[+-]\d\d(:\d\d)?$")


def _tables(url: str, ws: m.Workspace, schema: str, timestamps: str) -> m.Workspace:
    """The workspace's file data in tables of ``schema``, and the workspace reading them (`table:`)."""
    stamp = "TIMESTAMP" if timestamps == "wall" else "TIMESTAMPTZ"
    with (
        open_session(ws.organization.timezone) as staging,
        psycopg.connect(url, autocommit=True) as conn,
    ):
        staging.register_sources(ws.sources)
        conn.execute("SELECT set_config('TimeZone', %s, false)", [ws.organization.timezone])
        conn.execute(f'CREATE SCHEMA "{schema}"')
        for source in ws.sources.values():
            names = list(source.columns)
            columns = ", ".join(f'"{c.name}" {_TYPES.get(c.type, stamp)}' for c in source.columns.values())
            conn.execute(f'CREATE TABLE "{schema}"."{source.id}" ({columns})')
            rows = staging.run(exp.select(*(exp.column(n, quoted=True) for n in names)).from_(source.id))
            stamps = [i for i, c in enumerate(source.columns.values()) if c.type == "timestamp"]
            quoted = ", ".join(f'"{n}"' for n in names)
            with conn.cursor() as cursor, cursor.copy(f'COPY "{schema}"."{source.id}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    cells = list(row)
                    for i in stamps:  # the session zone's wall clock: drop the offset
                        if cells[i] is not None and timestamps == "wall":
                            cells[i] = _OFFSET.sub("", str(cells[i]))
                    copy.write_row(cells)
    sources = {sid: replace(s, path=None, table=f"{schema}.{sid}", csv=m.CsvOptions()) for sid, s in ws.sources.items()}
    return replace(ws, sources=sources)


@pytest.fixture(scope="module")
def examples(postgres_url: str) -> dict[str, m.Workspace]:
    """Each example workspace, its data in PostgreSQL tables."""
    return {
        name: _tables(postgres_url, load_workspace(EXAMPLES / name), name, timestamps) for name, _, timestamps in CASES
    }


def _evaluated(compiled: Any, period: str, target: Target | None = None) -> dict[str, Any]:
    return results_document(evaluation_results(evaluate(compiled, period, target=target)))


@pytest.mark.parametrize(("name", "periods", "timestamps"), CASES, ids=[c[0] for c in CASES])
def test_evaluate_and_bonus_equal_duckdbs(
    name: str, periods: tuple[str, ...], timestamps: str, examples: dict[str, m.Workspace], postgres_url: str
) -> None:
    on_files = compile_workspace(EXAMPLES / name)
    on_tables = compile_workspace(examples[name])
    target = Target("postgres", postgres_url)
    for period in periods:
        duckdb, postgres = _evaluated(on_files, period), _evaluated(on_tables, period, target)
        assert duckdb["kpis"], f"{name} {period}: no KPI results to compare"
        assert postgres == duckdb, f"{name} {period}: PostgreSQL's results differ from DuckDB's"
    currency = on_files.workspace.organization.currency
    for plan in sorted(on_files.workspace.bonus_plans):
        duckdb = results_document(bonus_results(pay(on_files, plan, None), currency))
        postgres = results_document(bonus_results(pay(on_tables, plan, None, target=target), currency))
        assert duckdb["payouts"], f"{name} {plan}: nobody paid"
        assert postgres == duckdb, f"{name} {plan}: PostgreSQL's payouts differ from DuckDB's"


@pytest.mark.parametrize("name", [c[0] for c in CASES if (EXAMPLES / c[0] / "tests.yaml").exists()])
def test_kpi_test_passes_on_postgres(name: str, postgres_url: str) -> None:
    report = run_tests(compile_workspace(EXAMPLES / name), target=Target("postgres", postgres_url))
    assert report.tests
    failing = {t.test: [d.message for d in t.diagnostics] for t in report.tests if t.outcome != "passed"}
    assert not failing


def test_a_rejected_table_row_is_counted_and_reported(postgres_url: str) -> None:
    """A row of a table that fails its declared checks is left out, counted and named in the warnings."""
    ws = _tables(postgres_url, load_workspace(EXAMPLES / "support"), "rejecting", "instant")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO rejecting.tickets (ticket_id, created_at, agent_id, priority, csat)
               VALUES ('T-bad', '2026-03-02 10:00+02', 'e01', 'urgent', 9)"""
        )
    evaluation = evaluate(compile_workspace(ws), "2026-03", target=Target("postgres", postgres_url))
    assert evaluation.rejects == {"tickets": 1}
    messages = [d.message for d in evaluation.diagnostics if d.code == "W540"]
    assert any("'urgent' is not one of: critical, high, normal, low" in m for m in messages)
    assert any("'9' is above the maximum 5" in m for m in messages)
    assert any("1 of" in m and "rows rejected" in m for m in messages)


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_explain_equals_duckdbs(name: str, examples: dict[str, m.Workspace], postgres_url: str) -> None:
    """A statement (every number behind a person's score and payout) reads the same on PostgreSQL."""
    on_files = compile_workspace(EXAMPLES / name)
    on_tables = compile_workspace(examples[name])
    for plan in sorted(on_files.workspace.bonus_plans):
        person = results_document(bonus_results(pay(on_files, plan, None), "EUR"))["payouts"][0]["person"]
        duckdb, _ = explain(on_files, person, plan, None)
        postgres, _ = explain(on_tables, person, plan, None, Target("postgres", postgres_url))
        assert person in duckdb and postgres == duckdb, f"{name} {plan} {person}"
