"""Deterministic sample data for the `internal_service` library workspace: departments rating the
service they get from each other, role-model votes, internal requests and unit budgets for 2026.

Run `python generate.py` in this folder to rewrite data/. Standard library only; the fixed seed gives
the same bytes every time. Evaluate with `kpi evaluate . --period 2026`; the rater x rated matrix:
`kpi evaluate . --period 2026 --kpi internal_service_quality --by rater_unit --at unit`.

Two survey rounds (June and December). Every employee rates every department, their own included
(the self-assessment, kept apart), on 10 criteria from 1 to 10. Shaped to show: IT rated low on
performance by the business units, HR's self-assessment far above how others see it, procurement
weak on communication.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

SEED = 20260630
HERE = Path(__file__).resolve().parent

UNITS = {  # unit: (group tag, true service level 1-10, self-assessment inflation)
    "finance": ("support", 7.9, 0.6), "it": ("support", 7.0, 0.8), "hr": ("support", 7.4, 1.7),
    "procurement": ("support", 6.9, 0.9), "retail": ("business", 7.6, 0.7), "corporate": ("business", 7.8, 0.5),
    "online": ("business", 7.3, 0.6),
}
CRITERIA = {  # criterion: group
    "clear_answers": "attitude", "ownership": "attitude", "task_support": "attitude",
    "timely_solutions": "performance", "commitments_kept": "performance", "solution_development": "performance",
    "respect": "communication", "willingness_to_help": "communication", "change_information": "communication",
    "availability": "communication",
}
SPECIAL = {("it", "performance", "business"): -1.3, ("procurement", "communication", None): -1.1}
FIRST = ["Aija", "Beate", "Dainis", "Egils", "Gunta", "Ivars", "Janis", "Karina", "Lauris", "Marta", "Normunds",
         "Olga", "Peteris", "Ruta", "Sandis", "Tija", "Uldis", "Vija", "Zigmars", "Agnese", "Kaspars"]
LAST = ["Ozola", "Berzins", "Kalnins", "Liepa", "Jansone", "Vitols", "Krumina", "Sproge", "Abele", "Dumins",
        "Eglitis", "Freimane", "Gulbe", "Holms", "Ivanova", "Jurka", "Kalve", "Lapa", "Mednis", "Niedra", "Purina"]
# annual base salaries (the directors' bonus plan is annual)
SALARY = {"director": "60000.00", "specialist": "30000.00"}


def _people() -> list[list[str]]:
    rows, i = [], 0
    for unit in UNITS:
        for role in ("director", "specialist", "specialist"):
            name = f"{FIRST[i]} {LAST[i]}"
            new_director = (unit, role) == ("online", "director")
            hired = "2026-04-01" if new_director else f"20{15 + i % 9}-0{1 + i % 9}-01"
            rows.append([f"p{i + 1:02d}", name, unit, role, SALARY[role], "1", hired, ""])
            i += 1
    return rows


def _ratings(rng: random.Random, people: list[list[str]]) -> list[list[str]]:
    rows = []
    for rnd, when in (("2026-H1", date(2026, 6, 8)), ("2026-H2", date(2026, 12, 7))):
        drift = 0.0 if rnd == "2026-H1" else 0.25
        for person in people:
            rater, rater_unit = person[0], person[2]
            leniency = rng.gauss(0, 0.5)
            for rated, (_group, level, inflation) in UNITS.items():
                for criterion, group in CRITERIA.items():
                    mean = level + drift + leniency + (inflation if rated == rater_unit else 0.0)
                    for (u, g, by), delta in SPECIAL.items():
                        by_matches = by is None or UNITS[rater_unit][0] == by
                        if u == rated and g == group and by_matches and rated != rater_unit:
                            mean += delta
                    score = min(10, max(1, round(rng.gauss(mean, 1.0))))
                    rid = f"{rnd[-2:]}-{len(rows) + 1:05d}"
                    rows.append([rid, rnd, (when + timedelta(days=rng.randrange(0, 5))).isoformat(), rater, rater_unit,
                                 rated, criterion, str(score)])
    return rows


def _votes(rng: random.Random, people: list[list[str]]) -> list[list[str]]:
    ids = [p[0] for p in people]
    popular = {"p04": 6, "p13": 5, "p07": 4, "p16": 3, "p10": 2}  # weights: some colleagues stand out
    rows = []
    for voter in ids:
        k = rng.choice([0, 2, 3, 3, 4, 5, 5])
        pool = [i for i in ids if i != voter]
        chosen: list[str] = []
        while len(chosen) < k:
            pick = rng.choices(pool, [popular.get(i, 1) for i in pool])[0]
            if pick not in chosen:
                chosen.append(pick)
        for n, nominee in enumerate(chosen, 1):
            rows.append([f"2026-{voter}-{n}", "2026-12-10", voter, nominee, str(n)])
    return rows


def _requests(rng: random.Random) -> list[list[str]]:
    rows = []
    support = [u for u, (g, _, _) in UNITS.items() if g == "support"]
    on_time = {"finance": 0.93, "it": 0.82, "hr": 0.9, "procurement": 0.86}
    day = date(2026, 1, 2)
    n = 0
    while day <= date(2026, 12, 31):
        if day.weekday() < 5:
            for _ in range(rng.randrange(1, 4)):
                n += 1
                to_unit = rng.choice(support)
                from_unit = rng.choice([u for u in UNITS if u != to_unit])
                due = day + timedelta(days=rng.choice([2, 3, 5, 10]))
                late = rng.random() > on_time[to_unit]
                if late:
                    closed = due + timedelta(days=rng.randrange(1, 6))
                else:
                    closed = due - timedelta(days=rng.randrange(0, 2))
                closed = max(closed, day)
                rows.append([f"IR{n:05d}", from_unit, to_unit, day.isoformat(), due.isoformat(),
                             closed.isoformat() if closed <= date(2026, 12, 31) else ""])
        day += timedelta(days=1)
    return rows


def _results(rng: random.Random) -> list[list[str]]:
    rows = []
    for unit, (group, _, _) in UNITS.items():
        for month in range(1, 13):
            budget = {"support": 80000, "business": 150000}[group] * (1 + 0.05 * (unit in ("it", "online")))
            actual = budget * rng.gauss(0.99 if unit != "it" else 1.04, 0.03)
            plan = actual_rev = ""
            if group == "business":
                p = {"retail": 900000, "corporate": 1400000, "online": 500000}[unit] * (1 + month / 100)
                plan = f"{p:.2f}"
                actual_rev = f"{p * rng.gauss({'retail': 1.02, 'corporate': 0.97, 'online': 1.08}[unit], 0.04):.2f}"
            rows.append([f"{unit}-2026-{month:02d}", unit, f"2026-{month:02d}-01", plan, actual_rev, f"{budget:.2f}",
                         f"{actual:.2f}"])
    return rows


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (HERE / "data" / name).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    rng = random.Random(SEED)
    (HERE / "data").mkdir(exist_ok=True)
    people = _people()
    _write("employees.csv", ["employee_id", "full_name", "unit_id", "role", "base_salary", "fte", "hire_date",
                             "leave_date"], people)
    _write("ratings.csv", ["rating_id", "survey_round", "rated_on", "rater_id", "rater_unit", "rated_unit",
                           "criterion", "score"], _ratings(rng, people))
    _write("role_model_votes.csv", ["vote_id", "voted_on", "voter_id", "nominee_id", "vote_no"], _votes(rng, people))
    _write("internal_requests.csv", ["request_id", "from_unit", "to_unit", "created_on", "due_on", "closed_on"],
           _requests(rng))
    _write("unit_results.csv", ["row_id", "unit_id", "month", "plan_revenue", "actual_revenue", "opex_budget",
                                "opex_actual"], _results(rng))


if __name__ == "__main__":
    main()
