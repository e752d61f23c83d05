"""Deterministic sample data for the `growth` library workspace: a group with five business
types (e-commerce, SaaS, retail, professional services, media), January - June 2026.

Run `python generate.py` in this folder to rewrite data/. Standard library only; the fixed seed gives
the same bytes every time. Relative targets compare with the previous period of the same length:
`kpi evaluate . --period 2026-Q2` compares the second quarter with the first.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

SEED = 20260601
HERE = Path(__file__).resolve().parent
START, END = date(2026, 1, 1), date(2026, 6, 30)
MONTHS = [date(2026, m, 1) for m in range(1, 7)]

PEOPLE = [
    # id, name, unit, role, monthly base salary, fte, hired, left
    ("g01", "Alise Berga", "ecommerce", "director", "5200.00", "1", "2021-02-01", ""),
    ("g02", "Bruno Cakss", "saas", "director", "5600.00", "1", "2020-06-15", ""),
    ("g03", "Cilda Dreimane", "retail", "director", "5000.00", "1", "2019-03-01", ""),
    ("g04", "Dzintars Elsts", "services", "director", "5400.00", "1", "2022-09-01", ""),
    ("g05", "Evija Fricsone", "media", "director", "4800.00", "1", "2026-04-01", ""),
    ("g06", "Gints Hartmanis", "store_riga", "store_manager", "2600.00", "1", "2018-05-02", ""),
    ("g07", "Helena Ikstena", "store_jelgava", "store_manager", "2400.00", "1", "2023-01-09", ""),
    ("g08", "Imants Jaunzems", "store_liepaja", "store_manager", "2400.00", "1", "2021-11-15", ""),
]


def _days() -> list[date]:
    return [START + timedelta(days=i) for i in range((END - START).days + 1)]


def _q(d: date) -> int:
    return (d.month - 1) // 3 + 1


def _ecommerce(rng: random.Random) -> list[list[str]]:
    rows = []
    for d in _days():
        growth = 1.0 + 0.0011 * (d - START).days          # traffic grows through the half-year
        weekend = 1.15 if d.weekday() >= 5 else 1.0
        sessions = round(rng.gauss(9000 * growth * weekend, 500))
        conversion = rng.gauss(0.021 if _q(d) == 1 else 0.0208, 0.0015)
        orders = round(sessions * conversion)
        aov = rng.gauss(62.0 if _q(d) == 1 else 64.5, 4.0)
        calls = round(rng.gauss(140 if _q(d) == 1 else 98, 14))  # a self-service returns page went live in April
        rows.append([d.isoformat(), str(sessions), str(orders), f"{orders * aov:.2f}", str(calls)])
    return rows


def _saas(rng: random.Random) -> tuple[list[list[str]], list[list[str]]]:
    rows, spend = [], []
    active = {f"S{i:04d}": rng.choice([49, 99, 99, 249, 499]) for i in range(1, 381)}
    nxt = 381
    for month in MONTHS:
        new = {f"S{nxt + i:04d}": rng.choice([49, 99, 99, 249]) for i in range(rng.randrange(22, 34) + month.month * 2)}
        nxt += len(new)
        gone = set()
        for cid, mrr in sorted(active.items()):
            churned = rng.random() < (0.024 if month.month <= 3 else 0.019)
            if not churned and rng.random() < 0.03:
                mrr = {49: 99, 99: 249, 249: 499, 499: 499}[mrr]  # expansion
                active[cid] = mrr
            gone |= {cid} if churned else set()
            rows.append([f"{cid}-{month:%Y%m}", cid, month.isoformat(), "0" if churned else str(mrr), "yes",
                         "yes" if churned else "no", "no"])
        for cid, mrr in sorted(new.items()):
            rows.append([f"{cid}-{month:%Y%m}", cid, month.isoformat(), str(mrr), "no", "no", "yes"])
        active = {c: m for c, m in (active | new).items() if c not in gone}
        for channel, base in (("search", 9000), ("social", 6000), ("events", 4000)):
            spend.append([f"{month:%Y%m}-{channel}", month.isoformat(), channel,
                          f"{base * rng.uniform(0.9, 1.15):.2f}"])
    return rows, spend


def _retail(rng: random.Random) -> list[list[str]]:
    stores = {"store_riga": (820, 21000, 1.06), "store_jelgava": (430, 9500, 1.02), "store_liepaja": (510, 10200, 0.97)}
    rows = []
    for d in _days():
        for store, (area, revenue, trend) in stores.items():
            if d.weekday() == 6 and store != "store_riga":
                continue  # regional stores close on Sundays
            factor = trend if _q(d) == 2 else 1.0
            rev = rng.gauss(revenue * factor * (1.25 if d.weekday() == 5 else 1.0), revenue * 0.08)
            receipts = round(rev / rng.gauss(24.0 if _q(d) == 1 else 24.6, 1.0))
            cogs = rev * rng.uniform(0.68, 0.72)
            stock = rng.gauss(revenue * 34 * (0.96 if _q(d) == 2 else 1.0), revenue)
            rows.append([f"{store}-{d:%Y%m%d}", store, d.isoformat(), f"{rev:.2f}", str(receipts), str(area),
                         f"{cogs:.2f}", f"{stock:.2f}"])
    return rows


def _services(rng: random.Random) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    contracts, sheets, status = [], [], []
    for d in _days():
        if d.weekday() < 5 and rng.random() < (0.18 if _q(d) == 1 else 0.2):
            contracts.append([f"C{len(contracts) + 1:04d}", d.isoformat(), f"client{rng.randrange(1, 40):02d}",
                              f"{rng.lognormvariate(10.4, 0.5):.2f}"])
        if d.weekday() < 5:
            for c in range(1, 9):
                billable = max(0.0, min(8.0, rng.gauss(5.6 if _q(d) == 1 else 6.0, 1.2)))
                sheets.append([f"T{len(sheets) + 1:05d}", f"consultant{c}", d.isoformat(), "8", f"{billable:.1f}"])
    for p in range(1, 11):
        start = rng.randrange(0, 3)
        for i, month in enumerate(MONTHS):
            if i < start:
                continue
            end_of_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            planned = min(1.0, (i - start + 1) / 6)
            actual = max(0.0, min(1.0, planned - abs(rng.gauss(0.06 if p % 3 else 0.15, 0.04))))
            rating = min(5, max(1, round(rng.gauss(4.4 - 6 * (planned - actual), 0.5))))  # sponsor pulse
            status.append([f"P{p:02d}-{month:%Y%m}", f"P{p:02d}", end_of_month.isoformat(), f"{planned:.3f}",
                           f"{actual:.3f}", str(rating)])
    return contracts, sheets, status


def _media(rng: random.Random) -> list[list[str]]:
    rows = []
    uv, pv_per, social, minutes = 180000, 2.9, 0.11, 2.4
    for month in MONTHS:
        sessions = round(uv * rng.uniform(1.55, 1.65))
        rows.append([month.isoformat(), str(round(uv)), str(round(sessions * pv_per)), str(sessions),
                     str(round(sessions * social)), str(round(sessions * minutes * 60))])
        uv *= rng.uniform(1.02, 1.05)
        pv_per *= rng.uniform(0.99, 1.02)
        social *= rng.uniform(1.0, 1.04)
        minutes *= rng.uniform(0.99, 1.02)
    return rows


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (HERE / "data" / name).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    rng = random.Random(SEED)
    (HERE / "data").mkdir(exist_ok=True)
    _write("managers.csv", ["employee_id", "full_name", "unit_id", "role", "base_salary", "fte", "hire_date",
                            "leave_date"], [list(p) for p in PEOPLE])
    _write("ecommerce_daily.csv", ["day", "sessions", "orders", "revenue", "service_calls"], _ecommerce(rng))
    months, spend = _saas(rng)
    _write("saas_customer_months.csv", ["snapshot_id", "customer_id", "month", "mrr", "active_at_start", "churned",
                                        "new_this_month"], months)
    _write("saas_marketing_spend.csv", ["row_id", "month", "channel", "spend"], spend)
    _write("retail_store_days.csv", ["row_id", "store_id", "day", "revenue", "receipts", "sales_area_m2", "cogs",
                                     "stock_value"], _retail(rng))
    contracts, sheets, status = _services(rng)
    _write("services_contracts.csv", ["contract_id", "signed_on", "client_id", "value"], contracts)
    _write("services_timesheets.csv", ["row_id", "consultant_id", "day", "available_hours", "billable_hours"], sheets)
    _write("services_project_status.csv", ["snapshot_id", "project_id", "snapshot_date", "planned_complete",
                                           "actual_complete", "client_rating"], status)
    _write("media_monthly.csv", ["month", "unique_visitors", "page_views", "sessions", "social_sessions",
                                 "time_on_site_seconds"], _media(rng))


if __name__ == "__main__":
    main()
