"""`kpi report --format html`: a folder of pages from a :class:`~kpi_engine.report.gather.Report`.

``index.html`` (the organization), ``units/<id>.html`` and ``people/<id>.html``; each page stands
alone (its CSS inline, its charts inline SVG, no script, a Content-Security-Policy that allows no
request), prints on A4, and ends with a footer naming the run. The footer is rendered as a
placeholder as long as the real one (:func:`html_pages`) and filled in once the run is recorded, so
every page is rendered once and the same run gives the same bytes apart from that footer.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import string
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, cast

from markupsafe import Markup

from kpi_engine.evaluation.runner import collector_paused
from kpi_engine.report.gather import Comparison, KpiInfo, Line, Mark, PersonPage, Ranking, Report, Trend, UnitPage
from kpi_engine.report.markup import number, template
from kpi_engine.report.svg import (
    Bar,
    PersonFrame,
    Rule,
    Series,
    bar_chart,
    person_frame,
    person_trend,
    sparkline,
    trend_chart,
)

_SAFE = frozenset(string.ascii_letters + string.digits + "_-")
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))})
_LONGEST = 100


def file_stem(identifier: str) -> str:
    """A person or unit id as a file name that stays in its folder on any file system.

    Letters, digits, `_` and `-` stay; every other character (`/`, `.`, backslash, spaces, `~`, accents)
    becomes `~` and the hex of its UTF-8 bytes, so `../x` is `~2E~2E~2Fx`. Device names of Windows
    get a `~~` in front; a name longer than 100 characters is cut and ends with a hash of the id.
    """
    stem = "".join(ch if ch in _SAFE else "".join(f"~{b:02X}" for b in ch.encode()) for ch in identifier) or "~"
    if stem.upper() in _RESERVED:
        stem = "~~" + stem
    if len(stem) > _LONGEST:
        stem = stem[:80] + "~" + hashlib.sha256(identifier.encode()).hexdigest()[:16]
    return stem


def file_names(ids: Iterable[str]) -> dict[str, str]:
    """Each id's page file name; ids whose names differ only in case (`E01`, `e01`) get a hash each.

    Case-insensitive file systems (macOS, Windows) would otherwise write one over the other.
    """
    stems = {i: file_stem(i) for i in ids}
    folded: dict[str, int] = {}
    for stem in stems.values():
        folded[stem.lower()] = folded.get(stem.lower(), 0) + 1
    return {
        i: (f"{s}~{hashlib.sha256(i.encode()).hexdigest()[:8]}" if folded[s.lower()] > 1 else s) + ".html"
        for i, s in stems.items()
    }


def _rules(lines: Iterable[tuple[str, Decimal]], organization: Mark | None) -> list[Rule]:
    found = [Rule(label, value) for label, value in lines]
    if organization is not None and organization.value is not None:
        found.append(Rule("organization", organization.value))
    return found


def _series(t: Trend) -> Series:
    return Series(t.name, tuple(p.value for p in t.points), tuple(p.status for p in t.points))


def _trend(title: str, periods: Sequence[str], trends: Sequence[Trend], lines: list[Rule], unit: str | None) -> Markup:
    rules = [r for r in lines if r.label != "organization"]
    return trend_chart(title, periods, [_series(t) for t in trends], rules, unit)


@lru_cache(maxsize=4096)
def _shared_series(trends: tuple[Trend, ...]) -> tuple[Series, ...]:
    """A unit's and the organization's trends as series, made once for all the unit's people."""
    return tuple(_series(t) for t in trends)


class RankingCharts(NamedTuple):
    """The index's charts of a KPI (a NamedTuple: templates read its fields as attributes, Jinja2's quick way)."""

    ranking: Markup | None  # units ranked, with target and organization lines
    trend: Markup | None  # the organization by period (with --grain)
    spark: Markup | None  # the same as a sparkline for the KPI table


class ComparisonCharts(NamedTuple):
    """A unit's or a person's chart for a KPI, the trend, and (a person's) their table's reference rows."""

    comparison: Markup
    trend: Markup | None
    rows: Markup | None


def ranking_charts(r: Ranking, periods: Sequence[str]) -> RankingCharts:
    """The index's charts of a KPI: units ranked (with target and organization lines), the trend, a sparkline."""
    unit = r.kpi.unit
    rules = _rules(r.lines, r.organization)
    bars = [Bar(mk.name, mk.value, mk.status) for mk in r.units if mk.value is not None]
    ranking = bar_chart(f"{r.kpi.name}: units ranked best first, {len(bars)} with a value", bars, rules, unit)
    trend = spark = None
    if r.trend is not None:
        trend = _trend(f"{r.kpi.name}: organization by period", periods, [r.trend], rules, unit)
        values = tuple(p.value for p in r.trend.points)
        spark = sparkline(
            f"{r.kpi.name} by period: " + ", ".join(f"{p.subject} {number(p.value, unit)}" for p in r.trend.points),
            values,
            tuple(p.status for p in r.trend.points),
        )
    return RankingCharts(ranking if bars else None, trend, spark)


