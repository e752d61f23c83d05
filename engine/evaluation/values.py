"""Run the plan: one query per scan group, then derived KPIs over the scans' results.

Values come back as exact decimals rounded to 12 significant digits; a duration is reported in
the KPI's unit (minutes, hours or days; seconds otherwise).

Values are kept column by column, in :class:`Block`s: a scan gives every KPI of its group a value
on each of its result rows (one per subject and period), so a block holds one key per row and one
list per KPI. Evaluation reads, assesses and ranks a few hundred thousand values this way without
making a record and a key for each.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from sqlglot import exp

from kpi_engine.compiled import Formulas
from kpi_engine.config import model as m
from kpi_engine.config.model import field_path
from kpi_engine.errors import Code, Diagnostic, KpiError, error, warning
from kpi_engine.evaluation.org import Person
from kpi_engine.execution import Engine, QueryFailed
from kpi_engine.expr.types import Type
from kpi_engine.plan.ir import DerivedSpec, Plan, ScanGroup
from kpi_engine.scoring.exact import to_decimal12
from kpi_engine.scoring.score import seconds_per_unit
from kpi_engine.sql.compile_expr import compile_expr
from kpi_engine.sql.compile_plan import (
    PlanContext,
    RootSet,
    ScanQuery,
    Slice,
    calendars,
    compile_empty,
    compile_scan,
    kpi_params,
)

Key = tuple[str, str, str | None, str, tuple[str | None, ...]]  # kpi, level, subject, period, by values
RowKey = tuple[str, str | None, str, tuple[str | None, ...]]  # a Key without its KPI: level, subject, period, by
Cell = tuple["Decimal | None", int, "bool | None"]  # one KPI's value, n and valid_if result on a row


class KpiValue(NamedTuple):
    """A KPI's value for one subject and period (and --by breakdown), as :meth:`Values.get` gives it."""

    kpi: str
    level: str
    subject: str | None
    period: str
    value: Decimal | None
    n: int
    valid: bool | None = None
    by: tuple[str | None, ...] = ()


class Column(NamedTuple):
    """One KPI's values over a block's rows: the value, the rows it counts, the ``valid_if`` result."""

    values: list[Decimal | None]
    ns: list[int]
    valid: list[bool | None] | None  # None: the KPI has no valid_if


class Block:
    """The values of some KPIs over shared rows: row ``i`` of every column belongs to ``keys[i]``.

    ``hidden`` holds, per KPI, the rows it leaves out of the report (:meth:`Values.select`).
    """

    def __init__(self, keys: list[RowKey], columns: dict[str, Column]) -> None:
        self.keys = keys
        self.columns = columns
        self.index = {key: i for i, key in enumerate(keys)}
        self.hidden: dict[str, set[int]] = {}

    def append(self, key: RowKey, cells: Mapping[str, Cell]) -> None:
        """Add a row with each KPI's cell."""
        self.index[key] = len(self.keys)
        self.keys.append(key)
        for kid, column in self.columns.items():
            value, n, valid = cells[kid]
            column.values.append(value)
            column.ns.append(n)
            if column.valid is not None:
                column.valid.append(valid)

    def cells(self, i: int) -> dict[str, Cell]:
        """Each KPI's cell on row ``i``."""
        return {kid: (c.values[i], c.ns[i], None if c.valid is None else c.valid[i]) for kid, c in self.columns.items()}

    def extend(self, other: Block) -> None:
        """Add another block's rows (of the same KPIs)."""
        for i, key in enumerate(other.keys):
            self.append(key, other.cells(i))


