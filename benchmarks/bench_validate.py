"""Measure `kpi validate` on a generated workspace: 500 KPIs across 50 files (issue 2's figure).

Usage: python benchmarks/bench_validate.py [--kpis 500] [--files 50]
Prints the wall time of validating in-process and through the installed `kpi` command.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMULAS = [
    "median(minutes(first_response_at - created_at))",
    "share(hours(resolved_at - created_at) <= $sla_hours)",
    "share(csat >= 4, csat is not null)",
    "avg(hours(resolved_at - created_at))",
    "count_if(reopened) / count()",
    "percentile(hours(resolved_at - created_at), 0.9)",
    "count_distinct(customer_id)",
    "share(not reopened, resolved_at is not null)",
]


def generate(root: Path, kpis: int, files: int) -> None:
    """Write a workspace of `kpis` KPIs spread over `files` files, plus organization and scorecards."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "organization.yaml").write_text(
        'organization:\n  name: Bench\n  version: "1"\n  timezone: Europe/Riga\n'
        "params:\n  sla_hours: 8\n"
        "goals:\n  g:\n    name: Goal\n"
        "sources:\n  tickets:\n    path: data/tickets.csv\n    key: ticket_id\n    time: created_at\n"
        "    columns:\n      ticket_id: string\n      created_at: timestamp\n      first_response_at: timestamp\n"
        "      resolved_at: timestamp\n      agent_id: string\n      customer_id: string\n"
        "      reopened: boolean\n      csat: integer\n"
        "segments:\n  critical:\n    source: tickets\n    where: csat is not null\n",
        encoding="utf-8",
    )
    per_file = max(1, kpis // files)
    n = 0
    for f in range(files):
        lines = ["kpis:"]
        for _ in range(per_file):
            if n >= kpis:
                break
            lines += [
                f"  kpi_{n:04d}:",
                f"    name: KPI number {n}",
                "    goal: g",
                "    source: tickets",
                "    by: {person: agent_id}",
                f"    formula: {FORMULAS[n % len(FORMULAS)]}",
                "    where: csat is null or csat >= 1",
                "    category: quality",
                "    target: {threshold: 50, target: 60, stretch: 70}",
            ]
            n += 1
        lines += ["scorecards:", f"  card_{f:03d}:", "    kpis:"]
        first = f * per_file
        for i, w in enumerate(("40%", "30%", "30%")):
            lines.append(f"      - {{kpi: kpi_{min(first + i, kpis - 1):04d}, weight: {w}}}")
        (root / f"kpis_{f:03d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kpis", type=int, default=500)
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    try:
        generate(tmp / "ws", args.kpis, args.files)
        from kpi_engine.pipeline import validate

        start = time.perf_counter()
        results = validate([tmp / "ws"])
        in_process = time.perf_counter() - start
        errors = sum(1 for r in results for d in r.diagnostics if d.severity.value == "error")
        kpi = Path(sys.executable).parent / "kpi"
        start = time.perf_counter()
        proc = subprocess.run([str(kpi), "validate", str(tmp / "ws")], capture_output=True, text=True)
        cli = time.perf_counter() - start
        print(
            f"validate {args.kpis} KPIs in {args.files} files: in-process {in_process:.3f}s, "
            f"`kpi validate` {cli:.3f}s (exit {proc.returncode}, {errors} errors)"
        )
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