@lru_cache(maxsize=4096)
def _beside(
    kpi: KpiInfo,
    others: tuple[Mark, ...],
    organization: Mark | None,
    lines: tuple[Line, ...],
    peers: tuple[Decimal, Decimal] | None,
) -> tuple[PersonFrame, Markup]:
    """What a person's chart and table share with everyone of their unit (with the same target), made once.

    The chart without their bar, and the table's rows for their unit and the organization.
    """
    unit = kpi.unit
    marks = others if organization is None else (*others, organization)
    reference = tuple(Bar(mk.name, mk.value, mk.status) for mk in marks)
    title = f"{kpi.name}: you against your unit and the organization"
    frame = person_frame(title, reference, tuple(_rules(lines, None)), unit, peers)
    rows = template("reference_rows.html.j2").render(unit=unit, others=others, organization=organization)
    return frame, Markup(rows)


def comparison_charts(c: Comparison, periods: Sequence[str], person: bool) -> ComparisonCharts:
    """A unit's or a person's charts for a KPI: against the others and the organization, and the trend.

    A unit stands among its sibling units with the organization as a line; a person (shown as
    "You") stands beside their unit and the organization as bars.
    """
    unit = c.kpi.unit
    rows: Markup | None = None
    if person:
        frame, rows = _beside(c.kpi, c.others, c.organization, c.lines, c.peers)
        chart = frame.around(Bar(c.own.name, c.own.value, c.own.status, own=True))
    else:
        bars = [Bar(mk.name, mk.value, mk.status, own=mk.subject == c.own.subject) for mk in c.others]
        title = f"{c.kpi.name}: {c.own.name} against its sibling units and the organization"
        chart = bar_chart(title, bars, _rules(c.lines, c.organization), unit)
    trend = None
    if periods and c.trends:
        title, lines = f"{c.kpi.name} by period", _rules(c.lines, None)
        if person:  # their own line first (with --grain there always is one), then their unit's and the rest
            own, *shared = c.trends
            trend = person_trend(
                title, periods, _series(own), _shared_series(tuple(shared)), lines, unit, c.trend_peers
            )
        else:
            trend = _trend(title, periods, c.trends, lines, unit)
    return ComparisonCharts(chart, trend, rows)


def _footer_context(report: Report, runs: str) -> dict[str, object]:
    return {
        "organization": report.organization,
        "version": report.version,
        "period": report.period,
        "grain": report.grain,
        "runs": runs,
    }


def index_page(report: Report, units: dict[str, str], runs: str) -> str:
    """`index.html`: goals, the KPI table, each KPI's ranking of units (and trend), the units, the notes."""
    charts = [ranking_charts(r, report.periods) for r in report.rankings]
    return template("index.html.j2").render(
        report=report, charts=charts, unit_files=units, root="", **_footer_context(report, runs)
    )


def unit_page(report: Report, page: UnitPage, units: dict[str, str], people: dict[str, str], runs: str) -> str:
    """`units/<id>.html`: the unit against its siblings and the organization, its people ranked, their scorecards."""
    charts = [comparison_charts(c, report.periods, person=False) for c in page.comparisons]
    return template("unit.html.j2").render(
        report=report,
        page=page,
        compared=list(zip(page.comparisons, charts, strict=True)),  # pairs: no loop counter to look charts up by
        unit_files=units,
        people_files=people,
        root="../",
        **_footer_context(report, runs),
    )


def person_page(report: Report, page: PersonPage, units: dict[str, str], runs: str) -> str:
    """`people/<id>.html`: the statement, the person's values against their unit and the organization, the payout.

    Names no other person: the comparisons are with the person's unit and the organization only.
    """
    charts = [comparison_charts(c, report.periods, person=True) for c in page.comparisons]
    return template("person.html.j2").render(
        report=report,
        page=page,
        compared=list(zip(page.comparisons, charts, strict=True)),
        unit_files=units if report.complete else {},
        root="../",
        **_footer_context(report, runs),
    )


RUN_ID_PLACEHOLDER = "0" * 23  # a run id's length (20260315T101500Z-a1b2c3)
TIME_PLACEHOLDER = "0" * 20  # a recorded time's length (2026-03-15T10:15:00Z)


def footer_text(runs: Sequence[tuple[str, str]], time: str) -> str:
    """The runs part of every page's footer: each recorded run by kind and id, and when."""
    return ", ".join(f"{kind} run {run_id}" for kind, run_id in runs) + f", recorded {time}"


#: Below this many pages a report is rendered in this process: starting workers would cost more.
PARALLEL_FROM = 200
#: People's pages per task handed to a worker process.
CHUNK = 64