class Values:
    """Every KPI's values for a set of periods, block by block; one value is looked up by :data:`Key`."""

    def __init__(
        self,
        blocks: Sequence[Block] = (),
        empty: Mapping[str, Decimal | None] | None = None,
        diagnostics: Sequence[Diagnostic] = (),
    ) -> None:
        self.blocks: list[Block] = []
        self.home: dict[str, Block] = {}
        self.empty: dict[str, Decimal | None] = dict(empty or {})
        self.diagnostics = list(diagnostics)
        for block in blocks:
            self.add(block)

    def add(self, block: Block) -> None:
        """Add a block of KPI columns; its KPIs are found in it from now on."""
        self.blocks.append(block)
        for kid in block.columns:
            self.home[kid] = block

    def merge(self, other: Values) -> None:
        """Take over another Values' blocks and empty values (the previous period's, for `previous()`)."""
        for block in other.blocks:
            self.add(block)
        self.empty.update(other.empty)
        self.diagnostics += other.diagnostics

    def position(self, key: Key) -> int | None:
        """The row of a KPI's value in its block; None when it has none (or a hidden one) there."""
        block = self.home.get(key[0])
        if block is None:
            return None
        i = block.index.get(key[1:])  # type: ignore[arg-type]
        if i is None or (key[0] in block.hidden and i in block.hidden[key[0]]):
            return None
        return i

    def get(self, key: Key) -> KpiValue | None:
        """The value of one (KPI, level, subject, period, by) key, or None when there is no row."""
        i = self.position(key)
        if i is None:
            return None
        column = self.home[key[0]].columns[key[0]]
        valid = None if column.valid is None else column.valid[i]
        return KpiValue(key[0], key[1], key[2], key[3], column.values[i], column.ns[i], valid, key[4])

    def records(self) -> Iterator[KpiValue]:
        """Every value shown, block by block and KPI by KPI."""
        for block in self.blocks:
            for kid in block.columns:
                for key in block.keys:
                    found = self.get((kid, *key))
                    if found is not None:
                        yield found

    def select(
        self,
        needed: Mapping[tuple[str, str], set[str | None]],
        kpi_ids: Sequence[str],
        labels: Sequence[str],
        by: Sequence[str],
    ) -> None:
        """Keep the rows results are reported for (SPEC §6).

        Subjects without rows for a KPI appear (as no_data) only where a scorecard needs them; the
        organization always appears.

        ``needed`` holds the subjects scorecards need per (KPI, level). A needed subject the data
        lacks gets a row with each KPI's value over no rows; a row without data for a KPI that no
        scorecard needs is hidden from that KPI.
        """
        wanted = list(needed.items())
        if not by:
            wanted += [((kid, "organization"), {None}) for kid in kpi_ids]
        missing: dict[int, set[RowKey]] = {}
        seen: dict[tuple[int, str, frozenset[str | None]], set[RowKey]] = {}
        for (kid, level), subjects in wanted:
            block = self.home.get(kid)
            if block is None:  # a derived KPI none of whose inputs has a value
                block = Block([], {kid: Column([], [], None)})
                self.add(block)
            # KPIs of a scorecard share their subjects: look for each set of them once per block.
            lookup = (id(block), level, frozenset(subjects))
            if lookup not in seen:
                keys: set[RowKey] = {(level, subject, label, ()) for subject in subjects for label in labels}
                seen[lookup] = keys - block.index.keys()
            missing.setdefault(id(block), set()).update(seen[lookup])
        none: set[str | None] = set()
        for block in self.blocks:
            absent = {kid: (self.empty.get(kid), 0, None) for kid in block.columns}
            for key in sorted(missing.get(id(block), ()), key=lambda k: (k[0], k[1] or "", k[2])):
                block.append(key, absent)
            for kid, column in block.columns.items():
                shown = {"person": needed.get((kid, "person"), none), "unit": needed.get((kid, "unit"), none)}
                hidden = {
                    i
                    for i, n in enumerate(column.ns)
                    if n <= 0
                    for level, subject, _, _ in (block.keys[i],)
                    if level != "organization" and subject not in shown[level]
                }
                if hidden:
                    block.hidden[kid] = hidden


# Sums and averages add values as DECIMAL(38, 12) (see kpi_engine.sql.compile_expr): exact and
# the same whatever the thread count, for values and totals below 10^26 in magnitude. A KPI's
# value has the same bound, so scores and payouts stay within the 40 digits of scoring.
VALUE_LIMIT = Decimal(10) ** 26


