"""Whole-process benchmark: `kpi` commands as users run them, against a hand-written DuckDB process (issue #15).

    .venv/bin/python benchmarks/bench_process.py [--rows 1000000 ...] [--runs 3] [--only ROW ...]
        [--import-rows 20000000] [--table-timeout 120] [--short-runs 15] [--seed S]
        [--work DIR] [--keep] [--out benchmarks/results/process.json]

Rows (1-5 and `ledger` at every --rows size; 6 and 7 once):

  1       `kpi evaluate WS --period 2025 --grain month --format csv --out F` after `kpi import`;
          hand: the query over the imported warehouse
  2       `kpi import` + that evaluate (two processes: times added, the larger peak); hand: over the Parquet
  3       that evaluate straight from the files, no warehouse; hand: over the Parquet
  4       `--format json --out F` after the import; hand: over the warehouse
  5       `--format table --out F` after the import, killed at --table-timeout; hand: over the warehouse
  6       `kpi import` alone at --import-rows (only when given); hand: over the Parquet of that size
  7       `kpi --help`, and `kpi validate` of 500 generated KPIs; floor: `python -c "import typer"`
  ledger  row 1's evaluate six times on one workspace, the ledger growing: run 1 against run 6

The hand side is benchmarks/hand_query.py: python, import duckdb, open the same data, run HAND_SQL
(the same 12 KPIs per agent, department and organization per month of 2025), COPY it to CSV.

Every engine run of rows 1-6 gets a fresh copy of the workspace (data hard-linked, the warehouse
copied, no ledger): each recorded evaluate appends to the ledger, which would slow the next one.
Pairs alternate, engine then hand, so the machine's drift hits both sides alike; the table gives
medians, the min-max of the per-pair ratio and each side's largest peak RSS (the process's own
VmHWM, see workload.run_child). Rows 1-6 have no warm-up (the data is in the page cache from
generating and importing it); row 7 has one untimed warm-up pair and --short-runs pairs.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_validate import generate as generate_kpis
from hand_query import GRAIN, HAND_KPIS, PERIOD
from workload import HERE, KPI_BIN, REPO, Child, child_environment, generate_workspace, mib, run_child

HAND = HERE / "hand_query.py"
LEDGER_RUNS = 6
Argv = tuple[str, ...]  # one process: (script or "-c", *arguments), as workload.run_child takes it
Commands = Callable[[Path, Path], list[Argv]]  # (workspace, output file) → the processes a side runs in turn


# --- what is compared ---------------------------------------------------------------------------


def evaluate(fmt: str) -> Commands:
    """`kpi evaluate WS --period 2025 --grain month --format FMT --out F`."""
    return lambda ws, out: [
        (str(KPI_BIN), "evaluate", str(ws), "--period", PERIOD, "--grain", GRAIN, "--format", fmt, "--out", str(out))
    ]


def kpi_import(ws: Path, out: Path) -> list[Argv]:
    """`kpi import WS` (its table goes to the captured stdout)."""
    return [(str(KPI_BIN), "import", str(ws))]


def import_then_evaluate(ws: Path, out: Path) -> list[Argv]:
    """`kpi import WS`, then row 1's evaluate: what a user runs on new data."""
    return kpi_import(ws, out) + evaluate("csv")(ws, out)


def hand(source: str) -> Commands:
    """The hand-written query process over the warehouse or the source files, writing CSV."""
    return lambda ws, out: [(str(HAND), str(ws), "--from", source, "--out", str(out))]


def typer_floor(ws: Path, out: Path) -> list[Argv]:
    """`python -c "import typer"`: no Typer app starts faster."""
    return [("-c", "import typer")]


@dataclass(frozen=True)
class Row:
    """One comparison: what each side runs, and on which copy of the workspace the engine runs."""

    id: str
    label: str
    engine: Commands
    hand: Commands
    copy: str | None  # the engine's fresh copy: "imported" (with the warehouse), "files" (without); None: none
    suffix: str = ".csv"  # of the engine's output file
    timeout: float | None = None  # per engine process; past it the row reports "> timeout"


