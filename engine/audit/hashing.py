"""Canonical hashes: the same definitions hash the same whatever their key order, comments,
formatting or split into files."""

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
    return json.dumps(_canonical(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def definitions_hash(ws: m.Workspace) -> str:
    """sha256 of the canonical definitions."""
    return hashlib.sha256(canonical_definitions(ws).encode("utf-8")).hexdigest()