def _out_of_range(ws: m.Workspace, kid: str, detail: str) -> KpiError:
    """A KPI whose value cannot be computed in range: a data error located at its formula."""
    kpi = ws.kpis[kid]
    span = ws.source_map.value(field_path(ws, kpi, "formula")) or ws.source_map.key(kpi.path)
    return KpiError(
        [
            error(
                Code.VALUE_OUT_OF_RANGE,
                f"KPI `{kid}` cannot be computed: {detail}",
                span,
                "KPI values, and the values and totals of sums and averages, must stay below 10^26 in "
                "magnitude; check the source data for huge values, or scale the formula",
            )
        ]
    )


_RANGE_DETAIL = "a value or a total of a sum or an average is out of range"


_RANGE_FAILURES = ("out_of_range", "conversion")


def _fetch(ws: m.Workspace, wh: Engine, query: exp.Expression, kid: str) -> list[tuple[object, ...]]:
    """Rows of one KPI's query; a value out of range is a located error naming the KPI."""
    try:
        return wh.run(query)
    except QueryFailed as exc:
        if exc.kind not in _RANGE_FAILURES:
            raise
        raise _out_of_range(ws, kid, _RANGE_DETAIL) from None


def _fetch_group(
    ws: m.Workspace,
    wh: Engine,
    group: ScanGroup,
    query: exp.Expression,
    compile_one: Callable[[ScanGroup], exp.Expression],
) -> list[tuple[object, ...]]:
    """Rows of a scan; when a value is out of range, each KPI runs alone to name the one at fault."""
    try:
        return wh.run(query)
    except QueryFailed as exc:
        if exc.kind not in _RANGE_FAILURES:
            raise
        for spec in group.kpis:
            _fetch(ws, wh, compile_one(ScanGroup(group.key, (spec,))), spec.id)
        raise _out_of_range(ws, group.kpis[0].id, _RANGE_DETAIL) from None


def _number(ws: m.Workspace, raw: object, kpi: m.Kpi, result_type: Type) -> Decimal | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        raise _out_of_range(ws, kpi.id, "its value overflows beyond the range of a double (about 1.8e308)")
    magnitude = abs(float(raw)) if isinstance(raw, (int, float, Decimal)) else 0.0
    if magnitude >= float(VALUE_LIMIT):
        raise _out_of_range(ws, kpi.id, f"its value {magnitude:.6g} is 10^26 or more in magnitude")
    value = to_decimal12(raw)  # type: ignore[arg-type]
    if result_type == Type.DURATION:
        value = to_decimal12(value / seconds_per_unit(kpi.unit))
    return value


def _numbers(ws: m.Workspace, raws: Sequence[object], kpi: m.Kpi, result_type: Type) -> list[Decimal | None]:
    """:func:`_number` of a column of raw values, each distinct value converted once.

    Values repeat a lot (shares of small counts, zeros), and a dictionary lookup costs a fraction of a
    conversion. Distinct values are converted in the order they first appear, so an error names the
    same value as converting row by row would. Booleans (equal to 0 and 1 as keys) go row by row.
    """
    if bool in set(map(type, raws)):
        return [_number(ws, raw, kpi, result_type) for raw in raws]
    known = {raw: _number(ws, raw, kpi, result_type) for raw in dict.fromkeys(raws)}
    return list(map(known.__getitem__, raws))


def _by_text(raw: object) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def run_scan(
    ws: m.Workspace,
    formulas: Formulas,
    wh: Engine,
    group: ScanGroup,
    slices: Sequence[Slice],
    paths: Mapping[str, tuple[str, ...]],
    people: Mapping[str, Person],
    by: Sequence[str],
    root_set: RootSet = "skip",
) -> Values:
    """Evaluate one scan group; every subject level in one query.

    A single root unit's values are the organization's when every row belongs to a unit; otherwise
    a second query computes the root alone (see :mod:`kpi_engine.sql.compile_plan`). ``root_set="keep"``
    groups by the root in the first query instead (the slower way, kept to test the shortcut).
    """

    def select_of(one: ScanGroup, root: RootSet = root_set) -> exp.Expression:
        return compile_scan(ws, formulas, one, slices, paths, by, dialect=wh.dialect, root_set=root).select

    query = compile_scan(ws, formulas, group, slices, paths, by, dialect=wh.dialect, root_set=root_set)
    rows = _fetch_group(ws, wh, group, query.select, select_of)
    block, found, unattached = _read_scan(ws, group, query, rows, people, paths)
    if query.root is not None:
        if unattached:
            root_query = compile_scan(ws, formulas, group, slices, paths, by, dialect=wh.dialect, root_set="only")
            root_rows = _fetch_group(ws, wh, group, root_query.select, lambda one: select_of(one, "only"))
            block.extend(_read_scan(ws, group, root_query, root_rows, people, paths)[0])
        else:
            for i in [i for i, key in enumerate(block.keys) if key[0] == "organization"]:
                _, _, period, by_values = block.keys[i]
                block.append(("unit", query.root, period, by_values), block.cells(i))
    return Values([block], _empty_values(ws, formulas, wh, group), found)


