"""Deterministic sample data for the field_service example: a roster, a year of service requests
and a year of engineers' time sheets (2026).

Run `python generate.py` in this folder to rewrite data/. Standard library only; the same seed
gives the same bytes.

What the numbers look like (by construction; the figures in brackets are what this seed gives):
- about 2,300 requests [2,349 valid]; ~15% critical (priority `critical`, or any request with
  the client's production down); critical restore times are log-normal with a median of about
  2.5 h / engineer speed, so roughly 70-80% are back within 4 h [75% overall, 41-87% by
  engineer]; routine ones within 4 days in about three cases of four [76%, 52-90%];
- an engineer reaches an emergency within 2 days in about 70-75% of cases [74%] (Latgale, the
  far region, a little less) and a routine visit within 4 days in about 85% [85%];
- first-time fix [72-91%] by engineer, repeat failures within 30 days [4-14%];
- utilization (productive / scheduled hours) [56-81%, 68% overall]; scheduled hours are 0 on
  weekends, the dispatch calendar's public holidays and vacation days; sick and training days
  are scheduled but not productive;
- routine calls are acknowledged in dispatch-desk working hours (Mon-Fri 08:00-17:00),
  critical ones within minutes by the on-call line, any time of day;
- wall-clock times that fall into the hour the spring DST change skips (2026-03-29 03:00-03:59
  in Riga) are moved an hour on: the importer rightly rejects times that do not exist.

People: three regions of engineers (e12 is a part-time engineer, FTE 0.6, hired mid-year on
2026-06-15; e04 left on 2026-08-31), three dispatchers, one service manager.

Deliberately bad rows, each of which `kpi import` keeps in `rejects` with its line and reason:
- requests.csv: R90001 has an impossible date (2026-02-30 10:15);
- requests.csv: R90002 has the unknown priority `urgent`;
- requests.csv: a second copy of an existing request id (the export repeated a row);
- requests.csv: R90003 claims 12 visits (the column allows 0-9);
- timesheets.csv: a second row for an engineer's day that already has one (duplicate sheet_id);
- timesheets.csv: a day with `8,5` scheduled hours (a decimal comma in a number column).
"""

from __future__ import annotations

import csv
import math
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

SEED = 20260315
HERE = Path(__file__).resolve().parent
YEAR_START = date(2026, 1, 1)
YEAR_END = date(2026, 12, 31)
HOLIDAYS = {date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 4),
            date(2026, 6, 23), date(2026, 6, 24), date(2026, 11, 18), date(2026, 12, 24), date(2026, 12, 25),
            date(2026, 12, 31)}
DESK_OPEN, DESK_CLOSE = 8, 17  # dispatch desk: Mon-Fri 08:00-17:00
DST_START = date(2026, 3, 29)  # Europe/Riga clocks jump from 03:00 to 04:00

