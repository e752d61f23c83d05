"""Deterministic sample data for the `loyalty_button` library workspace: a bank's branch offices
where, after each service, a terminal asks the customer three yes/no questions ("loyalty button").

Run `python generate.py` in this folder to rewrite data/. Standard library only; the fixed seed gives
the same bytes every time. Evaluate with `kpi evaluate . --period 2026-Q1`.

Shaped to show:
- silent answers (the customer pressed nothing) in every office, most in `valmiera`;
- a card-system outage on 2026-02-17 in `riga_east` (expert-confirmed force majeure): staff were
  blamed for it, which the staff index must not count but the office index must;
- consultant k05 pressing "yes" on the terminal herself on a few days (the expert marked those
  surveys unreliable);
- consultant k06 with a low response coverage (rarely invites customers to answer).
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 20260217
HERE = Path(__file__).resolve().parent
START, END = date(2026, 1, 1), date(2026, 3, 31)
OUTAGE = (date(2026, 2, 17), "riga_east")
HOLIDAYS = {date(2026, 1, 1)}

PEOPLE = [
    # id, name, office, role, monthly base salary, fte, hired, left
    ("k01", "Laura Abele", "riga_centre", "consultant", "1500.00", "1", "2021-04-01", ""),
    ("k02", "Niks Dumins", "riga_centre", "consultant", "1450.00", "1", "2023-09-01", ""),
    ("k03", "Oskars Eglitis", "riga_east", "consultant", "1480.00", "1", "2022-03-14", ""),
    ("k04", "Paula Freimane", "riga_east", "consultant", "1520.00", "1", "2020-08-03", ""),
    ("k05", "Renate Gulbe", "valmiera", "consultant", "1400.00", "1", "2024-01-15", ""),
    ("k06", "Sergejs Holms", "valmiera", "consultant", "1400.00", "1", "2025-06-02", ""),
    ("m01", "Una Ivanova", "riga_centre", "office_manager", "2600.00", "1", "2017-02-01", ""),
    ("m02", "Valdis Jurka", "riga_east", "office_manager", "2550.00", "1", "2019-05-06", ""),
    ("m03", "Zaiga Kalve", "valmiera", "office_manager", "2400.00", "1", "2018-10-01", ""),
]
# consultant: (surveys shown per day, P(customer answers), P(no | staff question), P(no | office q.))
STAFF = {"k01": (9, 0.86, 0.03, 0.05), "k02": (8, 0.82, 0.06, 0.05), "k03": (8, 0.84, 0.04, 0.08),
         "k04": (9, 0.85, 0.03, 0.08), "k05": (7, 0.78, 0.07, 0.06), "k06": (6, 0.52, 0.05, 0.06)}
OFFICE = {p[0]: p[2] for p in PEOPLE}
EXPERTS = ["quality.expert1", "quality.expert2"]


def _answer(rng: random.Random, responded: bool, p_no: float) -> str:
    if not responded or rng.random() < 0.04:
        return "silent"
    return "no" if rng.random() < p_no else "yes"


def main() -> None:
    rng = random.Random(SEED)
    surveys, reviews = [], []
    day = START
    while day <= END:
        if day.weekday() < 5 and day not in HOLIDAYS:
            for person, (per_day, p_resp, p_staff, p_office) in STAFF.items():
                office = OFFICE[person]
                outage = (day, office) == OUTAGE
                fake_day = person == "k05" and day.day in (5, 6, 7) and day.month == 3
                for _ in range(max(0, round(rng.gauss(per_day, 2)))):
                    minute = rng.randrange(9 * 60, 18 * 60)
                    shown = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
                    sid = f"LB{len(surveys) + 1:05d}"
                    if fake_day and rng.random() < 0.6:
                        answers = ["yes", "yes", "yes"]
                        reviews.append([sid, _ts(shown + timedelta(days=3)), rng.choice(EXPERTS), "yes", "no",
                                        "buttons pressed by staff (CCTV)"])
                    else:
                        responded = rng.random() < p_resp
                        staff = _answer(rng, responded, 0.45 if outage else p_staff)
                        office_q = _answer(rng, responded, 0.5 if outage else p_office)
                        loyal = _answer(rng, responded, 0.25 if outage else 0.11)
                        answers = [staff, office_q, loyal]
                        if outage:
                            reviews.append([sid, _ts(shown + timedelta(days=2)), rng.choice(EXPERTS), "no", "yes",
                                            "card processing outage 10:00-16:00, bank-wide incident"])
                        elif rng.random() < 0.004:
                            reviews.append([sid, _ts(shown + timedelta(days=2)), rng.choice(EXPERTS), "yes", "no",
                                            "test press by the terminal technician"])
                    surveys.append([sid, _ts(shown), office, person, *answers])
        day += timedelta(days=1)
    surveys.sort(key=lambda r: (r[1], r[0]))
    (HERE / "data").mkdir(exist_ok=True)
    _write("employees.csv", ["employee_id", "full_name", "office_id", "role", "base_salary", "fte", "hire_date",
                             "leave_date"], [list(p) for p in PEOPLE])
    _write("button_surveys.csv", ["survey_id", "shown_at", "office_id", "employee_id", "staff_answer",
                                  "office_answer", "loyalty_answer"], surveys)
    _write("expert_reviews.csv", ["survey_id", "reviewed_at", "expert", "unreliable", "force_majeure", "note"],
           sorted(reviews))


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (HERE / "data" / name).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


if __name__ == "__main__":
    main()
