"""The hand-written single-scan query over the ticket workload, and the process that runs it.

    python benchmarks/hand_query.py WORKSPACE --from warehouse|files --out FILE

The query (`HAND_SQL`) computes the benchmark's 12 KPIs per agent, per department and for the
organization, per month of 2025, in one scan with GROUPING SETS; output columns are named after
the KPI ids. bench_evaluate.py runs it in-process against the engine; as a script, this file is
the baseline of bench_process.py: a Python process that imports DuckDB, opens the workspace's data
(the imported `.kpi/warehouse.duckdb`, or the source files themselves), runs the query and writes
CSV with DuckDB's COPY. It imports nothing else, so it is the honest fast way to get these numbers.
"""

from __future__ import annotations

import sys
from typing import Final

PERIOD = "2025"
GRAIN: Final = "month"
ZONE = "Europe/Riga"  # benchmarks/workspace/organization.yaml

# The same 12 KPIs, written by hand: one scan, row expressions computed once, GROUPING SETS for
# agent, department and organization per month. Output columns are named after the KPI ids.
HAND_SQL = f"""
WITH t AS (
  SELECT CAST(date_trunc('month', t.created_at) AS VARCHAR) AS month, t.agent_id, e.unit_id AS dept,
         t.channel, t.priority, t.customer_id, t.first_contact_resolved, t.reopened, t.csat, t.nps,
         CAST(t.created_at AS DATE) AS day,
         t.first_response_at IS NULL AS missed,
         t.resolved_at IS NOT NULL AS resolved,
         (epoch(t.first_response_at) - epoch(t.created_at)) / 60 AS response_min,
         (epoch(t.resolved_at) - epoch(t.created_at)) / 3600 AS resolution_h
  FROM tickets t JOIN employees e ON e.employee_id = t.agent_id
  WHERE t.created_at >= TIMESTAMPTZ '{PERIOD}-01-01 00:00:00 {ZONE}'
    AND t.created_at <  TIMESTAMPTZ '{int(PERIOD) + 1}-01-01 00:00:00 {ZONE}'
)
SELECT month, agent_id, dept, GROUPING(agent_id, dept) AS g, count(*) AS tickets,
  median(response_min) FILTER (WHERE channel <> 'phone') AS "first_response_minutes",
  quantile_cont(resolution_h, 0.9) AS "resolution_hours_p90",
  count(*) FILTER (WHERE first_contact_resolved AND resolved)
    / nullif(count(*) FILTER (WHERE resolved), 0) AS "fcr",
  count(*) FILTER (WHERE csat >= 4) / nullif(count(csat), 0) AS "csat",
  (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) * 100 / nullif(count(nps), 0) AS "nps",
  avg(resolution_h) AS "resolution_hours_avg",
  count(*) FILTER (WHERE priority = 'critical' AND resolution_h <= 4)
    / nullif(count(*) FILTER (WHERE priority = 'critical'), 0) AS "resolved_in_sla.critical",
  count(*) FILTER (WHERE priority <> 'critical' AND resolution_h <= 72)
    / nullif(count(*) FILTER (WHERE priority <> 'critical'), 0) AS "resolved_in_sla.routine",
  count(*) / nullif(count(DISTINCT customer_id), 0) AS "contacts_per_customer",
  count(*) / count(DISTINCT day) AS "tickets_per_active_day",
  count(*) FILTER (WHERE missed) / count(*) AS "missed_share",
  count(*) FILTER (WHERE reopened AND resolved) / nullif(count(*) FILTER (WHERE resolved), 0) AS "reopen_share"
FROM t
GROUP BY GROUPING SETS ((month, agent_id), (month, dept), (month))
"""
HAND_KPIS = (
    "first_response_minutes",
    "resolution_hours_p90",
    "fcr",
    "csat",
    "nps",
    "resolution_hours_avg",
    "resolved_in_sla.critical",
    "resolved_in_sla.routine",
    "contacts_per_customer",
    "tickets_per_active_day",
    "missed_share",
    "reopen_share",
)

# The source files hold naive wall-clock times of the workspace's zone (benchmarks/gen_tickets.py);
# cast under that session zone they become the instants the import stores, so the query means the same.
FILE_VIEWS = """
CREATE VIEW tickets AS SELECT * REPLACE (
    CAST(created_at AS TIMESTAMPTZ) AS created_at,
    CAST(first_response_at AS TIMESTAMPTZ) AS first_response_at,
    CAST(resolved_at AS TIMESTAMPTZ) AS resolved_at)
  FROM read_parquet({tickets});
CREATE VIEW employees AS SELECT * FROM read_csv({employees}, header = true, all_varchar = true);
"""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_csv(workspace: str, source: str, out: str) -> None:
    """Run HAND_SQL over the imported warehouse or the source files and COPY its rows to a CSV file."""
    import duckdb

    if source == "warehouse":
        conn = duckdb.connect(f"{workspace}/.kpi/warehouse.duckdb", read_only=True)
    else:
        conn = duckdb.connect(":memory:")
    conn.execute(f"SET TimeZone = {_literal(ZONE)}")
    if source == "files":
        tickets, employees = f"{workspace}/data/tickets.parquet", f"{workspace}/data/employees.csv"
        conn.execute(FILE_VIEWS.format(tickets=_literal(tickets), employees=_literal(employees)))
    conn.execute(f"COPY ({HAND_SQL}) TO {_literal(out)} (HEADER, DELIMITER ',')")
    conn.close()


def main() -> None:
    """Parse `WORKSPACE --from warehouse|files --out FILE` by hand (argparse would cost more than it says)."""
    args = sys.argv[1:]
    if len(args) != 5 or args[1] != "--from" or args[2] not in ("warehouse", "files") or args[3] != "--out":
        sys.exit("usage: hand_query.py WORKSPACE --from warehouse|files --out FILE")
    write_csv(args[0], args[2], args[4])


if __name__ == "__main__":
    main()
