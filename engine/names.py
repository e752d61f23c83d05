"""The closed sets of names shared by the model, the schema checks, the SQL compiler and the command line.

One definition each. Kept free of imports so that `kpi --help` can build its choices from it.
"""

from __future__ import annotations

from typing import Literal, get_args

Level = Literal["person", "unit", "organization"]
LEVELS: tuple[Level, ...] = get_args(Level)

Grain = Literal["year", "quarter", "month", "week", "day"]
GRAINS: tuple[Grain, ...] = get_args(Grain)

# SQL dialects a formula can be compiled for (see kpi_engine.sql.dialects).
Dialect = Literal["duckdb", "postgres", "snowflake", "bigquery", "spark", "trino"]
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)

# The engines a command can run its queries on (SPEC §12); each speaks the dialect of the same name.
EngineName = Literal["duckdb", "spark", "postgres"]
ENGINE_NAMES: tuple[EngineName, ...] = get_args(EngineName)

# The top-level keys of a definitions tree: the sections of named things merge across files; a diff
# walks the keys in this order.
SECTIONS = (
    "units",
    "sources",
    "params",
    "calendars",
    "segments",
    "goals",
    "kpis",
    "scorecards",
    "policies",
    "bonus_plans",
    "tests",
)
TOP_KEYS = ("organization", "include", *SECTIONS)
# The files that hold definitions.
YAML_SUFFIXES = (".yaml", ".yml")

# Declared source column types (SPEC §2.3); kpi_engine.expr.types maps each to a formula type.
COLUMN_TYPES = ("string", "integer", "number", "decimal", "boolean", "date", "timestamp")
