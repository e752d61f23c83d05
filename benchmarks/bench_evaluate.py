"""Evaluation benchmark: the engine's 12-KPI scorecard workload against a hand-written DuckDB query.

    .venv/bin/python benchmarks/bench_evaluate.py [--rows 1000000 5000000 20000000] [--runs 3]
        [--seed S] [--threads N] [--work DIR] [--keep] [--reuse] [--diagnose] [--cli] [--out FILE]

For each size: generate the tickets (benchmarks/gen_tickets.py, a subprocess) into a copy of
benchmarks/workspace/, `kpi import` it (a subprocess: wall time, rows/s, its peak RSS), then, in
this one process, on the same locked-down read-only warehouse:

  (a) the engine: `evaluate(compile_workspace(ws), "2025", grain="month", wh=wh)` — every KPI for every agent, unit
      and the organization per month, with statuses, scores, ranks, 2,011 scorecards × 12 months;
  (b) a hand-written single-scan DuckDB query computing the same 12 KPIs per agent, per
      department and for the organization per month (GROUPING SETS).

Runs alternate (engine, hand, engine, hand, …) after one untimed warm-up of the table, and the
best of --runs is kept for each. Printed and written to JSON (--out, default
benchmarks/results/latest.json): both times, the ratio, the engine's phases (its SQL, load of the
roster, statuses/scores/ranks, scorecards), the ratio of its SQL alone, peak RSS of each side
(VmHWM, reset before every run) and the peak DuckDB memory seen by a sampler, and the check that
every value agrees (each agent, department and organization per month, to 1e-9 relative).

--diagnose also writes EXPLAIN ANALYZE summaries of the engine's scan query and of the
hand-written query to benchmarks/results/, and times variants of the engine's query with one
feature removed each, to show where its extra time goes. --cli times the `kpi evaluate` command
once (JSON to a file, ledger write included).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
from hand_query import GRAIN, HAND_KPIS, HAND_SQL, PERIOD  # noqa: E402
from workload import KPI_BIN, generate_workspace, run_child  # noqa: E402
from workload import mib as _mib  # noqa: E402

import kpi_engine.evaluation.runner as evaluation  # noqa: E402
from kpi_engine.data.warehouse import Warehouse, lock_down, open_warehouse  # noqa: E402
from kpi_engine.pipeline import compile_workspace, load_workspace  # noqa: E402

REL_TOL = 1e-9
ENGINE_PHASES = ("load_org", "evaluate_values", "kpi_results", "assign_scorecards", "scorecard_results", "goal_results")


# --- memory -------------------------------------------------------------------------------------


def _status(field_name: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) * 1024 if found else None


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss() -> int:
    """Peak RSS in bytes since the last reset (VmHWM), else since the start (ru_maxrss)."""
    hwm = _status("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class DuckMemorySampler:
    """Samples `duckdb_memory()` (memory DuckDB's buffer manager holds) from a second cursor."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, every: float = 0.05) -> None:
        self.cursor = conn.cursor()
        self.every = every
        self.peak = 0
        self.ok = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ((used,),) = self.cursor.execute(
                    "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
                ).fetchall()
                self.peak = max(self.peak, int(used))
            except duckdb.Error:
                self.ok = False
                return
            self._stop.wait(self.every)

    @contextmanager
    def watch(self) -> Iterator[DuckMemorySampler]:
        self.peak = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


# --- timing helpers -----------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    peak_rss: int
    duck_peak: int
    phases: dict[str, float] = field(default_factory=dict)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class PhaseTimer:
    """Wraps the stage functions `kpi_engine.evaluation.runner` calls (module globals) and the warehouse's fetch."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.queries: list[tuple[float, int, str]] = []
        self._saved: dict[str, Callable[..., Any]] = {}

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began

        return timed

    def install(self, wh: Warehouse) -> None:
        for name in ENGINE_PHASES:
            fn = getattr(evaluation, name, None)
            if fn is not None:
                self._saved[name] = fn
                setattr(evaluation, name, self._wrap(name, fn))
        fetch = wh.fetch

        def timed_fetch(sql: str, params: Any = None) -> list[tuple[object, ...]]:
            began = time.perf_counter()
            rows = fetch(sql, params)
            self.queries.append((time.perf_counter() - began, len(rows), sql))
            return rows

        wh.fetch = timed_fetch  # type: ignore[method-assign]

    def uninstall(self, wh: Warehouse) -> None:
        for name, fn in self._saved.items():
            setattr(evaluation, name, fn)
        self._saved.clear()
        wh.__dict__.pop("fetch", None)

    def reset(self) -> None:
        self.seconds = {}
        self.queries = []


def measured(fn: Callable[[], Any], sampler: DuckMemorySampler | None = None) -> tuple[Any, Run]:
    """Run `fn` once: wall and CPU time, peak RSS during it (VmHWM reset first), DuckDB memory if sampled."""
    gc.collect()
    can_reset = reset_peak()
    before = _status("VmRSS") or 0
    cpu0, began = _cpu(), time.perf_counter()
    if sampler is not None and sampler.ok:
        with sampler.watch():
            result = fn()
        duck = sampler.peak
    else:
        result = fn()
        duck = 0
    wall, cpu = time.perf_counter() - began, _cpu() - cpu0
    peak = peak_rss() if can_reset else max(peak_rss(), before)
    return result, Run(wall, cpu, peak, duck)


# --- steps --------------------------------------------------------------------------------------


def prepare(root: Path, rows: int, seed: int, reuse: bool) -> dict[str, Any]:
    """Workspace copy + generated data + `kpi import`; what each step took."""
    info: dict[str, Any] = {}
    tickets = root / "data" / "tickets.parquet"
    if reuse and tickets.is_file() and _parquet_rows(tickets) == rows:
        info["generate"] = {"reused": True}
        shutil.rmtree(root / ".kpi", ignore_errors=True)  # the data is reused; the import is measured again
    else:
        info["generate"] = generate_workspace(root, rows, seed)
    seconds, code, rss, output, _ = run_child(KPI_BIN, "import", str(root))
    if code:
        raise SystemExit(f"kpi import failed:\n{output}")
    unchanged = re.search(r"tickets\.parquet\s*│\s*unchanged", output) is not None
    info["import"] = {
        "seconds": round(seconds, 2),
        "rows_per_s": None if unchanged else round(rows / seconds),
        "peak_rss_mib": _mib(rss),
        "unchanged": unchanged,
    }
    return info


def _parquet_rows(path: Path) -> int:
    conn = duckdb.connect(":memory:")
    try:
        ((n,),) = conn.execute("SELECT sum(num_rows) FROM parquet_file_metadata(?)", [str(path)]).fetchall()
        return int(n)
    finally:
        conn.close()


def compare(result: evaluation.Evaluation, hand_rows: list[tuple[Any, ...]], columns: list[str]) -> dict[str, Any]:
    """Every hand-written value against the engine's (agents, departments, organization; per month)."""
    engine: dict[tuple[str, str, str | None, str], Decimal | None] = {
        (r.kpi, r.subject_type, r.subject, r.period): r.value for r in result.kpis
    }
    index = {c: i for i, c in enumerate(columns)}
    checked = mismatched = missing = 0
    examples: list[str] = []
    worst = 0.0
    root_units = {u for u, path in result.org.paths.items() if len(path) == 1}
    for row in hand_rows:
        month = str(row[index["month"]])[:7]
        g = int(row[index["g"]])
        keys: list[tuple[str, str | None]]
        if g == 0b01:
            keys = [("person", str(row[index["agent_id"]]))]
        elif g == 0b10:
            keys = [("unit", str(row[index["dept"]]))]
        else:  # the organization, and the root unit (every agent is under it)
            keys = [("organization", None)] + [("unit", u) for u in sorted(root_units)]
        for level, subject in keys:
            for kid in HAND_KPIS:
                key = (kid, level, subject, month)
                if key not in engine:
                    missing += 1
                    if len(examples) < 5:
                        examples.append(f"missing in engine: {key}")
                    continue
                checked += 1
                mine, theirs = row[index[kid]], engine[key]
                if mine is None or theirs is None:
                    ok = mine is None and theirs is None
                    diff = 0.0 if ok else math.inf
                else:
                    a, b = float(mine), float(theirs)
                    diff = abs(a - b) / max(abs(a), abs(b), 1e-300) if a != b else 0.0
                    ok = diff <= REL_TOL or abs(a - b) <= 1e-12
                worst = max(worst, diff if math.isfinite(diff) else worst)
                if not ok:
                    mismatched += 1
                    if len(examples) < 5:
                        examples.append(f"{key}: engine {theirs}, hand-written {mine}")
    org = sum(1 for r in hand_rows if int(r[index["g"]]) == 0b11) * len(HAND_KPIS)
    return {
        "values_checked": checked,
        "organization_values": org,
        "mismatched": mismatched,
        "missing_in_engine": missing,
        "worst_relative_difference": worst,
        "examples": examples,
        "agree": mismatched == 0 and missing == 0 and checked > 0,
    }


def bench_size(rows: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    root = work / f"tickets_{rows}"
    print(f"\n== {rows:,} tickets — workspace {root}", flush=True)
    info = prepare(root, rows, args.seed, args.reuse)
    gen, imp = info["generate"], info["import"]
    if not gen.get("reused"):
        print(f"generate    {gen['seconds']:.1f} s, {gen['parquet_mib']} MiB Parquet, fingerprint {gen['fingerprint']}")
    print(
        f"kpi import  {imp['seconds']:.1f} s"
        + (f"  →  {imp['rows_per_s']:,} rows/s" if imp["rows_per_s"] else " (unchanged: no-op)")
        + f", peak RSS {imp['peak_rss_mib']:,} MiB",
        flush=True,
    )

    out: dict[str, Any] = {"rows": rows, **info}
    ws = load_workspace(root)
    reset_peak()
    wh = open_warehouse(root, ws.organization.timezone, read_only=True)
    try:
        if args.threads:
            wh.conn.execute(f"SET threads = {int(args.threads)}")
        lock_down(wh)
        ((threads,),) = wh.conn.execute("SELECT current_setting('threads')").fetchall()
        ((loaded,),) = wh.conn.execute("SELECT count(*) FROM tickets").fetchall()
        baseline = _status("VmRSS") or 0
        timer = PhaseTimer()

        def hand() -> tuple[list[str], list[tuple[Any, ...]]]:
            relation = wh.conn.execute(HAND_SQL)
            fetched = relation.fetchall()
            return [d[0] for d in relation.description], fetched

        hand()  # warm-up: the table's pages into DuckDB's buffer pool, untimed
        engine_runs: list[Run] = []
        hand_runs: list[Run] = []
        result = hand_result = None
        scan_sql = ""
        timer.install(wh)
        try:
            for i in range(args.runs):
                timer.reset()
                result = hand_result = None  # free the previous run's results before measuring memory
                result, run = measured(lambda: evaluation.evaluate(compile_workspace(ws), PERIOD, grain=GRAIN, wh=wh))
                run.phases = dict(timer.seconds)
                run.phases["sql"] = sum(q[0] for q in timer.queries)
                scan = max(timer.queries, key=lambda q: q[0])
                run.phases["scan_query"] = scan[0]
                scan_sql = scan[2]
                engine_runs.append(run)
                hand_result, hrun = measured(hand)
                hand_runs.append(hrun)
                print(
                    f"  run {i + 1}: engine {run.wall:6.2f} s (its SQL {run.phases['sql']:.2f} s)   "
                    f"hand-written {hrun.wall:6.2f} s",
                    flush=True,
                )
        finally:
            timer.uninstall(wh)
        assert result is not None and hand_result is not None
        columns, hand_rows = hand_result
        agreement = compare(result, hand_rows, columns)

        best_e = min(engine_runs, key=lambda r: r.wall)
        best_h = min(hand_runs, key=lambda r: r.wall)
        best_sql = min(r.phases["scan_query"] for r in engine_runs)
        phases = {k: round(v, 3) for k, v in best_e.phases.items()}
        python_s = best_e.wall - best_e.phases["sql"]
        out.update(
            {
                "threads": int(threads),
                "tickets_in_table": loaded,
                "baseline_rss_mib": _mib(baseline),
                "engine": {
                    "best_s": round(best_e.wall, 3),
                    "runs_s": [round(r.wall, 3) for r in engine_runs],
                    "cpu_s_of_best": round(best_e.cpu, 3),
                    "phases_of_best_s": phases,
                    "python_s_of_best": round(python_s, 3),
                    "scan_query_best_s": round(best_sql, 3),
                    "in_process_peak_rss_mib": _mib(max(r.peak_rss for r in engine_runs)),
                    "kpi_rows": len(result.kpis),
                    "scorecards": len(result.scorecards),
                },
                "hand": {
                    "best_s": round(best_h.wall, 3),
                    "runs_s": [round(r.wall, 3) for r in hand_runs],
                    "cpu_s_of_best": round(best_h.cpu, 3),
                    "in_process_peak_rss_mib": _mib(max(r.peak_rss for r in hand_runs)),
                    "rows": len(hand_rows),
                },
                "ratio": round(best_e.wall / best_h.wall, 2),
                "cpu_ratio": round(min(r.cpu for r in engine_runs) / min(r.cpu for r in hand_runs), 2),
                "scan_query_ratio": round(best_sql / best_h.wall, 2),
                "agreement": agreement,
            }
        )
        print(
            f"engine      best {best_e.wall:.2f} s = SQL {best_e.phases['sql']:.2f} s (scan query "
            f"{best_e.phases['scan_query']:.2f} s) + Python {python_s:.2f} s"
        )
        print(
            "            phases: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items() if k not in ("sql", "scan_query"))
        )
        print(f"hand        best {best_h.wall:.2f} s")
        print(
            f"ratio       {out['ratio']:.2f}× (evaluate / hand-written; CPU time {out['cpu_ratio']:.2f}×); "
            f"the engine's scan query alone {out['scan_query_ratio']:.2f}×"
        )
        print(
            f"values      {'agree' if agreement['agree'] else 'DIFFER'}: {agreement['values_checked']:,} checked, "
            f"{agreement['mismatched']} mismatched, worst relative difference "
            f"{agreement['worst_relative_difference']:.1e}"
        )
        for line in agreement["examples"]:
            print(f"            {line}")
        if args.diagnose:
            out["diagnosis"] = diagnose(wh, scan_sql, rows, args.runs)
    finally:
        wh.close()
    if not args.no_memory:
        for side in ("engine", "hand"):
            out[side]["memory"] = memory_child(side, root, args.threads)
        e, h = out["engine"]["memory"], out["hand"]["memory"]
        print(
            f"memory      fresh process, one run each: engine peak RSS {e['peak_rss_mib']:,} MiB (DuckDB "
            f"{e['duckdb_peak_mib']:,} MiB), hand-written {h['peak_rss_mib']:,} MiB "
            f"(DuckDB {h['duckdb_peak_mib']:,} MiB)"
        )
    if args.cli:
        out["cli"] = time_cli(root)
        print(
            f"kpi evaluate (CLI, JSON to a file, ledger write) {out['cli']['seconds']:.1f} s, "
            f"peak RSS {out['cli']['peak_rss_mib']:,} MiB"
        )
    return out


def memory_child(side: str, root: Path, threads: int | None) -> dict[str, Any]:
    """One run of a side in a fresh process: its whole peak RSS (wait4) and the DuckDB memory sampled."""
    extra = ["--threads", str(threads)] if threads else []
    seconds, code, rss, output, _ = run_child(Path(__file__).resolve(), "--child", side, "--work", str(root), *extra)
    if code:
        raise SystemExit(f"memory run of {side} failed:\n{output}")
    found = json.loads(output.strip().splitlines()[-1])
    return {
        "peak_rss_mib": _mib(rss),
        "duckdb_peak_mib": _mib(found["duckdb_peak"]),
        "seconds": round(found["seconds"], 3),
        "process_seconds": round(seconds, 2),
    }


def child(side: str, root: Path, threads: int | None) -> None:
    """--child: open the workspace, run one side once with the DuckDB memory sampler, print JSON."""
    ws = load_workspace(root)
    wh = open_warehouse(root, ws.organization.timezone, read_only=True)
    try:
        if threads:
            wh.conn.execute(f"SET threads = {int(threads)}")
        lock_down(wh)
        sampler = DuckMemorySampler(wh.conn)
        if side == "engine":
            _, run = measured(lambda: evaluation.evaluate(compile_workspace(ws), PERIOD, grain=GRAIN, wh=wh), sampler)
        else:
            _, run = measured(lambda: wh.conn.execute(HAND_SQL).fetchall(), sampler)
    finally:
        wh.close()
    print(json.dumps({"seconds": run.wall, "duckdb_peak": run.duck_peak, "sampler_ok": sampler.ok}))


def time_cli(root: Path) -> dict[str, Any]:
    target = root / "evaluate.json"
    seconds, code, rss, output, _ = run_child(
        KPI_BIN, "evaluate", str(root), "--period", PERIOD, "--grain", GRAIN, "--format", "json", "--out", str(target)
    )
    return {
        "seconds": round(seconds, 2),
        "exit_code": code,
        "peak_rss_mib": _mib(rss),
        "json_mib": _mib(target.stat().st_size) if target.exists() else None,
        "output_tail": output.strip().splitlines()[-3:] if code else [],
    }


# --- diagnosis: where the engine's query spends its time ---------------------------------------


def diagnose(wh: Warehouse, scan_sql: str, rows: int, runs: int) -> dict[str, Any]:
    """EXPLAIN ANALYZE of both queries, and the engine's query with one feature removed at a time."""
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    found: dict[str, Any] = {}
    for name, sql in (("engine", scan_sql), ("hand", HAND_SQL)):
        text = explain(wh.conn, sql)
        path = results / f"explain_{rows}_{name}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        found[f"explain_{name}"] = str(path.relative_to(REPO))
    try:
        variants = engine_variants(scan_sql)
    except Exception as exc:  # the engine's SQL changed shape: say so, keep the rest
        return {**found, "variants_error": repr(exc)}
    variants["hand-written"] = HAND_SQL
    best: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, sql in variants.items():
            cpu0, began = _cpu(), time.perf_counter()
            wh.conn.execute(sql).fetchall()
            wall, cpu = time.perf_counter() - began, _cpu() - cpu0
            b = best.setdefault(name, [math.inf, math.inf])
            b[0], b[1] = min(b[0], wall), min(b[1], cpu)
    print("diagnosis   the engine's scan query with one feature removed (best wall / best CPU):")
    for name, (wall, cpu) in best.items():
        print(f"            {name:<44} {wall:6.2f} s  {cpu:6.2f} s cpu")
    found["variants_best_s"] = {k: {"wall": round(v[0], 3), "cpu": round(v[1], 3)} for k, v in best.items()}
    print(f"            EXPLAIN ANALYZE summaries: {found['explain_engine']}, {found['explain_hand']}")
    return found


def engine_variants(sql: str) -> dict[str, str]:
    """The engine's scan query, and copies each without one of its costs (same results otherwise)."""
    import sqlglot
    from sqlglot import exp

    def parse() -> exp.Select:
        tree = sqlglot.parse_one(sql, read="duckdb")
        assert isinstance(tree, exp.Select)
        return tree

    def period_cases(q: exp.Select) -> list[exp.Case]:
        return [
            c
            for c in q.find_all(exp.Case)
            if "__period" not in c.sql()
            and ">=" in c.sql()
            and any(isinstance(v, exp.Literal) and v.is_string for v in c.find_all(exp.Literal))
        ]

    def period_once(q: exp.Select) -> exp.Select:
        """The period label computed once per row in a subquery, not in each GROUPING SET's pass."""
        cases = period_cases(q)
        if not cases:
            raise ValueError("no period CASE in the engine's query")
        label = cases[0].copy()
        for c in cases:
            c.replace(exp.column("__period_label", table="t", quoted=True))
        source = q.args["from_"] if "from_" in q.args else q.args["from"]
        table = source.this
        inner = exp.select(exp.Star(), label.as_("__period_label", quoted=True)).from_(
            exp.Table(this=table.this.copy(), alias=exp.TableAlias(this=exp.to_identifier("t", quoted=True)))
        )
        table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("t", quoted=True))))
        return q

    def no_root_set(q: exp.Select) -> exp.Select:
        """Without the grouping set of depth-0 ancestors (the root unit: the same rows as the organization)."""
        sets = q.find(exp.GroupingSets)
        assert sets is not None
        sets.set("expressions", [s for s in sets.expressions if '"__up"."a0"' not in s.sql(dialect="duckdb")])
        for col in list(q.find_all(exp.Column)):
            if col.name == "a0" and col.table == "__up":
                col.replace(exp.null())
        for g in q.find_all(exp.Grouping):
            g.set("expressions", [e for e in g.expressions if not isinstance(e, exp.Null)])
        return q

    def no_n(q: exp.Select) -> exp.Select:
        """Without the per-KPI row counts `n:` (they feed min_sample and the reported n)."""
        q.set("expressions", [e for e in q.expressions if not (isinstance(e, exp.Alias) and e.alias.startswith("n:"))])
        return q

    def avg_double(q: exp.Select) -> exp.Select:
        """AVG over DOUBLE instead of over a cast to DECIMAL(38,12)."""
        for avg in q.find_all(exp.Avg):
            if isinstance(avg.this, exp.Cast):
                avg.this.replace(avg.this.this)
        return q

    def all_four(q: exp.Select) -> exp.Select:
        return avg_double(no_n(no_root_set(period_once(q))))

    out = {"engine scan query (as run)": sql}
    for name, fn in (
        ("- period label computed once (subquery)", period_once),
        ("- root-unit grouping set", no_root_set),
        ("- n: count columns", no_n),
        ("- AVG over DECIMAL(38,12) → DOUBLE", avg_double),
        ("all four removed", all_four),
    ):
        out[name] = fn(parse()).sql(dialect="duckdb")
    return out


