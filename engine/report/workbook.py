"""XLSX workbooks (SPEC §11): `kpi evaluate --format xlsx`, `kpi bonus --format xlsx` and the report's.

Sheets: Summary (the run, counts, goals, warnings), KPIs (every value row), Scorecards (one row per
item), Bonus (one row per person, with the plan, period, run id, approval and currency) and, in
:func:`report_workbook`, the charts (:mod:`kpi_engine.report.charts`). Numbers come from the run's
result columns (:mod:`kpi_engine.documents`): a cell holds the number the JSON prints, money the
amount of its string, as numbers with number formats (percentages for fractions, the plan's
currency for money).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kpi_engine import __version__
from kpi_engine.documents import Results, evaluation_results, number
from kpi_engine.errors import Severity
from kpi_engine.report.sheets import (
    PERCENT,
    Column,
    Rows,
    money_cell,
    money_format,
    replace_texts,
    run_time,
    table_widths,
    value_format,
    workbook_bytes,
    write_table,
)

if TYPE_CHECKING:
    from openpyxl import Workbook

    from kpi_engine.config import model as m
    from kpi_engine.data.ledger import RunRecord
    from kpi_engine.evaluation import Evaluation
    from kpi_engine.pay import BonusRun

TARGET_POINTS = ("threshold", "target", "stretch")
RANGE_POINTS = ("min", "max", "threshold_min", "threshold_max")
KPI_FIELDS = ("kpi", "subject_type", "subject", "period", "value", "n", "status", "score", "rank")


PENDING = {
    "id": "run-not-yet-recorded-id",
    "time": "not-yet-recorded-now",
    "definitions_hash": "definitions-hash-pending".ljust(64, "-"),
}
"""The run block's fields a workbook holds before the run is recorded: as long as the real ones, so a
workbook with them becomes the recorded run's workbook by :func:`with_run`, without being written again."""


def pending_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """A run block (version, period) with the fields only recording gives held by :data:`PENDING`."""
    return {**run, **PENDING}


def approve_command(run_id: object) -> str:
    """How to approve a bonus run, as the Summary shows it."""
    return f"kpi runs approve WORKSPACE {run_id} --by NAME"


def with_run(draft: bytes, run: Mapping[str, Any]) -> bytes:
    """A workbook written for :func:`pending_run`, now holding the recorded `run`: the same bytes as if written for it.

    Building a large workbook takes long; the CLI writes it before recording the run (as every
    `--out`) and then only swaps the run's id, time and definitions hash in.
    """
    texts = {PENDING[k]: str(run[k]) for k in PENDING}
    texts[approve_command(PENDING["id"])] = approve_command(run["id"])
    return replace_texts(draft, texts, (run_time(PENDING["time"]), run_time(run.get("time"))))


@dataclass(frozen=True)
class Payouts:
    """A bonus run for the Bonus sheet: its results (:func:`kpi_engine.documents.bonus_results`) and approval."""

    run: BonusRun
    results: Results
    currency: str
    approval: str
    """What is known of the run's approval when the workbook is written (:func:`approval_note`)."""


def approval_note(approved: RunRecord | None, differing: int) -> str:
    """A new run's approval as of writing: not yet, and the approved run of its plan and period, if any.

    A run is recorded when it is written, so it cannot be approved yet; `kpi runs approve` approves
    it later, and the workbook is not rewritten then.
    """
    note = "not approved when written"
    if approved is None:
        return note
    same = "pays the same" if differing == 0 else f"pays {differing} people differently"
    return (
        f"{note}; run {approved.id} of this plan and period was approved by {approved.approved_by} "
        f"at {approved.approved_at}, and this run {same}"
    )


# --- the sheets ------------------------------------------------------------------------------


def _who(ws: m.Workspace, ev: Evaluation, kind: str, subject: str | None) -> tuple[str | None, str | None]:
    """A subject's name and unit: a person's roster unit, a unit itself, nothing for the organization."""
    if kind == "person":
        person = ev.org.people.get(subject or "")
        return (person.name, person.unit) if person else (None, None)
    if kind == "unit":
        unit = ev.org.units.get(subject or "")
        return (unit.name if unit else None), subject
    return ws.organization.name, None


