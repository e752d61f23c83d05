"""Start-up of the installed `kpi` as a user feels it: whole processes, alternating with the floor.

Each round runs every command once, in turn, so a noisy machine slows all of them alike; the
figures are medians over the rounds. The floor is `python -c "import typer"`: a Typer app cannot
start faster than its framework imports. Goals (issue #12): `kpi --help` at most 1.5x the floor,
`kpi validate` of the support example at most 0.5 s.

    .venv/bin/python benchmarks/bench_startup.py [--rounds 15] [--out benchmarks/results/startup.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "kpi_definitions" / "examples" / "support"


def commands(kpi: str) -> dict[str, list[str]]:
    """What is timed, by name; `floor` first."""
    return {
        "floor: python -c 'import typer'": [sys.executable, "-c", "import typer"],
        "kpi --help": [kpi, "--help"],
        "kpi --version": [kpi, "--version"],
        "kpi validate support --no-data": [kpi, "validate", str(SUPPORT), "--no-data"],
        "kpi validate support": [kpi, "validate", str(SUPPORT)],
        "kpi validate support, no cache": [kpi, "validate", str(SUPPORT)],
    }


def seconds(argv: list[str], fresh: bool = False) -> float:
    """Wall-clock seconds of one process; `fresh` runs it without the roster check's cache."""
    env = {**os.environ, "KPI_NO_CACHE": "1"} if fresh else None
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    kpi = str(Path(sys.executable).with_name("kpi"))
    timed = commands(kpi)
    for name, argv in timed.items():  # warm the page cache and the byte-code caches once
        seconds(argv, fresh="no cache" in name)
    samples: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(args.rounds):
        for name, argv in timed.items():
            samples[name].append(seconds(argv, fresh="no cache" in name))
    floor_name = next(iter(timed))
    floor = statistics.median(samples[floor_name])
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        rows.append(
            {
                "command": name,
                "median_s": round(median, 3),
                "min_s": round(min(values), 3),
                "max_s": round(max(values), 3),
                "x_floor": round(median / floor, 2),
            }
        )
    width = max(len(r["command"]) for r in rows)
    print(f"{'command':<{width}}  median    min    max  x floor")
    for r in rows:
        print(f"{r['command']:<{width}}  {r['median_s']:6.3f} {r['min_s']:6.3f} {r['max_s']:6.3f}  {r['x_floor']:6.2f}")
    if args.out:
        document = {
            "rounds": args.rounds,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "results": rows,
        }
        args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
