"""What an evaluation must say about its data (SPEC §14).

Rejected rows, rejected roster rows by person, and rows that belong to no period: nothing about
people or money is left out without a word.
"""

from __future__ import annotations

import json
from typing import cast

from sqlglot import exp

from kpi_engine.config import model as m
from kpi_engine.data.csvfile import raw_field
from kpi_engine.data.files import source_files
from kpi_engine.data.records import DataFile
from kpi_engine.data.report import ImportReport
from kpi_engine.errors import Code, Diagnostic, KpiError, warning
from kpi_engine.execution import Engine
from kpi_engine.source import Span, display_path

__all__ = ["data_notices", "reject_counts", "reject_warnings", "roster_rejects", "rows_without_time"]


_REJECTS = exp.table_("rejects")  # the table an engine's import keeps rejected rows in


def reject_counts(ws: m.Workspace, wh: Engine) -> dict[str, int]:
    """Rejected rows (distinct records) per file source, 0 included, and per table source that has any."""
    counts = {s: 0 for s, src in sorted(ws.sources.items()) if src.path is not None}
    if "rejects" in wh.relations():
        # A rejected record has a row per rejected column: count each record once.
        record = exp.DPipe(
            this=exp.DPipe(this=exp.column("file"), expression=exp.Literal.string(":"), safe=True),
            expression=exp.column("record"),
            safe=True,
        )
        query = (
            exp.select(exp.column("source"), exp.func("count", exp.Distinct(expressions=[record])))
            .from_(_REJECTS.copy())
            .group_by(exp.column("source"))
        )
        for source, count in cast("list[tuple[str, int]]", wh.run(query)):
            if str(source) in ws.sources:  # a table read in place has rejects on another engine
                counts[str(source)] = int(count)
    return counts


def _where(source: m.Source, file: str, line: int | None) -> Span:
    return Span(display_path(source.base_dir / file), int(line or 1), 1)


def reject_warnings(ws: m.Workspace, report: ImportReport) -> list[Diagnostic]:
    """The rejects of an evaluation read from files, as `kpi import` shows them.

    The first rows of each source with file, line, column and reason, and how many more there are.
    The roster's rejects are named by person instead (:func:`roster_rejects`).
    """
    roster = ws.organization.people.source if ws.organization.people else None
    out = []
    for s in report.sources:
        if not s.rejected or s.source == roster or s.source not in ws.sources:
            continue
        source = ws.sources[s.source]
        # A table read in place (another engine) has no file lines: its rows are placed at `table:`.
        table = ws.source_map.value(("sources", s.source, "table")) if source.path is None else None
        for r in s.sample:
            column = f", column `{r.column}`" if r.column else ""
            out.append(
                warning(
                    Code.ROWS_REJECTED,
                    f"source `{s.source}`{column}: row rejected: {r.reason}"
                    + (f" (row {r.record} of table `{r.file}`: {r.raw})" if source.path is None else ""),
                    table if source.path is None else _where(source, r.file, r.line),
                    "the row is left out of every KPI; fix the " + ("table" if source.path is None else "file"),
                )
            )
        shown = len({(r.file, r.record) for r in s.sample})
        out.append(
            warning(
                Code.ROWS_REJECTED,
                f"source `{s.source}`: {s.rejected} of {s.rows} rows rejected"
                + (f" ({s.rejected - shown} more not listed)" if s.rejected > shown else ""),
                table if source.path is None else ws.source_map.value(("sources", s.source, "path")),
                "the session's `rejects` table lists every one"
                if source.path is None
                else "`kpi import` keeps every rejected row in the `rejects` table",
            )
        )
    return out