def kpi_columns(ws: m.Workspace, parts: Sequence[tuple[Evaluation, Results]]) -> list[Column]:
    """The KPIs sheet: every value row of the runs, in turn, with its target points.

    The range points (min, max and their thresholds) get columns only when a row has them; `by`
    columns follow, sorted by name.
    """
    rows: dict[str, list[Any]] = {name: [] for name in KPI_FIELDS}
    by: dict[str, list[Any]] = {}
    who: list[tuple[str | None, str | None]] = []
    targets: list[Any] = []
    for ev, results in parts:
        table = results.table("kpis")
        before = len(rows["kpi"])
        for name in KPI_FIELDS:
            rows[name].extend(table.column(name))
        for i, name in enumerate(results.fields.get("by") or []):
            column = by.setdefault(f"by.{name}", [None] * before)  # a `by` column a part lacks is empty on its rows
            column.extend(None if v is None else v[i] for v in table.column("by"))
        for column in by.values():
            column.extend([None] * (len(rows["kpi"]) - len(column)))
        pairs = zip(table.column("subject_type"), table.column("subject"), strict=True)
        who.extend(_who(ws, ev, kind, subject) for kind, subject in pairs)
        targets.extend(row.target for row in ev.kpis)
    kpis = rows["kpi"]
    units = [ws.kpis[k].unit if k in ws.kpis else None for k in kpis]
    formats = [value_format(u) for u in units]
    points = list(TARGET_POINTS)
    if any(t is not None and getattr(t, "min", None) is not None for t in targets):
        points += RANGE_POINTS
    return [
        Column("kpi", kpis),
        Column("kpi name", [ws.kpis[k].name if k in ws.kpis else None for k in kpis]),
        Column("level", rows["subject_type"]),
        Column("subject", rows["subject"]),
        Column("subject name", [name for name, _ in who]),
        Column("unit", [unit for _, unit in who]),
        Column("period", rows["period"]),
        Column("value", rows["value"], formats),
        Column("measured in", units),
        Column("n", rows["n"], "0"),
        *(
            Column(point.replace("_", " "), [number(getattr(t, point, None)) for t in targets], formats)
            for point in points
        ),
        Column("status", rows["status"]),
        Column("score", rows["score"], PERCENT),
        Column("rank", rows["rank"], "0"),
        *(Column(name, by[name]) for name in sorted(by)),
    ]


def scorecard_columns(
    ws: m.Workspace, ev: Evaluation, results: Results, people: set[str] | None = None
) -> list[Column]:
    """The Scorecards sheet: one row per item, its scorecard's person and total repeated; only `people` if given."""
    cards, items = results.table("scorecards"), results.table("items")
    person = cards.column("person")
    rows = [i for i, card in enumerate(items.column("card")) if people is None or person[card] in people]
    card = [items.column("card")[i] for i in rows]

    def of_card(name: str) -> list[Any]:
        values = cards.column(name)
        return [values[c] for c in card]

    def of_item(name: str) -> list[Any]:
        values = items.column(name)
        return [values[i] for i in rows]

    who = [_who(ws, ev, "person", p) for p in of_card("person")]
    kpis = of_item("kpi")
    return [
        Column("scorecard", of_card("scorecard")),
        Column("person", of_card("person")),
        Column("name", [name for name, _ in who]),
        Column("unit", [unit for _, unit in who]),
        Column("period", of_card("period")),
        Column("total score", of_card("total_score"), PERCENT),
        Column("kpi", kpis),
        Column("kpi name", [ws.kpis[k].name if k in ws.kpis else None for k in kpis]),
        Column("at", of_item("at")),
        Column("subject", of_item("subject")),
        Column("weight", of_item("weight"), PERCENT),
        Column("value", of_item("value"), [value_format(ws.kpis[k].unit if k in ws.kpis else None) for k in kpis]),
        Column("status", of_item("status")),
        Column("score", of_item("score"), PERCENT),
        Column("contribution", of_item("contribution"), PERCENT),
    ]


