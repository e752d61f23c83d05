"""kpi-engine: KPI definitions in YAML, formulas compiled to SQL, evaluated in DuckDB, scored and paid."""

from __future__ import annotations

from engine.pipeline import load_workspace, validate

__all__ = ["load_workspace", "validate"]
__version__ = "0.1.0"
