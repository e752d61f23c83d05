"""Deterministic sample data for the support example: a roster and a year of tickets.

Run `python generate.py` in this folder to rewrite data/. The same seed gives the same bytes.
A few rows are deliberately broken (a bad timestamp, an unknown priority, a duplicate ticket id,
a CSAT of 7) so that `kpi import` shows how rejects are kept, never dropped.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

SEED = 20260101
HERE = Path(__file__).resolve().parent

PEOPLE = [
    # id, name, unit, role, salary, fte, hired, left
    ("e01", "Anna Ozola", "frontline", "agent", "24000.00", "1", "2021-03-01", ""),
    ("e02", "Janis Berzins", "frontline", "agent", "23000.00", "1", "2022-09-15", ""),
    ("e03", "Liga Kalnina", "frontline", "agent", "23500.00", "0.5", "2026-07-01", ""),
    ("e04", "Martins Liepa", "frontline", "agent", "22000.00", "1", "2020-01-10", "2026-09-30"),
    ("e05", "Ilze Jansone", "specialist", "agent", "30000.00", "1", "2019-05-20", ""),
    ("e06", "Karlis Vitols", "specialist", "agent", "31000.00", "0.8", "2023-02-01", ""),
    ("e07", "Dace Krumina", "frontline", "lead", "36000.00", "1", "2018-11-01", ""),
    ("e08", "Edgars Sproge", "specialist", "lead", "38000.00", "1", "2017-04-03", ""),
]
AGENTS = {"e01": 1.0, "e02": 0.8, "e03": 1.1, "e04": 0.9, "e05": 1.3, "e06": 1.0}  # skill: higher is faster


def _people() -> None:
    with (HERE / "data" / "employees.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["employee_id", "full_name", "unit_id", "role", "base_salary", "fte", "hire_date", "leave_date"])
        w.writerows(PEOPLE)


def _employed(agent: str, when: datetime) -> bool:
    row = next(p for p in PEOPLE if p[0] == agent)
    hired = datetime.fromisoformat(row[6])
    left = datetime.fromisoformat(row[7]) + timedelta(days=1) if row[7] else datetime(2100, 1, 1)
    return hired <= when < left


def _tickets() -> None:
    rng = random.Random(SEED)
    rows = []
    start = datetime(2026, 1, 1, 8, 0)
    for i in range(1, 2401):
        created = start + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        agent = rng.choice([a for a in AGENTS if _employed(a, created)])
        skill = AGENTS[agent]
        priority = rng.choices(["critical", "high", "normal", "low"], [8, 20, 55, 17])[0]
        channel = rng.choices(["email", "chat", "phone"], [50, 35, 15])[0]
        first = created + timedelta(minutes=rng.expovariate(skill / 12.0) + 0.5)
        base_hours = 2.5 if priority == "critical" else 30.0
        resolved: datetime | None = created + timedelta(hours=rng.expovariate(skill / base_hours) + 0.2)
        if rng.random() < 0.03:
            resolved = None  # still open
        reopened = "yes" if rng.random() < 0.16 / skill else "no"
        csat = ""
        if resolved is not None and rng.random() < 0.4:
            csat = str(min(5, max(1, round(rng.gauss(3.6 + skill, 0.9)))))
        rows.append([f"T{i:05d}", created.strftime("%Y-%m-%d %H:%M"), first.strftime("%Y-%m-%d %H:%M"),
                     resolved.strftime("%Y-%m-%d %H:%M") if resolved else "", priority, channel, agent,
                     f"C{rng.randrange(1, 700):04d}", reopened, csat])
    rows.sort(key=lambda r: r[1])
    # deliberately broken rows: each ends in `rejects` with its line and reason
    rows.insert(100, ["T90001", "2026-02-30 10:00", "", "", "normal", "email", "e01", "C0001", "no", ""])
    rows.insert(200, ["T90002", "2026-03-03 11:00", "", "", "urgent", "chat", "e02", "C0002", "no", ""])
    rows.insert(300, [rows[10][0], *rows[10][1:]])
    rows.insert(400, ["T90003", "2026-04-01 09:00", "", "", "low", "email", "e05", "C0003", "no", "7"])
    with (HERE / "data" / "tickets.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ticket_id", "created_at", "first_response_at", "resolved_at", "priority", "channel", "agent_id",
                    "customer_id", "reopened", "csat"])
        w.writerows(rows)


if __name__ == "__main__":
    (HERE / "data").mkdir(exist_ok=True)
    _people()
    _tickets()