def payout_columns(paid: Payouts, run_id: str) -> list[Column]:
    """The Bonus sheet: one row per person with the plan, period, run id, approval and currency beside the money."""
    run, table = paid.run, paid.results.table("payouts")
    people = table.column("person")
    found = [run.evaluation.org.people.get(p) for p in people]
    rows = len(people)
    money = money_format(paid.currency, run.plan.rounding_to)
    return [
        Column("plan", [run.plan.id] * rows),
        Column("period", [run.period.label] * rows),
        Column("run id", [run_id] * rows),
        Column("approval", ["not approved when written"] * rows),
        Column("person", people),
        Column("name", [p.name if p else None for p in found]),
        Column("unit", [p.unit if p else None for p in found]),
        Column("scorecard", table.column("scorecard")),
        Column("total score", table.column("total_score"), PERCENT),
        Column("factor", table.column("factor"), PERCENT),
        Column("proration", table.column("proration"), PERCENT),
        *(
            Column(name.replace("_", " "), [money_cell(v) for v in table.column(name)], money)
            for name in ("target_bonus", "computed", "payout")
        ),
        Column("currency", [paid.currency] * rows),
        Column("share", table.column("share"), PERCENT),
        Column("reason", table.column("reason")),
    ]


def _bonus_sheet(book: Workbook, paid: Payouts, run_id: str) -> None:
    columns = payout_columns(paid, run_id)
    rows = Rows(book.create_sheet("Bonus"))
    rows.widths(table_widths(columns))
    rows.table(columns)
    rows.append([])  # a blank row: the total and the pool stay outside the filter, kept out of sorts
    fields = paid.results.fields
    money = money_format(paid.currency, paid.run.plan.rounding_to)
    before = [None] * ([c.header for c in columns].index("payout") - 1)
    rows.append(["total", *before, rows.formatted(money_cell(fields.get("total")), money)])
    if fields.get("pool") is not None:
        rows.append(["pool", *before, rows.formatted(money_cell(fields["pool"]), money)])


def _summary_pairs(
    ws: m.Workspace, ev: Evaluation, results: Results, run: Mapping[str, Any], grain: str | None
) -> list[tuple[str, Any, str | None]]:
    engine = ev.engine or {"name": "duckdb"}
    shown_engine = " ".join(str(engine[k]) for k in ("name", "version") if engine.get(k))
    kpis = results.table("kpis")
    people = {
        s for s, kind in zip(kpis.column("subject"), kpis.column("subject_type"), strict=True) if kind == "person"
    }
    return [
        ("organization", ws.organization.name, None),
        ("rules version", ws.organization.version, None),
        ("period", run.get("period") or ev.period.label, None),
        ("grain", grain or "none (the whole period)", None),
        ("run id", run.get("id"), None),
        ("run time (UTC)", run.get("time"), None),
        ("definitions hash", run.get("definitions_hash"), None),
        ("engine", shown_engine + (f" at {engine['connection']}" if engine.get("connection") else ""), None),
        ("kpi-engine", __version__, None),
        ("KPI rows", len(kpis), None),
        ("people with KPI values", len(people), None),
        ("scorecards", len(results.table("scorecards")), None),
        *((f"rejected rows in {source}", count, None) for source, count in sorted(ev.rejects.items())),
    ]


def _bonus_pairs(paid: Payouts, run: Mapping[str, Any]) -> list[tuple[str, Any, str | None]]:
    fields = paid.results.fields
    money = money_format(paid.currency, paid.run.plan.rounding_to)
    return [
        ("plan", paid.run.plan.id, None),
        ("currency", paid.currency, None),
        ("people in the plan", len(paid.results.table("payouts")), None),
        ("pool", money_cell(fields.get("pool")), money),
        ("total paid", money_cell(fields.get("total")), money),
        ("approval", paid.approval, None),
        ("to approve", approve_command(run.get("id")), None),
    ]