def roster_rejects(ws: m.Workspace, wh: Engine) -> list[Diagnostic]:
    """One warning per rejected roster row, naming the person (read from the raw row) and why.

    That person is missing from every payout and every unit roll-up.
    """
    people = ws.organization.people
    if people is None or people.source not in ws.sources or "rejects" not in wh.relations():
        return []
    source = ws.sources[people.source]
    # One row per problem, grouped per record here: an ordered ARRAY_AGG is not portable (sqlglot
    # drops the ORDER BY for Spark), and a record's columns must come with their own reasons.
    query = (
        exp.select(*(exp.column(c, quoted=True) for c in ("file", "record", "line", "column", "reason", "raw")))
        .from_(_REJECTS.copy())
        .where(exp.column("source").eq(exp.Literal.string(source.id)))
        .order_by(
            exp.column("file"),
            exp.column("record"),
            exp.Ordered(this=exp.column("column", quoted=True), nulls_first=False),
            exp.column("reason"),
        )
    )
    grouped: dict[tuple[str, int], list[tuple[object, ...]]] = {}
    for row in wh.run(query):
        grouped.setdefault((str(row[0]), int(row[1])), []).append(row)  # type: ignore[call-overload]
    rows = [
        (
            file,
            record,
            min((int(r[2]) for r in found if r[2] is not None), default=None),  # type: ignore[call-overload]
            [r[3] for r in found],
            [r[4] for r in found],
            min((str(r[5]) for r in found if r[5] is not None), default=None),
        )
        for (file, record), found in grouped.items()
    ]
    files = _files(source)
    out = []
    for file, _record, line, columns, reasons, raw in rows:
        pid = _person_id(source, files.get(str(file)), people.id, raw)
        who = f"person `{pid}`" if pid else "a person (id unreadable)"
        why = "; ".join(f"`{c}`: {r}" if c else str(r) for c, r in zip(columns, reasons, strict=True))
        if list(columns) == [source.key] and str(reasons[0]).startswith("duplicate key"):
            # The first row of that id is kept: the person is paid, from that row only.
            message, hint = (
                f"a second roster row of {who} rejected ({why}); only the first row counts",
                "remove the repeated row, or fix the id",
            )
        else:
            message, hint = (
                f"roster row of {who} rejected ({why}); they are missing from every payout and every unit roll-up",
                "fix the roster row and run again",
            )
        out.append(warning(Code.ROSTER_ROW_REJECTED, message, _where(source, str(file), line), hint))
    return out


def _files(source: m.Source) -> dict[str, DataFile]:
    try:
        return {f.label: f for f in source_files(source)}
    except KpiError:
        return {}


def _person_id(source: m.Source, file: DataFile | None, column: str, raw: object) -> str | None:
    """The id cell of a rejected row: JSON objects (JSON, Parquet) by key, CSV text by the header."""
    if not isinstance(raw, str) or not raw:
        return None
    if raw.lstrip().startswith("{"):
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        found = value.get(column) if isinstance(value, dict) else None
        return None if found is None else str(found)
    if file is None or file.format != "csv":
        return None
    return raw_field(file, source.csv, list(source.columns), raw, column) or None


def rows_without_time(ws: m.Workspace, wh: Engine) -> list[Diagnostic]:
    """Per source with a `time:` column: rows whose time is empty belong to no period."""
    tables = wh.relations(views=True)
    out = []
    for source_id, source in sorted(ws.sources.items()):
        if source.time is None or source.time not in source.columns or source_id not in tables:
            continue
        query = (
            exp.select(exp.func("count", exp.Star()))
            .from_(exp.to_identifier(source_id, quoted=True))
            .where(exp.column(source.time, quoted=True).is_(exp.null()))
        )
        ((count,),) = wh.run(query)
        if count:
            out.append(
                warning(
                    Code.ROWS_WITHOUT_TIME,
                    f"source `{source_id}`: {count} row"
                    f"{'s have' if count != 1 else ' has'} no `{source.time}`, so "
                    f"{'they belong' if count != 1 else 'it belongs'} to no period: left out of "
                    "every KPI",
                    ws.source_map.value(("sources", source_id, "time")),
                    f"fill `{source.time}`, or make the column `required: true` to reject such rows",
                )
            )
    return out


def data_notices(ws: m.Workspace, wh: Engine, report: ImportReport | None) -> list[Diagnostic]:
    """Everything an evaluation says about its data, in a stable order."""
    found = reject_warnings(ws, report) if report is not None else []
    return found + roster_rejects(ws, wh) + rows_without_time(ws, wh)
