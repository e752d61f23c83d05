"""Deterministic sample data for the `loyalty` library workspace: a subscription service's
customer base, surveys (NPS, CSAT, CES) and care-team contacts for 2026-Q1.

Run `python generate.py` in this folder to rewrite data/. Standard library only; the fixed seed gives
the same bytes every time. Evaluate with `kpi evaluate . --period 2026-Q1` (or `--grain month`).
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 20260115
HERE = Path(__file__).resolve().parent
MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
MONTH_DAYS = {1: 31, 2: 28, 3: 31}

PEOPLE = [
    # id, name, unit, role, monthly base salary, fte, hired, left
    ("c01", "Elina Grava", "care", "agent", "1600.00", "1", "2022-02-01", ""),
    ("c02", "Rihards Zarins", "care", "agent", "1550.00", "1", "2023-05-15", ""),
    ("c03", "Sandra Lace", "care", "agent", "1650.00", "0.75", "2021-10-01", ""),
    ("c04", "Toms Briedis", "care", "agent", "1500.00", "1", "2026-02-02", ""),
    ("h01", "Vita Celma", "cx", "head", "3600.00", "1", "2019-01-07", ""),
]
# agent: (skill: higher answers faster, customers find it easier), mean handling minutes
AGENTS = {"c01": (1.15, 5.4), "c02": (0.9, 6.8), "c03": (1.05, 5.9), "c04": (0.8, 7.6)}
HIRED = {p[0]: date.fromisoformat(p[6]) for p in PEOPLE}


def _ts(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


def _customers(rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    active = {f"U{i:05d}": rng.choice(["basic", "plus", "family"]) for i in range(1, 1401)}
    next_id = 1401
    for month in MONTHS:
        new = {f"U{next_id + i:05d}": rng.choice(["basic", "plus", "family"]) for i in range(rng.randrange(25, 45))}
        next_id += len(new)
        churned = set()
        for cid, plan in sorted(active.items()):
            p = {"basic": 0.03, "plus": 0.017, "family": 0.011}[plan]
            gone = rng.random() < p
            churned |= {cid} if gone else set()
            rows.append([f"{cid}-{month:%Y%m}", cid, month.isoformat(), plan, "yes", "yes" if gone else "no"])
        for cid, plan in sorted(new.items()):  # joined during the month: not at risk at its start
            gone = rng.random() < 0.05
            churned |= {cid} if gone else set()
            rows.append([f"{cid}-{month:%Y%m}", cid, month.isoformat(), plan, "no", "yes" if gone else "no"])
        active = {c: p for c, p in (active | new).items() if c not in churned}
    return rows


def _contacts_and_surveys(rng: random.Random) -> tuple[list[list[str]], list[list[str]]]:
    contacts, surveys = [], []
    for month in MONTHS:
        for day in range(1, MONTH_DAYS[month.month] + 1):
            d = month.replace(day=day)
            if d.weekday() >= 5:
                continue
            for agent, (skill, aht) in AGENTS.items():
                if d < HIRED[agent]:
                    continue
                for _ in range(max(0, round(rng.gauss(6, 2)))):
                    minute = rng.randrange(8 * 60, 19 * 60)
                    created = datetime.combine(d, datetime.min.time()) + timedelta(minutes=minute)
                    channel = rng.choices(["phone", "chat", "email"], [50, 30, 20])[0]
                    if channel == "phone":
                        first = created + timedelta(seconds=rng.randrange(5, 90))
                    else:
                        mean_wait = 12 if channel == "chat" else 45
                        first = created + timedelta(minutes=rng.expovariate(skill / mean_wait) + 1)
                    handle = max(60.0, rng.gauss(aht * 60, 90))
                    hold = round(handle * rng.uniform(0.0, 0.15))
                    wrap = round(rng.uniform(30, 90))
                    talk = round(handle) - hold - wrap if round(handle) - hold - wrap > 30 else 30
                    cid = f"U{rng.randrange(1, 1500):05d}"
                    n = len(contacts) + 1
                    contacts.append([f"K{n:05d}", cid, channel, _ts(created), _ts(first), agent, str(talk), str(hold),
                                     str(wrap)])
                    answered = created + timedelta(hours=rng.uniform(1, 30))
                    if rng.random() < 0.3:
                        csat = min(5, max(1, round(rng.gauss(3.3 + 0.8 * skill, 0.9))))
                        surveys.append([f"S{len(surveys) + 1:05d}", cid, _ts(answered), "csat", str(csat), agent])
                    if rng.random() < 0.25:
                        ces = min(7, max(1, round(rng.gauss(4.3 + 1.1 * skill, 1.1))))
                        surveys.append([f"S{len(surveys) + 1:05d}", cid, _ts(answered), "ces", str(ces), agent])
        # the quarterly relational NPS wave: a sample of customers, no agent
        for _ in range(110):
            cid = f"U{rng.randrange(1, 1500):05d}"
            answered = datetime.combine(month.replace(day=rng.randrange(10, 20)), datetime.min.time()) + timedelta(
                minutes=rng.randrange(9 * 60, 21 * 60))
            score = rng.choices(range(11), [2, 1, 1, 2, 2, 4, 6, 12, 20, 24, 26])[0]
            surveys.append([f"S{len(surveys) + 1:05d}", cid, _ts(answered), "nps", str(score), ""])
    surveys.sort(key=lambda r: (r[2], r[0]))
    return contacts, surveys


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (HERE / "data" / name).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    rng = random.Random(SEED)
    (HERE / "data").mkdir(exist_ok=True)
    _write("employees.csv", ["employee_id", "full_name", "unit_id", "role", "base_salary", "fte", "hire_date",
                             "leave_date"], [list(p) for p in PEOPLE])
    _write("customer_months.csv", ["snapshot_id", "customer_id", "month", "plan", "active_at_start", "churned"],
           _customers(rng))
    contacts, surveys = _contacts_and_surveys(rng)
    _write("contacts.csv", ["contact_id", "customer_id", "channel", "created_at", "first_response_at", "agent_id",
                            "talk_seconds", "hold_seconds", "wrap_seconds"], contacts)
    _write("surveys.csv", ["survey_id", "customer_id", "answered_at", "kind", "score", "agent_id"], surveys)


if __name__ == "__main__":
    main()