def size_rows(table_timeout: float) -> list[Row]:
    """Rows 1-5: run at every --rows size."""
    return [
        Row("1", "evaluate --format csv, after import", evaluate("csv"), hand("warehouse"), "imported"),
        Row("2", "import + evaluate --format csv", import_then_evaluate, hand("files"), "files"),
        Row("3", "evaluate --format csv from the files, no import", evaluate("csv"), hand("files"), "files"),
        Row("4", "evaluate --format json, after import", evaluate("json"), hand("warehouse"), "imported", ".json"),
        Row(
            "5",
            "evaluate --format table, after import",
            evaluate("table"),
            hand("warehouse"),
            "imported",
            ".txt",
            table_timeout,
        ),
    ]


IMPORT_ROW = Row("6", "import (peak RSS)", kpi_import, hand("files"), "files")
SHORT_ROWS = (
    Row(
        "7a",
        "kpi --help (hand: python -c 'import typer')",
        lambda ws, out: [(str(KPI_BIN), "--help")],
        typer_floor,
        None,
    ),
    Row(
        "7b",
        "kpi validate, 500 KPIs (hand: python -c 'import typer')",
        lambda ws, out: [(str(KPI_BIN), "validate", str(ws))],
        typer_floor,
        None,
    ),
)


# --- running the sides --------------------------------------------------------------------------


@dataclass
class Side:
    """One side of one pair: its processes' times added, the largest peak RSS."""

    seconds: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0
    parts: list[float] = field(default_factory=list)
    timed_out: bool = False


def run_side(commands: Sequence[Argv], timeout: float | None = None) -> Side:
    """Run a side's processes in turn; stop at a timeout, fail on any other exit code."""
    side = Side()
    for argv in commands:
        done: Child = run_child(argv[0], *argv[1:], timeout=timeout)
        side.seconds += done.seconds
        side.cpu += done.cpu
        side.peak_rss = max(side.peak_rss, done.peak_rss)
        side.parts.append(done.seconds)
        if done.timed_out:
            side.timed_out = True
            break
        if done.code:
            tail = "\n".join(done.output.strip().splitlines()[-20:])
            raise SystemExit(f"`{' '.join(argv)}` exited {done.code}:\n{tail}")
    return side


