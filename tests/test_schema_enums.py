"""The model's enumerations equal the JSON Schema's: a value added to one (a scoring method, a
level, a grain, a column type, …) and not the other fails here, naming both places."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest

from kpi_engine import names, periods
from kpi_engine.config import model
from kpi_engine.config import schema as config_schema
from kpi_engine.expr import types as expr_types
from kpi_engine.scoring import score

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "kpi.schema.json"


@cache
def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return data


def _enum(pointer: str) -> set[Any]:
    """The ``enum`` at ``pointer``, a path of keys and list indexes under the schema's root."""
    node: Any = _schema()
    for key in pointer.split("/"):
        node = node[int(key)] if isinstance(node, list) else node[key]
    return set(node["enum"])


def _literal(cls: type, field: str) -> set[Any]:
    """The strings a ``Literal[...]`` field of a model class allows (``None`` and tuples left out)."""
    hint = get_type_hints(cls)[field]
    values: set[Any] = set()
    stack = [hint]
    while stack:
        t = stack.pop()
        args = get_args(t)
        if not args:
            continue
        if all(isinstance(a, str) for a in args):
            values.update(args)
        else:
            stack.extend(a for a in args if a is not type(None))
    return values


PAIRS: list[tuple[str, set[Any], str]] = [
    ("model.Level", set(get_args(model.Level)), "$defs/scorecard_entry/properties/at"),
    ("model.Level", set(get_args(model.Level)), "$defs/expectation/properties/at"),
    ("model.Direction", set(get_args(model.Direction)), "$defs/kpi/properties/direction"),
    ("model.Direction", set(get_args(model.Direction)), "$defs/kpi_variant/properties/direction"),
    ("names.COLUMN_TYPES", set(names.COLUMN_TYPES), "$defs/column_type"),
    ("expr.types.COLUMN_TYPES", set(expr_types.COLUMN_TYPES), "$defs/column_type"),
    ("periods.GRAINS", set(periods.GRAINS), "$defs/period_or_grain/anyOf/0"),
    ("config.schema._GRAINS", set(config_schema._GRAINS), "$defs/period_or_grain/anyOf/0"),
    ("model.Scoring.method", _literal(model.Scoring, "method"), "$defs/scoring/properties/method"),
    ("model.Target.vs", _literal(model.Target, "vs"), "$defs/target/properties/vs"),
    (
        "model.Scorecard.on_insufficient",
        _literal(model.Scorecard, "on_insufficient"),
        "$defs/scorecard/properties/on_insufficient",
    ),
    ("model.Policy.scorecards", _literal(model.Policy, "scorecards"), "$defs/policy/properties/scorecards/anyOf/0"),
    (
        "model.BonusPlan.rounding_mode",
        _literal(model.BonusPlan, "rounding_mode"),
        "$defs/bonus_plan/properties/rounding/properties/mode",
    ),
    ("score.Status", set(get_args(score.Status)) | {None}, "$defs/expectation/properties/status"),
]


@pytest.mark.parametrize(("name", "values", "pointer"), PAIRS, ids=[f"{n}={p}" for n, _, p in PAIRS])
def test_model_enum_equals_schema_enum(name: str, values: set[Any], pointer: str) -> None:
    schema_values = _enum(pointer)
    assert values == schema_values, (
        f"{name} and schemas/kpi.schema.json#/{pointer} differ: "
        f"only in the model {sorted(map(str, values - schema_values))}, "
        f"only in the schema {sorted(map(str, schema_values - values))}"
    )


def test_levels_are_in_hierarchy_order() -> None:
    assert list(get_args(model.Level)) == _schema()["$defs"]["scorecard_entry"]["properties"]["at"]["enum"]


def test_grains_are_in_size_order() -> None:
    assert list(periods.GRAINS) == _schema()["$defs"]["period_or_grain"]["anyOf"][0]["enum"]
    assert config_schema._GRAINS == periods.GRAINS


@pytest.mark.parametrize("key", ["unit", "direction", "category", "indicator"])
def test_kpi_variant_enums_equal_the_kpis(key: str) -> None:
    defs = _schema()["$defs"]
    assert defs["kpi_variant"]["properties"][key]["enum"] == defs["kpi"]["properties"][key]["enum"]
