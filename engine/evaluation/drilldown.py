"""`kpi rows`: which source rows make a KPI's value for a period and a subject (SPEC §10 drill-down).

A source KPI lists its own rows; a derived KPI lists the rows of every source KPI it is computed
from, each row naming its KPI. Rows come back with their declared columns, the file and line they
were imported from (the line as `rejects` counts it: the header is line 1), and `counted` for a
formula built on one condition (``count_if``, ``share``, ``sum_if``, ``avg_if``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from kpi_engine.compiled import Compiled
from kpi_engine.config import model as m
from kpi_engine.errors import Code, Diagnostic, KpiError, error
from kpi_engine.evaluation.org import OrgData, load_org
from kpi_engine.evaluation.runner import check_kpi_ids, open_data, period_of, slices_of
from kpi_engine.execution import Target
from kpi_engine.names import Level
from kpi_engine.periods import Period
from kpi_engine.plan.ir import KpiSpec, ScanKey
from kpi_engine.sql.compile_rows import Narrowing, compile_rows


@dataclass(frozen=True)
class KpiRows:
    """One source KPI's rows: its columns (declared, then `file`, `line`, maybe `counted`) and values."""

    kpi: str
    source: str
    columns: tuple[str, ...]
    rows: list[tuple[object, ...]]
    total: int
    """Rows before --limit."""


@dataclass
class RowsListing:
    """What `kpi rows` reports."""

    kpi: str
    period: Period
    level: Level
    subject: str | None
    derived: bool
    parts: list[KpiRows] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def list_rows(
    compiled: Compiled,
    kpi: str,
    period: str,
    *,
    subject: str | None = None,
    at: Level | None = None,
    limit: int | None = None,
    target: Target = Target(),
) -> RowsListing:
    """The rows behind ``kpi``'s value for ``period`` and one subject (default: the organization)."""
    ws = compiled.workspace
    check_kpi_ids(ws, [kpi])
    whole = period_of(ws, period)
    specs = [(group.key, spec) for group in compiled.plan.scans for spec in group.kpis]
    derived = kpi not in {spec.id for _, spec in specs}
    with open_data(ws, target) as (engine, report, notes):
        org = load_org(ws, engine)
        level, narrowing = _subject(ws, org, subject, at)
        listing = RowsListing(kpi, whole, level, subject, derived, diagnostics=[*notes])
        if report is not None:
            listing.diagnostics += report.diagnostics
        for key, spec in specs:
            query = compile_rows(
                ws,
                compiled.formulas,
                key,
                spec,
                slices_of(ws, [whole])[0],
                _for_scan(ws, kpi, key, spec, level, narrowing),
                limit,
                engine.dialect,
            )
            found = engine.run(query.select)
            total = int(str(found[0][-1])) if found else 0
            columns = tuple("file" if c == "_file" else "line" if c == "_line" else c for c in query.columns[:-1])
            listing.parts.append(KpiRows(spec.id, key.source, columns, [r[:-1] for r in found], total))
    return listing


def _subject(ws: m.Workspace, org: OrgData, subject: str | None, at: Level | None) -> tuple[Level, Narrowing]:
    """The subject's level and how to narrow rows to it; unknown subjects are named with a guess."""
    if subject is None:
        if at not in (None, "organization"):
            raise KpiError([error(Code.BAD_VALUE, f"--at {at} needs --subject: whose rows?", None, "add --subject ID")])
        return "organization", Narrowing()
    levels: list[Level] = [lv for lv in ("person", "unit") if at in (None, lv)]
    if "person" in levels and subject in org.people:
        return "person", Narrowing(person=subject)
    if "unit" in levels and subject in org.units:
        return "unit", Narrowing(units={u for u, path in org.paths.items() if subject in path})
    known = sorted(set(org.people) | set(org.units))
    close = difflib.get_close_matches(subject, known, n=1)
    where = f"a {at}" if at else "a person of the roster or a unit"
    raise KpiError(
        [
            error(
                Code.UNKNOWN_REFERENCE,
                f"`{subject}` is not {where}",
                None,
                f"did you mean `{close[0]}`?" if close else "give a person id from the roster or a unit id",
            )
        ]
    )


def _for_scan(ws: m.Workspace, kpi: str, key: ScanKey, spec: KpiSpec, level: Level, narrowing: Narrowing) -> Narrowing:
    """The narrowing a scan can apply: refused where the KPI has no value for that kind of subject."""
    if level == "organization":
        return narrowing
    if key.by_column is None or (level == "person" and key.level != "person"):
        whom = "the organization only" if key.by_column is None else "units"
        raise KpiError(
            [
                error(
                    Code.BAD_VALUE,
                    f"KPI `{spec.id}` is computed for {whom}, so a {level} has no rows of it"
                    + (f" (it is an input of `{kpi}`)" if spec.id != kpi else ""),
                    ws.source_map.key(ws.kpis[spec.id].path),
                    "ask for the organization (no --subject)" if key.by_column is None else "give a unit id",
                )
            ]
        )
    return narrowing


__all__: Sequence[str] = ["KpiRows", "RowsListing", "list_rows"]
