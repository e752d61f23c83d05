"""Native Excel charts of a report's workbook (SPEC §11): unit rankings per KPI and, with a grain, trends.

Each chart draws from a table on its own sheet (the numbers beside the picture, as the HTML report
keeps them): the Rankings sheet holds, per KPI, every unit with a value over the whole period,
best first (the run's rank: the KPI's direction, by score for a range), with the threshold, the
target and the organization's value, drawn as bars and flat lines; the Trends sheet holds, per KPI,
each sub-period's value of the organization and of the top levels of units, drawn as lines.
Lines are straight (never smoothed) and labels show values only, never series names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kpi_engine.documents import Results, number
from kpi_engine.literal import printable
from kpi_engine.report.sheets import Column, Rows, value_format

if TYPE_CHECKING:
    from openpyxl.chart import BarChart, LineChart
    from openpyxl.worksheet.worksheet import Worksheet

    from kpi_engine.config import model as m
    from kpi_engine.evaluation import Evaluation

CHART_ROWS = 16
"""Rows a chart covers (7.5 cm): a block of fewer rows still leaves the chart this much room."""
CHART_COLUMN = "J"
TREND_SERIES = 8
"""Lines a trend chart draws at most (the organization and whole levels of units from the top), unless the
top level alone has more."""


@dataclass(frozen=True)
class Ranked:
    """One unit's row of a ranking: rank, unit, its name, value, threshold, target."""

    rank: int | None
    unit: str
    name: str
    value: float | int
    threshold: float | int | None
    target: float | int | None


def rankings(ev: Evaluation, results: Results) -> dict[str, list[Ranked]]:
    """Per KPI, every unit with a value over the whole period (no `--by` rows), best first."""
    table = results.table("kpis")
    found: dict[str, list[Ranked]] = {}
    columns = (table.column(name) for name in ("kpi", "subject_type", "subject", "period", "value", "rank", "by"))
    for i, (kpi, kind, subject, period, value, rank, by) in enumerate(zip(*columns, strict=True)):
        if kind != "unit" or value is None or by is not None or period != ev.period.label:
            continue
        target = ev.kpis[i].target
        unit = ev.org.units.get(subject)
        found.setdefault(kpi, []).append(
            Ranked(
                rank,
                subject,
                unit.name if unit else subject,
                value,
                number(getattr(target, "threshold", None)),
                number(getattr(target, "target", None)),
            )
        )
    best_first = {kpi: sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.unit)) for kpi, rows in found.items()}
    return dict(sorted(best_first.items()))


def organization_values(results: Results) -> dict[tuple[str, str], float | int | None]:
    """The organization's value per (KPI, period), from the rows without `--by` values."""
    table = results.table("kpis")
    columns = (table.column(name) for name in ("kpi", "subject_type", "period", "value", "by"))
    return {(k, p): v for k, kind, p, v, by in zip(*columns, strict=True) if kind == "organization" and by is None}


def _title(ws: m.Workspace, kpi: str, period: str) -> str:
    name = ws.kpis[kpi].name if kpi in ws.kpis else kpi
    return f"{name} ({kpi}) — {period}"


def _straight(chart: LineChart) -> None:
    for series in chart.series:
        series.smooth = False


def _value_labels() -> Any:
    from openpyxl.chart.label import DataLabelList

    return DataLabelList(showVal=True, showSerName=False, showCatName=False, showLegendKey=False, showPercent=False)


def _text_categories(chart: BarChart | LineChart, sheet: Worksheet, column: int, first: int, last: int) -> None:
    """Categories that are text (unit names, periods): a string reference, so Excel shows them and not 1, 2, 3."""
    from openpyxl.chart import Reference
    from openpyxl.chart.data_source import AxDataSource, StrRef

    ref = Reference(sheet, min_col=column, min_row=first, max_row=last)
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(ref)))


def _axes(chart: BarChart | LineChart, fmt: str | None) -> None:
    chart.x_axis.delete = False  # openpyxl 3.1 leaves axes hidden unless told otherwise
    chart.y_axis.delete = False
    if fmt is not None:
        chart.y_axis.number_format = fmt


