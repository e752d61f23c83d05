"""Import benchmark: a deterministic tickets CSV (1M rows by default) → DuckDB, timed.

    .venv/bin/python benchmarks/bench_import.py [--rows N] [--seed S] [--warehouse] [--dir DIR]

Prints the generation and import times, rows/s, loaded/rejected counts and peak RSS. About one
row in a thousand is deliberately broken (bad csat, unknown priority, a duplicate key), so the
reject path is exercised too.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kpi_engine.config.model import Column, Source  # noqa: E402
from kpi_engine.data import import_sources, open_memory, open_warehouse  # noqa: E402

PRIORITIES = ("critical", "high", "normal", "low")
CHANNELS = ("email", "chat", "phone")
COLUMNS = {
    "ticket_id": Column("ticket_id", "string"),
    "created_at": Column("created_at", "timestamp"),
    "first_response_at": Column("first_response_at", "timestamp"),
    "resolved_at": Column("resolved_at", "timestamp"),
    "priority": Column("priority", "string", values=PRIORITIES),
    "channel": Column("channel", "string", values=CHANNELS),
    "agent_id": Column("agent_id", "string", required=True),
    "customer_id": Column("customer_id", "string"),
    "reopened": Column("reopened", "boolean"),
    "csat": Column("csat", "integer", min=Decimal(1), max=Decimal(5)),
}


def generate(path: Path, rows: int, seed: int) -> None:
    """Write the tickets CSV; the same seed gives the same bytes."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(COLUMNS) + "\n")
        for i in range(rows):
            created = start + timedelta(seconds=rng.randrange(365 * 86400))
            first = created + timedelta(minutes=rng.randrange(1, 600))
            resolved = (
                ""
                if rng.random() < 0.1
                else (first + timedelta(minutes=rng.randrange(1, 6000))).strftime("%Y-%m-%d %H:%M:%S")
            )
            broken = rng.random() < 0.001
            ticket = f"T{i:08d}" if not (broken and i % 3 == 0 and i) else f"T{i - 1:08d}"
            priority = rng.choice(PRIORITIES) if not (broken and i % 3 == 1) else "urgent"
            csat = str(rng.randrange(1, 6)) if not (broken and i % 3 == 2) else "7"
            out.write(
                ",".join(
                    (
                        ticket,
                        created.strftime("%Y-%m-%d %H:%M:%S"),
                        first.strftime("%Y-%m-%dT%H:%M:%S"),
                        resolved,
                        priority,
                        rng.choice(CHANNELS),
                        f"a{rng.randrange(200):03d}",
                        f"c{rng.randrange(50000)}",
                        rng.choice(("true", "false", "yes", "no")),
                        csat if rng.random() > 0.3 else "",
                    )
                )
                + "\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--warehouse", action="store_true", help="import into .kpi/warehouse.duckdb, not memory")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as tmp:
        root = args.dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        path = root / "tickets.csv"
        began = time.perf_counter()
        generate(path, args.rows, args.seed)
        generated = time.perf_counter() - began
        source = Source("tickets", root, "tickets.csv", key="ticket_id", time="created_at", columns=COLUMNS)
        warehouse = open_warehouse(root, "Europe/Riga") if args.warehouse else open_memory("Europe/Riga")
        with warehouse:
            began = time.perf_counter()
            report = import_sources(warehouse, {"tickets": source})
            took = time.perf_counter() - began
            began = time.perf_counter()
            again = import_sources(warehouse, {"tickets": source}).source("tickets")
            noop = time.perf_counter() - began
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tickets = report.source("tickets")
        size_mib = path.stat().st_size / 2**20
        print(f"file        {path.name}: {args.rows:,} rows, {size_mib:.1f} MiB (generated in {generated:.1f} s)")
        print(f"target      {'warehouse file' if args.warehouse else 'memory'}")
        print(f"import      {took:.2f} s  →  {args.rows / took:,.0f} rows/s, {size_mib / took:.1f} MiB/s")
        print(
            f"result      {tickets.loaded:,} loaded, {tickets.rejected:,} rejected "
            f"(loaded + rejected = {tickets.loaded + tickets.rejected:,})"
        )
        print(f"re-import   {noop:.2f} s ({again.status}: content hashes only)")
        print(f"peak RSS    {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
