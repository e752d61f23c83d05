"""How the engine opens every DuckDB database: nothing installed or loaded behind its back, nothing printed.

DuckDB's progress bar is on by default and prints to standard output, even when that is a file or a
pipe: a query running longer than two seconds would write bars into `kpi evaluate --format json`'s
JSON, or into a CSV on its way to payroll. The engine reports progress itself, on standard error.
"""

from __future__ import annotations

import duckdb

_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def connect(database: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that loads no extension on its own and never prints a progress bar.

    DuckDB's errors pass through: each caller says what failing to open its database means.
    """
    conn = duckdb.connect(database, read_only=read_only, config=dict(_CONFIG))
    # Settings of a connection (DuckDB refuses them in `config`); printing is turned off as well, since
    # setting `progress_bar_time` turns the bar back on.
    conn.execute("SET enable_progress_bar = false")
    conn.execute("SET enable_progress_bar_print = false")
    return conn
