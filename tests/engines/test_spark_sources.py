"""Parquet sources read by Spark itself (SPEC §12): the file's schema checked against the declaration
as `kpi import` checks it, and the rows counted and rejected the same way."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

sys.path.insert(0, str(Path(__file__).parent))

from spark_session import MASTER, spark_session  # noqa: E402,F401

from kpi_engine.config.model import Column, Source  # noqa: E402
from kpi_engine.errors import Code, KpiError  # noqa: E402
from kpi_engine.execution import Target, loaded  # noqa: E402


def _parquet(folder: Path, select: str) -> None:
    duckdb.sql(f"COPY ({select}) TO '{folder / 'tickets.parquet'}' (FORMAT parquet)")


def _source(folder: Path, minutes: str) -> dict[str, Source]:
    columns = {"id": Column("id", "string"), "minutes": Column("minutes", minutes)}
    return {"tickets": Source("tickets", folder, "tickets.parquet", key="id", columns=columns)}


@pytest.mark.usefixtures("spark_session")
def test_a_parquet_source_is_typed_and_checked_as_the_import_does(tmp_path: Path) -> None:
    _parquet(tmp_path, "SELECT * FROM (VALUES ('t1', 5), ('t2', 7), ('t1', 9), (NULL, 1)) AS v(id, minutes)")
    counted = exp.select(exp.func("count", exp.Star()), exp.func("sum", exp.column("minutes"))).from_("tickets")
    for target in (Target(), Target("spark", MASTER)):
        with loaded(_source(tmp_path, "integer"), "Europe/Riga", target) as (engine, report):
            assert engine.run(counted) == [(2, 12)], target  # the duplicate key and the missing id are rejects
            (tickets,) = report.sources
            assert (tickets.rows, tickets.loaded, tickets.rejected) == (4, 2, 2), target


@pytest.mark.usefixtures("spark_session")
def test_a_parquet_column_of_the_wrong_type_is_refused_by_name(tmp_path: Path) -> None:
    _parquet(tmp_path, "SELECT 't1' AS id, 1.5::DOUBLE AS minutes")
    for target in (Target(), Target("spark", MASTER)):
        with pytest.raises(KpiError) as caught, loaded(_source(tmp_path, "decimal"), "UTC", target):
            pass
        (problem,) = caught.value.diagnostics
        assert problem.code == Code.DATA_COLUMN and "`minutes` is" in problem.message, target
