"""Deterministic support-ticket dataset for the evaluation benchmark (a roster CSV and tickets Parquet).

    .venv/bin/python benchmarks/gen_tickets.py --rows 1000000 --out DIR [--seed 20250101]

Writes `DIR/data/employees.csv` (2,000 agents in 10 departments, 10 leads, 1 director) and
`DIR/data/tickets.parquet`. Every pseudo-random draw is a 64-bit hash of the row number XOR a (seed, draw)
constant, in DuckDB SQL, so the same seed gives the same rows in the same order whatever the thread count
(the printed fingerprint proves it). No numpy: DuckDB generates and writes the Parquet itself,
in its own in-memory connection (about 0.5M rows/s on 2 cores).

What the data looks like (roughly, at any size):

- `created_at`, `first_response_at`, `resolved_at`: naive wall-clock times of the organization's
  zone (Europe/Riga), durations added as elapsed time (so none falls in the spring-forward gap);
- `created_at`: one year (2025), 80% in
  business hours 08–18, weekends thinner (60% of weekend tickets move to the Monday after);
- `priority`: critical 8%, high 17%, normal 55%, low 20%; `channel`: email 45%, chat 35%, phone 20%;
- `first_response_at`: lognormal minutes (median ≈ 1 min phone, 4 min chat, 40 min email; critical
  answered 2.5× faster; better agents faster); **null for ≈ 4% (missed, never answered)**;
- `resolved_at`: lognormal hours after the first response (critical median ≈ 2.2 h, routine ≈ 18 h);
  **null for ≈ 3% (still open)**, and for half of the missed tickets;
- `first_contact_resolved`, `reopened`: booleans, null while the ticket is open; a reopened ticket
  was not resolved at first contact; FCR ≈ 72%, reopened ≈ 8% of resolved;
- `csat` 1–5 (**null ≈ 60%**, skewed to 4–5, lower after a reopen); `nps` 0–10 (**null ≈ 80%**);
- `customer_id`: Zipf-like (customer = ⌊C·u³⌋), so customers write many times; null for ≈ 1%
  (anonymous web form);
- `agent_id`: 2,000 agents with unequal load (a few carry much more than others) and an agent
  "skill" that shifts their response times, FCR and CSAT, so scorecards differ.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import time
from pathlib import Path

import duckdb

AGENTS = 2000
# 10 departments under one root unit; sizes sum to 2,000 agents
DEPARTMENTS = (
    ("billing", "Billing", 320),
    ("technical", "Technical support", 280),
    ("onboarding", "Onboarding", 260),
    ("accounts", "Accounts", 240),
    ("returns", "Returns", 200),
    ("shipping", "Shipping", 180),
    ("enterprise", "Enterprise", 160),
    ("partners", "Partners", 140),
    ("mobile", "Mobile apps", 120),
    ("security", "Security", 100),
)
ROOT = "support"
DEFAULT_SEED = 20250101
YEAR = 2025
ZONE = "Europe/Riga"  # the workspace's organization.timezone

FIRST = (
    "Anna",
    "Janis",
    "Liga",
    "Martins",
    "Ilze",
    "Karlis",
    "Dace",
    "Peteris",
    "Inese",
    "Andris",
    "Zane",
    "Edgars",
    "Laura",
    "Roberts",
    "Elina",
    "Toms",
)
LAST = ("Ozola", "Berzins", "Kalnina", "Liepa", "Krumina", "Jansons", "Vitola", "Zarins", "Kalejs", "Lacis")


def agent_department(index: int) -> str:
    """The department of agent number `index` (0-based): contiguous blocks of the declared sizes."""
    for unit, _, size in DEPARTMENTS:
        if index < size:
            return unit
        index -= size
    raise ValueError(index)


def write_roster(path: Path) -> int:
    """Employees: 2,000 agents, one lead per department, one director; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(AGENTS):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
        rows.append((f"a{i + 1:04d}", name, agent_department(i), "agent"))
    for k, (unit, label, _) in enumerate(DEPARTMENTS):
        rows.append((f"l{k + 1:02d}", f"Lead of {label}", unit, "lead"))
    rows.append(("d01", "Head of Support", ROOT, "director"))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("employee_id", "full_name", "unit_id", "role"))
        writer.writerows(rows)
    return len(rows)


