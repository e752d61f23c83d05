"""Ledger output: run lists, one run, the chain, and what `runs verify` found.

Everything user-written (names, notes, ids, file names) is printed literally: table cells are plain
`Text` (no Rich markup), and control characters are escaped (SPEC §13).
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_engine.audit.chain import ChainCheck
from kpi_engine.audit.verify import Verification
from kpi_engine.data.ledger import RunRecord
from kpi_engine.documents import Results, payout_pairs, to_json
from kpi_engine.json_text import dumps, members
from kpi_engine.literal import literal
from kpi_engine.report.results_json import results_json


def runs_json(runs: list[RunRecord]) -> str:
    """SPEC §7.2: {"runs": [{id, time, command, version, definitions_hash, approved_by}]}, newest first."""
    return to_json(
        {
            "runs": [
                {
                    "id": r.id,
                    "time": r.time,
                    "command": "kpi " + " ".join(r.arguments),
                    "kind": r.kind,
                    "period": r.period,
                    "version": r.version,
                    "definitions_hash": r.definitions_hash,
                    "approved_by": r.approved_by,
                    "user": r.user,
                    "host": r.host,
                    "hash": r.hash,
                }
                for r in runs
            ]
        }
    )


def runs_table(runs: list[RunRecord], width: int = 140) -> str:
    """A human list of runs."""
    if not runs:
        return "no runs recorded yet (every `kpi evaluate` and `kpi bonus` is recorded)"
    console = Console(
        file=io.StringIO(),
        record=True,
        width=width,
        force_terminal=False,
        color_system=None,
        markup=False,
        emoji=False,
        highlight=False,
    )
    table = Table(title="Runs (newest first)")
    for col in ("id", "time", "kind", "period", "version", "definitions", "user", "approved by"):
        table.add_column(col)
    for r in runs:
        table.add_row(
            *(
                Text(literal(v))
                for v in (
                    r.id,
                    r.time,
                    r.kind,
                    r.period or "",
                    r.version,
                    r.definitions_hash[:12],
                    r.user,
                    r.approved_by or "",
                )
            )
        )
    console.print(table)
    return console.export_text()


def _approval(a: object) -> dict[str, object]:
    return {k: getattr(a, k) for k in ("id", "approved_by", "time", "note", "user", "host", "prev_hash", "hash")}


def run_json(run: RunRecord, results: Results | dict[str, Any]) -> str:
    """Everything the ledger holds about a run, with its `results` as read back (definitions: by their hash).

    The results print as the ledger has always shown them: every object's keys sorted.
    """
    about = {
        "id": run.id,
        "time": run.time,
        "kind": run.kind,
        "command": "kpi " + " ".join(run.arguments),
        "options": dict(run.options),
        "engine": f"kpi-engine {run.engine_version}",
        "engine_version": run.engine_version,
        "duckdb_version": run.duckdb_version,
        "version": run.version,
        "user": run.user,
        "host": run.host,
        "definitions_hash": run.definitions_hash,
        "data": [dict(d) for d in run.data],
        "period": run.period,
        "results_hash": run.results_hash,
        "seq": run.seq,
        "prev_hash": run.prev_hash,
        "hash": run.hash,
        "approved_by": run.approved_by,
        "approved_at": run.approved_at,
        "approval_note": run.approval_note,
        "approvals": [_approval(a) for a in run.approvals],
    }
    shown = results_json(results, 1, sort_keys=True) if isinstance(results, Results) else dumps(results, 1)
    return members([*((k, dumps(v, 1)) for k, v in about.items()), ("results", shown)], 0) + "\n"


def query_engine(run: RunRecord) -> str:
    """Where a run's queries ran, as `runs show` prints it: `DuckDB 2.0.1` or `PostgreSQL 15.18 at URL`."""
    engine = run.options.get("engine")
    if not isinstance(engine, dict):
        return f"DuckDB {literal(run.duckdb_version)}"
    name = {"postgres": "PostgreSQL", "spark": "Spark", "duckdb": "DuckDB"}.get(str(engine.get("name")), "?")
    where = f" at {literal(engine['connection'])}" if engine.get("connection") else ""
    return f"{name} {literal(engine.get('version'))}{where}"


def run_text(run: RunRecord, results: Results | dict[str, Any]) -> str:
    """A human summary of a run (a bonus run's payouts from `results`, as read back)."""
    lines = [
        f"run {literal(run.id)} ({run.kind}) at {literal(run.time)}, entry #{run.seq}",
        f"  command      kpi {literal(' '.join(run.arguments))}",
        f"  by           {literal(run.user)} on {literal(run.host)}",
        f"  rules        version {literal(run.version)}, definitions {run.definitions_hash}",
        f"  engine       kpi-engine {literal(run.engine_version)}, {query_engine(run)}",
        f"  results      {run.results_hash}",
        f"  chain        prev {run.prev_hash}",
        f"               hash {run.hash}",
    ]
    for d in run.data:
        table = f", table {d.get('table_hash')}" if d.get("table_hash") else ""
        lines.append(
            f"  data         {literal(d.get('source'))}: {literal(d.get('file') or '(table)')} "
            f"{d.get('sha256') or ''}{table}"
        )
    for a in run.approvals:
        lines.append(
            f"  approved     by {literal(a.approved_by)} at {literal(a.time)} (OS user {literal(a.user)} on "
            f"{literal(a.host)})" + (f": {literal(a.note)}" if a.note else "")
        )
    if run.kind == "bonus":
        fields = results.fields if isinstance(results, Results) else results
        lines.append(f"  total        {literal(fields.get('total'))} {literal(fields.get('currency', ''))}")
        lines += [f"    {literal(person):<12} {literal(paid):>14}" for person, paid in payout_pairs(results)]
    return "\n".join(lines)


def chain_text(chain: ChainCheck) -> str:
    """What the chain check says: intact with its head, or each broken entry."""
    head = f"{chain.entries} entr{'y' if chain.entries == 1 else 'ies'}, head {chain.head}"
    if chain.intact:
        return f"ledger: chain intact — {head}"
    return "\n".join([f"ledger: chain BROKEN — {head}", *(f"  {p}" for p in chain.problems)])


def verification_text(found: Verification) -> str:
    """What `runs verify` says about a run: verified, or each difference and its likely cause."""
    run = found.run
    if found.ok:
        verdict = (
            "verified — stored hashes hold, data unchanged, identical when recomputed with its stored "
            "definitions on the current data"
        )
    elif found.identical:
        verdict = "DOES NOT VERIFY — identical when recomputed, but see below"
    else:
        verdict = "DIFFERS when recomputed on the current data"
    lines = [f"run {literal(run.id)}: {verdict}"]
    lines += [f"  stored: {s}" for s in found.stored]
    lines += [f"  {literal(d)}" for d in found.differences]
    if found.money:
        lines.append("  money differs for: " + "; ".join(found.money))
    lines += [f"  data changed: {d}" for d in found.data_changed]
    if found.changed_sources:
        lines.append("  data changed since the run: " + ", ".join(f"source `{s}`" for s in found.changed_sources))
    elif not found.identical:
        lines.append("  the data files are unchanged")
    lines += [f"  engine changed: {e}" for e in found.engine_changed]
    for a in run.approvals:
        lines.append(f"  approved by {literal(a.approved_by)} at {literal(a.time)} (entry #{a.seq})")
    lines.append(
        "  the workspace's current definitions differ from the run's (definitions changed since this run)"
        if found.definitions_changed_since
        else "  the workspace's current definitions are the run's"
    )
    return "\n".join(lines)