def _read_scan(
    ws: m.Workspace,
    group: ScanGroup,
    query: ScanQuery,
    rows: Sequence[tuple[object, ...]],
    people: Mapping[str, Person],
    paths: Mapping[str, tuple[str, ...]],
) -> tuple[Block, list[Diagnostic], bool]:
    """The values of a scan's result rows; and whether any of the rows scanned belongs to no unit.

    Also warns, per period, of rows attributed to people missing from the roster, summed from the
    person grouping set (see :mod:`kpi_engine.sql.compile_plan`).
    """
    d, nb = query.depth, len(query.by)
    specs = {s.id: s for s in group.kpis}
    at = {name: i for i, name in enumerate(query.select.named_selects)}
    unattached_at, rows_at = at.get("__unattached"), at.get("__rows")
    unknown: dict[tuple[str, tuple[str | None, ...]], int] = defaultdict(int)
    any_unattached = False
    keys: list[RowKey] = []
    kept: list[tuple[object, ...]] = []
    for row in rows:
        period, subject = str(row[0]), row[1]
        by_values = tuple(_by_text(v) for v in row[2 + d : 2 + d + nb])
        column = _grouping_set(int(row[2 + d + nb]), query.grouped)  # type: ignore[call-overload]
        if column is None:
            level, who = "organization", None
            any_unattached = any_unattached or (unattached_at is not None and bool(row[unattached_at]))
        else:
            value = subject if column < 0 else row[2 + column]
            level, who = "person" if column < 0 else "unit", None if value is None else str(value)
            if column < 0 and rows_at is not None:
                person = None if who is None else people.get(who)
                if who is not None and person is None:
                    unknown[(period, by_values)] += int(row[rows_at])  # type: ignore[call-overload]
                any_unattached = any_unattached or person is None or person.unit not in paths
            if who is None or (level == "person" and people and who not in people):
                continue
        keys.append((level, who, period, by_values))
        kept.append(row)
    found = [
        warning(
            Code.UNKNOWN_PERSON_ROWS,
            f"{count} row(s) of `{group.key.source}` in {period} are attributed to "
            "people missing from the roster; they count for the organization only",
            ws.source_map.key(ws.sources[group.key.source].data_path),
            "add the people to the roster, or fix the attribution column",
        )
        for (period, by_values), count in sorted(unknown.items())
        if count and not by_values
    ]
    columns = {}
    for kid in query.kpis:
        kpi, result_type = ws.kpis[kid], specs[kid].result_type
        v_at, n_at, ok_at = at[f"v:{kid}"], at[query.n_of[kid]], at.get(f"ok:{kid}")
        columns[kid] = Column(
            _numbers(ws, [row[v_at] for row in kept], kpi, result_type),
            [row[n_at] for row in kept],  # type: ignore[misc]
            None if ok_at is None else [bool(row[ok_at]) if row[ok_at] is not None else False for row in kept],
        )
    return Block(keys, columns), found, any_unattached


def _grouping_set(grouping: int, grouped: Sequence[int]) -> int | None:
    """Which grouping set a result row comes from, as its subject column.

    -1 is the person, i ≥ 0 the ancestor at depth i, None the organization: bit i (from the left)
    of ``grouping`` is 1 when column i is rolled up.
    """
    count = len(grouped)
    for i, column in enumerate(grouped):
        if not grouping & (1 << (count - 1 - i)):
            return column
    return None


