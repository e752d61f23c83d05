"""Canonical hashes of definitions and results.

The same definitions hash the same whatever their key order, comments, formatting or split into files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kpi_engine.config import model as m


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


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
