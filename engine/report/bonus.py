"""`kpi bonus` output: JSON (SPEC §7.2), CSV and a human table (the workbook: report/workbook.py)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_engine.documents import PAYOUT_KEYS, Results, money, target_bonus
from kpi_engine.errors import Diagnostic
from kpi_engine.literal import cell as literal_cell
from kpi_engine.literal import cells
from kpi_engine.pay import BonusRun
from kpi_engine.report.evaluation import csv_cells
from kpi_engine.report.formats import csv_columns, left_out, shortened, shown

PAYOUT_FIELDS = (
    "person",
    "name",
    "unit",
    *PAYOUT_KEYS[1:8],
    "currency",
    *PAYOUT_KEYS[8:],
    "plan",
    "period",
    "run_id",
)
"""The CSV's columns: the results' payout columns (PAYOUT_KEYS), the person's name and roster unit after the id,
the currency after the money, and the run's plan, period and id on every row (a file read alone says what it is).
"""


def _name(run: BonusRun, person: str) -> str:
    p = run.evaluation.org.people.get(person)
    return p.name if p else person


def bonus_csv(run: BonusRun, results: Results, run_id: str) -> str:
    """One row per person (:data:`PAYOUT_FIELDS`); money as exact decimal text."""
    table = results.table("payouts")
    people = table.column("person")
    found = [run.evaluation.org.people.get(person) for person in people]
    rows = len(people)
    given: dict[str, list[Any]] = {
        "name": [_name(run, person) for person in people],
        "unit": [p.unit if p else None for p in found],
        "currency": [results.fields.get("currency")] * rows,
        "plan": [run.plan.id] * rows,
        "period": [run.period.label] * rows,
        "run_id": [run_id] * rows,
    }
    return csv_columns(PAYOUT_FIELDS, [given[f] if f in given else csv_cells(table, f) for f in PAYOUT_FIELDS])


def table_notice(run: BonusRun) -> Diagnostic | None:
    """W010 when the table output leaves payouts out (:func:`bonus_table` prints at most so many)."""
    return shortened({"payouts": len(run.result.payouts)}, "write every payout with --format csv|xlsx --out FILE")


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def bonus_table(run: BonusRun, currency: str, width: int = 120) -> str:
    """A human table of payouts with the total (the first rows only when there are very many: :func:`table_notice`)."""
    console = Console(file=io.StringIO(), record=True, width=width, force_terminal=False, color_system=None)
    unit = run.plan.rounding_to
    pool = f", pool {money(run.result.pool, unit)} {currency}" if run.result.pool is not None else ""
    table = Table(title=literal_cell(f"Bonus plan {run.plan.id} — {run.period.label}{pool}"))
    for col in ("person", "name", "scorecard", "total score", "factor", "proration", "target bonus", "payout"):
        table.add_column(col, justify="left" if col in ("person", "name", "scorecard") else "right")
    payouts = run.result.payouts
    for p in payouts[: shown(len(payouts))]:
        table.add_row(
            *cells(
                p.person,
                _name(run, p.person),
                p.scorecard or "",
                _pct(p.total_score),
                _pct(p.factor),
                _pct(p.proration),
                target_bonus(run, p) or "—",
                f"{money(p.payout, unit)} {currency}",
            )
        )
    table.add_section()
    table.add_row(*cells("total", "", "", "", "", "", "", f"{money(run.result.total, unit)} {currency}"))
    console.print(table)
    if shown(len(payouts)) < len(payouts):
        console.print(Text(left_out(len(payouts), "payouts")))
    return console.export_text()