def explain(conn: duckdb.DuckDBPyConnection, sql: str) -> str:
    """EXPLAIN ANALYZE as an indented operator tree: name, time, rows and the key details."""
    text = conn.execute("EXPLAIN (ANALYZE, FORMAT mermaid) " + sql).fetchall()[0][1]
    keys = (
        "Timing",
        "Cardinality",
        "Join Type",
        "Conditions",
        "Groups",
        "Aggregates",
        "Projections",
        "Table",
        "Filters",
        "Expressions",
    )
    nodes: dict[str, tuple[str, dict[str, str]]] = {}
    for m in re.finditer(r'(node_\d+_\d+)\["`\*\*(.+?)\*\*\n(.*?)`"\]', text, re.S):
        fields: dict[str, str] = {}
        key = None
        for line in m.group(3).split("\n"):
            line = line.strip()
            head = re.match(r"([A-Z][A-Za-z ]+): ?(.*)", line)
            if head and head.group(1) in keys:
                key = head.group(1)
                fields[key] = head.group(2)
            elif key:
                fields[key] += " " + line
        nodes[m.group(1)] = (m.group(2), fields)
    edges: dict[str, list[str]] = {}
    for a, b in re.findall(r"(node_\d+_\d+) --> (node_\d+_\d+)", text):
        edges.setdefault(a, []).append(b)
    children = {b for bs in edges.values() for b in bs}
    lines: list[str] = []

    def walk(node: str, depth: int) -> None:
        name, f = nodes[node]
        extra = "".join(f"  {k}: {f[k][:160]}" for k in ("Join Type", "Conditions", "Groups", "Table") if k in f)
        if name in ("HASH_GROUP_BY", "PERFECT_HASH_GROUP_BY", "PROJECTION", "FILTER"):
            extra += "".join(
                f"  {k}: {f[k][:240]}{'…' if len(f[k]) > 240 else ''}"
                for k in ("Aggregates", "Projections", "Expressions", "Filters")
                if k in f
            )
        lines.append(f"{'  ' * depth}{name}  {f.get('Timing', '')}  rows={f.get('Cardinality', '')}{extra}")
        for child in edges.get(node, []):
            walk(child, depth + 1)

    for root in (n for n in nodes if n not in children):
        walk(root, 0)
    return "\n".join(lines) if lines else text