PEOPLE = [
    # id, name, unit, role, salary, fte, hired, left
    ("m01", "Ilona Petersone", "service", "manager", "64000.00", "1", "2016-02-01", ""),
    ("d01", "Rita Lacis", "dispatch", "dispatcher", "27000.00", "1", "2019-09-02", ""),
    ("d02", "Oskars Dumins", "dispatch", "dispatcher", "26000.00", "1", "2022-03-14", ""),
    ("d03", "Signe Rozite", "dispatch", "dispatcher", "26500.00", "1", "2024-01-08", ""),
    ("e01", "Aivars Kalnins", "riga", "engineer", "38000.00", "1", "2015-05-04", ""),
    ("e02", "Viktors Leja", "riga", "engineer", "36000.00", "1", "2018-10-01", ""),
    ("e03", "Kristaps Ozols", "riga", "engineer", "34000.00", "1", "2021-04-12", ""),
    ("e04", "Juris Balodis", "riga", "engineer", "35000.00", "1", "2017-01-09", "2026-08-31"),
    ("e05", "Elina Zarina", "riga", "engineer", "33000.00", "1", "2023-06-01", ""),
    ("e06", "Raimonds Vilks", "kurzeme", "engineer", "35500.00", "1", "2016-08-15", ""),
    ("e07", "Andris Sils", "kurzeme", "engineer", "33500.00", "1", "2020-02-03", ""),
    ("e08", "Normunds Krasts", "kurzeme", "engineer", "34500.00", "1", "2019-11-18", ""),
    ("e09", "Pavels Ivanovs", "latgale", "engineer", "33000.00", "1", "2014-03-03", ""),
    ("e10", "Sergejs Kuzmins", "latgale", "engineer", "32000.00", "1", "2022-08-22", ""),
    ("e11", "Inese Greke", "latgale", "engineer", "32500.00", "1", "2020-05-11", ""),
    ("e12", "Marta Upite", "latgale", "engineer", "34000.00", "0.6", "2026-06-15", ""),
]
# per engineer: speed (higher = faster restores and arrivals), first-time-fix rate, repeat-failure
# rate, productive share of the scheduled day
ENGINEERS = {
    "e01": (1.25, 0.88, 0.04, 0.80), "e02": (1.05, 0.82, 0.06, 0.74), "e03": (0.95, 0.78, 0.08, 0.70),
    "e04": (0.85, 0.74, 0.10, 0.62), "e05": (1.00, 0.72, 0.11, 0.66), "e06": (1.15, 0.86, 0.05, 0.78),
    "e07": (0.90, 0.76, 0.09, 0.68), "e08": (1.05, 0.84, 0.06, 0.83), "e09": (1.10, 0.85, 0.05, 0.72),
    "e10": (0.80, 0.70, 0.12, 0.57), "e11": (0.95, 0.80, 0.07, 0.66), "e12": (1.10, 0.84, 0.05, 0.72),
}
REGIONS = {"riga": 0.45, "kurzeme": 0.30, "latgale": 0.25}
REGION_DISTANCE = {"riga": 1.0, "kurzeme": 1.15, "latgale": 1.3}  # travel slows arrivals
# per dispatcher: median working hours to acknowledge a routine call, share of jobs reassigned
DISPATCHERS = {"d01": (0.55, 0.06), "d02": (0.95, 0.12), "d03": (0.75, 0.09)}


def _person(pid: str) -> tuple[str, ...]:
    return next(p for p in PEOPLE if p[0] == pid)


def _employed(pid: str, day: date) -> bool:
    row = _person(pid)
    hired = date.fromisoformat(row[6])
    left = date.fromisoformat(row[7]) if row[7] else date(2100, 1, 1)
    return hired <= day <= left


def _working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def _add_business_hours(start: datetime, hours: float) -> datetime:
    """`start` plus `hours` of the dispatch desk's working time (the inverse of business_hours)."""
    cursor = start
    left = hours
    while True:
        day = cursor.date()
        if _working_day(day):
            opens = datetime.combine(day, time(DESK_OPEN))
            closes = datetime.combine(day, time(DESK_CLOSE))
            if cursor < opens:
                cursor = opens
            if cursor < closes:
                available = (closes - cursor).total_seconds() / 3600
                if left <= available:
                    return cursor + timedelta(hours=left)
                left -= available
        cursor = datetime.combine(day + timedelta(days=1), time(0))


def _minute(ts: datetime) -> datetime:
    ts = ts.replace(second=0, microsecond=0)
    if ts.date() == DST_START and ts.hour == 3:  # 03:00-03:59 does not exist that night in Riga
        ts += timedelta(hours=1)
    return ts