def _empty_values(ws: m.Workspace, formulas: Formulas, wh: Engine, group: ScanGroup) -> dict[str, Decimal | None]:
    """Each KPI's value over no rows (0 for the count family, null for the rest)."""
    (row,) = _fetch_group(
        ws,
        wh,
        group,
        compile_empty(ws, formulas, group, wh.dialect),
        lambda one: compile_empty(ws, formulas, one, wh.dialect),
    ) or [(None,) * len(group.kpis)]
    return {
        spec.id: _number(ws, v, ws.kpis[spec.id], spec.result_type) for spec, v in zip(group.kpis, row, strict=True)
    }


def run_derived(
    ws: m.Workspace,
    formulas: Formulas,
    wh: Engine,
    spec: DerivedSpec,
    current: Values,
    previous: Values,
    previous_label: Mapping[str, str],
) -> Block | None:
    """A derived KPI for every subject and period where any of its inputs has a value."""
    from kpi_engine.config.dependencies import kpi_levels

    levels = kpi_levels(ws, ws.kpis[spec.id])
    found = {
        key
        for kid in spec.inputs
        if (block := current.home.get(kid)) is not None
        for key in block.keys
        if key[0] in levels
    }
    keys = sorted(found, key=lambda k: (k[0], k[1] or "", k[2], tuple(v or "" for v in k[3])))
    if not keys:
        return None
    inputs = list(spec.inputs)
    prevs = list(spec.uses_previous)
    rows = []
    counts = []
    for level, subject, period, by in keys:
        vals = [current.get((kid, level, subject, period, by)) for kid in inputs]
        pvals = [previous.get((kid, level, subject, previous_label.get(period, ""), by)) for kid in prevs]
        rows.append(tuple(str(v.value) if v is not None and v.value is not None else None for v in vals + pvals))
        counts.append(min((v.n for v in vals if v is not None), default=0))
    names = [f"k{i}" for i in range(len(inputs))] + [f"p{i}" for i in range(len(prevs))]
    index = {kid: i for i, kid in enumerate(inputs)}
    pindex = {kid: i for i, kid in enumerate(prevs)}

    class _Ctx(PlanContext):
        def kpi(self, id: str) -> exp.Expression:
            return exp.cast(exp.column(f"k{index[id]}", table="v", quoted=True), "DOUBLE")

        def previous(self, id: str) -> exp.Expression:
            return exp.cast(exp.column(f"p{pindex[id]}", table="v", quoted=True), "DOUBLE")

    kpi = ws.kpis[spec.id]
    ctx = _Ctx(ws, formulas, "", kpi_params(ws, kpi), wh.dialect, calendars(ws))
    value = compile_expr(spec.formula, ctx)
    rows_sql = rows if rows and names else [(None,)]
    query = exp.select(value.as_("v")).from_(exp.values(rows_sql, alias="v", columns=names or ["k0"]))
    result_type = formulas.types.get(spec.id, Type.NUMBER)
    results = [_number(ws, raw, kpi, result_type) for (raw,) in _fetch(ws, wh, query, spec.id)]
    return Block(keys, {spec.id: Column(results, counts, None)})


def evaluate_values(
    ws: m.Workspace,
    formulas: Formulas,
    wh: Engine,
    plan: Plan,
    slices: Sequence[Slice],
    paths: Mapping[str, tuple[str, ...]],
    people: Mapping[str, Person],
    by: Sequence[str] = (),
    previous: Values | None = None,
    previous_label: Mapping[str, str] | None = None,
    root_set: RootSet = "skip",
) -> Values:
    """Every KPI of the plan for the given period slices."""
    values = Values()
    for group in plan.scans:
        values.merge(run_scan(ws, formulas, wh, group, slices, paths, people, by, root_set))
    for spec in plan.derived:
        block = run_derived(ws, formulas, wh, spec, values, previous or Values(), previous_label or {})
        if block is not None:
            values.add(block)
        values.empty[spec.id] = None
    return values