def ranking_sheet(sheet: Worksheet, ws: m.Workspace, ev: Evaluation, results: Results) -> None:
    """Per KPI a ranking table and its bar chart (bars: the units' values; lines: threshold, target, organization)."""
    from openpyxl.chart import BarChart, LineChart, Reference

    whole = organization_values(results)
    out = Rows(sheet)
    out.widths([8, 16, 30, 14, 14, 14, 14])
    for kpi, rows in rankings(ev, results).items():
        fmt = value_format(ws.kpis[kpi].unit if kpi in ws.kpis else None)
        top = out.row
        out.title(_title(ws, kpi, ev.period.label))
        organization = whole.get((kpi, ev.period.label))
        columns = [
            Column("rank", [r.rank for r in rows], "0"),
            Column("unit", [r.unit for r in rows]),
            Column("unit name", [r.name for r in rows]),
            Column("value", [r.value for r in rows], fmt),
            Column("threshold", [r.threshold for r in rows], fmt),
            Column("target", [r.target for r in rows], fmt),
            Column("organization", [organization] * len(rows), fmt),
        ]
        header = out.row
        out.table(columns, frozen=False)
        last = header + len(rows)
        bars = BarChart()
        bars.type = "col"
        bars.title = printable(_title(ws, kpi, ev.period.label))
        bars.add_data(Reference(sheet, min_col=4, min_row=header, max_row=last), titles_from_data=True)
        _text_categories(bars, sheet, 3, header + 1, last)
        bars.dataLabels = _value_labels()
        _axes(bars, fmt)
        lines = LineChart()
        for index, column in enumerate(columns[4:], 5):
            if any(v is not None for v in column.values):
                lines.add_data(Reference(sheet, min_col=index, min_row=header, max_row=last), titles_from_data=True)
        _straight(lines)
        if lines.series:
            bars += lines
        bars.height, bars.width = 7.5, 16
        sheet.add_chart(bars, f"{CHART_COLUMN}{top}")
        _leave_room(out, top)


def _leave_room(out: Rows, top: int) -> None:
    """Blank rows after a block until its chart (anchored at `top`) has room, and one more between blocks."""
    while out.row < top + CHART_ROWS + 1:
        out.append([])
    out.append([])


def _trend_units(ev: Evaluation) -> list[str]:
    """The units a trend chart draws, in tree order: whole levels from the top while they fit in the chart.

    The top level always; each level below while the organization and the units drawn stay within
    :data:`TREND_SERIES` lines. Every unit's values are in the KPIs sheet.
    """
    levels: dict[int, list[str]] = {}
    for unit, path in ev.org.paths.items():
        levels.setdefault(len(path), []).append(unit)
    chosen: list[str] = []
    for depth in sorted(levels):
        if chosen and 1 + len(chosen) + len(levels[depth]) > TREND_SERIES:
            break
        chosen += levels[depth]
    return sorted(chosen, key=ev.org.paths.__getitem__)


def trend_table(ev: Evaluation, results: Results) -> dict[str, tuple[list[str], dict[str, list[Any]]]]:
    """Per KPI, its sub-periods and the values of the organization and the trend units in each."""
    table = results.table("kpis")
    values: dict[str, dict[str, dict[str, Any]]] = {}
    columns = (table.column(name) for name in ("kpi", "subject_type", "subject", "period", "value", "by"))
    for kpi, kind, subject, period, value, by in zip(*columns, strict=True):
        if by is not None or kind not in ("organization", "unit"):
            continue
        series = "organization" if kind == "organization" else subject
        values.setdefault(kpi, {}).setdefault(series, {})[period] = value
    units = _trend_units(ev)
    found = {}
    for kpi, by_series in sorted(values.items()):
        periods = sorted({p for points in by_series.values() for p in points})
        drawn = [s for s in ("organization", *units) if any(v is not None for v in by_series.get(s, {}).values())]
        found[kpi] = (periods, {s: [by_series[s].get(p) for p in periods] for s in drawn})
    return found


def trend_sheet(sheet: Worksheet, ws: m.Workspace, ev: Evaluation, results: Results) -> None:
    """Per KPI a table of sub-periods and a line chart of the organization and the top units over them."""
    from openpyxl.chart import LineChart, Reference

    out = Rows(sheet)
    out.widths([14, *[18] * TREND_SERIES])
    for kpi, (periods, series) in trend_table(ev, results).items():
        if not series:
            continue
        fmt = value_format(ws.kpis[kpi].unit if kpi in ws.kpis else None)
        top = out.row
        out.title(_title(ws, kpi, ev.period.label))
        names = {u: (ev.org.units[u].name if u in ev.org.units else u) for u in series if u != "organization"}
        columns: Sequence[Column] = [
            Column("period", periods),
            *(Column(names.get(s, s), values, fmt) for s, values in series.items()),
        ]
        header = out.row
        out.table(columns, frozen=False)
        last = header + len(periods)
        chart = LineChart()
        chart.title = printable(_title(ws, kpi, ev.period.label))
        chart.add_data(
            Reference(sheet, min_col=2, max_col=len(columns), min_row=header, max_row=last), titles_from_data=True
        )
        _text_categories(chart, sheet, 1, header + 1, last)
        for line in chart.series:
            line.marker.symbol = "circle"  # a sub-period alone is still seen
        _straight(chart)
        _axes(chart, fmt)
        chart.height, chart.width = 7.5, 16
        sheet.add_chart(chart, f"{CHART_COLUMN}{top}")
        _leave_room(out, top)
