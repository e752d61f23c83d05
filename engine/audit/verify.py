"""Re-verify a past run: recompute it with the definitions it stored, on today's data, and compare."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi_engine.audit.chain import ChainCheck, check_chain
from kpi_engine.audit.hashing import definitions_hash, document_hash, results_hash, stored_definitions_hash
from kpi_engine.audit.recording import ENGINE_VERSION, run_data, stored_results
from kpi_engine.config import model as m
from kpi_engine.data.ledger import RunRecord, duckdb_version, entries, to_run
from kpi_engine.documents import Results, bonus_results, evaluation_results, payouts, results_document
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.execution import Target
from kpi_engine.literal import literal

if TYPE_CHECKING:
    from kpi_engine.evaluation.runner import Evaluation

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
    stored: list[str] = field(default_factory=list)
    data_changed: list[str] = field(default_factory=list)
    money: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Exit 0 of `runs verify WS ID`: stored hashes hold, same data, same engine, identical results."""
        return self.identical and not (self.stored or self.data_changed or self.engine_changed or self.changed_sources)


def stored_hash(run: RunRecord, stored: Results | dict[str, Any]) -> str | None:
    """The hash of a run's stored results, as its kind of entry defines it; None when they cannot be hashed."""
    try:
        if run.columnar:
            return results_hash(stored) if isinstance(stored, Results) else None
        return document_hash(json.loads(run.stored_results))
    except (ValueError, KeyError, TypeError):
        return None


def check_stored(run: RunRecord, stored: Results | dict[str, Any]) -> list[str]:
    """The run's stored definitions and results (`stored`, as read back) against the hashes stored beside them."""
    found = []
    try:
        inner = json.loads(run.stored_definitions)["definitions"]
        definitions_ok = stored_definitions_hash(inner) == run.definitions_hash
    except (ValueError, KeyError, TypeError):
        definitions_ok = False
    if not definitions_ok:
        found.append("the stored definitions do not match the run's definitions_hash")
    if stored_hash(run, stored) != run.results_hash:
        found.append("the stored results do not match the run's results_hash")
    return found


def check_ledger(root: Path, head: str | None = None) -> ChainCheck:
    """`kpi runs verify WS`: the hash chain, then every run's stored definitions and results against its entry.

    The chain hashes each entry's own row, which holds the run's `results_hash`; the run's result rows
    live in the ledger's result tables, so they are hashed again here. A result row edited, added or
    deleted with SQL is reported by its run's id, as an edited entry is.
    """
    found = entries(root)
    chain = check_chain(found, head)
    problems = list(chain.problems)
    for e in found:
        if e.table == "runs":
            run = to_run(e.row)
            name = f"run {literal(run.id)} (entry #{e.row.get('seq')})"
            problems += [f"{name}: {p}; edited in the ledger" for p in check_stored(run, stored_results(root, run))]
    return ChainCheck(chain.entries, chain.head, problems)


def check_data(run: RunRecord, now: list[dict[str, Any]]) -> list[str]:
    """Each file the run read against the file now, and each imported table against its hash then."""
    from kpi_engine.data.files import combined_sha256

    found = []
    current = {(d["source"], d["file"]): d for d in now}
    by_source: dict[str, list[tuple[str, str]]] = {}
    for d in now:
        if d["file"] is not None:
            by_source.setdefault(d["source"], []).append((d["file"], d["sha256"]))
    tables_then: dict[str, Any] = {}
    for then in run.data:
        source, name = str(then.get("source")), then.get("file")
        if then.get("table_hash") is not None:
            tables_then[source] = then["table_hash"]
        if name is None:
            if then.get("sha256") is not None and combined_sha256(by_source.get(source, [])) != then["sha256"]:
                found.append(f"source `{literal(source)}`: its files changed since the run")
            continue
        here = current.get((source, name))
        if here is None:
            found.append(f"source `{literal(source)}`: file `{literal(name)}` is gone since the run")
        elif here["sha256"] != then.get("sha256"):
            found.append(
                f"source `{literal(source)}`: file `{literal(name)}` changed since the run "
                f"(sha256 {literal(then.get('sha256'))} then, {here['sha256']} now)"
            )
    names = {(str(d.get("source")), d.get("file")) for d in run.data}
    found += [
        f"source `{literal(s)}`: file `{literal(f)}` is new since the run"
        for (s, f) in sorted(current, key=str)
        if f is not None
        and (s, f) not in names
        and any(str(d.get("source")) == s and d.get("file") is not None for d in run.data)
    ]
    tables_now = {d["source"]: d["table_hash"] for d in now}
    for source, hashed in sorted(tables_then.items()):
        if tables_now.get(source) != hashed:
            found.append(
                f"source `{literal(source)}`: the imported table no longer matches what the run read "
                "(changed, re-imported or gone)"
            )
    return found


