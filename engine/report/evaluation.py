"""`kpi evaluate` output: JSON (SPEC §7.2), CSV and human tables."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from kpi_engine.documents import evaluation_document, kpi_row, number, scorecard_row, to_json
from kpi_engine.errors import Severity
from kpi_engine.evaluation import Evaluation
from kpi_engine.literal import cell, cells
from kpi_engine.report.formats import csv_text

KPI_FIELDS = ("kpi", "subject_type", "subject", "period", "value", "n", "status", "score", "rank")
SCORECARD_FIELDS = (
    "scorecard",
    "person",
    "period",
    "total_score",
    "kpi",
    "at",
    "subject",
    "weight",
    "value",
    "status",
    "score",
    "contribution",
)


def notices(ev: Evaluation) -> dict[str, Any]:
    """`warnings` (code, message, file, line) and `rejects` (rejected rows per source) of a run (SPEC §14)."""
    warnings = [
        {
            "code": d.code.value,
            "message": d.message,
            "file": d.span.file if d.span else None,
            "line": d.span.line if d.span else None,
        }
        for d in ev.diagnostics
        if d.severity == Severity.WARNING
    ]
    return {"warnings": warnings, "rejects": dict(sorted(ev.rejects.items()))}


def evaluation_json(ev: Evaluation, run: Mapping[str, Any]) -> str:
    """SPEC §7.2 JSON, with the run's warnings and rejects after the fields the ledger keeps."""
    return to_json({**evaluation_document(ev, run), **notices(ev)})


def kpis_csv(ev: Evaluation) -> str:
    """One row per KPI result; `by.COL` columns after the fixed ones."""
    by_names = sorted({name for r in ev.kpis for name, _ in r.by})
    header = [*KPI_FIELDS, *(f"by.{b}" for b in by_names)]
    rows = []
    for r in ev.kpis:
        obj = kpi_row(r)
        by = dict(r.by)
        rows.append([obj[f] for f in KPI_FIELDS] + [by.get(b) for b in by_names])
    return csv_text(header, rows)


def scorecards_csv(ev: Evaluation) -> str:
    """One row per scorecard item, with the person's total repeated."""
    rows = []
    for s in sorted(ev.scorecards, key=lambda s: (s.scorecard, s.person, s.period)):
        doc = scorecard_row(s)
        for item in doc["items"]:
            rows.append(
                [
                    s.scorecard,
                    s.person,
                    s.period,
                    doc["total_score"],
                    item["kpi"],
                    item["at"],
                    item["subject"],
                    item["weight"],
                    item["value"],
                    item["status"],
                    item["score"],
                    item["contribution"],
                ]
            )
    return csv_text(SCORECARD_FIELDS, rows)


def _fmt(value: float | int | None, percent: bool = False) -> str:
    """A number for people: percentages with one decimal, large numbers with thousands separators."""
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.1f}%"
    if abs(value) >= 100:
        text = f"{value:,.1f}"
        return text[:-2] if text.endswith(".0") else text
    return f"{value:.4g}"


def evaluation_table(ev: Evaluation, units: Mapping[str, str], width: int = 120) -> str:
    """Human tables: KPI values by subject, then scorecard totals, then goals."""
    console = Console(file=io.StringIO(), record=True, width=width, force_terminal=False, color_system=None)
    table = Table(title=cell(f"KPIs — {ev.period.label}"), show_lines=False)
    for col in ("KPI", "subject", "period", "value", "n", "status", "score", "rank"):
        table.add_column(col, justify="right" if col in ("value", "n", "score", "rank") else "left")
    for r in ev.kpis:
        subject = r.subject if r.subject is not None else "(organization)"
        if r.subject_type == "unit":
            subject = f"unit {r.subject}"
        if r.by:
            subject += " " + ", ".join(f"{k}={v}" for k, v in r.by)
        percent = units.get(r.kpi) == "percent"
        table.add_row(
            *cells(
                r.kpi,
                subject,
                r.period,
                _fmt(number(r.value), percent),
                str(r.n),
                r.status or "",
                _fmt(number(r.score), True),
                "" if r.rank is None else str(r.rank),
            )
        )
    console.print(table)
    if ev.scorecards:
        cards = Table(title="Scorecards")
        for col in ("scorecard", "person", "period", "total score", "items scored"):
            cards.add_column(col, justify="right" if col in ("total score", "items scored") else "left")
        for s in sorted(ev.scorecards, key=lambda s: (s.scorecard, s.person, s.period)):
            scored = sum(1 for i in s.items if i.score is not None)
            cards.add_row(
                *cells(s.scorecard, s.person, s.period, _fmt(number(s.total_score), True), f"{scored}/{len(s.items)}")
            )
        console.print(cards)
    if ev.goals:
        goals = Table(title="Goals")
        for col in ("goal", "period", "status", "attainment"):
            goals.add_column(col)
        for g in ev.goals:
            goals.add_row(*cells(g.goal, g.period, g.status or "", _fmt(number(g.attainment), True)))
        console.print(goals)
    return console.export_text()