def _summary_sheet(
    book: Workbook,
    ws: m.Workspace,
    ev: Evaluation,
    results: Results,
    run: Mapping[str, Any],
    grain: str | None,
    paid: Payouts | None,
) -> None:
    rows = Rows(book.create_sheet("Summary"))
    rows.widths([24, 60, 40, 8])
    pairs = _summary_pairs(ws, ev, results, run, grain)
    if paid is not None:
        pairs += _bonus_pairs(paid, run)
    warnings = [d for d in ev.diagnostics if d.severity == Severity.WARNING]
    rows.pairs([*pairs, ("warnings", len(warnings), None)])
    goals = results.table("goals")
    if len(goals):
        rows.append([])
        rows.title("Goals")
        rows.table(
            [
                Column("goal", goals.column("goal")),
                Column("period", goals.column("period")),
                Column("status", goals.column("status")),
                Column("attainment", goals.column("attainment"), PERCENT),
            ],
            frozen=False,
        )
    if warnings:
        rows.append([])
        rows.title("Warnings")
        rows.table(
            [
                Column("code", [d.code.value for d in warnings]),
                Column("message", [d.message for d in warnings]),
                Column("file", [d.span.file if d.span else None for d in warnings]),
                Column("line", [d.span.line if d.span else None for d in warnings]),
            ],
            frozen=False,
        )


# --- the workbooks ---------------------------------------------------------------------------


def _book(
    ws: m.Workspace,
    ev: Evaluation,
    results: Results,
    run: Mapping[str, Any],
    grain: str | None,
    paid: Payouts | None,
) -> Workbook:
    """A workbook of append-only sheets (rows stream to disk as they are written), its Summary first."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    _summary_sheet(book, ws, ev, results, run, grain, paid)
    return book


def evaluation_workbook(
    ws: m.Workspace, ev: Evaluation, results: Results, run: Mapping[str, Any], grain: str | None = None
) -> bytes:
    """`kpi evaluate --format xlsx`: Summary, KPIs and Scorecards sheets.

    `run` is the JSON `run` block (id, time, definitions_hash, version, period); the same block and
    results give the same bytes.
    """
    book = _book(ws, ev, results, run, grain, None)
    write_table(book.create_sheet("KPIs"), kpi_columns(ws, [(ev, results)]))
    write_table(book.create_sheet("Scorecards"), scorecard_columns(ws, ev, results))
    return workbook_bytes(book, run_time(run.get("time")))


def bonus_workbook(ws: m.Workspace, paid: Payouts, run: Mapping[str, Any]) -> bytes:
    """`kpi bonus --format xlsx`: Summary, Bonus and the Scorecards of the plan's people."""
    ev = paid.run.evaluation
    results = evaluation_results(ev)
    book = _book(ws, ev, results, run, None, paid)
    _bonus_sheet(book, paid, str(run.get("id")))
    people = set(paid.results.table("payouts").column("person"))
    write_table(book.create_sheet("Scorecards"), scorecard_columns(ws, ev, results, people))
    return workbook_bytes(book, run_time(run.get("time")))


def report_workbook(
    ws: m.Workspace,
    ev: Evaluation,
    run: Mapping[str, Any],
    *,
    results: Results | None = None,
    grain: str | None = None,
    trend: Evaluation | None = None,
    paid: Payouts | None = None,
) -> bytes:
    """The report's workbook: Summary, KPIs, Scorecards, Bonus (with `paid`), Rankings and, with `trend`, Trends.

    `ev` is the whole period's evaluation (its results when already built); `trend` the same run
    split by `grain` (its rows join the KPIs sheet and draw the Trends charts). Rankings chart every
    unit with a value per KPI, best first.
    """
    from kpi_engine.report.charts import ranking_sheet, trend_sheet

    results = results or evaluation_results(ev)
    book = _book(ws, ev, results, run, grain, paid)
    trend_results = evaluation_results(trend) if trend is not None else None
    parts = [(ev, results)] + ([(trend, trend_results)] if trend is not None and trend_results is not None else [])
    write_table(book.create_sheet("KPIs"), kpi_columns(ws, parts))
    write_table(book.create_sheet("Scorecards"), scorecard_columns(ws, ev, results))
    if paid is not None:
        _bonus_sheet(book, paid, str(run.get("id")))
    ranking_sheet(book.create_sheet("Rankings"), ws, ev, results)
    if trend is not None and trend_results is not None:
        trend_sheet(book.create_sheet("Trends"), ws, trend, trend_results)
    return workbook_bytes(book, run_time(run.get("time")))
