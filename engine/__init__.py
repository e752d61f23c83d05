"""kpi-engine: KPI definitions in YAML, formulas compiled to SQL, evaluated in DuckDB, scored and paid.

The package imports nothing heavy on its own (the `kpi` command starts from here): the API below is
loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "load_workspace", "validate"]

if TYPE_CHECKING:
    from kpi_engine.pipeline import load_workspace, validate


def __getattr__(name: str) -> Any:
    if name in ("load_workspace", "validate"):
        from kpi_engine import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'kpi_engine' has no attribute {name!r}")
