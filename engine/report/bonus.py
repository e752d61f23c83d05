"""`kpi bonus` output: JSON (SPEC §7.2), CSV, a human table and an XLSX workbook for HR."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
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
from kpi_engine.report.formats import csv_columns, left_out, safe_cell, shortened, shown
from kpi_engine.scoring.payout import round_money

PAYOUT_FIELDS = ("person", "name", *PAYOUT_KEYS[1:])  # the results' payout columns, with the name after the id


def _name(run: BonusRun, person: str) -> str:
    p = run.evaluation.org.people.get(person)
    return p.name if p else person


def bonus_csv(run: BonusRun, results: Results) -> str:
    """One row per person (the run's names beside the results' columns); money as exact decimal text."""
    table = results.table("payouts")
    people = table.column("person")
    names = [_name(run, person) for person in people]
    return csv_columns(PAYOUT_FIELDS, [people, names, *(csv_cells(table, f) for f in PAYOUT_FIELDS[2:])])


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


def write_xlsx(run: BonusRun, currency: str, path: Path) -> None:
    """Write the workbook of :func:`xlsx_bytes` to a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xlsx_bytes(run, currency))


def xlsx_bytes(run: BonusRun, currency: str) -> bytes:
    """A workbook for HR: payouts (money formatted, frozen header) and every KPI behind them.

    Built in memory, so a full disk fails on one plain write, not inside the zip writer.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Payouts"
    places = max(0, -int(run.plan.rounding_to.normalize().as_tuple().exponent))
    money_format = ("#,##0." + "0" * places if places else "#,##0") + f' "{currency}"'
    sheet.append(
        [
            "person",
            "name",
            "scorecard",
            "total score",
            "factor",
            "proration",
            "target bonus",
            "computed",
            "payout",
            "share",
            "reason",
        ]
    )
    for p in run.result.payouts:
        target = (
            None
            if p.target_bonus is None
            else round_money(p.target_bonus, run.plan.rounding_to, run.plan.rounding_mode)
        )
        sheet.append(
            [
                safe_cell(p.person),
                safe_cell(_name(run, p.person)),
                safe_cell(p.scorecard or ""),
                p.total_score,
                p.factor,
                p.proration,
                target,
                p.computed,
                p.payout,
                p.share,
                p.reason,
            ]
        )
    sheet.append(["total", None, None, None, None, None, None, None, run.result.total, None])
    for row in sheet.iter_rows(min_row=2):
        for cell in row[3:6]:
            cell.number_format = "0.00%"
        for cell in row[6:9]:
            cell.number_format = money_format
        row[9].number_format = "0.00%"
    _finish(sheet, Font)
    details = book.create_sheet("KPI details")
    details.append(
        ["person", "scorecard", "kpi", "at", "subject", "weight", "value", "status", "score", "contribution"]
    )
    for p in run.result.payouts:
        card = run.scorecard(p.person)
        for item in card.items if card else ():
            details.append(
                [
                    safe_cell(p.person),
                    safe_cell(card.scorecard if card else ""),
                    safe_cell(item.kpi),
                    item.at,
                    safe_cell(item.subject or ""),
                    item.weight,
                    item.value,
                    item.status or "",
                    item.score,
                    item.contribution,
                ]
            )
    for row in details.iter_rows(min_row=2):
        row[5].number_format = "0.00%"
        row[8].number_format = "0.00%"
        row[9].number_format = "0.00%"
    _finish(details, Font)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _finish(sheet: Any, font: Any) -> None:
    sheet.freeze_panes = "A2"
    for cell in sheet[1]:
        cell.font = font(bold=True)
    for column in sheet.columns:
        width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 40)
