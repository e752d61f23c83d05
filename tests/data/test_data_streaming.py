"""The import as one pass per file: one copy of the data, file order kept, nothing left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from datakit import col, columns, table, write

from kpi_engine.config.model import Source
from kpi_engine.data import ImportFailed, Warehouse, import_sources, open_memory, open_warehouse

ROWS = 300_000  # three row groups of DuckDB's, so parallel reading could reorder them


def _parquet(path: Path, select: str) -> None:
    with duckdb.connect() as conn:
        conn.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")


@pytest.fixture(params=["memory", "database"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """An in-memory database (evaluating from files) or the workspace database (`kpi import`)."""
    wh = open_memory("Europe/Riga") if request.param == "memory" else open_warehouse(tmp_path, "Europe/Riga")
    yield wh
    wh.close()


def _work_tables(wh: Warehouse) -> list[str]:
    return [
        n for (n,) in wh.fetch("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_kpi\\_%' ESCAPE '\\'")
    ]


def test_rows_keep_file_order_and_every_reject_is_named(tmp_path: Path, target: Warehouse) -> None:
    for part in (1, 2):
        _parquet(
            tmp_path / f"t{part}.parquet",
            f"""SELECT 'T' || (range % {ROWS - 7}) AS id, range AS n,
                       CASE WHEN range % 100000 = 5 THEN -1 ELSE range END AS v
                FROM range({ROWS})""",
        )
    cols = columns(id="string", n="integer", v=col("integer", min=0))
    source = Source("t", tmp_path, "t*.parquet", key="id", columns=cols)
    report = import_sources(target, {"t": source}).source("t")
    # t1: three values below the minimum, and the keys T0…T6 again at the end, but T5's first row
    # was rejected: its second is the first valid one. t2 repeats t1's keys: every row is a duplicate.
    assert [(f.rows, f.loaded, f.rejected) for f in report.files] == [(ROWS, ROWS - 9, 9), (ROWS, 0, ROWS)]
    # No ORDER BY: the table is in file order, then line order, as read.
    lines = target.fetch('SELECT _file, _line FROM "t"')
    assert lines == sorted(lines) and len(lines) == ROWS - 9
    reasons = target.fetch("SELECT line, reason FROM rejects WHERE file = 't1.parquet' ORDER BY record")
    assert reasons == [
        *((line, "'-1' is below the minimum 0") for line in (6, 100_006, 200_006)),
        *((ROWS - 6 + i, f"duplicate key 'T{i}' (first at t1.parquet:{i + 1})") for i in range(7) if i != 5),
    ]
    duplicates = "count(*) FILTER (WHERE reason LIKE 'duplicate key %')"
    assert target.fetch(f"SELECT {duplicates}, count(*) FROM rejects WHERE file = 't2.parquet'") == [(ROWS - 3, ROWS)]
    assert _work_tables(target) == []


def test_declared_columns_named_like_the_work_columns_load(tmp_path: Path, target: Warehouse) -> None:
    write(tmp_path, "w.csv", "_kpi_bad,_KPI_record,_kpi__file_no\na,1,x\nb,2,y\na,3,z\n")
    cols = columns(_kpi_bad="string", _KPI_record="integer", _kpi__file_no="string")
    report = import_sources(target, {"w": Source("w", tmp_path, "w.csv", key="_kpi_bad", columns=cols)}).source("w")
    assert (report.loaded, report.rejected) == (2, 1)
    assert [list(r.values()) for r in table(target, "w")] == [["a", 1, "x", "w.csv", 2], ["b", 2, "y", "w.csv", 3]]
    assert _work_tables(target) == []


def test_a_failed_or_refused_import_leaves_no_work_table(tmp_path: Path, target: Warehouse) -> None:
    write(tmp_path, "a.csv", "id,n\na,1\nb,x\n")
    source = Source("a", tmp_path, "a.csv", columns=columns(id="string", n="integer"))
    assert import_sources(target, {"a": source}, max_rejects=0).source("a").status == "over_limit"
    assert _work_tables(target) == [] and "a" not in target.relations()
    write(tmp_path, "a.csv", "id,m\na,1\n")
    with pytest.raises(ImportFailed):
        import_sources(target, {"a": source})
    assert _work_tables(target) == []