# --- main ---------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 0
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def print_table(sizes: list[dict[str, Any]]) -> None:
    header = (
        "rows",
        "import rows/s",
        "engine s",
        "its SQL s",
        "hand s",
        "ratio",
        "SQL ratio",
        "engine peak MiB",
        "hand peak MiB",
        "values",
    )
    print("\n" + " | ".join(header))
    print(" | ".join("-" * len(h) for h in header))
    for s in sizes:
        e, h = s["engine"], s["hand"]
        rate = s["import"]["rows_per_s"]
        print(
            " | ".join(
                (
                    f"{s['rows']:,}",
                    f"{rate:,}" if rate else "n/a",
                    f"{e['best_s']:.2f}",
                    f"{e['phases_of_best_s']['sql']:.2f}",
                    f"{h['best_s']:.2f}",
                    f"{s['ratio']:.2f}×",
                    f"{s['scan_query_ratio']:.2f}×",
                    _peak(e),
                    _peak(h),
                    "agree" if s["agreement"]["agree"] else "DIFFER",
                )
            )
        )


def _peak(side: dict[str, Any]) -> str:
    memory = side.get("memory")
    return f"{memory['peak_rss_mib']:,.0f}" if memory else f"{side['in_process_peak_rss_mib']:,.0f} (in-process)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000], help="sizes (default 1000000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each side; the best is kept")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, one per core)")
    parser.add_argument("--work", type=Path, help="folder for the generated workspaces (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated workspaces")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse data already generated in --work (it is imported again)"
    )
    parser.add_argument("--diagnose", action="store_true", help="EXPLAIN ANALYZE and ablation of the engine's query")
    parser.add_argument("--cli", action="store_true", help="also time the `kpi evaluate` command once")
    parser.add_argument("--no-memory", action="store_true", help="skip the fresh-process memory runs")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--child", choices=("engine", "hand"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work, args.threads)
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="kpi-bench-eval-"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "benchmark": "bench_evaluate",
        "period": PERIOD,
        "grain": GRAIN,
        "runs": args.runs,
        "seed": args.seed,
        "machine": machine(),
        "sizes": [],
    }
    try:
        for rows in args.rows:
            report["sizes"].append(bench_size(rows, args, work))
    finally:
        if not (args.keep or args.work):
            shutil.rmtree(work, ignore_errors=True)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_table(report["sizes"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}")
    if not all(s["agreement"]["agree"] for s in report["sizes"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
