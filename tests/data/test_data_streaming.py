"""The import as one pass per file: one copy of the data, file order kept, nothing left behind; its memory limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from datakit import col, columns, table, write

from kpi_engine.config.model import Source
from kpi_engine.data import ImportFailed, Warehouse, import_sources, open_memory, open_warehouse
from kpi_engine.data import warehouse as warehouse_module
from kpi_engine.errors import Code, KpiError

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


def test_running_out_of_memory_or_disk_is_a_diagnostic_and_keeps_the_previous_table(
    tmp_path: Path, target: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.csv", "id\na\n")
    source = Source("a", tmp_path, "a.csv", columns=columns(id="string"))
    import_sources(target, {"a": source})
    write(tmp_path, "a.csv", "id\nb\n")

    def out_of_memory(*_: object, **__: object) -> None:
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")

    monkeypatch.setattr(warehouse_module, "read_source", out_of_memory)
    with pytest.raises(ImportFailed) as caught:
        import_sources(target, {"a": source})
    (problem,) = caught.value.errors
    assert problem.code == Code.DATABASE and "ran out of memory" in problem.message
    assert problem.hint is not None and "KPI_MEMORY_LIMIT" in problem.hint
    assert target.fetch("SELECT id FROM a") == [("a",)]

    def disk_full(*_: object, **__: object) -> None:
        raise duckdb.IOException('IO Error: Could not write file ".kpi/spill/duckdb_temp_storage-0.tmp": No space left')

    monkeypatch.setattr(warehouse_module, "read_source", disk_full)
    with pytest.raises(ImportFailed) as caught:
        import_sources(target, {"a": source})
    (problem,) = caught.value.errors
    assert problem.message.startswith("source `a`: DuckDB could not read or write a file: IO Error: Could not write")
    assert problem.hint is not None and "free disk space" in problem.hint
    assert target.fetch("SELECT id FROM a") == [("a",)]


def test_a_writing_connection_spills_to_kpi_within_its_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPI_MEMORY_LIMIT", "64MB")
    spill = tmp_path / ".kpi" / "spill"
    spill.mkdir(parents=True)
    (spill / "left-by-a-crash.tmp").write_bytes(b"x")
    wh = open_warehouse(tmp_path, "UTC")
    assert not (spill / "left-by-a-crash.tmp").exists()
    ((limit, folder),) = wh.fetch("SELECT current_setting('memory_limit'), current_setting('temp_directory')")
    assert (limit, Path(str(folder))) == ("61.0 MiB", spill)
    wh.conn.execute("CREATE TEMP TABLE big AS SELECT range AS n, md5(range::VARCHAR) AS h FROM range(3000000)")
    assert any(spill.iterdir())  # 200 MB of data did not fit in 64 MB: it went to disk
    wh.close()
    assert not spill.exists()


def test_the_default_memory_limit_is_a_quarter_of_memory_at_most_2_gib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KPI_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(warehouse_module, "_physical_memory", lambda: 4 * 2**30)
    with open_warehouse(tmp_path, "UTC") as wh:
        assert wh.fetch("SELECT current_setting('memory_limit')") == [("1.0 GiB",)]
    monkeypatch.setattr(warehouse_module, "_physical_memory", lambda: 64 * 2**30)
    with open_warehouse(tmp_path, "UTC") as wh:
        assert wh.fetch("SELECT current_setting('memory_limit')") == [("2.0 GiB",)]
    with open_warehouse(tmp_path, "UTC", read_only=True) as wh:  # evaluation keeps DuckDB's own limit
        assert wh.spill is None


def test_a_memory_limit_that_is_not_a_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_MEMORY_LIMIT", "lots")
    with pytest.raises(KpiError) as caught:
        open_warehouse(tmp_path, "UTC")
    (problem,) = caught.value.diagnostics
    assert problem.code == Code.BAD_VALUE and problem.message.startswith("KPI_MEMORY_LIMIT='lots' is not a memory size")
    with open_memory("UTC") as wh:  # nor does evaluating from the files
        assert wh.spill is None