def _stream(seed: int, name: str) -> int:
    """A 64-bit constant per (seed, draw name): each draw hashes the row number XOR its constant."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little")


def _u(name: str, seed: int, of: str = "i") -> str:
    """A uniform draw in [0, 1) (53 random bits) from `of` (the row number), the seed and a draw name.

    DuckDB's multi-argument `hash(a, b, c)` combines weakly (draws named 'csat' and 'csat_null'
    came out correlated at -0.88); one 64-bit hash of the row number XOR a per-draw constant gives
    independent streams (|corr| < 0.001 over 2M rows).
    """
    return f"((hash(xor(CAST({of} AS UBIGINT), {_stream(seed, name)}::UBIGINT)) >> 11)::DOUBLE / 9007199254740992.0)"


def _normal(name: str, seed: int) -> str:
    """A standard normal draw (Box–Muller)."""
    return f"(sqrt(-2.0 * ln(1.0 - {_u(name + '1', seed)})) * cos(2.0 * pi() * {_u(name + '2', seed)}))"


def tickets_sql(rows: int, seed: int) -> str:
    """The SELECT that generates `rows` tickets, ordered by row number."""
    customers = max(1000, rows // 3)
    # agent weights: agent = ⌊2000·u^1.25⌋ gives a 2–3× spread of load between agents
    return f"""
