"""Ledger output: run lists, one run, and what `runs verify` found."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from kpi_engine.audit.verify import Verification
from kpi_engine.data.ledger import RunRecord
from kpi_engine.literal import cells
from kpi_engine.report.formats import to_json


def runs_json(runs: list[RunRecord]) -> str:
    """SPEC §7.2: {"runs": [{id, time, command, version, definitions_hash, approved_by}]}, newest first."""
    return to_json({"runs": [{"id": r.id, "time": r.time, "command": "kpi " + " ".join(r.arguments),
                              "kind": r.kind, "period": r.period, "version": r.version,
                              "definitions_hash": r.definitions_hash, "approved_by": r.approved_by}
                             for r in runs]})


def runs_table(runs: list[RunRecord], width: int = 140) -> str:
    """A human list of runs."""
    if not runs:
        return "no runs recorded yet (every `kpi evaluate` and `kpi bonus` is recorded)"
    console = Console(file=io.StringIO(), record=True, width=width, force_terminal=False, color_system=None)
    table = Table(title="Runs (newest first)")
    for col in ("id", "time", "kind", "period", "version", "definitions", "approved by"):
        table.add_column(col)
    for r in runs:
        table.add_row(*cells(r.id, r.time, r.kind, r.period, r.version, r.definitions_hash[:12],
                             r.approved_by))
    console.print(table)
    return console.export_text()


def run_json(run: RunRecord) -> str:
    """Everything the ledger holds about a run (its stored definitions are summarised by their hash)."""
    return to_json({"id": run.id, "time": run.time, "kind": run.kind, "command": "kpi " + " ".join(run.arguments),
                    "options": dict(run.options), "engine_version": run.engine_version,
                    "duckdb_version": run.duckdb_version, "version": run.version,
                    "definitions_hash": run.definitions_hash, "data_hashes": dict(run.data_hashes),
                    "period": run.period, "results_hash": run.results_hash, "approved_by": run.approved_by,
                    "approved_at": run.approved_at, "approval_note": run.approval_note, "results": run.results})


def run_text(run: RunRecord) -> str:
    """A human summary of a run."""
    lines = [f"run {run.id} ({run.kind}) at {run.time}",
             f"  command      kpi {' '.join(run.arguments)}",
             f"  rules        version {run.version}, definitions {run.definitions_hash}",
             f"  engine       kpi-engine {run.engine_version}, DuckDB {run.duckdb_version}",
             f"  results      {run.results_hash}"]
    lines += [f"  data         {source}: {digest}" for source, digest in sorted(run.data_hashes.items())]
    if run.approved_by:
        lines.append(f"  approved     by {run.approved_by} at {run.approved_at}"
                     + (f" ({run.approval_note})" if run.approval_note else ""))
    if run.kind == "bonus":
        lines.append(f"  total        {run.results.get('total')} {run.results.get('currency', '')}")
        lines += [f"    {p['person']:<12} {p['payout']:>14}" for p in run.results.get("payouts", [])]
    return "\n".join(lines)


def verification_text(found: Verification) -> str:
    """What `runs verify` says: identical, or each difference and its likely cause."""
    run = found.run
    lines = [f"run {run.id}: " + ("identical — recomputed with its stored definitions on the current data"
                                  if found.identical else "DIFFERS when recomputed on the current data")]
    lines += [f"  {d}" for d in found.differences]
    if found.changed_sources:
        lines.append("  data changed since the run: " + ", ".join(f"source `{s}`" for s in found.changed_sources))
    elif not found.identical:
        lines.append("  the data files are unchanged")
    lines += [f"  engine changed: {e}" for e in found.engine_changed]
    lines.append("  the workspace's current definitions differ from the run's (definitions changed since this run)"
                 if found.definitions_changed_since else "  the workspace's current definitions are the run's")
    return "\n".join(lines)
