"""A run's results document (SPEC §7.2) as JSON text, written from its columns.

Byte for byte what ``to_json(results_document(results))`` writes, without building a dict per row:
numbers are cut from the JSON text of their column (:attr:`kpi_engine.documents.Table.json`, written
once for the ledger), text columns are encoded in one pass each, and every row is one template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kpi_engine.documents import (
    GOAL_KEYS,
    ITEM_KEYS,
    KPI_KEYS,
    PAYOUT_KEYS,
    SCORECARD_KEYS,
    Results,
    Table,
    json_cells,
)
from kpi_engine.json_text import array, dumps, encode_column, members, record_rows

_NUMBERS = ("number", "integer")


def _cells(table: Table, name: str, level: int) -> list[str]:
    """One column as JSON texts at `level`."""
    index = table.index(name)
    if table.columns[index][1] in _NUMBERS:
        return json_cells(table.json[index])
    return encode_column(table.data[index], level)


def _rows(table: Table, keys: Sequence[str], level: int, given: Mapping[str, list[str]] | None = None) -> list[str]:
    """The table's rows as objects at `level` with `keys` in order; `given` holds texts of keys it lacks."""
    cells = [given[k] if given and k in given else _cells(table, k, level + 1) for k in keys]
    return record_rows(keys, cells, level)


def _keys(keys: Sequence[str], sort_keys: bool) -> list[str]:
    return sorted(keys) if sort_keys else list(keys)


def _kpis(results: Results, level: int, sort_keys: bool) -> str:
    table = results.table("kpis")
    names: list[str] = results.fields.get("by") or []
    if not names:
        return array(_rows(table, _keys([k for k in KPI_KEYS if k != "by"], sort_keys), level + 1), level)
    order = sorted(names) if sort_keys else names
    position = [names.index(name) for name in order]
    by = [
        dumps(None if v is None else {order[i]: v[p] for i, p in enumerate(position)}, level + 2)
        for v in table.column("by")
    ]
    return array(_rows(table, _keys(KPI_KEYS, sort_keys), level + 1, {"by": by}), level)


def _scorecards(results: Results, level: int, sort_keys: bool) -> str:
    cards, items = results.table("scorecards"), results.table("items")
    rows = _rows(items, _keys(ITEM_KEYS, sort_keys), level + 3)
    grouped: list[list[str]] = [[] for _ in range(len(cards))]
    for card, row in zip(items.column("card"), rows, strict=True):
        grouped[card].append(row)
    texts = [array(group, level + 2) for group in grouped]
    return array(_rows(cards, _keys(SCORECARD_KEYS, sort_keys), level + 1, {"items": texts}), level)


def results_members(results: Results, level: int, sort_keys: bool = False) -> list[tuple[str, str]]:
    """(key, JSON text) of each member of the results document, for an object at `level`.

    `sort_keys`: every object's keys sorted, as the ledger shows a run's results.
    """
    inner = level + 1
    if results.kind == "bonus":
        fields = results.fields
        found = [(k, dumps(fields.get(k), inner)) for k in ("plan", "currency", "pool", "total")]
        found.append(
            ("payouts", array(_rows(results.table("payouts"), _keys(PAYOUT_KEYS, sort_keys), inner + 1), inner))
        )
    else:
        found = [
            ("kpis", _kpis(results, inner, sort_keys)),
            ("scorecards", _scorecards(results, inner, sort_keys)),
            ("goals", array(_rows(results.table("goals"), _keys(GOAL_KEYS, sort_keys), inner + 1), inner)),
        ]
    return sorted(found) if sort_keys else found


def results_json(results: Results, level: int = 0, sort_keys: bool = False) -> str:
    """The results document as JSON text at `level` (no final newline)."""
    return members(results_members(results, level, sort_keys), level)


def document_json(results: Results, before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """A whole document: the members of `before`, the results' members, the members of `after`; a final newline."""
    pairs = [
        *((k, dumps(v, 1)) for k, v in before.items()),
        *results_members(results, 0),
        *((k, dumps(v, 1)) for k, v in after.items()),
    ]
    return members(pairs, 0) + "\n"
