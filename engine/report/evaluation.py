"""`kpi evaluate` output: JSON (SPEC §7.2), CSV and human tables, all from the run's result columns."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_engine.documents import Results
from kpi_engine.documents import Table as ResultTable
from kpi_engine.errors import Diagnostic, Severity
from kpi_engine.evaluation import Evaluation
from kpi_engine.json_text import dumps
from kpi_engine.literal import cell, cells
from kpi_engine.report.formats import Written, csv_columns, csv_numbers, left_out, shortened, shown
from kpi_engine.report.results_json import document_json

NUMBERS = ("number", "integer")
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


def json_body(results: Results, notes: Mapping[str, Any]) -> str:
    """The JSON document of a run without its `run` block: written once, then given each block by :func:`with_run`."""
    return document_json(results, {}, notes)


def with_run(run: Mapping[str, Any], body: str) -> str:
    """The document `body` (from :func:`json_body`) with the `run` block first, as SPEC §7.2 shows it."""
    if not body.startswith("{\n"):
        return '{\n  "run": ' + dumps(dict(run), 1) + "\n}\n"
    return "".join(('{\n  "run": ', dumps(dict(run), 1), ",", body[1:]))  # a long body copied once more, not twice


def csv_cells(table: ResultTable, name: str) -> Sequence[Any]:
    """A column for CSV: numbers as the text they were written with once (`Table.json`), text as it is."""
    index = table.index(name)
    return csv_numbers(table.json[index]) if table.columns[index][1] in NUMBERS else table.data[index]


def _repeat(values: Sequence[Any], rows: Sequence[int]) -> Sequence[Any]:
    """A scorecard's column repeated on each of its items' rows (still :class:`Written` if it was)."""
    repeated = [values[r] for r in rows]
    return Written(repeated) if isinstance(values, Written) else repeated


def kpis_csv(results: Results) -> str:
    """One row per KPI result; `by.COL` columns (sorted by name) after the fixed ones."""
    table = results.table("kpis")
    names: list[str] = results.fields.get("by") or []
    by = table.column("by")
    by_columns = [[v[names.index(name)] for v in by] for name in sorted(names)]
    header = [*KPI_FIELDS, *(f"by.{name}" for name in sorted(names))]
    return csv_columns(header, [*(csv_cells(table, f) for f in KPI_FIELDS), *by_columns])


def scorecards_csv(results: Results) -> str:
    """One row per scorecard item, with the person's total repeated."""
    cards, items = results.table("scorecards"), results.table("items")
    card = items.column("card")
    repeated = [_repeat(csv_cells(cards, f), card) for f in SCORECARD_FIELDS[:4]]
    return csv_columns(SCORECARD_FIELDS, [*repeated, *(csv_cells(items, f) for f in SCORECARD_FIELDS[4:])])


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


def _subject(kind: str, subject: str | None, by: list[Any] | None, names: list[str]) -> str:
    text = subject if subject is not None else "(organization)"
    if kind == "unit":
        text = f"unit {subject}"
    if by:
        text += " " + ", ".join(f"{k}={v}" for k, v in zip(names, by, strict=True))
    return text


def table_notice(results: Results) -> Diagnostic | None:
    """W010 when the table output leaves rows out (:func:`evaluation_table` prints at most so many)."""
    counts = {"KPI rows": len(results.table("kpis")), "scorecards": len(results.table("scorecards"))}
    return shortened(counts, "write every row with --format csv --out FILE (or --format json --out FILE)")


def _kpi_table(results: Results, period: str, units: Mapping[str, str]) -> Table:
    kpis = results.table("kpis")
    names: list[str] = results.fields.get("by") or []
    table = Table(title=cell(f"KPIs — {period}"), show_lines=False)
    for col in ("KPI", "subject", "period", "value", "n", "status", "score", "rank"):
        table.add_column(col, justify="right" if col in ("value", "n", "score", "rank") else "left")
    count = shown(len(kpis))
    for kpi, kind, subject, label, value, n, status, score, rank, by in list(zip(*kpis.data, strict=True))[:count]:
        table.add_row(
            *cells(
                kpi,
                _subject(kind, subject, by, names),
                label,
                _fmt(value, units.get(kpi) == "percent"),
                str(n),
                status or "",
                _fmt(score, True),
                "" if rank is None else str(rank),
            )
        )
    return table


def _scorecard_table(results: Results) -> Table:
    cards, items = results.table("scorecards"), results.table("items")
    scored, counted = [0] * len(cards), [0] * len(cards)
    for card, score in zip(items.column("card"), items.column("score"), strict=True):
        counted[card] += 1
        scored[card] += score is not None
    table = Table(title="Scorecards")
    for col in ("scorecard", "person", "period", "total score", "items scored"):
        table.add_column(col, justify="right" if col in ("total score", "items scored") else "left")
    count = shown(len(cards))
    for i, (scorecard, person, label, total) in enumerate(list(zip(*cards.data, strict=True))[:count]):
        table.add_row(*cells(scorecard, person, label, _fmt(total, True), f"{scored[i]}/{counted[i]}"))
    return table


def evaluation_table(results: Results, period: str, units: Mapping[str, str], width: int = 120) -> str:
    """Human tables: KPI values by subject, then scorecard totals, then goals.

    A table of more than :data:`~kpi_engine.report.formats.TABLE_ROWS` rows prints its first
    :data:`~kpi_engine.report.formats.TABLE_SHOWN` and says how many it left out (:func:`table_notice`).
    """
    console = Console(file=io.StringIO(), record=True, width=width, force_terminal=False, color_system=None)
    kpis, cards = len(results.table("kpis")), len(results.table("scorecards"))
    console.print(_kpi_table(results, period, units))
    if shown(kpis) < kpis:
        console.print(Text(left_out(kpis, "KPI rows")))
    if cards:
        console.print(_scorecard_table(results))
        if shown(cards) < cards:
            console.print(Text(left_out(cards, "scorecards")))
    goals = results.table("goals")
    if len(goals):
        table = Table(title="Goals")
        for col in ("goal", "period", "status", "attainment"):
            table.add_column(col)
        for goal, label, status, attainment in zip(*goals.data, strict=True):
            table.add_row(*cells(goal, label, status or "", _fmt(attainment, True)))
        console.print(table)
    return console.export_text()
