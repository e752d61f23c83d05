"""Recording runs in the ledger: what was computed, from which definitions and data, by which engine."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kpi_engine import __version__
from kpi_engine.audit.hashing import canonical_definitions, definitions_hash
from kpi_engine.config import model as m
from kpi_engine.data.files import source_hashes
from kpi_engine.data.ledger import RunRecord, append_run, duckdb_version

ENGINE_VERSION = __version__


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: UTC time plus random hex."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def results_hash(results: Any) -> str:
    """sha256 of the canonical JSON of a run's results."""
    return hashlib.sha256(json.dumps(results, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class RunHeader:
    """The `run` block printed with every result."""

    id: str
    time: str
    definitions_hash: str
    version: str
    period: str | None

    def block(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time, "definitions_hash": self.definitions_hash,
                "version": self.version, "period": self.period}


def stored_definitions(ws: m.Workspace) -> str:
    """What the ledger keeps to recompute a run: the canonical definitions, and where each source's
    relative paths start (relative to the workspace root)."""
    import os

    dirs = {sid: os.path.relpath(s.base_dir, ws.root) for sid, s in sorted(ws.sources.items())}
    return json.dumps({"definitions": json.loads(canonical_definitions(ws)), "source_dirs": dirs}, sort_keys=True)


def utc_timestamp(now: datetime) -> str:
    """How the ledger writes a time: UTC to the second, ISO 8601 with a Z."""
    return now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def record(ws: m.Workspace, kind: str, period: str | None, arguments: Sequence[str], results: Any,
           options: Mapping[str, Any], plan: str | None = None) -> RunHeader:
    """Append a run to the workspace ledger and return its header."""
    now = datetime.now(UTC).replace(microsecond=0)
    header = RunHeader(new_run_id(now), utc_timestamp(now), definitions_hash(ws),
                       ws.organization.version, period)
    data_hashes: Mapping[str, str] = source_hashes(ws.sources)
    append_run(ws.root, ws.organization.timezone, RunRecord(
        header.id, header.time, kind, "kpi " + kind, tuple(arguments), ENGINE_VERSION, duckdb_version(),
        header.version, header.definitions_hash, stored_definitions(ws), data_hashes, period, options, plan,
        results, results_hash(results)))
    return header


def record_evaluation(ws: m.Workspace, result: Any, arguments: Sequence[str],
                      options: Mapping[str, Any]) -> dict[str, Any]:
    """Record an evaluate run; the results stored are the JSON document without its run block."""
    from kpi_engine.report.evaluation import evaluation_document

    document = evaluation_document(result, {})
    document.pop("run")
    header = record(ws, "evaluate", result.period.label, arguments, document, options, result.plan.explain())
    return header.block()
