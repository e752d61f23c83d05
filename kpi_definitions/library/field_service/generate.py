"""Deterministic sample data for the `field_service` library workspace: one quarter (2026-Q1) of
equipment service requests, engineer visits and timesheets.

Run `python generate.py` in this folder to rewrite data/. Standard library only; the fixed seed gives
the same bytes every time. Evaluate with `kpi evaluate . --period 2026-Q1`.

Shaped to show:
- critical requests (equipment down, the client's production stopped) restored within 4 h in
  roughly 70-85% of cases, engineer f05 slower than the rest;
- routine requests handled within 3-4 days, first responses counted in business hours of the
  service-desk calendar (weekends and 1 January do not count);
- utilization from ~55% (f06: a training course and a sick week) to ~88% (f02: no slack).
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

SEED = 20260401
HERE = Path(__file__).resolve().parent
START, END = date(2026, 1, 1), date(2026, 3, 31)
HOLIDAYS = {date(2026, 1, 1)}
OPEN, CLOSE = time(8, 0), time(17, 0)

PEOPLE = [
    # id, name, unit, role, monthly base salary, quarterly target bonus, fte, hired, left
    ("f01", "Andris Kalns", "north", "engineer", "2400.00", "1200.00", "1", "2019-02-01", ""),
    ("f02", "Baiba Lapina", "north", "engineer", "2300.00", "1150.00", "1", "2021-06-14", ""),
    ("f03", "Girts Ozols", "north", "engineer", "2250.00", "1100.00", "1", "2022-01-10", ""),
    ("f04", "Inese Priede", "south", "engineer", "2400.00", "1200.00", "1", "2018-09-03", ""),
    ("f05", "Juris Rozitis", "south", "engineer", "2200.00", "1100.00", "1", "2025-11-17", ""),
    ("f06", "Kristine Sila", "south", "engineer", "2350.00", "1150.00", "0.8", "2020-04-01", ""),
    ("m01", "Maris Vanags", "north", "manager", "3200.00", "2400.00", "1", "2016-05-02", ""),
    ("m02", "Zane Egle", "south", "manager", "3200.00", "2400.00", "1", "2017-08-21", ""),
]
# engineer: (requests per working day, skill: higher restores faster and fixes first time more often)
ENGINEERS = {"f01": (1.8, 1.15), "f02": (2.2, 1.0), "f03": (1.6, 1.05), "f04": (1.9, 1.1), "f05": (1.7, 0.75),
             "f06": (1.3, 1.0)}
TRAINING = {"f06": [date(2026, 2, 9), date(2026, 2, 10), date(2026, 2, 11)], "f03": [date(2026, 3, 17)]}
SICK = {"f06": [date(2026, 3, d) for d in (2, 3, 4, 5, 6)], "f04": [date(2026, 1, 20), date(2026, 1, 21)]}
BUSY = {"f02": 7.1, "f01": 6.3, "f03": 6.0, "f04": 6.2, "f05": 5.6, "f06": 5.9}  # mean productive h/day


def _working(d: date) -> bool:
    return d.weekday() < 5 and d not in HOLIDAYS


def _days() -> list[date]:
    return [START + timedelta(days=i) for i in range((END - START).days + 1)]


def _add_business_hours(start: datetime, hours: float) -> datetime:
    """Walk the service-desk calendar (Mon-Fri 08:00-17:00, holidays off) forward by `hours`."""
    t, left = start, timedelta(hours=hours)
    while True:
        day_open = datetime.combine(t.date(), OPEN)
        day_close = datetime.combine(t.date(), CLOSE)
        if not _working(t.date()) or t >= day_close:
            t = datetime.combine(t.date() + timedelta(days=1), OPEN)
            continue
        t = max(t, day_open)
        if t + left <= day_close:
            return t + left
        left -= day_close - t
        t = datetime.combine(t.date() + timedelta(days=1), OPEN)


def _ts(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


def _request(rng: random.Random, rid: int, day: date, engineer: str, skill: float) -> list[str]:
    critical = rng.random() < 0.22
    if critical:  # production stopped: any hour, 24/7 hotline
        created = datetime.combine(day, time()) + timedelta(minutes=rng.randrange(0, 24 * 60))
        first = created + timedelta(minutes=rng.expovariate(1 / 15) + 3)
        handled = created + timedelta(hours=rng.lognormvariate(0.95, 0.55) / skill)
        visit = rng.random() < 0.5
        on_site = created + timedelta(hours=rng.expovariate(skill / 30.0) + 2) if visit else None
    else:
        created = datetime.combine(day, time(7, 0)) + timedelta(minutes=rng.randrange(0, 12 * 60))
        first = _add_business_hours(created, rng.expovariate(skill / 1.8) + 0.1)
        handled = created + timedelta(hours=rng.lognormvariate(3.9, 0.45) / skill)
        visit = rng.random() < 0.6
        on_site = created + timedelta(days=rng.uniform(0.5, 6.0) / skill ** 0.5) if visit else None
    visits = (1 if rng.random() < 0.62 + 0.2 * skill else rng.choice([2, 2, 3])) if visit else 0
    closed = max(handled, on_site or handled) + timedelta(hours=rng.uniform(1, 30) + (visits - 1) * 48 * (visits > 1))
    if closed.date() > END + timedelta(days=20):
        closed = None
    rating = ""
    if closed is not None and rng.random() < 0.45:
        rating = str(min(5, max(1, round(rng.gauss(3.3 + skill, 0.8)))))
    return [f"W{rid:05d}", f"K{rng.randrange(1, 160):04d}", _ts(created), "yes" if critical else "no", engineer,
            _ts(first), _ts(handled), "yes" if visit else "no", _ts(on_site), str(visits) if visit else "",
            _ts(closed), rating]


def main() -> None:
    rng = random.Random(SEED)
    (HERE / "data").mkdir(exist_ok=True)
    with (HERE / "data" / "employees.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["employee_id", "full_name", "unit_id", "role", "base_salary", "target_bonus", "fte", "hire_date",
                    "leave_date"])
        w.writerows(PEOPLE)
    requests, sheets = [], []
    rid = 0
    for day in _days():
        for engineer, (rate, skill) in ENGINEERS.items():
            if _working(day):
                sick = day in SICK.get(engineer, [])
                training = 8.0 if day in TRAINING.get(engineer, []) else 0.0
                productive = 0.0 if sick or training else round(min(8.0, max(2.0, rng.gauss(BUSY[engineer], 0.9))), 1)
                admin = round(8.0 - productive - training - (8.0 if sick else 0.0), 1)
                sheets.append([f"TS{len(sheets) + 1:05d}", engineer, day.isoformat(), "8", f"{productive:.1f}",
                               f"{training:.1f}", "8.0" if sick else "0.0", f"{admin:.1f}"])
            # requests arrive every day (critical ones on weekends too); fewer on days off
            mean = rate if _working(day) else rate * 0.15
            for _ in range(max(0, round(rng.gauss(mean, mean ** 0.5)))):
                rid += 1
                requests.append(_request(rng, rid, day, engineer, skill))
    requests.sort(key=lambda r: (r[2], r[0]))
    with (HERE / "data" / "requests.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["request_id", "client_id", "created_at", "equipment_down", "engineer_id", "first_response_at",
                    "handled_at", "visit_required", "on_site_at", "visits", "closed_at", "rating"])
        w.writerows(requests)
    with (HERE / "data" / "timesheets.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["entry_id", "engineer_id", "work_date", "scheduled_hours", "productive_hours", "training_hours",
                    "sick_hours", "admin_hours"])
        w.writerows(sheets)


if __name__ == "__main__":
    main()
