"""The `kpi` command line (Typer): see :mod:`kpi_engine.cli.main`."""
