"""The workspace database: re-imports, max-rejects, one writer at a time, lock-down, hashes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from datakit import columns, load, table, write

from kpi_engine.config.model import Source
from kpi_engine.data import (
    ImportFailed,
    import_sources,
    lock_down,
    open_memory,
    open_warehouse,
    source_hashes,
)
from kpi_engine.errors import Code, KpiError

REPO = Path(__file__).resolve().parents[2]
TICKETS = columns(id="string", amount="decimal")


def tickets(root: Path, path: str = "tickets.csv", source_id: str = "tickets") -> Source:
    return Source(source_id, root, path, key="id", columns=TICKETS)


def test_reimporting_unchanged_files_is_a_no_op(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1.50\nT2,x\n")
    with open_warehouse(tmp_path, "Europe/Riga") as wh:
        first = import_sources(wh, {"tickets": tickets(tmp_path)}).source("tickets")
        stamp = wh.fetch("SELECT imported_at FROM _imports")
        again = import_sources(wh, {"tickets": tickets(tmp_path)}).source("tickets")
        assert (first.status, again.status, again.skipped) == ("loaded", "unchanged", True)
        assert [(f.rows, f.loaded, f.rejected, f.sha256) for f in again.files] == [
            (f.rows, f.loaded, f.rejected, f.sha256) for f in first.files
        ]
        assert wh.fetch("SELECT imported_at FROM _imports") == stamp
        assert [r["id"] for r in table(wh, "tickets")] == ["T1"]
        assert wh.fetch("SELECT count(*) FROM rejects")[0][0] == 1


def test_a_changed_file_or_declaration_is_imported_again_replacing_the_old_content(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1.50\nT2,x\n")
    with open_warehouse(tmp_path, "Europe/Riga") as wh:
        import_sources(wh, {"tickets": tickets(tmp_path)})
        write(tmp_path, "tickets.csv", "id,amount\nT9,9.00\n")
        changed = import_sources(wh, {"tickets": tickets(tmp_path)}).source("tickets")
        assert changed.status == "loaded"
        assert [(r["id"], r["amount"]) for r in table(wh, "tickets")] == [("T9", Decimal("9"))]
        assert wh.fetch("SELECT count(*) FROM rejects")[0][0] == 0
        as_text = Source("tickets", tmp_path, "tickets.csv", key="id", columns=columns(id="string", amount="string"))
        assert import_sources(wh, {"tickets": as_text}).source("tickets").status == "loaded"
        assert table(wh, "tickets")[0]["amount"] == "9.00"


def test_the_database_persists_and_opens_read_only(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1.50\n")
    with open_warehouse(tmp_path, "Europe/Riga") as wh:
        import_sources(wh, {"tickets": tickets(tmp_path)})
    assert (tmp_path / ".kpi" / "warehouse.duckdb").is_file()
    assert (tmp_path / ".kpi" / ".gitignore").read_text().endswith("*\n")
    with open_warehouse(tmp_path, "Europe/Riga", read_only=True) as wh:
        assert [r["id"] for r in table(wh, "tickets")] == ["T1"]
        with pytest.raises(KpiError) as caught:
            import_sources(wh, {"tickets": tickets(tmp_path)})
        assert caught.value.diagnostics[0].message == "cannot import into a read-only database"


def test_a_single_file_workspace_keeps_kpi_beside_the_file(tmp_path: Path) -> None:
    definitions = write(tmp_path, "kpis.yaml", "organization: {}\n")
    with open_warehouse(definitions, "UTC") as wh:
        assert wh.path == tmp_path / ".kpi" / "warehouse.duckdb"


def test_read_only_without_a_database_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(KpiError) as caught:
        open_warehouse(tmp_path, "UTC", read_only=True)
    (diag,) = caught.value.diagnostics
    assert diag.code == Code.DATABASE
    assert diag.message == f"no workspace database at `{tmp_path / '.kpi' / 'warehouse.duckdb'}`"


def test_an_unknown_time_zone_is_refused_with_a_suggestion() -> None:
    with pytest.raises(KpiError) as caught:
        open_memory("Europe/Rigа")  # a Cyrillic а
    (diag,) = caught.value.diagnostics
    assert diag.message == "unknown time zone `Europe/Rigа`"
    assert diag.hint is not None and "Europe/Riga" in diag.hint


def test_above_max_rejects_a_source_loads_nothing_and_keeps_its_previous_content(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1.50\n")
    with open_warehouse(tmp_path, "Europe/Riga") as wh:
        import_sources(wh, {"tickets": tickets(tmp_path)})
        write(tmp_path, "tickets.csv", "id,amount\nT2,2.00\nT3,x\nT4,y\nT2,5\n")
        report = import_sources(wh, {"tickets": tickets(tmp_path)}, max_rejects=2)
        over = report.source("tickets")
        assert (report.ok, over.status, over.over_limit) == (False, "over_limit", True)
        assert [(f.rows, f.loaded, f.rejected) for f in over.files] == [(4, 1, 3)]
        assert [(r.line, r.reason) for r in over.sample] == [
            (3, "'x' is not a valid decimal (expected -1234.5)"),
            (4, "'y' is not a valid decimal (expected -1234.5)"),
            (5, "duplicate key 'T2' (first at tickets.csv:2)"),
        ]
        (diag,) = report.diagnostics
        assert diag.code == Code.DATA_REJECTS
        assert diag.message == (
            "source `tickets`: 3 rejected rows, more than --max-rejects 2; nothing was loaded for it"
        )
        assert [r["id"] for r in table(wh, "tickets")] == ["T1"]
        assert wh.fetch("SELECT count(*) FROM rejects")[0][0] == 0
        within = import_sources(wh, {"tickets": tickets(tmp_path)}, max_rejects=3)
        assert (within.ok, within.source("tickets").status) == (True, "loaded")
        assert [r["id"] for r in table(wh, "tickets")] == ["T2"]


def test_max_rejects_zero_on_a_first_import_creates_nothing(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1\nT2,bad\n")
    got = load(tmp_path, "tickets.csv", TICKETS, key="id", max_rejects=0, source_id="tickets")
    assert got.report.over_limit
    assert not got.warehouse.fetch("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tickets'")[0][0]


def test_a_failing_source_keeps_its_previous_content_and_others_still_import(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1.50\nT2,x\n")
    write(tmp_path, "other.csv", "id,amount\nO1,1\n")
    sources = {"tickets": tickets(tmp_path), "other": tickets(tmp_path, "other.csv", "other")}
    with open_warehouse(tmp_path, "Europe/Riga") as wh:
        import_sources(wh, sources)
        write(tmp_path, "tickets.csv", "id,amt\nT5,5\n")
        write(tmp_path, "other.csv", "id,amount\nO2,2\n")
        with pytest.raises(ImportFailed) as caught:
            import_sources(wh, sources)
        assert [d.code for d in caught.value.errors] == [Code.DATA_COLUMN]
        assert [s.source for s in caught.value.report.sources] == ["other"]
        assert [r["id"] for r in table(wh, "tickets")] == ["T1"]
        assert [r["id"] for r in table(wh, "other")] == ["O2"]
        assert wh.fetch("SELECT source, line FROM rejects") == [("tickets", 3)]


def test_only_imports_the_named_sources(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1\n")
    write(tmp_path, "other.csv", "id,amount\nO1,1\n")
    sources = {"tickets": tickets(tmp_path), "other": tickets(tmp_path, "other.csv", "other")}
    wh = open_memory("UTC")
    report = import_sources(wh, sources, only=["other"])
    assert [s.source for s in report.sources] == ["other"]
    with pytest.raises(KpiError) as caught:
        import_sources(wh, sources, only=["tickts"])
    assert caught.value.diagnostics[0].hint == "did you mean `tickets`?"


def test_import_into_a_plain_connection(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1\n")
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'Europe/Riga'")
    report = import_sources(conn, {"tickets": tickets(tmp_path)})
    assert report.source("tickets").loaded == 1
    assert conn.execute("SELECT id FROM tickets").fetchall() == [("T1",)]


def test_a_table_source_is_checked_and_exposed_under_its_id(tmp_path: Path) -> None:
    with open_warehouse(tmp_path, "UTC") as wh:
        wh.conn.execute("CREATE TABLE hr_people AS SELECT 'p1' AS person_id, 'u1' AS unit")
        people = Source("people", tmp_path, table="hr_people", columns=columns(person_id="string", unit="string"))
        report = import_sources(wh, {"people": people})
        assert report.source("people").status == "table"
        assert wh.fetch("SELECT person_id FROM people") == [("p1",)]
        broken = Source("people", tmp_path, table="hr_people", columns=columns(person_id="string", role="string"))
        with pytest.raises(ImportFailed) as caught:
            import_sources(wh, {"people": broken})
        assert (
            caught.value.diagnostics[0].message == "table `hr_people` lacks declared column `role`; it has: "
            "person_id, unit"
        )
    with pytest.raises(ImportFailed, match="not in memory"):
        import_sources(open_memory("UTC"), {"people": people})


def test_reserved_source_ids_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "r.csv", "id,amount\nT1,1\n")
    with pytest.raises(ImportFailed) as caught:
        import_sources(open_memory("UTC"), {"rejects": tickets(tmp_path, "r.csv", "rejects")})
    assert caught.value.diagnostics[0].message == (
        "source id `rejects` is reserved for a table of the workspace database"
    )


def test_a_second_writer_process_gets_a_clean_in_use_error(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        from pathlib import Path
        from kpi_engine.data import open_warehouse
        from kpi_engine.errors import KpiError
        for read_only in (False, True):
            try:
                open_warehouse(Path({str(tmp_path)!r}), "UTC", read_only=read_only)
            except KpiError as exc:
                d = exc.diagnostics[0]
                print(d.code.value, d.message)
            else:
                print("opened")
        """)
    with open_warehouse(tmp_path, "UTC"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    assert done.returncode == 0, done.stderr
    message = f"E502 the workspace is in use by another kpi process (PID {os.getpid()})"
    assert done.stdout.splitlines() == [message, message]
    with open_warehouse(tmp_path, "UTC"):  # released on close
        pass


def test_lock_down_blocks_files_and_settings_but_time_zones_still_work(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1\n")
    write(tmp_path, "events.csv", "id,at\ne1,2025-03-30 02:30\ne2,2025-03-30 04:30\n")
    wh = open_memory("Europe/Riga")
    events = Source("events", tmp_path, "events.csv", columns=columns(id="string", at="timestamp"))
    import_sources(wh, {"tickets": tickets(tmp_path), "events": events})
    # Everything the engine uses is compiled in: nothing to download, offline or not.
    assert wh.fetch("""SELECT extension_name, install_mode FROM duckdb_extensions()
                       WHERE extension_name IN ('icu', 'json', 'parquet') ORDER BY 1""") == [
        ("icu", "STATICALLY_LINKED"),
        ("json", "STATICALLY_LINKED"),
        ("parquet", "STATICALLY_LINKED"),
    ]
    lock_down(wh)
    lock_down(wh)  # idempotent
    for statement in (
        "SELECT * FROM read_csv('/etc/passwd')",
        f"SELECT * FROM read_csv('{tmp_path}/tickets.csv')",
        "SELECT * FROM read_text('/etc/hostname')",
        "COPY tickets TO '/tmp/kpi-leak.csv'",
        f"ATTACH '{tmp_path}/other.duckdb'",
        "INSTALL excel",
        "LOAD excel",
        "SET enable_external_access = true",
        "SET TimeZone = 'UTC'",
    ):
        with pytest.raises(duckdb.Error):
            wh.conn.execute(statement)
    assert wh.fetch("""SELECT id, date_trunc('day', "at"), strftime("at", '%H:%M %z'), "at" AT TIME ZONE 'UTC',
                              date_part('hour', "at") FROM events ORDER BY id""") == [
        ("e1", "2025-03-30 00:00:00+02", "02:30 +02", datetime(2025, 3, 30, 0, 30), 2),
        ("e2", "2025-03-30 00:00:00+02", "04:30 +03", datetime(2025, 3, 30, 1, 30), 4),
    ]
    assert "pytz" not in sys.modules
    with pytest.raises(KpiError):
        import_sources(wh, {"tickets": tickets(tmp_path)})


def test_source_hashes_cover_names_and_contents_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, "d/b.csv", "id,amount\nB,1\n")
    write(tmp_path, "d/a.csv", "id,amount\nA,1\n")
    sources = {
        "tickets": tickets(tmp_path, "d/*.csv"),
        "people": Source("people", tmp_path, table="hr_people", columns=columns(id="string")),
    }
    first = source_hashes(sources)
    assert first["people"] == "table:hr_people"
    assert len(first["tickets"]) == 64 and first == source_hashes(sources)
    write(tmp_path, "d/b.csv", "id,amount\nB,2\n")
    assert source_hashes(sources)["tickets"] != first["tickets"]


def test_max_rejects_counts_the_rejects_of_unchanged_files(tmp_path: Path) -> None:
    write(tmp_path, "tickets.csv", "id,amount\nT1,1.50\nT2,x\n")
    with open_warehouse(tmp_path, "Europe/Riga") as wh:
        assert import_sources(wh, {"tickets": tickets(tmp_path)}).ok
        again = import_sources(wh, {"tickets": tickets(tmp_path)}, max_rejects=0)
        (note,) = again.diagnostics
        assert (again.ok, again.source("tickets").status, note.code) == (False, "over_limit", Code.DATA_REJECTS)
        assert "unchanged files had 1 rejected rows" in note.message
        assert import_sources(wh, {"tickets": tickets(tmp_path)}, max_rejects=1).source("tickets").status == "unchanged"


def test_import_max_rejects_0_after_an_unchanged_import_with_rejects_exits_1(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kpi_engine.cli.main import app

    ws = tmp_path / "support"
    import shutil

    shutil.copytree(REPO / "kpi_definitions" / "examples" / "support", ws, ignore=shutil.ignore_patterns(".kpi"))
    data = ws / "data" / "tickets.csv"
    lines = data.read_text().splitlines()
    data.write_text("\n".join([*lines, lines[-1].rsplit(",", 1)[0] + ",9"]) + "\n")  # csat 9: out of range
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(ws)]).exit_code == 0
    again = runner.invoke(app, ["import", str(ws), "--max-rejects", "0"])
    assert again.exit_code == 1 and "E501" in again.stderr
