r"""Canonical hashes of definitions and results.

The same definitions hash the same whatever their key order, comments, formatting or split into files.

A run's results hash (:func:`results_hash`) is taken over its tables column by column, as the ledger
stores them: sha256 of the UTF-8 text

    kpi-engine results columns/1 KIND\n
    fields FIELDS\n
    table NAME ROWS\n                       for each table of KIND, in :data:`SCHEMA` order
    column NAME TYPE VALUES\n               for each of its columns, in order

where FIELDS is the run's fields as JSON with sorted keys and VALUES a column's values in row order as
a JSON array (`json.dumps(values, separators=(",", ":"), allow_nan=False)`: ASCII, numbers as the
JSON output prints them, null for a missing value). The same text is what the ledger loads the rows
from, so a result is turned into text once. Runs recorded before this layout keep the hash of their
JSON document (:func:`document_hash`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kpi_engine.config import model as m
from kpi_engine.documents import LAYOUT, SCHEMA, Results


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return {"$decimal": format(value, "f")}
    return value


def canonical_definitions(ws: m.Workspace) -> str:
    """The merged definitions as canonical JSON (sorted keys, exact decimals, no positions)."""
    data = {k: v for k, v in ws.data.items() if k != "include"}
    return _json(_canonical(data))


def definitions_hash(ws: m.Workspace) -> str:
    """sha256 of the canonical definitions."""
    return _sha256(canonical_definitions(ws))


def stored_definitions_hash(definitions: Any) -> str:
    """The definitions hash of definitions already in canonical form (as the ledger stores them)."""
    return _sha256(_json(definitions))


def results_hash(results: Results) -> str:
    """sha256 of a run's results, column by column (the module's docstring gives the text hashed).

    Each column's text is the table's :attr:`~kpi_engine.documents.Table.json`, which the ledger loads
    the rows from too. Raises ValueError for a value JSON cannot hold (a stored NaN).
    """
    fields = json.dumps(results.fields, sort_keys=True, separators=(",", ":"), allow_nan=False)
    digest = hashlib.sha256(f"kpi-engine results {LAYOUT} {results.kind}\nfields {fields}\n".encode())
    for name, columns in SCHEMA[results.kind].items():
        table = results.tables[name]
        digest.update(f"table {name} {len(table)}\n".encode())
        for (column, kind), text in zip(columns, table.json, strict=True):
            digest.update(f"column {column} {kind} ".encode())
            digest.update(text.encode())
            digest.update(b"\n")
    return digest.hexdigest()


def document_hash(document: Any) -> str:
    """sha256 of a results document's canonical JSON: the results hash of runs recorded as one document."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
