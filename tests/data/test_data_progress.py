"""DuckDB prints nothing: its progress bar writes to standard output, where `kpi evaluate` writes JSON or CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_engine.data.ledger import _connect as ledger_connection
from kpi_engine.data.warehouse import open_memory, open_warehouse

SLOW = "SELECT count(*) FROM range(60000000) t(i) WHERE i % 7 = 3"  # a few hundred milliseconds


def _quiet(conn: object, capfd: pytest.CaptureFixture[str]) -> None:
    bar = "SELECT current_setting('enable_progress_bar'), current_setting('enable_progress_bar_print')"
    assert conn.execute(bar).fetchall() == [(False, False)]  # type: ignore[attr-defined]
    conn.execute("SET progress_bar_time = 1")  # type: ignore[attr-defined]  # show a bar after 1 ms, if enabled
    capfd.readouterr()
    assert conn.execute(SLOW).fetchall()  # type: ignore[attr-defined]
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_the_engines_duckdb_connections_print_no_progress_bar(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    memory = open_memory("Europe/Riga")
    try:
        _quiet(memory.conn, capfd)
    finally:
        memory.close()
    (tmp_path / ".kpi").mkdir()
    stored = open_warehouse(tmp_path, "Europe/Riga")
    try:
        _quiet(stored.conn, capfd)
    finally:
        stored.close()
    ledger = ledger_connection(tmp_path / ".kpi" / "ledger.duckdb", False)
    try:
        _quiet(ledger, capfd)
    finally:
        ledger.close()


def test_duckdb_left_to_itself_would_print_one(capfd: pytest.CaptureFixture[str]) -> None:
    """The hazard the setting guards against, so the test above cannot pass for a wrong reason."""
    import duckdb

    conn = duckdb.connect()
    conn.execute("SET progress_bar_time = 1")
    capfd.readouterr()
    conn.execute(SLOW).fetchall()
    assert "%" in capfd.readouterr().out
