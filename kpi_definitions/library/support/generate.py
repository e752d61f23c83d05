"""Deterministic sample data for the `support` library workspace: a contact-centre month (March 2026).

Run `python generate.py` in this folder to rewrite data/. Standard library only; the fixed seed gives
the same bytes every time.

What the data is meant to show when evaluated for 2026-03:
- four agents with different daily loads: e03 under-loaded (~13/day, yellow), e04 over-loaded
  (~26/day, above the burnout threshold of 25, red), e01/e02 inside the 15-20 band;
- a chatbot that resolves roughly half of chat and messenger requests (automation rate);
- a few abandoned calls and chats (missed requests), complaints, repeat contacts, CSAT and NPS answers.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 20260301
HERE = Path(__file__).resolve().parent

PEOPLE = [
    # id, name, unit, role, monthly base salary, fte, hired, left
    ("e01", "Anna Ozola", "frontline", "agent", "1800.00", "1", "2021-03-01", ""),
    ("e02", "Janis Berzins", "frontline", "agent", "1750.00", "1", "2022-09-15", ""),
    ("e03", "Liga Kalnina", "frontline", "agent", "1700.00", "1", "2026-03-09", ""),
    ("e04", "Martins Liepa", "specialists", "agent", "2100.00", "1", "2020-01-10", ""),
    ("e05", "Dace Krumina", "frontline", "lead", "2600.00", "1", "2018-11-01", ""),
    ("e06", "Edgars Sproge", "support", "head", "3400.00", "1", "2017-04-03", ""),
]
# agent: (mean requests per working day, skill: higher is faster and better)
AGENTS = {"e01": (17, 1.1), "e02": (19, 1.0), "e03": (13, 0.85), "e04": (26, 0.8)}
HIRED = {p[0]: date.fromisoformat(p[6]) for p in PEOPLE}
MONTH_DAYS = [date(2026, 3, d) for d in range(1, 32)]
BOT_PER_DAY = 75  # requests the chatbot takes first, every day of the week
CUSTOMERS = 2600


def _people() -> None:
    with (HERE / "data" / "employees.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["employee_id", "full_name", "unit_id", "role", "base_salary", "fte", "hire_date", "leave_date"])
        w.writerows(PEOPLE)


def _ts(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


def _poisson(rng: random.Random, mean: float) -> int:
    # a normal approximation is enough for daily counts around 15-25
    return max(0, round(rng.gauss(mean, mean ** 0.5)))


def _human(rng: random.Random, rid: int, day: date, agent: str, skill: float) -> list[str]:
    created = datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randrange(8 * 60, 20 * 60))
    channel = rng.choices(["phone", "chat", "email", "messenger"], [35, 25, 30, 10])[0]
    customer = f"C{rng.randrange(1, CUSTOMERS):05d}"
    if channel in ("phone", "chat"):
        first = created + timedelta(seconds=round(rng.expovariate(skill / 26.0)) + 3)  # queue wait
    else:
        first = created + timedelta(minutes=rng.expovariate(skill / 9.0) + 0.5)
    contacts = 1 if rng.random() < 0.58 + 0.2 * skill else rng.choice([2, 2, 3, 4])
    resolved: datetime | None = first + timedelta(hours=rng.expovariate(skill / (11.0 + 14 * (contacts - 1))) + 0.1)
    if rng.random() < 0.02:
        resolved = None  # still open at month end
    complaint = rng.random() < 0.06
    if complaint and resolved is not None:
        resolved = first + timedelta(days=rng.uniform(0.5, 4.0) / skill)  # complaints take days, deadline 5
    repeat = resolved is not None and rng.random() < 0.11 / skill
    csat = ""
    if resolved is not None and rng.random() < 0.35:
        csat = str(min(5, max(1, round(rng.gauss(3.4 + skill, 0.9)))))
    nps = ""
    if resolved is not None and rng.random() < 0.15:
        nps = str(min(10, max(0, round(rng.gauss(7.0 + 2 * skill, 1.8)))))
    return [f"R{rid:05d}", _ts(created), channel, customer, agent, "no", "no", _ts(first), _ts(resolved),
            str(contacts), "yes" if repeat else "no", "yes" if complaint else "no", csat, nps]


def _bot(rng: random.Random, rid: int, day: date) -> list[str]:
    created = datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randrange(0, 24 * 60))
    channel = rng.choices(["chat", "messenger"], [70, 30])[0]
    customer = f"C{rng.randrange(1, CUSTOMERS):05d}"
    first = created + timedelta(seconds=rng.randrange(1, 4))
    resolved = first + timedelta(minutes=rng.uniform(1, 8))
    csat = str(rng.choices([1, 2, 3, 4, 5], [6, 6, 12, 36, 40])[0]) if rng.random() < 0.2 else ""
    return [f"R{rid:05d}", _ts(created), channel, customer, "", "yes", "no", _ts(first), _ts(resolved),
            "1", "no", "no", csat, ""]


def _abandoned(rng: random.Random, rid: int, day: date) -> list[str]:
    created = datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randrange(8 * 60, 20 * 60))
    channel = rng.choice(["phone", "chat"])
    return [f"R{rid:05d}", _ts(created), channel, f"C{rng.randrange(1, CUSTOMERS):05d}", "", "no", "yes", "", "",
            "", "no", "no", "", ""]


def _requests() -> None:
    rng = random.Random(SEED)
    requests: list[list[str]] = []
    shifts: list[list[str]] = []
    rid = 0
    for day in MONTH_DAYS:
        working = day.weekday() < 5
        if working:
            for agent, (load, skill) in AGENTS.items():
                if day < HIRED[agent]:
                    continue
                n = _poisson(rng, load)
                shifts.append([f"S{len(shifts) + 1:04d}", agent, day.isoformat(), "8", str(n)])
                for _ in range(n):
                    rid += 1
                    requests.append(_human(rng, rid, day, agent, skill))
            for _ in range(_poisson(rng, 1.4)):
                rid += 1
                requests.append(_abandoned(rng, rid, day))
        for _ in range(_poisson(rng, BOT_PER_DAY if working else BOT_PER_DAY * 0.6)):
            rid += 1
            requests.append(_bot(rng, rid, day))
    requests.sort(key=lambda r: (r[1], r[0]))
    with (HERE / "data" / "requests.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["request_id", "created_at", "channel", "customer_id", "agent_id", "bot_resolved", "abandoned",
                    "first_response_at", "resolved_at", "contacts", "repeat_7d", "complaint", "csat", "nps"])
        w.writerows(requests)
    with (HERE / "data" / "shifts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["shift_id", "agent_id", "shift_date", "scheduled_hours", "handled"])
        w.writerows(shifts)


if __name__ == "__main__":
    (HERE / "data").mkdir(exist_ok=True)
    _people()
    _requests()
