"""Deterministic sample data for the bank_internal_service example (year 2026).

Run `python generate.py` in this folder to rewrite data/. Standard library only; the same seed
gives the same bytes.

Files:
- departments.csv: the unit tree (bank → central office → finance, IT, HR, legal tagged
  `support`; retail and corporate banking tagged `business`, directly under the bank);
- employees.csv: the CEO (scored by the board, not here), six department directors, two deputies
  (not scored); legal changed director on 1 April (the old one left on 31 March);
- survey_answers.csv: four quarterly waves of the internal service survey; in each, 4-7
  anonymous respondents per department rate 3-6 departments on ten criteria (1-10), sometimes
  their own department too (self-assessments run about a point high and are never scored);
  about 5% of answers are "cannot judge" (empty). Each department has its own level and its own
  strong and weak groups: IT is friendly but slow and poor at keeping people informed (and
  improves through the year), legal is competent but slow, finance is reliable;
- unit_results.csv: each department's monthly results against plan or budget (operating income,
  new clients and opex for business units; opex, internal requests in SLA and project milestones
  for support units);
- company_results.csv: the bank's monthly net profit against plan (a weak first half, a strong
  second half).

Deliberately bad rows, each kept by `kpi import` in `rejects` with its line and reason:
- survey_answers.csv: A900001 has a score of 11 (the scale is 1-10);
- survey_answers.csv: A900002 names the unknown criterion `punctuality`;
- survey_answers.csv: A900003 was answered on 2026-06-31, a day that does not exist;
- survey_answers.csv: a repeated answer id (the survey tool exported one answer twice);
- unit_results.csv: U9001 has the plan `n/a` in a decimal column.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

SEED = 20260701
HERE = Path(__file__).resolve().parent

DEPARTMENTS = [
    # id, name, parent, tags
    ("bank", "Baltija Bank", "", ""),
    ("central", "Central office", "bank", ""),
    ("finance", "Finance", "central", "support"),
    ("it", "Information technology", "central", "support"),
    ("hr", "Human resources", "central", "support"),
    ("legal", "Legal", "central", "support"),
    ("retail", "Retail banking", "bank", "business"),
    ("corporate", "Corporate banking", "bank", "business"),
]
RATED = ["finance", "it", "hr", "legal", "retail", "corporate"]

PEOPLE = [
    # id, name, unit, role, salary, fte, hired, left
    ("p001", "Arturs Berzins", "bank", "ceo", "240000.00", "1", "2019-01-07", ""),
    ("p010", "Liene Kalnina", "finance", "director", "132000.00", "1", "2018-03-01", ""),
    ("p011", "Maris Ozolins", "it", "director", "138000.00", "1", "2020-09-14", ""),
    ("p012", "Dace Vitola", "hr", "director", "108000.00", "1", "2017-05-02", ""),
    ("p013", "Gatis Liepins", "legal", "director", "120000.00", "1", "2012-11-01", "2026-03-31"),
    ("p014", "Evija Skuja", "legal", "director", "124000.00", "1", "2026-04-01", ""),
    ("p015", "Janis Krumins", "retail", "director", "145000.00", "1", "2016-02-15", ""),
    ("p016", "Ieva Lapsa", "corporate", "director", "150000.00", "1", "2021-06-01", ""),
    ("p020", "Karlis Zarins", "it", "deputy", "98000.00", "1", "2022-01-10", ""),
    ("p021", "Agnese Purina", "retail", "deputy", "96000.00", "0.8", "2023-08-21", ""),
]

CRITERIA = {
    "attitude": ["friendliness", "willingness_to_help", "respect"],
    "performance": ["speed", "quality", "reliability", "competence"],
    "communication": ["clarity", "availability", "proactive_information"],
}
# rated department: overall level, and the offset of each group from it
QUALITY = {
    "finance": (7.5, {"attitude": 0.0, "performance": 0.4, "communication": -0.2}),
    "it": (6.6, {"attitude": 0.5, "performance": -0.4, "communication": -0.7}),
    "hr": (7.3, {"attitude": 0.5, "performance": -0.3, "communication": 0.1}),
    "legal": (7.6, {"attitude": -0.2, "performance": 0.1, "communication": -0.1}),
    "retail": (6.8, {"attitude": 0.2, "performance": -0.1, "communication": -0.3}),
    "corporate": (7.3, {"attitude": -0.1, "performance": 0.3, "communication": 0.0}),
}
CRITERION_OFFSET = {"speed": -0.5, "competence": 0.4, "proactive_information": -0.4, "respect": 0.3}
# who interacts with whom (relative chance a respondent of the row rates the column)
RATERS = RATED  # every department answers the survey
RATER_MOOD = {"finance": -0.2, "it": 0.0, "hr": 0.3, "legal": -0.3, "retail": 0.1, "corporate": -0.1}
WAVES = [("2026-Q1", date(2026, 3, 9)), ("2026-Q2", date(2026, 6, 8)), ("2026-Q3", date(2026, 9, 7)),
         ("2026-Q4", date(2026, 12, 1))]


def _write(name: str, header: list[str], rows: list[list[str]] | list[tuple[str, ...]]) -> None:
    with (HERE / "data" / name).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _survey(rng: random.Random) -> None:
    rows = []
    answer = 0
    for w, (wave, opens) in enumerate(WAVES):
        for rater in RATERS:
            for _ in range(rng.randint(4, 7)):
                respondent = f"R{rng.randrange(16 ** 6):06x}"  # anonymous token
                answered = opens + timedelta(days=rng.randrange(10))
                others = [d for d in RATED if d != rater]
                rated_units = rng.sample(others, rng.randint(3, 5))
                if rng.random() < 0.35:
                    rated_units.append(rater)  # the survey also asks about one's own department
                for rated in rated_units:
                    level, groups = QUALITY[rated]
                    if rated == "it":
                        level += 0.25 * w  # IT's service desk project pays off during the year
                    if rated == "legal" and w == 0:
                        level -= 0.4  # a director leaving; things slipped in the first quarter
                    person = rng.gauss(0, 0.6)  # this respondent's experience with this department
                    self_bias = 1.1 if rated == rater else 0.0
                    for group, criteria in CRITERIA.items():
                        for criterion in criteria:
                            answer += 1
                            mean = (level + groups[group] + CRITERION_OFFSET.get(criterion, 0.0)
                                    + RATER_MOOD[rater] + person + self_bias)
                            score = "" if rng.random() < 0.05 else str(min(10, max(1, round(rng.gauss(mean, 1.1)))))
                            rows.append([f"A{answer:06d}", wave, answered.isoformat(), respondent, rater, rated,
                                         criterion, score])
    rows.sort(key=lambda r: (r[2], r[0]))
    # deliberately broken rows
    rows.insert(500, ["A900001", "2026-Q1", "2026-03-12", "R0badf1", "retail", "it", "speed", "11"])
    rows.insert(1800, ["A900002", "2026-Q2", "2026-06-10", "R0badf2", "corporate", "legal", "punctuality", "6"])
    rows.insert(2100, ["A900003", "2026-Q2", "2026-06-31", "R0badf3", "hr", "finance", "clarity", "8"])
    rows.insert(3000, list(rows[2999]))
    _write("survey_answers.csv", ["answer_id", "wave", "answered_on", "respondent", "rater_unit", "rated_unit",
                                  "criterion", "score"], rows)


def _money(x: float) -> str:
    return f"{x:.1f}"


def _unit_results(rng: random.Random) -> None:
    rows = []
    number = 0
    # per unit: (metric, monthly plan, actual/plan mean, spread)
    plans = {
        "retail": [("operating_income", 4200.0, 1.015, 0.05), ("new_clients", 1800.0, 0.96, 0.08),
                   ("opex", 2600.0, 1.01, 0.03)],
        "corporate": [("operating_income", 3100.0, 1.05, 0.07), ("new_clients", 45.0, 1.08, 0.2),
                      ("opex", 1300.0, 0.985, 0.03)],
        "finance": [("opex", 420.0, 0.97, 0.03), ("requests_in_sla", 0.9, 0.93, 0.03), ("milestones", 3, 0.9, 0)],
        "it": [("opex", 1450.0, 1.04, 0.04), ("requests_in_sla", 0.9, 0.84, 0.04), ("milestones", 6, 0.72, 0)],
        "hr": [("opex", 380.0, 0.99, 0.03), ("requests_in_sla", 0.9, 0.95, 0.025), ("milestones", 2, 0.85, 0)],
        "legal": [("opex", 300.0, 1.0, 0.04), ("requests_in_sla", 0.9, 0.86, 0.04), ("milestones", 2, 0.8, 0)],
    }
    for month in range(1, 13):
        first = date(2026, month, 1)
        for unit, metrics in plans.items():
            for metric, plan, ratio, spread in metrics:
                number += 1
                if metric == "milestones":
                    due = rng.randint(max(0, int(plan) - 1), int(plan) + 1)
                    actual = sum(1 for _ in range(due) if rng.random() < ratio)
                    cells = [str(actual), str(due)]
                elif metric == "requests_in_sla":
                    trend = 0.01 * (month - 6) if unit == "it" else 0.0  # IT's service desk improves
                    actual = min(1.0, max(0.5, rng.gauss(ratio + trend, spread)))
                    cells = [f"{actual:.3f}", f"{plan:.3f}"]
                elif metric == "new_clients":
                    cells = [str(round(plan * rng.gauss(ratio, spread))), str(round(plan))]
                else:
                    cells = [_money(plan * rng.gauss(ratio, spread)), _money(plan)]
                rows.append([f"U{number:04d}", first.isoformat(), unit, metric, *cells])
    rows.insert(100, ["U9001", "2026-06-01", "legal", "opex", "301.5", "n/a"])
    _write("unit_results.csv", ["row_id", "month", "unit_id", "metric", "actual", "plan"], rows)


def _company_results(rng: random.Random) -> None:
    rows = []
    for month in range(1, 13):
        plan = 2900.0 + 40 * month
        ratio = rng.gauss(0.9, 0.06) if month <= 6 else rng.gauss(1.07, 0.05)
        rows.append([date(2026, month, 1).isoformat(), _money(plan * ratio), _money(plan)])
    _write("company_results.csv", ["month", "net_profit", "net_profit_plan"], rows)


if __name__ == "__main__":
    (HERE / "data").mkdir(exist_ok=True)
    rng = random.Random(SEED)
    _write("departments.csv", ["dept_id", "dept_name", "parent_id", "tags"], DEPARTMENTS)
    _write("employees.csv", ["employee_id", "full_name", "dept_id", "role", "base_salary", "fte", "hire_date",
                             "leave_date"], PEOPLE)
    _survey(rng)
    _unit_results(rng)
    _company_results(rng)
