"""The ledger as it grows: `kpi evaluate` recorded again and again on one workspace, each run a whole process.

    .venv/bin/python benchmarks/bench_ledger.py [--rows 1000000] [--runs 6] [--format csv|json]
        [--kpi PATH ...] [--work DIR] [--out FILE]

Generates the evaluation benchmark's tickets (benchmarks/gen_tickets.py) into a copy of
benchmarks/workspace/ and imports them once. Then, for each `kpi` given with --kpi (default: this
checkout's .venv/bin/kpi; give two to compare builds, e.g. a checkout of main), in its own copy of
the workspace with an empty ledger, `kpi evaluate WS --period 2025 --grain month --format F --out
FILE` runs --runs times in turn — the builds alternate, so a busy machine slows them alike. Each run's
wall time and peak RSS (the child's own, from wait4) are printed, with the ledger's size after it.
After the last run: `kpi runs list` and `kpi runs verify WS` (the chain), timed the same way.

What it shows: whether recording a run, and the commands that read the ledger, cost more as the
ledger fills — the time and memory of run N against run 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PERIOD, GRAIN = "2025", "month"


def timed(*command: str) -> tuple[float, int, int]:
    """Run a command; its wall time, exit code and own peak RSS in bytes (Linux: ru_maxrss is in KiB)."""
    began = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    assert proc.stderr is not None
    error = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code:
        print(error, file=sys.stderr)
    return seconds, code, usage.ru_maxrss * 1024


def prepare(work: Path, rows: int, kpi: str) -> Path:
    """benchmarks/workspace/ with generated tickets, imported once."""
    root = work / "workspace"
    if not (root / "data" / "tickets.parquet").is_file():
        shutil.copytree(HERE / "workspace", root, dirs_exist_ok=True)
        subprocess.run(
            [sys.executable, str(HERE / "gen_tickets.py"), "--rows", str(rows), "--out", str(root)], check=True
        )
    if not (root / ".kpi" / "warehouse.duckdb").is_file():
        subprocess.run([kpi, "import", str(root)], check=True, stdout=subprocess.DEVNULL)
    return root


def mib(n: int) -> int:
    """Bytes as whole MiB."""
    return round(n / 2**20)


def main() -> None:
    """Parse the options, run the builds in turn, print and write what each run took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--kpi", action="append", help="a kpi executable (repeat to compare builds)")
    parser.add_argument("--work", type=Path, help="where the workspace goes (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ledger.json")
    args = parser.parse_args()
    builds = args.kpi or [str(REPO / ".venv" / "bin" / "kpi")]
    work = args.work or Path(tempfile.mkdtemp(prefix="kpi-bench-ledger-"))
    base = prepare(work, args.rows, builds[0])
    copies = []
    for i, kpi in enumerate(builds):
        ws = work / f"build{i}"
        shutil.rmtree(ws, ignore_errors=True)
        shutil.copytree(base, ws, ignore=shutil.ignore_patterns("ledger.duckdb*"))
        copies.append((kpi, ws))
    found: dict[str, Any] = {"rows": args.rows, "format": args.format, "builds": {}}
    for kpi, _ in copies:
        found["builds"][kpi] = {"runs": []}
    for n in range(1, args.runs + 1):
        for kpi, ws in copies:
            target = ws / f"out.{args.format}"
            seconds, code, rss = timed(
                kpi,
                "evaluate",
                str(ws),
                "--period",
                PERIOD,
                "--grain",
                GRAIN,
                "--format",
                args.format,
                "--out",
                str(target),
            )
            size = (ws / ".kpi" / "ledger.duckdb").stat().st_size
            found["builds"][kpi]["runs"].append(
                {
                    "seconds": round(seconds, 2),
                    "exit": code,
                    "peak_rss_mib": mib(rss),
                    "ledger_mib": round(size / 2**20, 1),
                }
            )
            print(
                f"run {n}  {kpi}: {seconds:6.2f} s, peak RSS {mib(rss):5,} MiB, ledger {size / 2**20:6.1f} MiB",
                flush=True,
            )
    for kpi, ws in copies:
        for name, command in (
            ("runs list", ("runs", "list", str(ws), "--format", "json")),
            ("runs verify (chain)", ("runs", "verify", str(ws))),
        ):
            seconds, code, rss = timed(kpi, *command)
            found["builds"][kpi][name] = {"seconds": round(seconds, 2), "exit": code, "peak_rss_mib": mib(rss)}
            print(f"{name:<20} {kpi}: {seconds:6.2f} s, peak RSS {mib(rss):5,} MiB", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