WITH base AS (
  SELECT i,
         least({AGENTS - 1}, floor({AGENTS} * pow({_u("agent", seed)}, 1.25)))::INTEGER AS agent_no,
         floor(365 * {_u("day", seed)})::INTEGER AS day0,
         {_u("wknd", seed)} AS u_wknd,
         {_u("busy", seed)} AS u_busy,
         {_u("hour", seed)} AS u_hour,
         {_u("prio", seed)} AS u_prio,
         {_u("chan", seed)} AS u_chan,
         {_u("miss", seed)} AS u_miss,
         {_u("open", seed)} AS u_open,
         {_u("fcr", seed)} AS u_fcr,
         {_u("reop", seed)} AS u_reop,
         {_u("csat", seed)} AS u_csat,
         {_u("csat_null", seed)} AS u_csat_null,
         {_u("nps", seed)} AS u_nps,
         {_u("nps_null", seed)} AS u_nps_null,
         {_u("cust", seed)} AS u_cust,
         {_u("cust_null", seed)} AS u_cust_null,
         {_normal("resp", seed)} AS z_resp,
         {_normal("res", seed)} AS z_res
  FROM range({rows}) AS r(i)
), agent AS (
  SELECT *,
         -- skill in [-1, 1): a fixed trait of each agent (same hash for all of its rows)
         {_u("skill", seed, "agent_no")} * 2 - 1 AS skill,
         -- weekend tickets: 60% of them move to the following Monday
         CASE WHEN isodow(DATE '{YEAR}-01-01' + day0) >= 6 AND u_wknd < 0.6
              THEN least(364, day0 + 8 - isodow(DATE '{YEAR}-01-01' + day0)) ELSE day0 END AS day,
         CASE WHEN u_prio < 0.08 THEN 'critical' WHEN u_prio < 0.25 THEN 'high'
              WHEN u_prio < 0.80 THEN 'normal' ELSE 'low' END AS priority,
         CASE WHEN u_chan < 0.45 THEN 'email' WHEN u_chan < 0.80 THEN 'chat' ELSE 'phone' END AS channel
  FROM base
), shaped AS (
  SELECT *,
         -- the wall-clock time drawn, as an instant of the zone (a time in the spring-forward gap moves on)
         timezone('{ZONE}', TIMESTAMP '{YEAR}-01-01 00:00:00' + to_days(day)
           + to_microseconds(CASE WHEN u_busy < 0.8 THEN (8 * 3600 + floor(u_hour * 10 * 3600))
                                  ELSE floor(u_hour * 86400) END::BIGINT * 1000000)) AS created,
         -- first response, minutes: lognormal by channel, faster for critical and for better agents
         exp(CASE channel WHEN 'phone' THEN ln(1.0) WHEN 'chat' THEN ln(4.0) ELSE ln(40.0) END
             + CASE WHEN priority = 'critical' THEN ln(0.4) ELSE 0 END
             - 0.35 * skill + 1.0 * z_resp) AS response_min,
         -- resolution, hours after the first response: lognormal by priority
         exp(CASE WHEN priority = 'critical' THEN ln(2.2) ELSE ln(18.0) END
             - 0.25 * skill + CASE WHEN priority = 'critical' THEN 0.9 ELSE 1.2 END * z_res) AS resolve_h,
         u_miss < 0.04 - 0.015 * skill AS missed,
         u_open < 0.03 AS still_open
  FROM agent
), outcome AS (
  SELECT *,
         NOT still_open AND NOT (missed AND u_open < 0.5 + 0.03) AS resolved,
         u_reop < 0.08 - 0.03 * skill AS reopen
  FROM shaped
)
SELECT
  'T' || lpad(CAST(i + 1 AS VARCHAR), 9, '0') AS ticket_id,
  -- exported as naive wall-clock times of the zone, as ticket systems usually do (no gap times)
  timezone('{ZONE}', created) AS created_at,
  CASE WHEN missed THEN NULL
       ELSE timezone('{ZONE}', created + to_microseconds(CAST(response_min * 60000000 AS BIGINT)))
       END AS first_response_at,
  CASE WHEN NOT resolved THEN NULL
       WHEN missed THEN timezone('{ZONE}', created + to_microseconds(CAST((resolve_h + 24) * 3600000000 AS BIGINT)))
       ELSE timezone('{ZONE}', created + to_microseconds(CAST(response_min * 60000000 AS BIGINT))
                                       + to_microseconds(CAST(resolve_h * 3600000000 AS BIGINT))) END AS resolved_at,
  priority,
  channel,
  'a' || lpad(CAST(agent_no + 1 AS VARCHAR), 4, '0') AS agent_id,
  CASE WHEN u_cust_null < 0.01 THEN NULL
       ELSE 'C' || lpad(CAST(floor({customers} * pow(u_cust, 3))::BIGINT AS VARCHAR), 8, '0') END AS customer_id,
  CASE WHEN NOT resolved THEN NULL ELSE reopen END AS reopened,
  CASE WHEN NOT resolved THEN NULL ELSE NOT reopen AND u_fcr < 0.78 + 0.08 * skill END AS first_contact_resolved,
  CASE WHEN u_csat_null < 0.60 THEN NULL
       ELSE CASE WHEN u_csat < 0.10 + CASE WHEN reopen THEN 0.25 ELSE 0 END - 0.04 * skill THEN 1
                 WHEN u_csat < 0.18 + CASE WHEN reopen THEN 0.30 ELSE 0 END - 0.06 * skill THEN 2
                 WHEN u_csat < 0.30 + CASE WHEN reopen THEN 0.30 ELSE 0 END - 0.08 * skill THEN 3
                 WHEN u_csat < 0.55 + CASE WHEN reopen THEN 0.25 ELSE 0 END - 0.08 * skill THEN 4
                 ELSE 5 END END::TINYINT AS csat,
  CASE WHEN u_nps_null < 0.80 THEN NULL
       ELSE least(10, greatest(0, floor(11 * pow(u_nps, 0.30 - 0.08 * skill))))::TINYINT END AS nps
FROM outcome
ORDER BY i
"""


def write_tickets(path: Path, rows: int, seed: int = DEFAULT_SEED, threads: int | None = None) -> str:
    """Write the tickets Parquet; returns a fingerprint of its content (same seed → same fingerprint)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(":memory:")
    try:
        if threads:
            conn.execute(f"SET threads = {int(threads)}")
        conn.execute("SET preserve_insertion_order = true")
        target = str(path).replace("'", "''")
        conn.execute(
            f"COPY ({tickets_sql(rows, seed)}) TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
        )
        return fingerprint(conn, path)
    finally:
        conn.close()


