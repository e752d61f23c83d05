"""Re-verify a past run: recompute it with the definitions it stored, on today's data, and compare."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kpi_engine.audit.hashing import definitions_hash
from kpi_engine.audit.runs import ENGINE_VERSION, results_hash
from kpi_engine.config import model as m
from kpi_engine.config.build import build_model
from kpi_engine.config.loader import SourceMap
from kpi_engine.config.workspace import Definitions
from kpi_engine.data.files import source_hashes
from kpi_engine.data.ledger import RunRecord, duckdb_version
from kpi_engine.errors import Code, KpiError, error

MAX_DIFFERENCES = 50


@dataclass
class Verification:
    """What verify found: equal or the differences, and why they may have happened."""

    run: RunRecord
    identical: bool
    differences: list[str] = field(default_factory=list)
    changed_sources: list[str] = field(default_factory=list)
    definitions_changed_since: bool = False
    engine_changed: list[str] = field(default_factory=list)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$decimal"}:
            text = value["$decimal"]
            return int(text) if "." not in text else Decimal(text)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def stored_workspace(run: RunRecord, root: Path) -> m.Workspace:
    """The workspace as the run saw it: its stored definitions, with sources read from `root`."""
    stored = json.loads(run.definitions)
    data = _decode(stored["definitions"])
    origins: dict[tuple[str, ...], Path] = {("sources", sid): (root / rel / "definitions.yaml")
               for sid, rel in stored.get("source_dirs", {}).items()}
    defs = Definitions(root, [], data, SourceMap(), [], origins)
    workspace, problems = build_model(defs)
    if problems:
        raise KpiError(problems)
    return workspace


def recompute(run: RunRecord, ws: m.Workspace) -> Any:
    """The results document of a run, computed again (without its run block)."""
    options = dict(run.options)
    if run.kind == "bonus":
        from kpi_engine.bonus import compute_bonus
        from kpi_engine.report.bonus import bonus_document

        paid = compute_bonus(ws, options.get("plan"), options.get("period"))
        document = bonus_document(paid, {}, ws.organization.currency)
    elif run.kind == "evaluate":
        from kpi_engine.evaluation import evaluate
        from kpi_engine.report.evaluation import evaluation_document

        evaluated = evaluate(ws, options["period"], grain=options.get("grain"), kpis=options.get("kpis") or (),
                             subject=options.get("subject"), by=options.get("by") or (), at=options.get("at"))
        document = evaluation_document(evaluated, {})
    else:
        raise KpiError([error(Code.BAD_VALUE, f"run `{run.id}` is of unknown kind `{run.kind}`")])
    document.pop("run")
    return json.loads(json.dumps(document, sort_keys=True))


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """Human lines for every place two result documents differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            where = f"{path}.{key}" if path else key
            if key not in old:
                out.append(f"{where}: added {json.dumps(new[key])[:120]}")
            elif key not in new:
                out.append(f"{where}: removed (was {json.dumps(old[key])[:120]})")
            else:
                out += differences(old[key], new[key], where)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            label = _label(old[i] if i < len(old) else new[i], i)
            where = f"{path}[{label}]"
            if i >= len(old):
                out.append(f"{where}: added")
            elif i >= len(new):
                out.append(f"{where}: removed")
            else:
                out += differences(old[i], new[i], where)
        return out
    return [] if old == new else [f"{path}: {json.dumps(old)} → {json.dumps(new)}"]


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        keys = [str(item[k]) for k in ("kpi", "scorecard", "person", "subject", "period", "goal") if item.get(k)]
        if keys:
            return "/".join(keys)
    return str(index)


def verify(run: RunRecord, current: m.Workspace) -> Verification:
    """Recompute `run` with its stored definitions on the current data of `current`'s workspace."""
    old_ws = stored_workspace(run, current.root)
    recomputed = recompute(run, old_ws)
    identical = results_hash(recomputed) == run.results_hash
    found = Verification(run, identical)
    if not identical:
        found.differences = differences(run.results, recomputed)[:MAX_DIFFERENCES]
    now_hashes = source_hashes(old_ws.sources)
    found.changed_sources = sorted(s for s in set(run.data_hashes) | set(now_hashes)
                                   if run.data_hashes.get(s) != now_hashes.get(s))
    found.definitions_changed_since = definitions_hash(current) != run.definitions_hash
    if run.engine_version != ENGINE_VERSION:
        found.engine_changed.append(f"kpi-engine {run.engine_version} → {ENGINE_VERSION}")
    if run.duckdb_version != duckdb_version():
        found.engine_changed.append(f"DuckDB {run.duckdb_version} → {duckdb_version()}")
    return found