def _fmt(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if ts else ""


def _people() -> None:
    with (HERE / "data" / "employees.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["employee_id", "full_name", "unit_id", "role", "base_salary", "fte", "hire_date", "leave_date"])
        w.writerows(PEOPLE)


def _requests(rng: random.Random) -> None:
    rows = []
    number = 0
    day = YEAR_START
    while day <= YEAR_END:
        per_day = 8.2 if day.weekday() < 5 else 2.4  # plants run on weekends too, but fewer calls come
        count = sum(1 for _ in range(20) if rng.random() < per_day / 20)
        calls = []
        for _ in range(count):
            # calls cluster in the working day; night calls are mostly breakdowns
            night = rng.random() < 0.18
            hour = rng.choice([0, 1, 2, 3, 4, 5, 6, 19, 20, 21, 22, 23]) if night else rng.randint(7, 18)
            calls.append((_minute(datetime.combine(day, time(hour, rng.randrange(60)))), night))
        for created, night in sorted(calls):
            number += 1
            priority = rng.choices(["critical", "high", "normal", "low"], [11 + 10 * night, 18, 50, 21])[0]
            down = priority == "critical" or (priority == "high" and rng.random() < 0.2)
            critical = priority == "critical" or down
            region = rng.choices(list(REGIONS), list(REGIONS.values()))[0]
            staff = [e for e in ENGINEERS if _person(e)[2] == region and _employed(e, day)]
            engineer = rng.choice(staff or [e for e in ENGINEERS if _employed(e, day)])
            speed, ftf, repeat, _ = ENGINEERS[engineer]
            dispatcher = rng.choice([d for d in DISPATCHERS if _employed(d, day)])
            ack_median, reassign = DISPATCHERS[dispatcher]

            if critical:  # the on-call line answers within minutes, day or night
                assigned = created + timedelta(minutes=5 + rng.expovariate(1 / 20))
            else:
                assigned = _add_business_hours(created, rng.lognormvariate(math.log(ack_median), 0.9))

            needs_visit = rng.random() < (0.55 if critical else 0.75)
            visits = 0
            arrived = None
            if needs_visit:
                if critical:
                    median_days = 1.05 * REGION_DISTANCE[region] / speed
                    arrived = created + timedelta(days=rng.lognormvariate(math.log(median_days), 0.75))
                else:
                    median_days = 2.2 * REGION_DISTANCE[region] / speed
                    arrived = created + timedelta(days=rng.lognormvariate(math.log(median_days), 0.45))
                visits = 1 if rng.random() < ftf else rng.choice([2, 2, 2, 3])

            if arrived is not None:  # nobody arrives before the job is assigned
                arrived = max(arrived, assigned + timedelta(minutes=rng.uniform(40, 120)))
            if critical:  # production back: remote fix or a workaround, independent of the final repair
                restored = created + timedelta(hours=rng.lognormvariate(math.log(2.5 / speed), 0.75))
                restored = max(restored, assigned + timedelta(minutes=rng.uniform(10, 30)))
            elif arrived is not None:
                restored = arrived + timedelta(hours=rng.uniform(1, 6))
                if visits > 1:
                    restored += timedelta(days=rng.uniform(1, 3) * (visits - 1))
            else:  # fixed remotely once the engineer has the job
                restored = assigned + timedelta(hours=rng.lognormvariate(math.log(14 / speed), 0.9))

            open_at_export = datetime(2027, 1, 5, 8, 0)
            if rng.random() < 0.015 or restored > open_at_export:
                restored = None  # still open when the year was exported
            if arrived is not None and arrived > open_at_export:
                arrived = None
            if arrived is None and needs_visit:
                visits = 0
            returned = restored is not None and rng.random() < repeat * (1.6 if visits > 1 else 1)
            rows.append([
                f"R{number:05d}", _fmt(created), _fmt(_minute(assigned)), _fmt(arrived and _minute(arrived)),
                _fmt(restored and _minute(restored)), priority, "true" if down else "false",
                "true" if needs_visit else "false", str(visits), "true" if returned else "false",
                "true" if rng.random() < reassign else "false", engineer, dispatcher,
                f"C{rng.randrange(1, 180):03d}", f"EQ{rng.randrange(1, 900):04d}",
            ])
        day += timedelta(days=1)
    # deliberately broken rows: each ends in `rejects` with its line and reason
    rows.insert(150, ["R90001", "2026-02-30 10:15", "2026-02-30 10:40", "", "", "normal", "false", "false", "0",
                      "false", "false", "e01", "d01", "C001", "EQ0001"])
    rows.insert(400, ["R90002", "2026-03-12 09:20", "2026-03-12 10:05", "", "2026-03-13 15:00", "urgent", "false",
                      "false", "0", "false", "false", "e06", "d02", "C002", "EQ0002"])
    rows.insert(900, list(rows[700]))
    rows.insert(1500, ["R90003", "2026-08-04 11:00", "2026-08-04 11:30", "2026-08-05 09:00", "2026-08-20 16:00",
                       "low", "false", "true", "12", "false", "false", "e09", "d03", "C003", "EQ0003"])
    with (HERE / "data" / "requests.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["request_id", "created_at", "assigned_at", "arrived_at", "restored_at", "priority",
                    "equipment_down", "needs_visit", "visits", "returned_within_30d", "reassigned", "engineer_id",
                    "dispatcher_id", "client_id", "equipment_id"])
        w.writerows(rows)


def _hours(x: float) -> str:
    return f"{round(x * 4) / 4:g}"  # time sheets are kept in quarter hours


def _timesheets(rng: random.Random) -> None:
    rows = []
    for engineer, (_, _, _, productive) in ENGINEERS.items():
        fte = float(_person(engineer)[5])
        # 20 vacation days (pro rata): two summer weeks and a week each in spring and autumn
        vacation = set()
        for start, length in ((date(2026, 7, 6) + timedelta(days=7 * rng.randrange(5)), 14),
                              (date(2026, 3, 2) + timedelta(days=7 * rng.randrange(6)), 7),
                              (date(2026, 10, 5) + timedelta(days=7 * rng.randrange(6)), 7)):
            vacation.update(start + timedelta(days=i) for i in range(length))
        day = YEAR_START
        while day <= YEAR_END:
            if _employed(engineer, day):
                cells = {k: 0.0 for k in ("on_site", "travel", "remote", "admin", "training", "sick", "vacation")}
                scheduled = 0.0
                if _working_day(day):
                    scheduled = 8 * fte
                    roll = rng.random()
                    if day in vacation:
                        scheduled = 0.0
                        cells["vacation"] = 8 * fte
                    elif roll < 0.035:
                        cells["sick"] = scheduled
                    elif roll < 0.055:
                        cells["training"] = scheduled
                    else:
                        share = min(1.05, max(0.2, rng.gauss(productive, 0.12)))
                        work = scheduled * share
                        cells["travel"] = work * rng.uniform(0.2, 0.35)
                        cells["remote"] = work * rng.uniform(0.0, 0.15)
                        cells["on_site"] = work - cells["travel"] - cells["remote"]
                        cells["admin"] = max(0.0, scheduled - work)
                elif day.weekday() >= 5 and rng.random() < 0.04:  # weekend emergency call-out
                    cells["on_site"] = rng.uniform(2, 5)
                    cells["travel"] = rng.uniform(1, 2)
                if scheduled or any(cells.values()):
                    rows.append([f"{engineer.upper()}-{day:%Y%m%d}", day.isoformat(), engineer, _hours(scheduled),
                                 *(_hours(cells[k]) for k in ("on_site", "travel", "remote", "admin", "training",
                                                              "sick", "vacation"))])
            day += timedelta(days=1)
    rows.sort(key=lambda r: (r[1], r[2]))
    # deliberately broken rows
    rows.insert(500, list(rows[499]))
    rows.insert(1200, ["E03-20260415X", "2026-04-15", "e03", "8,5", "6", "1", "0", "1.5", "0", "0", "0"])
    with (HERE / "data" / "timesheets.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["sheet_id", "work_date", "engineer_id", "scheduled_hours", "on_site_hours", "travel_hours",
                    "remote_hours", "admin_hours", "training_hours", "sick_hours", "vacation_hours"])
        w.writerows(rows)


if __name__ == "__main__":
    (HERE / "data").mkdir(exist_ok=True)
    rng = random.Random(SEED)
    _people()
    _requests(rng)
    _timesheets(rng)