#: A page as a file: its path inside the folder, its bytes, and where its footer starts.
Page = tuple[str, bytes, int]
#: Writes one page (its path inside the folder, its bytes); safe to call in a forked worker process.
Writer = Callable[[str, bytes], None]


def html_pages(
    report: Report, kinds: Sequence[str], workers: int | None = None, write: Writer | None = None
) -> Iterator[Page]:
    """Every page of the report as bytes, with a placeholder footer as long as the real one, and where that starts.

    The footer names the runs of ``kinds`` (``evaluation``, ``bonus`` …); once they are recorded,
    :func:`footer_text` of the same kinds fits in exactly (ids and times have fixed lengths), so a
    page is rendered and encoded once. Pages come in folder order as soon as they are rendered, so
    the first can be written while the last are being rendered.

    A large report is rendered by ``workers`` processes (by default one per CPU this process may
    use), forked so that they share the gathered report instead of receiving a copy. Each renders
    whole pages, which come back in the same order with the same bytes as when rendered here. Only
    where ``fork`` is safe to use (Linux); elsewhere, and for small reports, in this process.

    ``write``: each page is handed to it by the process that rendered it (a worker writes its own
    pages instead of sending ~50 KB a page back), and comes back with empty bytes.
    """
    units = file_names(u.id for u in report.units)
    people = file_names(report.people.ids)
    blank = footer_text([(k, RUN_ID_PLACEHOLDER) for k in kinds], TIME_PLACEHOLDER)
    shared = (report, units, people, blank, write)
    tasks = _tasks(report)
    count = workers if workers is not None else len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    with collector_paused():  # thousands of pages of small objects, none cyclic (as in evaluation)
        if count < 2 or len(report.people) + len(report.units) < PARALLEL_FROM or sys.platform != "linux":
            for task in tasks:
                yield from _render(*shared, task)
        else:
            yield from _render_forked(shared, tasks, count)


#: A piece of work: the index (``("index", 0, 0)``), one unit's page, or a run of people's pages.
Task = tuple[str, int, int]

#: What a worker renders from: the report, the units' and people's file names, the placeholder footer, the writer.
Shared = tuple[Report, dict[str, str], dict[str, str], str, Writer | None]


def _tasks(report: Report) -> list[Task]:
    """The pages in folder order, as tasks: the index and each unit page alone, people in chunks."""
    tasks: list[Task] = []
    if report.complete:
        tasks.append(("index", 0, 0))
        tasks += [("unit", i, i + 1) for i in range(len(report.units))]
    tasks += [("people", i, min(i + CHUNK, len(report.people))) for i in range(0, len(report.people), CHUNK)]
    return tasks


def _render(
    report: Report, units: dict[str, str], people: dict[str, str], blank: str, write: Writer | None, task: Task
) -> list[Page]:
    """A task's pages, each encoded with the placeholder footer ``blank`` (and handed to ``write``)."""
    kind, start, end = task
    if kind == "index":
        texts: Iterable[tuple[str, str]] = [("index.html", index_page(report, units, blank))]
    elif kind == "unit":
        texts = ((f"units/{units[u.id]}", unit_page(report, u, units, people, blank)) for u in report.units[start:end])
    else:
        texts = (
            (f"people/{people[p.person.id]}", person_page(report, p, units, blank))
            for p in map(report.people.__getitem__, range(start, end))
        )
    marker = blank.encode("ascii")
    pages = []
    for name, text in texts:  # one page at a time: gathered, rendered, encoded, written
        data = text.encode("utf-8")
        if write is not None:
            write(name, data)
        pages.append((name, data if write is None else b"", data.rindex(marker)))
    return pages


#: What a forked worker renders from, inherited from the parent.
_shared: Shared | None = None


def _adopt(*shared: Any) -> None:
    global _shared
    _shared = cast(Shared, shared)


def _render_shared(task: Task) -> list[Page]:
    assert _shared is not None, "a worker renders only after adopting the report"
    return _render(*_shared, task)


def _render_forked(shared: Shared, tasks: list[Task], count: int) -> Iterator[Page]:
    """The tasks' pages rendered by ``count`` forked worker processes, in the tasks' order."""
    for name in ("index.html.j2", "unit.html.j2", "person.html.j2"):
        template(name)  # compiled once here, not in every worker
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads (DuckDB's) may deadlock the child if it
        # takes a lock another thread held. A worker only runs Python over objects already built (the
        # templates compiled above) and leaves with os._exit; it never touches DuckDB or its threads.
        warnings.filterwarnings("ignore", ".*use of fork\\(\\) may lead to deadlocks", DeprecationWarning)
        context = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(count, mp_context=context, initializer=_adopt, initargs=shared)
        chunks = pool.map(_render_shared, tasks)  # the workers start here, all tasks handed out
    try:
        for chunk in chunks:
            yield from chunk
    finally:
        pool.shutdown(cancel_futures=True)  # a reader that stops early leaves no work behind