def _money(run: RunRecord, stored: Results | dict[str, Any], recomputed: Results) -> list[str]:
    """People whose payout differs between the stored run and the recomputation."""
    if run.kind != "bonus" or recomputed.kind != "bonus":
        return []
    old, new = payouts(stored), payouts(recomputed)
    return [
        f"{literal(person)}: {literal(old.get(person))} → {literal(new.get(person))}"
        for person in sorted(set(old) | set(new))
        if old.get(person) != new.get(person)
    ]


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
    from kpi_engine.pipeline import model_from_data

    stored = json.loads(run.definitions)
    data = _decode(stored["definitions"])
    origins: dict[tuple[str, ...], Path] = {
        ("sources", sid): (root / rel / "definitions.yaml") for sid, rel in stored.get("source_dirs", {}).items()
    }
    workspace, problems = model_from_data(root, data, origins)
    if problems:
        raise KpiError(problems)
    return workspace


def run_target(run: RunRecord) -> Target:
    """The engine a run used, as its entry records it (runs on DuckDB record none: DuckDB)."""
    engine = run.options.get("engine")
    if isinstance(engine, Mapping) and isinstance(engine.get("name"), str):
        connection = engine.get("connection")
        return Target(engine["name"], connection if isinstance(connection, str) else None)
    return Target()


def recompute(run: RunRecord, ws: m.Workspace, target: Target | None = None) -> tuple[Results, Evaluation]:
    """The results of a run computed again (on ``target``, default the run's own engine), and its evaluation."""
    from kpi_engine.pipeline import compile_workspace, evaluate, pay

    options = dict(run.options)
    on = target or run_target(run)
    if run.kind == "bonus":
        paid = pay(compile_workspace(ws), options.get("plan"), options.get("period"), target=on)
        return bonus_results(paid, ws.organization.currency), paid.evaluation
    if run.kind == "evaluate":
        evaluated = evaluate(
            compile_workspace(ws, options.get("kpis") or ()),
            options["period"],
            grain=options.get("grain"),
            subject=options.get("subject"),
            by=options.get("by") or (),
            at=options.get("at"),
            target=on,
        )
        return evaluation_results(evaluated), evaluated
    raise KpiError([error(Code.BAD_VALUE, f"run `{run.id}` is of unknown kind `{run.kind}`")])


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


def verify(run: RunRecord, current: m.Workspace, target: Target | None = None) -> Verification:
    """Check a run's stored hashes and data, and recompute it.

    The recomputation uses the run's stored definitions on the current data of `current`'s workspace,
    on the engine the run used unless ``target`` names another.
    """
    kept = stored_results(current.root, run)
    problems = check_stored(run, kept)
    old_ws = stored_workspace(run, current.root)
    recomputed, evaluation = recompute(run, old_ws, target)
    if run.columnar:
        now = results_hash(recomputed)
    else:
        now = document_hash(results_document(recomputed, sort_keys=True))
    identical = now == stored_hash(run, kept) == run.results_hash
    found = Verification(run, identical, stored=problems)
    if not identical:
        old = kept if isinstance(kept, dict) else results_document(kept, sort_keys=True)
        found.differences = differences(old, results_document(recomputed, sort_keys=True))[:MAX_DIFFERENCES]
        found.money = _money(run, kept, recomputed)
    found.data_changed = check_data(run, run_data(old_ws, live=True, read=evaluation.read))
    found.changed_sources = sorted({line.split("`")[1] for line in found.data_changed})
    found.definitions_changed_since = definitions_hash(current) != run.definitions_hash
    found.engine_changed = engine_changes(run, evaluation.engine)
    return found


def engine_changes(run: RunRecord, now: Mapping[str, str | None]) -> list[str]:
    """What differs between the engine a run used and the one that recomputed it: kpi-engine, the query engine."""
    found = []
    if run.engine_version != ENGINE_VERSION:
        found.append(f"kpi-engine {run.engine_version} → {ENGINE_VERSION}")
    then = run.options.get("engine")
    if isinstance(then, Mapping):
        before = f"{then.get('name')} {then.get('version')}"
    else:
        before = f"duckdb {run.duckdb_version}"
    after = f"{now.get('name')} {now.get('version')}" if now else f"duckdb {duckdb_version()}"
    if before != after:
        found.append(f"{before} → {after}".replace("duckdb ", "DuckDB ").replace("postgres ", "PostgreSQL "))
    return found