def fresh_copy(ws: Path, dest: Path, imported: bool) -> Path:
    """A copy of a prepared workspace with no ledger: definitions copied, data hard-linked, the warehouse if asked."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ws, dest, ignore=shutil.ignore_patterns(".kpi", "data"))
    (dest / "data").mkdir()
    for path in (ws / "data").iterdir():
        os.link(path, dest / "data" / path.name)  # nothing writes the data; a link is a copy without the cost
    if imported:
        (dest / ".kpi").mkdir()
        for path in (ws / ".kpi").iterdir():
            if not path.name.startswith("ledger"):
                shutil.copy2(path, dest / ".kpi" / path.name)
    return dest


def measure(row: Row, ws: Path, work: Path, pairs: int, warm_up: bool = False) -> dict[str, Any]:
    """Alternate the row's engine and hand sides `pairs` times (after one untimed pair if `warm_up`)."""
    engine_out, hand_out = work / f"engine{row.suffix}", work / "hand.csv"
    done: list[tuple[Side, Side]] = []
    began = time.perf_counter()
    for i in range(pairs + warm_up):
        target = fresh_copy(ws, work / "ws", row.copy == "imported") if row.copy else ws
        engine_out.unlink(missing_ok=True)
        engine = run_side(row.engine(target, engine_out), row.timeout)
        hand_out.unlink(missing_ok=True)
        hand_side = run_side(row.hand(ws, hand_out))
        if warm_up and i == 0:
            continue
        done.append((engine, hand_side))
        print(f"  {row.id} pair {len(done)}: {_pair_line(engine, hand_side, row.timeout)}", flush=True)
        if engine.timed_out:  # the next runs would take as long again: one is enough to say "> timeout"
            break
    summary = summarise(row, done)
    summary["elapsed_s"] = round(time.perf_counter() - began, 1)
    summary["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)  # other jobs share the machine
    return summary


def _pair_line(engine: Side, hand_side: Side, timeout: float | None) -> str:
    shown = f"> {timeout:.0f} s (killed)" if engine.timed_out else f"{engine.seconds:.2f} s"
    return (
        f"engine {shown}, peak {_rss(engine.peak_rss)}; hand {hand_side.seconds:.2f} s, peak "
        f"{_rss(hand_side.peak_rss)}; ratio {'> ' if engine.timed_out else ''}{engine.seconds / hand_side.seconds:.2f}"
    )


def summarise(row: Row, pairs: list[tuple[Side, Side]]) -> dict[str, Any]:
    """Medians, per-pair ratios and peaks of a row's pairs."""
    ratios = [e.seconds / h.seconds for e, h in pairs]
    cpu_ratios = [e.cpu / h.cpu for e, h in pairs if h.cpu > 0]
    timed_out = any(e.timed_out for e, _ in pairs)
    return {
        "id": row.id,
        "label": row.label,
        "pairs": len(pairs),
        "timed_out": timed_out,
        "timeout_s": row.timeout,
        "engine": _side_summary([e for e, _ in pairs]),
        "hand": _side_summary([h for _, h in pairs]),
        "ratios": [round(r, 3) for r in ratios],
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "cpu_ratio_median": round(statistics.median(cpu_ratios), 3) if cpu_ratios else None,
    }


def _side_summary(sides: list[Side]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "runs_s": [round(s.seconds, 3) for s in sides],
        "median_s": round(statistics.median(s.seconds for s in sides), 3),
        "cpu_s": [round(s.cpu, 3) for s in sides],
        "peak_rss_mib": [mib(s.peak_rss) for s in sides],
        "max_peak_rss_mib": mib(max(s.peak_rss for s in sides)),
    }
    if any(len(s.parts) > 1 for s in sides):
        out["parts_s"] = [[round(p, 3) for p in s.parts] for s in sides]
    return out


# --- the ledger's growth ------------------------------------------------------------------------


def ledger_growth(ws: Path, work: Path) -> dict[str, Any]:
    """Row 1's evaluate LEDGER_RUNS times on one copy, each paired with a hand run: does the ledger slow it?"""
    target = fresh_copy(ws, work / "ledger-ws", imported=True)
    engine_out, hand_out = work / "engine.csv", work / "hand.csv"
    runs: list[dict[str, Any]] = []
    began = time.perf_counter()
    for n in range(1, LEDGER_RUNS + 1):
        engine = run_side(evaluate("csv")(target, engine_out))
        hand_side = run_side(hand("warehouse")(ws, hand_out))
        ledger = target / ".kpi" / "ledger.duckdb"
        runs.append(
            {
                "run": n,
                "engine_s": round(engine.seconds, 3),
                "engine_cpu_s": round(engine.cpu, 3),
                "engine_peak_rss_mib": mib(engine.peak_rss),
                "hand_s": round(hand_side.seconds, 3),
                "ratio": round(engine.seconds / hand_side.seconds, 3),
                "ledger_mib": mib(ledger.stat().st_size) if ledger.exists() else 0.0,
            }
        )
        print(f"  ledger run {n}: {_pair_line(engine, hand_side, None)}; ledger {runs[-1]['ledger_mib']} MiB")
    first, last = runs[0], runs[-1]
    return {
        "runs": runs,
        "time_last_over_first": round(last["engine_s"] / first["engine_s"], 3),
        "ratio_last_over_first": round(last["ratio"] / first["ratio"], 3),
        "peak_rss_last_minus_first_mib": round(last["engine_peak_rss_mib"] - first["engine_peak_rss_mib"], 1),
        "elapsed_s": round(time.perf_counter() - began, 1),
    }


# --- checks -------------------------------------------------------------------------------------


def hand_outputs_agree(a: Path, b: Path) -> dict[str, Any]:
    """Whether two hand-query CSVs hold the same values (1e-9 relative): over the files and over the warehouse."""
    import duckdb

    def same(k: str) -> str:
        x, y = f'a."{k}"', f'b."{k}"'
        return f"(({x} IS NULL AND {y} IS NULL) OR abs({x} - {y}) <= 1e-9 * greatest(abs({x}), abs({y}), 1e-3))"

    agree = " AND ".join(map(same, HAND_KPIS))
    sql = f"""
        SELECT count(*), count(*) FILTER (WHERE a.g IS NULL OR b.g IS NULL OR NOT ({agree}))
        FROM read_csv(?) a FULL JOIN read_csv(?) b
          ON a.month = b.month AND a.g = b.g
         AND a.agent_id IS NOT DISTINCT FROM b.agent_id AND a.dept IS NOT DISTINCT FROM b.dept"""
    ((rows, differing),) = duckdb.connect().execute(sql, [str(a), str(b)]).fetchall()
    return {"rows": rows, "differing": differing, "agree": differing == 0 and rows > 0}


def output_checks(kept: dict[str, Path]) -> dict[str, Any]:
    """The engine's CSV is the same bytes whichever way it ran (rows 1-3); the hand query agrees with itself."""
    checks: dict[str, Any] = {}
    engine = [kept[k] for k in ("1-engine", "2-engine", "3-engine") if k in kept]
    if len(engine) > 1:
        checks["engine_csv_identical"] = len({p.read_bytes() for p in engine}) == 1
    files = kept.get("3-hand") or kept.get("2-hand")
    if "1-hand" in kept and files:
        checks["hand_files_vs_warehouse"] = hand_outputs_agree(files, kept["1-hand"])
    return checks


# --- one size, then the whole run ---------------------------------------------------------------


def prepare(root: Path, rows: int, seed: int, imported: bool) -> dict[str, Any]:
    """Generate a workspace of `rows` tickets at `root` and, if asked, `kpi import` it; what that took."""
    print(f"\n== {rows:,} tickets: {root}", flush=True)
    info: dict[str, Any] = {"generate": generate_workspace(root, rows, seed)}
    print(f"generated in {info['generate']['seconds']} s, {info['generate']['parquet_mib']} MiB of Parquet")
    if imported:
        done = run_child(KPI_BIN, "import", str(root))
        if done.code:
            raise SystemExit(f"kpi import failed:\n{done.output}")
        info["import"] = {"seconds": round(done.seconds, 2), "peak_rss_mib": mib(done.peak_rss)}
        print(f"imported in {done.seconds:.1f} s, peak {_rss(done.peak_rss)}", flush=True)
    return info


def bench_size(rows: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Rows 1-5 and the ledger's growth on one generated workspace of `rows` tickets."""
    began = time.perf_counter()
    ws = work / f"tickets_{rows}"
    out: dict[str, Any] = {"rows": rows, **prepare(ws, rows, args.seed, imported=True), "results": []}
    kept: dict[str, Path] = {}
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    for row in size_rows(args.table_timeout):
        if selected(row.id, args.only):
            out["results"].append(measure(row, ws, scratch, args.runs))
            for side, name in (("engine", f"engine{row.suffix}"), ("hand", "hand.csv")):
                if (scratch / name).exists():  # the last pair's outputs, for output_checks
                    kept[f"{row.id}-{side}"] = (scratch / name).rename(work / f"{rows}-{row.id}-{name}")
    if selected("ledger", args.only):
        out["ledger"] = ledger_growth(ws, scratch)
    out["checks"] = output_checks(kept)
    out["elapsed_s"] = round(time.perf_counter() - began, 1)
    return out


def bench_import(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Row 6: `kpi import` at --import-rows against the hand query over the same Parquet."""
    ws = work / f"tickets_{args.import_rows}"
    info = prepare(ws, args.import_rows, args.seed, imported=False)
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    return {"rows": args.import_rows, **info, **measure(IMPORT_ROW, ws, scratch, args.runs)}


def bench_short(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Row 7: start-up and validation, short processes, more pairs."""
    print("\n== short processes", flush=True)
    kpis = work / "validate_500"
    if kpis.exists():
        shutil.rmtree(kpis)
    generate_kpis(kpis, 500, 50)
    return [
        measure(row, kpis, work, args.short_runs, warm_up=True) for row in SHORT_ROWS if selected(row.id, args.only)
    ]


def selected(row_id: str, only: list[str] | None) -> bool:
    """Whether --only picks a row (`7` picks 7a and 7b)."""
    return only is None or any(row_id == o or (o.isdigit() and row_id.rstrip("ab") == o) for o in only)


def warm_byte_code() -> None:
    """Compile the engine's byte code once, so no timed `kpi` pays for it (users' installs have it)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "engine"), str(REPO / "cli"), str(HERE)],
        env=child_environment(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def machine() -> dict[str, Any]:
    """What ran the benchmark: cores, memory, versions, the commit, the load."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "duckdb": importlib.metadata.version("duckdb"),
        "typer": importlib.metadata.version("typer"),
        "commit": commit.stdout.strip(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- the table ----------------------------------------------------------------------------------


def _rss(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def _count(rows: int) -> str:
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows / 1000:g}k"


def table_line(result: dict[str, Any], rows: int | None) -> str:
    """One markdown row: the row, both medians, the ratio's median (min-max), both peaks."""
    e, h = result["engine"], result["hand"]
    where = f" ({_count(rows)})" if rows else ""
    if result["timed_out"]:
        engine_s, ratio = f"> {result['timeout_s']:.0f}", f"> {result['timeout_s'] / h['median_s']:.0f}×"
        engine_peak = f"≥ {_rss(e['max_peak_rss_mib'] * 2**20)}"
    else:
        engine_s = f"{e['median_s']:.2f}"
        ratio = f"{result['ratio_median']:.2f}× ({result['ratio_min']:.2f}–{result['ratio_max']:.2f})"
        engine_peak = _rss(e["max_peak_rss_mib"] * 2**20)
    cells = (
        f"{result['id']}{where} {result['label']}",
        engine_s,
        f"{h['median_s']:.2f}",
        ratio,
        engine_peak,
        _rss(h["max_peak_rss_mib"] * 2**20),
    )
    return "| " + " | ".join(cells) + " |"


def print_report(report: dict[str, Any]) -> None:
    """The markdown table of every row, then the ledger's runs."""
    print("\n| row | engine median s | hand median s | ratio median (min–max) | engine peak RSS | hand peak RSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size in report["sizes"]:
        for result in size["results"]:
            print(table_line(result, size["rows"]))
    if "import" in report:
        print(table_line(report["import"], report["import"]["rows"]))
    for result in report["short"]:
        print(table_line(result, None))
    for size in report["sizes"]:
        if "ledger" in size:
            print(f"\nledger growth at {_count(size['rows'])}: one workspace, row 1's evaluate {LEDGER_RUNS} times")
            print("| run | engine s | hand s | ratio | engine peak RSS | ledger MiB |")
            print("| --- | --- | --- | --- | --- | --- |")
            for r in size["ledger"]["runs"]:
                print(
                    f"| {r['run']} | {r['engine_s']:.2f} | {r['hand_s']:.2f} | {r['ratio']:.2f}× | "
                    f"{_rss(r['engine_peak_rss_mib'] * 2**20)} | {r['ledger_mib']} |"
                )
        if size["checks"]:
            print(f"\nchecks at {_count(size['rows'])}: {json.dumps(size['checks'])}")


def parse_args() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000], help="sizes (default 1000000)")
    parser.add_argument("--runs", type=int, default=3, help="engine/hand pairs per row (default 3)")
    parser.add_argument("--short-runs", type=int, default=15, help="pairs for row 7's short processes (default 15)")
    parser.add_argument("--only", nargs="+", metavar="ROW", help="rows to run: 1 2 3 4 5 6 7 ledger (default all)")
    parser.add_argument("--import-rows", type=int, help="row 6's size (default: row 6 is skipped)")
    parser.add_argument("--table-timeout", type=float, default=120.0, help="row 5's limit in seconds (default 120)")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--work", type=Path, help="folder for the generated workspaces (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated workspaces")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "process.json")
    args = parser.parse_args()
    if args.only and "6" in args.only and not args.import_rows:
        parser.error("row 6 needs --import-rows")
    return args


def main() -> None:
    """Run the selected rows and write the JSON report."""
    args = parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kpi-bench-process-"))
    work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "bench_process",
        "period": PERIOD,
        "grain": GRAIN,
        "runs": args.runs,
        "short_runs": args.short_runs,
        "seed": args.seed,
        "machine": machine(),
        "sizes": [],
        "short": [],
    }
    warm_byte_code()
    try:
        if any(selected(r.id, args.only) for r in size_rows(0)) or selected("ledger", args.only):
            report["sizes"] = [bench_size(rows, args, work) for rows in args.rows]
        if args.import_rows and selected("6", args.only):
            report["import"] = bench_import(args, work)
        if any(selected(r.id, args.only) for r in SHORT_ROWS):
            report["short"] = bench_short(args, work)
    finally:
        if not (args.keep or args.work):
            shutil.rmtree(work, ignore_errors=True)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["elapsed_s"] = round(time.perf_counter() - began, 1)
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n{report['elapsed_s'] / 60:.1f} min in all; written to {args.out}")


if __name__ == "__main__":
    main()
