"""The execution seam: DuckDB's warehouse is an Engine, and SQL becomes text in one place only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlglot import exp

from kpi_engine.config.model import Column, Source
from kpi_engine.data.warehouse import Warehouse, open_memory
from kpi_engine.errors import Code, KpiError
from kpi_engine.execution import Engine, QueryFailed
from kpi_engine.sql.render import to_sql

REPO = Path(__file__).resolve().parent.parent
ZONE = "Europe/Riga"


@pytest.fixture
def engine() -> Iterator[Engine]:
    with open_memory(ZONE) as wh:
        yield wh


def _tickets(root: Path) -> dict[str, Source]:
    (root / "tickets.csv").write_text("id,minutes\nt1,5\nt2,7\nt3,oops\n", encoding="utf-8")
    columns = {"id": Column("id", "string"), "minutes": Column("minutes", "integer")}
    return {"tickets": Source("tickets", root, "tickets.csv", key="id", columns=columns)}


def _total(engine: Engine, sources: dict[str, Source]) -> tuple[int, int, list[tuple[object, ...]]]:
    """Written against the protocol alone: register the sources, then sum a column with a sqlglot query."""
    with engine:
        report = engine.register_sources(sources)
        assert "tickets" in engine.relations() and "rejects" in engine.relations()
        query = exp.select(exp.func("sum", exp.column("minutes", quoted=True))).from_(
            exp.to_identifier("tickets", quoted=True)
        )
        (source,) = report.sources
        return source.loaded, source.rejected, engine.run(query)


def test_the_duckdb_warehouse_is_an_engine(engine: Engine) -> None:
    assert isinstance(engine, Engine) and isinstance(engine, Warehouse)
    assert (engine.dialect, engine.timezone) == ("duckdb", ZONE)


def test_an_engine_registers_sources_runs_queries_and_closes(tmp_path: Path) -> None:
    wh = open_memory(ZONE)
    assert _total(wh, _tickets(tmp_path)) == (2, 1, [(12,)])
    with pytest.raises(QueryFailed):  # closed by the with block
        wh.run(exp.select(exp.Literal.number(1)))


def test_every_named_engine_opens_a_session_and_loaded_seals_it(tmp_path: Path) -> None:
    """`loaded` is how kpi test, kpi diff and file evaluation get an engine: sources in, then sealed."""
    from kpi_engine.execution import ENGINES, loaded, open_session

    for name in ENGINES:
        try:
            session = open_session(ZONE, name)
        except KpiError as exc:  # a server engine with no server at its default connection, or no driver
            assert {d.code for d in exc.diagnostics} <= {Code.ENGINE_UNREACHABLE, Code.ENGINE_MISSING}
            continue
        with session:
            assert isinstance(session, Engine) and session.timezone == ZONE
    with loaded(_tickets(tmp_path), ZONE) as (sealed, report):
        assert [(s.loaded, s.rejected) for s in report.sources] == [(2, 1)]
        assert sealed.run(exp.select(exp.func("count", exp.Star())).from_("tickets")) == [(2,)]
        outside = exp.select(exp.func("count", exp.Star())).from_(
            exp.func("read_csv", exp.Literal.string(str(tmp_path / "tickets.csv")))
        )
        with pytest.raises(QueryFailed):  # sealed: nothing but the registered tables
            sealed.run(outside)


def test_run_returns_rows_of_a_sqlglot_query(engine: Engine) -> None:
    values = exp.values(
        [(exp.Literal.string("a"), exp.Literal.number(1)), (exp.Literal.string("b"), exp.null())],
        alias="v",
        columns=["k", "n"],
    )
    query = exp.select(exp.column("k"), exp.column("n")).from_(values).order_by(exp.column("k"))
    assert engine.run(query) == [("a", 1), ("b", None)]


def test_timestamptz_comes_back_as_text_in_the_zone(engine: Engine) -> None:
    at = exp.cast(exp.Literal.string("2025-03-30 01:30:00+00"), "TIMESTAMPTZ")
    assert engine.run(exp.select(at.as_("at"), exp.Literal.number(1).as_("n"))) == [("2025-03-30 04:30:00+03", 1)]


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        pytest.param(exp.select(exp.cast(exp.Literal.number(300), "TINYINT")), "conversion", id="out-of-range-cast"),
        pytest.param(exp.select(exp.cast(exp.Literal.string("x"), "INTEGER")), "conversion", id="bad-text"),
        pytest.param(
            exp.select(
                exp.Add(
                    this=exp.cast(exp.Literal.number(2147483647), "INTEGER"),
                    expression=exp.cast(exp.Literal.number(1), "INTEGER"),
                )
            ),
            "out_of_range",
            id="overflow",
        ),
        pytest.param(exp.select(exp.Star()).from_("nowhere"), "other", id="no-table"),
    ],
)
def test_a_failed_query_raises_the_neutral_exception(engine: Engine, query: exp.Expression, kind: str) -> None:
    with pytest.raises(QueryFailed) as failed:
        engine.run(query)
    assert failed.value.kind == kind and failed.value.message == str(failed.value)
    assert failed.value.message  # the engine's own words


def test_to_sql_needs_a_dialect() -> None:
    with pytest.raises(TypeError):
        to_sql(exp.select(exp.Literal.number(1)))  # type: ignore[call-arg]
    assert to_sql(exp.select(exp.Literal.number(1)), "duckdb") == "SELECT 1"


# --- where DuckDB and SQL text may appear --------------------------------------------------------

# compile_plan's `.sql(dialect)` calls only build dict keys (the n columns shared by KPIs), not SQL to run.
SQL_ALLOWED = {"kpi_engine.sql.render", "kpi_engine.sql.compile_plan"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    """Every module of the package, by its installed dotted name (engine/ is kpi_engine, cli/ kpi_engine.cli)."""
    for folder, package in (("engine", ("kpi_engine",)), ("cli", ("kpi_engine", "cli"))):
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            name = ".".join(package + (parts[:-1] if parts[-1] == "__init__" else parts))
            yield name, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imports_duckdb(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "duckdb" for a in node.names)
    return isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "duckdb"


def _calls_sql(node: ast.AST) -> bool:
    """A ``.sql(`` call that makes text of an expression; PySpark's ``session.sql(text)`` runs text instead.

    The Spark engine passes it only text that ``to_sql`` rendered (``engine/data/spark.py``).
    """
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sql"):
        return False
    receiver = node.func.value
    return not (isinstance(receiver, ast.Attribute) and receiver.attr == "session")


def test_only_the_data_package_imports_duckdb() -> None:
    found = {name for name, tree in _modules() if any(_imports_duckdb(n) for n in ast.walk(tree))}
    assert "kpi_engine.data.warehouse" in found
    assert sorted(n for n in found if not n.startswith("kpi_engine.data.")) == []


def test_sql_becomes_text_only_in_render() -> None:
    found = {name for name, tree in _modules() if any(_calls_sql(n) for n in ast.walk(tree))}
    assert "kpi_engine.sql.render" in found
    assert sorted(found - SQL_ALLOWED) == []


def _imports_psycopg(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "psycopg" for a in node.names)
    return isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "psycopg"


def test_only_the_postgres_engine_imports_psycopg() -> None:
    """psycopg is an optional extra: one module imports it, and only when a postgres session opens."""
    found = {name for name, tree in _modules() if any(_imports_psycopg(n) for n in ast.walk(tree))}
    assert found == {"kpi_engine.data.postgres"}
