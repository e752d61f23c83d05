"""Deterministic sample data for the `outsourcing` library workspace: outsourced contractors
(developers, designers, a copywriter) working on a product team's tasks, October 2025 - March 2026.

Run `python generate.py` in this folder to rewrite data/. Standard library only; the fixed seed gives
the same bytes every time. Evaluate with `kpi evaluate . --period 2026-Q1` (2025-Q4 is there so that
relative targets have a previous quarter).

Shaped to show that activity and results are different things: x04 logs the most hours and writes
the most chat messages but misses deadlines and needs rework; x02 is quiet and reliable.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 20251001
HERE = Path(__file__).resolve().parent
START, END = date(2025, 10, 1), date(2026, 3, 31)

PEOPLE = [
    # id, name, team, role, monthly retainer, quarterly performance fee, fte, started, ended
    ("x01", "Arturs Baltins", "development", "contractor", "6000.00", "1500.00", "1", "2024-05-01", ""),
    ("x02", "Dina Cirule", "development", "contractor", "5800.00", "1500.00", "1", "2023-11-01", ""),
    ("x03", "Emils Darzins", "design", "contractor", "4500.00", "1100.00", "0.6", "2025-02-01", ""),
    ("x04", "Gatis Erglis", "development", "contractor", "6200.00", "1500.00", "1", "2025-09-01", ""),
    ("x05", "Ieva Fogele", "content", "contractor", "3200.00", "800.00", "0.5", "2024-08-15", ""),
    ("v01", "Kristaps Grins", "outsourcing", "vendor_manager", "4800.00", "2000.00", "1", "2021-03-01", ""),
]
# contractor: (tasks per week, P(on time), delay spread in days, P(no revision), review level 1-5,
#              hours per day, chat messages per day, median reply minutes)
PROFILE = {
    "x01": (3.0, 0.88, 1.2, 0.72, 3.8, 7.6, 6, 35),
    "x02": (2.8, 0.95, 0.6, 0.85, 4.1, 7.2, 3, 55),
    "x03": (2.0, 0.85, 1.5, 0.65, 3.6, 7.0, 4, 60),
    "x04": (3.2, 0.70, 3.5, 0.45, 2.9, 9.8, 14, 8),
    "x05": (1.5, 0.90, 1.0, 0.75, 3.4, 6.4, 3, 90),
}
REVIEWERS = ["product.owner", "tech.lead"]


def _days() -> list[date]:
    return [START + timedelta(days=i) for i in range((END - START).days + 1)]


def _ts(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


def main() -> None:
    rng = random.Random(SEED)
    tasks, reviews, timelog, messages = [], [], [], []
    for contractor, (per_week, p_on_time, spread, p_clean, level, hours, chats, reply) in PROFILE.items():
        for day in _days():
            if day.weekday() >= 5:
                continue
            # tasks are created on working days and due 2-10 days later
            if rng.random() < per_week / 5:
                created = datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randrange(9, 17))
                due = created + timedelta(days=rng.randrange(2, 11))
                if rng.random() < p_on_time:
                    delay = -abs(rng.gauss(0, spread / 2))
                else:
                    delay = abs(rng.gauss(1, spread)) + 0.1
                delivered: datetime | None = due + timedelta(days=delay)
                if delivered is not None and delivered.date() > END and rng.random() < 0.7:
                    delivered = None  # still in progress when the data was exported
                clean = rng.random() < p_clean
                revisions = 0 if clean else rng.choice([1, 1, 2, 3])
                returned = (not clean) and rng.random() < 0.35
                accepted = delivered + timedelta(days=1 + revisions * 1.5) if delivered else None
                tasks.append([f"J{len(tasks) + 1:04d}", contractor, _ts(created), _ts(due), _ts(delivered),
                              _ts(accepted), str(revisions) if delivered else "",
                              ("yes" if returned else "no") if delivered else "no"])
            # one timelog row per contractor per day worked (a few days off)
            if rng.random() < 0.93:
                h = max(1.0, min(13.0, rng.gauss(hours, 1.1)))
                timelog.append([f"H{len(timelog) + 1:05d}", contractor, day.isoformat(), f"{h:.1f}"])
            # chat messages the contractor posted; about half answer a message from the team
            for _ in range(max(0, round(rng.gauss(chats, chats ** 0.5)))):
                sent = datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randrange(9 * 60, 19 * 60))
                asked = ""
                if rng.random() < 0.5:
                    asked = _ts(sent - timedelta(minutes=max(1.0, rng.lognormvariate(0, 0.9) * reply)))
                messages.append([f"M{len(messages) + 1:05d}", contractor, _ts(sent), asked])
        # a structured review at the end of every month by the product owner and the tech lead
        month = date(2025, 10, 1)
        while month <= END:
            nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
            for reviewer in REVIEWERS:
                scores = [_review_score(rng, level + bias) for bias in
                          (0.0, 0.1 if contractor != "x04" else 0.6, 0.0 if contractor != "x04" else -0.4)]
                reviews.append([f"RV{len(reviews) + 1:04d}", contractor, (nxt - timedelta(days=1)).isoformat(),
                                reviewer, *scores])
            month = nxt
    (HERE / "data").mkdir(exist_ok=True)
    _write("contractors.csv", ["contractor_id", "full_name", "team", "role", "monthly_retainer", "performance_fee",
                               "fte", "started_on", "ended_on"], [list(p) for p in PEOPLE])
    _write("commitments.csv", ["contractor_id", "month", "tasks"], _commitments())
    _write("tasks.csv", ["task_id", "contractor_id", "created_at", "due_at", "delivered_at", "accepted_at",
                         "revisions", "returned"], sorted(tasks, key=lambda r: (r[2], r[0])))
    _write("reviews.csv", ["review_id", "contractor_id", "reviewed_on", "reviewer", "contribution", "initiative",
                           "clarity"], reviews)
    _write("timelog.csv", ["entry_id", "contractor_id", "work_date", "hours"], timelog)
    _write("chat_messages.csv", ["message_id", "contractor_id", "sent_at", "in_reply_to_at"],
           sorted(messages, key=lambda r: (r[2], r[0])))


def _review_score(rng: random.Random, mean: float) -> str:
    """A 1-5 rating around `mean`."""
    return str(min(5, max(1, round(rng.gauss(mean, 0.7)))))


def _commitments() -> list[list[str]]:
    """Tasks each contractor commits to per month: about a month of their weekly pace, from their start."""
    rows = []
    month = START.replace(day=1)
    while month <= END:
        for person in PEOPLE:
            ident, started = person[0], date.fromisoformat(person[7])
            if ident in PROFILE and started <= month:
                rows.append([ident, f"{month:%Y-%m}", str(round(PROFILE[ident][0] * 4))])
        month = (month + timedelta(days=32)).replace(day=1)
    return rows


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (HERE / "data" / name).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


if __name__ == "__main__":
    main()
