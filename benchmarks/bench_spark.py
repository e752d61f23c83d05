"""Spark benchmark: the 12-KPI support workload on Spark local[2], the engine against a hand-written Spark query.

    .venv/bin/python benchmarks/bench_spark.py [--rows 1000000] [--runs 3] [--master local[2]] [--work DIR]

For each size: generate the tickets Parquet (benchmarks/gen_tickets.py), start Spark (timed on its
own), register the sources on the Spark engine (Spark reads and checks the Parquet and the roster
CSV itself, caches the typed tables: timed as "register"), then alternate:

  (a) the engine: `evaluate(compile_workspace(ws), "2025", grain="month", wh=spark)`, every KPI for
      every agent, unit and the organization per month, with statuses, scores and scorecards;
  (b) a hand-written Spark SQL query computing the same 12 KPIs in one scan with GROUPING SETS,
      over the same cached tables the engine reads;

and report medians, the ratio of the engine's SQL (its queries alone) and of its whole evaluation to
the hand-written query, and DuckDB beside it (the in-memory engine over the same files, read and
checked: `loaded` + evaluate). Written to --out (default benchmarks/results/spark.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hand_query import GRAIN, PERIOD, ZONE  # noqa: E402
from workload import generate_workspace  # noqa: E402

from kpi_engine.evaluation import evaluate  # noqa: E402
from kpi_engine.execution import Target, loaded  # noqa: E402
from kpi_engine.pipeline import compile_workspace, load_workspace  # noqa: E402

# HAND_SQL (hand_query.py) in Spark SQL: the same scan, the same 12 KPIs.
SPARK_HAND_SQL = f"""
WITH t AS (
  SELECT CAST(date_trunc('MONTH', t.created_at) AS STRING) AS month, t.agent_id, e.unit_id AS dept,
         t.channel, t.priority, t.customer_id, t.first_contact_resolved, t.reopened, t.csat, t.nps,
         CAST(t.created_at AS DATE) AS day,
         t.first_response_at IS NULL AS missed,
         t.resolved_at IS NOT NULL AS resolved,
         (unix_micros(t.first_response_at) - unix_micros(t.created_at)) / 60e6 AS response_min,
         (unix_micros(t.resolved_at) - unix_micros(t.created_at)) / 3600e6 AS resolution_h
  FROM tickets t JOIN employees e ON e.employee_id = t.agent_id
  WHERE t.created_at >= TIMESTAMP '{PERIOD}-01-01 00:00:00'
    AND t.created_at <  TIMESTAMP '{int(PERIOD) + 1}-01-01 00:00:00'
)
SELECT month, agent_id, dept, grouping(agent_id) * 2 + grouping(dept) AS g, count(*) AS tickets,
  percentile(response_min, 0.5) FILTER (WHERE channel <> 'phone') AS first_response_minutes,
  percentile(resolution_h, 0.9) AS resolution_hours_p90,
  count(*) FILTER (WHERE first_contact_resolved AND resolved)
    / nullif(count(*) FILTER (WHERE resolved), 0) AS fcr,
  count(*) FILTER (WHERE csat >= 4) / nullif(count(csat), 0) AS csat,
  (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) * 100 / nullif(count(nps), 0) AS nps,
  avg(resolution_h) AS resolution_hours_avg,
  count(*) FILTER (WHERE priority = 'critical' AND resolution_h <= 4)
    / nullif(count(*) FILTER (WHERE priority = 'critical'), 0) AS sla_critical,
  count(*) FILTER (WHERE priority <> 'critical' AND resolution_h <= 72)
    / nullif(count(*) FILTER (WHERE priority <> 'critical'), 0) AS sla_routine,
  count(*) / nullif(count(DISTINCT customer_id), 0) AS contacts_per_customer,
  count(*) / count(DISTINCT day) AS tickets_per_active_day,
  count(*) FILTER (WHERE missed) / count(*) AS missed_share,
  count(*) FILTER (WHERE reopened AND resolved) / nullif(count(*) FILTER (WHERE resolved), 0) AS reopen_share