def fingerprint(conn: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Order-sensitive content hash of a tickets file (row number mixed into each row's hash)."""
    target = str(path).replace("'", "''")
    ((value,),) = conn.execute(f"""
        SELECT sum(hash(file_row_number, ticket_id, created_at, first_response_at, resolved_at, priority, channel,
                        agent_id, customer_id, reopened, first_contact_resolved, csat, nps)::HUGEINT)
               % 18446744073709551616
        FROM read_parquet('{target}', file_row_number = true)""").fetchall()
    return f"{int(value):016x}"


def generate(out: Path, rows: int, seed: int = DEFAULT_SEED, threads: int | None = None) -> dict[str, object]:
    """Roster and tickets under `out/data/`; a summary with timings and the fingerprint."""
    began = time.perf_counter()
    people = write_roster(out / "data" / "employees.csv")
    tickets = out / "data" / "tickets.parquet"
    digest = write_tickets(tickets, rows, seed, threads)
    return {
        "rows": rows,
        "seed": seed,
        "people": people,
        "seconds": time.perf_counter() - began,
        "bytes": tickets.stat().st_size,
        "fingerprint": digest,
    }


def describe(path: Path) -> list[tuple[str, object]]:
    """Shares and medians of a generated file, to eyeball the distributions."""
    conn = duckdb.connect(":memory:")
    target = str(path).replace("'", "''")
    row = conn.execute(f"""
        SELECT count(*),
               avg((priority = 'critical')::INT), avg((first_response_at IS NULL)::INT),
               avg((resolved_at IS NULL)::INT), avg((csat IS NULL)::INT), avg((nps IS NULL)::INT),
               count(*) / count(DISTINCT customer_id),
               median(epoch(first_response_at - created_at) / 60) FILTER (WHERE channel <> 'phone'),
               quantile_cont(epoch(resolved_at - created_at) / 3600, 0.9),
               avg((epoch(resolved_at - created_at) <= 4 * 3600)::INT) FILTER (WHERE priority = 'critical'),
               avg((epoch(resolved_at - created_at) <= 72 * 3600)::INT) FILTER (WHERE priority <> 'critical'),
               avg(first_contact_resolved::INT), avg(reopened::INT), avg((csat >= 4)::INT),
               100 * (avg((nps >= 9)::INT) - avg((nps <= 6)::INT)),
               min(created_at), max(created_at), count(DISTINCT agent_id)
        FROM read_parquet('{target}')""").fetchone()
    conn.close()
    assert row is not None
    names = (
        "rows",
        "critical share",
        "missed (no first response)",
        "open (no resolved_at)",
        "csat null",
        "nps null",
        "contacts per customer",
        "median first response min (non-phone)",
        "p90 resolution h",
        "critical resolved ≤ 4h (nulls = miss)",
        "routine resolved ≤ 72h",
        "FCR (of resolved)",
        "reopened (of resolved)",
        "CSAT 4–5",
        "NPS",
        "first created_at",
        "last created_at",
        "agents",
    )
    return list(zip(names, row, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--out", type=Path, required=True, help="folder; writes data/employees.csv and data/tickets.parquet"
    )
    parser.add_argument("--threads", type=int, help="DuckDB threads for generation (the output does not depend on it)")
    parser.add_argument("--describe", action="store_true", help="print the distributions of the generated file")
    args = parser.parse_args()
    summary = generate(args.out, args.rows, args.seed, args.threads)
    print(
        f"{summary['rows']:,} tickets, {summary['people']:,} people, {int(summary['bytes']) / 2**20:.1f} MiB "  # type: ignore[call-overload]
        f"in {summary['seconds']:.1f} s; fingerprint {summary['fingerprint']}"
    )
    if args.describe:
        for name, value in describe(args.out / "data" / "tickets.parquet"):
            print(f"  {name:<40} {value:.4f}" if isinstance(value, float) else f"  {name:<40} {value}")


if __name__ == "__main__":
    main()
