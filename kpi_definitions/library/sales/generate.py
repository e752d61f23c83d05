"""Deterministic sample data for the `sales` library workspace: a B2B distributor's sales team,
2026-Q1 (deals opened from November 2025 so that the quarter has closings).

Run `python generate.py` in this folder to rewrite data/. Standard library only; the fixed seed gives
the same bytes every time. Evaluate monthly, the cadence of the sales plan:
`kpi evaluate . --period 2026-Q1 --grain month`, and pay with `kpi bonus . --plan sales_monthly --period 2026-03`.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 20260331
HERE = Path(__file__).resolve().parent
START, END = date(2025, 11, 1), date(2026, 3, 31)
STAGES = ["qualification", "proposal", "negotiation"]

PEOPLE = [
    # id, name, unit, role, monthly base salary, fte, hired, left
    ("r01", "Agris Auzins", "inside_sales", "rep", "2200.00", "1", "2022-03-01", ""),
    ("r02", "Baiba Bite", "inside_sales", "rep", "2100.00", "1", "2023-06-12", ""),
    ("r03", "Centis Cers", "inside_sales", "rep", "2000.00", "1", "2025-12-01", ""),
    ("r04", "Daiga Dzene", "field_sales", "rep", "2800.00", "1", "2019-09-02", ""),
    ("r05", "Edvins Ezers", "field_sales", "rep", "2750.00", "1", "2021-01-11", ""),
    ("s01", "Frida Fogele", "sales", "head", "4200.00", "1", "2016-04-01", ""),
]
# rep: (deals per week, win probability, stage speed (higher is faster), typical deal size,
#       lead touch within hours, calls/day, letters/day, meetings/week, share of customers paying late)
REPS = {
    "r01": (2.2, 0.30, 1.1, 14000, 3, 22, 9, 2, 0.10),
    "r02": (2.0, 0.24, 0.9, 13000, 14, 18, 12, 2, 0.15),
    "r03": (1.6, 0.18, 0.8, 11000, 30, 25, 6, 1, 0.12),
    "r04": (1.2, 0.34, 1.0, 32000, 8, 9, 6, 5, 0.20),
    "r05": (1.1, 0.29, 1.2, 30000, 6, 8, 5, 4, 0.08),
}
HIRED = {p[0]: date.fromisoformat(p[6]) for p in PEOPLE}
# each rep's monthly revenue quota (EUR), field reps carrying bigger accounts; a new rep ramps up
QUOTAS = {"r01": 40000, "r02": 38000, "r03": 25000, "r04": 60000, "r05": 55000}
RAMP = {"r03": {"2025-12": 10000, "2026-01": 15000, "2026-02": 20000}}


def _ts(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randrange(8 * 60, 18 * 60))


def main() -> None:
    rng = random.Random(SEED)
    leads, deals, stages, activity, receivables = [], [], [], [], []
    customers: dict[str, set[str]] = {r: set() for r in REPS}
    day = START
    end_ts = datetime.combine(END, datetime.max.time())
    while day <= END:
        for rep, (per_week, p_win, speed, size, touch, calls, letters, meetings, _late) in REPS.items():
            if day < HIRED[rep] or day.weekday() >= 5:
                continue
            for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):  # inbound leads
                created = _at(day, rng)
                touched = created + timedelta(hours=rng.expovariate(1 / touch)) if rng.random() < 0.93 else None
                leads.append([f"L{len(leads) + 1:05d}", _ts(created), rep, rng.choice(["web", "phone", "referral",
                                                                                     "event"]), _ts(touched)])
            if rng.random() < per_week / 5:  # a new deal
                created = _at(day, rng)
                repeat_pool = sorted(customers[rep])
                repeat = bool(repeat_pool) and rng.random() < 0.5
                customer = rng.choice(repeat_pool) if repeat else f"K{rng.randrange(1000, 9999)}"
                amount = round(max(500.0, rng.lognormvariate(0, 0.35) * size), 2)
                t = created
                outcome = "won"
                for stage in STAGES:
                    mean_days = {"qualification": 5, "proposal": 9, "negotiation": 12}[stage] / speed
                    left = t + timedelta(days=rng.expovariate(1 / mean_days) + 0.5)
                    open_stage = left > end_ts
                    stages.append([f"G{len(stages) + 1:05d}", f"D{len(deals) + 1:05d}", rep, stage, _ts(t),
                                   "" if open_stage else _ts(left)])
                    if open_stage:
                        outcome = "open"
                        break
                    t = left
                    if rng.random() > p_win ** (1 / 3):  # lost at this stage
                        outcome = "lost"
                        break
                closed = None if outcome == "open" else t
                if outcome == "won":
                    customers[rep].add(customer)
                deals.append([f"D{len(deals) + 1:05d}", rep, customer, _ts(created), _ts(closed), outcome,
                              f"{amount:.2f}", "no" if repeat else "yes"])
            # the CRM's daily activity summary
            for kind, mean in (("call", calls), ("letter", letters), ("meeting", meetings / 5)):
                n = max(0, round(rng.gauss(mean, mean ** 0.5)))
                if n:
                    activity.append([f"A{len(activity) + 1:05d}", rep, day.isoformat(), kind, str(n)])
        day += timedelta(days=1)
    # month-end receivables snapshots: invoices of won deals, 30 days' terms, some paid late
    invoices = []
    for d in deals:
        if d[5] == "won":
            closed = datetime.strptime(d[4], "%Y-%m-%d %H:%M").date()
            late = rng.random() < REPS[d[1]][8]
            paid = closed + timedelta(days=30 + (rng.randrange(10, 60) if late else -rng.randrange(0, 20)))
            invoices.append((f"INV{len(invoices) + 1:05d}", d[2], d[1], closed, closed + timedelta(days=30), paid,
                             d[6]))
    for snap in (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)):
        for inv, customer, rep, issued, due, paid, amount in invoices:
            if issued <= snap < paid:
                receivables.append([f"{inv}-{snap:%Y%m}", snap.isoformat(), inv, customer, rep, due.isoformat(),
                                    amount])
    (HERE / "data").mkdir(exist_ok=True)
    _write("employees.csv", ["employee_id", "full_name", "unit_id", "role", "base_salary", "fte", "hire_date",
                             "leave_date"], [list(p) for p in PEOPLE])
    _write("leads.csv", ["lead_id", "created_at", "rep_id", "channel", "first_touch_at"], leads)
    _write("deals.csv", ["deal_id", "rep_id", "customer_id", "created_at", "closed_at", "outcome", "amount",
                         "new_customer"], deals)
    _write("deal_stages.csv", ["stage_row_id", "deal_id", "rep_id", "stage", "entered_at", "left_at"], stages)
    _write("activity_log.csv", ["row_id", "rep_id", "day", "kind", "count"], activity)
    _write("receivables.csv", ["row_id", "snapshot_date", "invoice_id", "customer_id", "rep_id", "due_date",
                               "outstanding"], receivables)
    _write("quotas.csv", ["subject_id", "period", "quota"], _quotas())


def _quotas() -> list[list[str]]:
    """Each rep's quota per month from the month they were hired (ramping for a new rep), and each team's sum."""
    units = {p[0]: p[2] for p in PEOPLE}
    rows: list[list[str]] = []
    month = START.replace(day=1)
    while month <= END:
        label = f"{month:%Y-%m}"
        teams: dict[str, int] = {}
        for rep, quota in QUOTAS.items():
            if HIRED[rep] > month.replace(day=28):
                continue
            own = RAMP.get(rep, {}).get(label, quota)
            rows.append([rep, label, str(own)])
            for team in (units[rep], "sales"):
                teams[team] = teams.get(team, 0) + own
        rows += [[team, label, str(total)] for team, total in sorted(teams.items())]
        month = (month + timedelta(days=32)).replace(day=1)
    return rows


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (HERE / "data" / name).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


if __name__ == "__main__":
    main()