FROM t
GROUP BY GROUPING SETS ((month, agent_id), (month, dept), (month))
"""


class QueryTimer:
    """Wraps an engine's `run` to add up the time its queries take."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.seconds, self.original = engine, 0.0, engine.run

        def timed(query: Any) -> Any:
            start = time.perf_counter()
            try:
                return self.original(query)
            finally:
                self.seconds += time.perf_counter() - start

        engine.run = timed


def bench_size(rows: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    root = work / f"tickets_{rows}"
    print(f"\n== {rows:,} tickets — workspace {root}", flush=True)
    if not (root / "data" / "tickets.parquet").is_file():
        gen = generate_workspace(root, rows, args.seed)
        print(f"generate    {gen['seconds']:.1f} s, {gen['parquet_mib']} MiB Parquet", flush=True)
    ws = load_workspace(root)
    compiled = compile_workspace(ws)
    out: dict[str, Any] = {"rows": rows, "master": args.master}

    start = time.perf_counter()
    from kpi_engine.data.spark import _session

    session, _ = _session(args.master)
    out["session_start_s"] = round(time.perf_counter() - start, 2)
    print(f"spark start {out['session_start_s']:.1f} s (Spark {session.version})", flush=True)

    start = time.perf_counter()
    with loaded(ws.sources, ws.organization.timezone, Target("spark", args.master)) as (spark, report):
        for name in ("tickets", "employees"):
            spark.session.table(name).count()  # materialise the cached, checked tables
        out["register_s"] = round(time.perf_counter() - start, 2)
        out["rejected"] = {s.source: s.rejected for s in report.sources}
        print(f"register    {out['register_s']:.1f} s (read + checked by Spark, cached)", flush=True)
        timer = QueryTimer(spark)
        evaluate(compiled, PERIOD, grain=GRAIN, wh=spark)  # warm-up
        spark.session.sql(SPARK_HAND_SQL).collect()
        engine_s, sql_s, hand_s = [], [], []
        for i in range(args.runs):
            timer.seconds = 0.0
            start = time.perf_counter()
            evaluate(compiled, PERIOD, grain=GRAIN, wh=spark)
            engine_s.append(time.perf_counter() - start)
            sql_s.append(timer.seconds)
            start = time.perf_counter()
            spark.session.sql(SPARK_HAND_SQL).collect()
            hand_s.append(time.perf_counter() - start)
            print(
                f"  run {i + 1}: engine {engine_s[-1]:6.2f} s (its SQL {sql_s[-1]:.2f} s)   "
                f"hand-written {hand_s[-1]:6.2f} s",
                flush=True,
            )
    out |= {
        "engine_s": round(statistics.median(engine_s), 3),
        "engine_sql_s": round(statistics.median(sql_s), 3),
        "hand_s": round(statistics.median(hand_s), 3),
    }
    out["ratio_sql"] = round(out["engine_sql_s"] / out["hand_s"], 2)
    out["ratio_total"] = round(out["engine_s"] / out["hand_s"], 2)

    start = time.perf_counter()
    with loaded(ws.sources, ws.organization.timezone) as (duck, _):
        out["duckdb_load_s"] = round(time.perf_counter() - start, 2)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            evaluate(compiled, PERIOD, grain=GRAIN, wh=duck)
            times.append(time.perf_counter() - start)
        out["duckdb_engine_s"] = round(statistics.median(times), 3)
    print(
        f"median: engine {out['engine_s']:.2f} s, its SQL {out['engine_sql_s']:.2f} s, hand-written "
        f"{out['hand_s']:.2f} s → SQL ratio {out['ratio_sql']}×, total {out['ratio_total']}×; "
        f"DuckDB: load {out['duckdb_load_s']:.1f} s, evaluate {out['duckdb_engine_s']:.2f} s",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "spark.json")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kpi-bench-spark-"))
    results = [bench_size(rows, args, work) for rows in args.rows]
    document = {"zone": ZONE, "machine": platform.machine(), "python": platform.python_version(), "sizes": results}
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
