"""A scan group → one SELECT: every KPI of the group, every subject level, one pass over the rows.

Shape of the query (DuckDB by default, any sqlglot dialect on request)::

    WITH "__units"(unit, a0, a1, …) AS (VALUES …)          -- each unit with its ancestors by depth
    SELECT <period label>, <person>, a0, a1, …, GROUPING(…),
           <kpi value> /* id file:line */, count(*) FILTER (WHERE <kpi rows>), <valid_if>, …
           -- (one count column per distinct set of rows: KPIs over the same rows share it)
    FROM (SELECT *, <period label> AS __period FROM <source> WHERE <time in period>) AS t
    LEFT JOIN <roster> AS "__person" ON …                   -- attribution to people and their unit
    LEFT JOIN "__units" AS "__up" ON …                       -- the unit and all its ancestors
    LEFT JOIN <related source> AS "agent" ON …               -- relations the formulas use
    GROUP BY GROUPING SETS ((period, person), (period, a0), (period, a1), …, (period))

Grouping by the ancestor at each depth computes every unit from its raw rows (a department's
median is the median of its rows) without duplicating any row.

One root. When every unit descends from the same root, the root's grouping set holds the same rows
as the organization's except those that belong to no unit (no attribution, or a person or unit
missing from the roster). DuckDB makes one pass over the rows per grouping set, so that set is left
out (``root_set="skip"``) and the organization's rows without a unit are counted instead: where
there are none the root's values are the organization's; otherwise the caller runs the query again
with the root's set alone (``root_set="only"``).

Bookkeeping counts. The reader needs, per period, the rows attributed to people missing from the
roster (reported as a warning) and the rows in no unit (for the root). With a person grouping set
the query only adds ``count(*)`` (``__rows``, shared with any KPI counting every row) and the reader
sums the person rows: an unknown person's rows are the first count, and those with no person, an
unknown one or one whose unit is not in the tree are the second. A scan attributed to units has no
roster to miss, and counts its rows in no unit itself (``__unattached``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Literal, cast

from sqlglot import exp

from kpi_engine.compiled import Formulas
from kpi_engine.config import model as m
from kpi_engine.config.scopes import roster_aliases
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.expr.scope import Calendar, Duration, ParamValue
from kpi_engine.periods import Period, bounds_utc, window_start
from kpi_engine.plan.ir import KpiSpec, ScanGroup, ScanKey
from kpi_engine.sql.compile_expr import compile_expr
from kpi_engine.sql.dialects import SINGLE_ARGUMENT_GROUPING

T = "t"
PERSON = "__person"
UNITS = "__units"
UP = "__up"


@dataclass(frozen=True)
class Slice:
    """A period to evaluate: label and half-open UTC bounds; dates for date-typed time columns."""

    label: str
    start: datetime
    end: datetime
    first_day: str
    last_day: str


@dataclass(frozen=True)
class ScanQuery:
    """The compiled query of a scan group, and how to read its columns back."""

    select: exp.Select
    depth: int
    kpis: tuple[str, ...]
    by: tuple[str, ...]
    grouped: tuple[int, ...]
    """The columns of ``GROUPING(…)``, left to right: -1 the person, i ≥ 0 the ancestor at depth i."""
    n_of: Mapping[str, str]
    """Each KPI's row-count column (``n:<kpi>``, shared by KPIs counting the same rows); its value is
    ``v:<kpi>`` and its ``valid_if`` result ``ok:<kpi>``."""
    root: str | None = None
    """The single root unit whose grouping set was left out (``root_set="skip"``); its rows then come
    from the organization's (see the module docstring for the rows in no unit)."""


RootSet = Literal["keep", "skip", "only"]


def _q(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


class PlanContext:
    """The compile context for one KPI: its params, its source's columns and relations."""

    def __init__(
        self,
        ws: m.Workspace,
        formulas: Formulas,
        source_id: str,
        params: Mapping[str, ParamValue],
        dialect: str,
        calendars: Mapping[str, Calendar],
    ) -> None:
        self.ws = ws
        self.formulas = formulas
        self.source_id = source_id
        self.params = params
        self.dialect = dialect
        self.calendars = calendars
        self.joins: dict[tuple[str, ...], str] = {}

    def column(self, path: tuple[str, ...]) -> exp.Expression:
        """A column of the scan's source or of a related one; a relation path records the joins it needs."""
        table, source_id = T, self.source_id
        for depth, name in enumerate(path[:-1]):
            relation = self.ws.sources[source_id].relations[name]
            chain = path[: depth + 1]
            table = "__".join(chain)
            self.joins[chain] = relation.source
            source_id = relation.source
        name = path[-1]
        return _col(table, roster_aliases(self.ws, source_id).get(name, name))

    def segment(self, name: str) -> exp.Expression:
        """The segment's row condition, compiled in this KPI's context, in parentheses."""
        return exp.paren(compile_expr(self.formulas.segments[name], self))

    def param(self, name: str) -> ParamValue:
        """The value of ``$name`` for this KPI (see :func:`kpi_params`)."""
        return self.params[name]

    def calendar(self, name: str | None) -> Calendar:
        """A calendar by id; without a name the only one defined, else an error asking for the name."""
        if name is None:
            if len(self.calendars) != 1:
                raise KpiError(
                    [
                        error(
                            Code.UNKNOWN_REFERENCE,
                            "business_hours needs a calendar name here",
                            None,
                            "pass the calendar: business_hours(a, b, 'office')",
                        )
                    ]
                )
            return next(iter(self.calendars.values()))
        return self.calendars[name]

    def kpi(self, id: str) -> exp.Expression:
        """Refused: a KPI's value has no meaning inside a formula over rows."""
        raise KpiError([error(Code.MIXED_KPI_AND_ROWS, f"KPI `{id}` cannot be used in a row formula")])

    def previous(self, id: str) -> exp.Expression:
        """Refused, like :meth:`kpi`."""
        return self.kpi(id)


def kpi_params(ws: m.Workspace, kpi: m.Kpi) -> dict[str, ParamValue]:
    """`$params` of a KPI: its variant's, then its own, then the global ones."""
    merged = {**ws.params, **kpi.params}
    return {k: Duration(v.seconds) if isinstance(v, m.Duration) else v for k, v in merged.items()}


def calendars(ws: m.Workspace) -> dict[str, Calendar]:
    """The workspace calendars in the form the expression compiler takes."""
    return {c.id: Calendar(c.id, c.timezone, c.week, c.holidays) for c in ws.calendars.values()}


def compile_scan(
    ws: m.Workspace,
    formulas: Formulas,
    group: ScanGroup,
    slices: Sequence[Slice],
    unit_paths: Mapping[str, tuple[str, ...]],
    by: Sequence[str] = (),
    dialect: str = "duckdb",
    root_set: RootSet = "skip",
) -> ScanQuery:
    """The single SELECT that evaluates a scan group for the given period slices.

    ``root_set``: "skip" leaves out the grouping set of a single root unit (see the module
    docstring), "keep" keeps it, "only" groups by that root alone.
    """
    key = group.key
    cals = calendars(ws)
    depth = max((len(p) for p in unit_paths.values()), default=0)
    ctx0 = PlanContext(ws, formulas, key.source, kpi_params(ws, _any_kpi(ws, group)), dialect, cals)
    subjects = _subjects(ws, key, ctx0, depth, by)
    root = _single_root(unit_paths, subjects, root_set)
    set_cols = _grouping_sets(subjects, root, root_set)
    grouped = [c for c in set_cols if c is not None]
    period = _col(T, "__period")
    counts: dict[str, str] = {}  # the SQL of each row count → its column, shared by KPIs counting the same rows
    columns = [period.as_("__period", quoted=True), *_subject_columns(subjects, grouped, dialect)]
    columns += _bookkeeping_columns(ws, subjects, grouped, root if root_set == "skip" else None, counts, dialect)

    n_of: dict[str, str] = {}
    joins = dict(ctx0.joins)
    for spec in group.kpis:
        ctx = PlanContext(ws, formulas, key.source, kpi_params(ws, ws.kpis[spec.id]), dialect, cals)
        n_of[spec.id], kpi_columns = _kpi_columns(spec, ctx, counts, dialect)
        columns += kpi_columns
        joins.update(ctx.joins)

    select = exp.select(*columns).from_(period_rows(ws, key, slices).subquery(_q(T)))
    if subjects.unit is not None:  # each unit with its ancestors, joined to the rows below
        select = select.with_(exp.to_identifier(UNITS, quoted=True), _unit_values(unit_paths, depth))
    select = join_relations(select, ws, key.source, joins)
    select = _join_subjects(select, ws, subjects)
    select = select.group_by(_grouping_sets_clause(period, subjects.by, set_cols))
    return ScanQuery(
        select,
        len(subjects.ancestors),
        tuple(s.id for s in group.kpis),
        tuple(by),
        tuple(level for level, _ in grouped),
        n_of,
        root,
    )


@dataclass(frozen=True)
class _Subjects:
    """What a scan groups its rows by besides the period: the person, the unit's ancestors, the ``by`` columns."""

    person: exp.Expression | None
    """The attributed person's id as text, when the scan is attributed to people."""
    unit: exp.Expression | None
    """The unit looked up in the unit tree: the person's unit in the roster, or the attributed unit."""
    ancestors: list[exp.Column]
    """The unit's ancestor at each depth, from the unit tree (none without a unit)."""
    by: list[exp.Expression]
    """The ``by`` columns, one per name asked for."""


def _subjects(ws: m.Workspace, key: ScanKey, ctx0: PlanContext, depth: int, by: Sequence[str]) -> _Subjects:
    """Who the scan's rows are attributed to (from its attribution column and the roster), and its ``by`` columns."""
    attribution: exp.Expression | None = None
    people = ws.organization.people
    person_level = key.level == "person" and key.by_column is not None
    unit_expr: exp.Expression | None = None
    if key.by_column is not None:
        attribution = ctx0.column(tuple(key.by_column.split(".")))
        if person_level and people is not None:
            unit_expr = _col(PERSON, people.unit)
        elif not person_level:
            unit_expr = attribution
    person = exp.cast(attribution, "VARCHAR") if person_level and attribution is not None else None
    ancestors = [_col(UP, f"a{i}") for i in range(depth)] if unit_expr is not None else []
    by_exprs = [ctx0.column(tuple(col.split("."))) for col in by]
    return _Subjects(person, unit_expr, ancestors, by_exprs)


def _single_root(unit_paths: Mapping[str, tuple[str, ...]], subjects: _Subjects, root_set: RootSet) -> str | None:
    """The root unit whose grouping set is left out or kept alone, when every unit descends from it."""
    roots = {path[0] for path in unit_paths.values() if path}
    return roots.pop() if subjects.ancestors and len(roots) == 1 and root_set != "keep" else None


def _grouping_sets(subjects: _Subjects, root: str | None, root_set: RootSet) -> list[tuple[int, exp.Expr] | None]:
    """The subject column of each grouping set: -1 is the person, i ≥ 0 the ancestor at depth i.

    None stands for the organization's set, grouped by the period alone.
    """
    subject_cols: list[tuple[int, exp.Expr]] = [(-1, subjects.person)] if subjects.person is not None else []
    subject_cols += list(enumerate(subjects.ancestors))
    set_cols: list[tuple[int, exp.Expr] | None] = [*subject_cols, None]
    if root is None:
        return set_cols
    if root_set == "only":
        return [(0, subjects.ancestors[0])]
    return [c for c in set_cols if c is None or c[0] != 0]


def _subject_columns(subjects: _Subjects, grouped: Sequence[tuple[int, exp.Expr]], dialect: str) -> list[exp.Expr]:
    """The person, each ancestor (null where no grouping set has it), the ``by`` columns and ``GROUPING(…)``."""
    in_sets = {level for level, _ in grouped}
    person = subjects.person
    columns = [(person if person is not None and -1 in in_sets else exp.null()).as_("__subject", quoted=True)]
    columns += [
        (a if i in in_sets else exp.null()).as_(f"__a{i}", quoted=True) for i, a in enumerate(subjects.ancestors)
    ]
    columns += [e.as_(f"__by{i}", quoted=True) for i, e in enumerate(subjects.by)]
    columns.append(_grouping([c for _, c in grouped], dialect).as_("__grouping", quoted=True))
    return columns


def _grouping(columns: Sequence[exp.Expr], dialect: str) -> exp.Expr:
    """``GROUPING(a, b, …)``: the bits of the columns not grouped, the first one highest.

    Where GROUPING takes one argument only, the same number is ``GROUPING(a) * 2 + GROUPING(b)``.
    """
    if not columns:
        return exp.Literal.number(0)
    if dialect not in SINGLE_ARGUMENT_GROUPING or len(columns) == 1:
        return exp.Grouping(expressions=[c.copy() for c in columns])
    bits: list[exp.Expr] = [
        exp.Mul(this=exp.Grouping(expressions=[c.copy()]), expression=exp.Literal.number(2 ** (len(columns) - 1 - i)))
        for i, c in enumerate(columns)
    ]
    total = bits[0]
    for bit in bits[1:]:
        total = exp.Add(this=total, expression=bit)
    return exp.Paren(this=total)


def _bookkeeping_columns(
    ws: m.Workspace,
    subjects: _Subjects,
    grouped: Sequence[tuple[int, exp.Expr]],
    skipped_root: str | None,
    counts: dict[str, str],
    dialect: str,
) -> list[exp.Expr]:
    """The row counts the reader needs besides the KPIs' (see "Bookkeeping counts" in the module docstring).

    With a person grouping set and a roster: ``count(*)`` (``__rows``), entered in ``counts`` so that a
    KPI counting every row shares it. With units attributed directly and their root's set skipped: the
    rows in no unit (``__unattached``).
    """
    if any(level == -1 for level, _ in grouped) and ws.organization.people is not None:
        # Rows of people missing from the roster, and rows in no unit, are summed from the person
        # set's row counts when the values are read: two more aggregates here would be computed in
        # every grouping set's pass, and carry the roster's id and the unit columns through the joins.
        rows_n = exp.Count(this=exp.Star())
        counts[rows_n.sql(dialect)] = "__rows"
        return [rows_n.as_("__rows", quoted=True)]
    if skipped_root is not None:  # units attributed directly: count the rows in none
        unattached = exp.Is(this=subjects.ancestors[0].copy(), expression=exp.null())
        return [exp.func("count_if", unattached).as_("__unattached", quoted=True)]
    return []


def _kpi_columns(spec: KpiSpec, ctx: PlanContext, counts: dict[str, str], dialect: str) -> tuple[str, list[exp.Expr]]:
    """A KPI's value (commented with where it is defined), its row count and its ``valid_if`` result.

    KPIs over the same rows share one count column (each extra column costs time in every grouping
    set): the count is added only for the first of them. Returns the name of the KPI's count column
    and the columns to add.
    """
    rows = row_filter(spec, ctx)
    value = compile_expr(spec.formula, ctx, row_filter=rows).as_(f"v:{spec.id}", quoted=True)
    value.add_comments([f"KPI {spec.id} ({spec.location})"])
    # count(*) FILTER, not count_if: a filter that is null on every row of a group must count 0, not null
    n: exp.Expression = exp.Count(this=exp.Star())
    if rows is not None:
        n = exp.Filter(this=n, expression=exp.Where(this=rows.copy()))
    columns: list[exp.Expr] = [value]
    shared = counts.setdefault(n.sql(dialect), f"n:{spec.id}")
    if shared == f"n:{spec.id}":
        columns.append(n.as_(shared, quoted=True))
    if spec.valid_if is not None:
        valid = compile_expr(spec.valid_if, ctx, row_filter=rows)
        columns.append(valid.as_(f"ok:{spec.id}", quoted=True))
    return shared, columns


def period_rows(ws: m.Workspace, key: ScanKey, slices: Sequence[Slice]) -> exp.Select:
    """The source's rows inside the slices, each labelled with its sub-period once (not once per grouping set)."""
    raw_time = exp.column(key.time, quoted=True)
    time_column = ws.sources[key.source].columns.get(key.time)
    if key.window is not None:
        return _window_rows(ws, key, slices, time_column)
    label = _period_label(raw_time, slices, time_column).as_("__period", quoted=True)
    return (
        exp.select(exp.Star(), label)
        .from_(exp.Table(this=_q(key.source)))
        .where(_in_slices(raw_time, slices, time_column))
    )


def _window_rows(ws: m.Workspace, key: ScanKey, slices: Sequence[Slice], column: m.Column | None) -> exp.Select:
    """The source's rows once per slice whose rolling window holds them, labelled with that slice.

    A slice's window ends with the slice's end and reaches back ``key.window`` (SPEC §10); windows
    of consecutive slices overlap, so a row can belong to several — the inner join repeats it, and
    each grouping set then counts it in every slice it belongs to::

        SELECT "tickets".*, "__w"."__label" AS "__period" FROM "tickets"
        JOIN (VALUES ('2026-03', <window start>, <slice end>), …) AS "__w"("__label", "__lo", "__hi")
          ON "tickets"."created_at" >= "__w"."__lo" AND "tickets"."created_at" < "__w"."__hi"
    """
    assert key.window is not None
    table = exp.to_identifier(key.source, quoted=True)
    time_col = exp.column(key.time, table=key.source, quoted=True)
    rows = []
    for s in slices:
        last = date.fromisoformat(s.last_day)
        first = window_start(last + timedelta(days=1), key.window.count, key.window.unit)
        lo: exp.Expression
        hi: exp.Expression
        if _is_date(column):
            lo = exp.cast(exp.Literal.string(first.isoformat()), "DATE")
            hi = exp.cast(exp.Literal.string(s.last_day), "DATE")
        else:
            lo = _bound(bounds_utc(Period(first, first, "day", ""), ws.organization.timezone)[0])
            hi = _bound(s.end)
        rows.append((exp.Literal.string(s.label), lo, hi))
    windows = exp.values(rows, alias="__w", columns=["__label", "__lo", "__hi"])
    upper: exp.Expression = (
        exp.LTE(this=time_col.copy(), expression=_col("__w", "__hi"))
        if _is_date(column)
        else exp.LT(this=time_col.copy(), expression=_col("__w", "__hi"))
    )
    on = exp.and_(exp.GTE(this=time_col, expression=_col("__w", "__lo")), upper)
    label = _col("__w", "__label").as_("__period", quoted=True)
    return exp.select(exp.Column(this=exp.Star(), table=table), label).from_(exp.Table(this=table)).join(windows, on=on)


def join_relations(
    select: exp.Select, ws: m.Workspace, source_id: str, joins: Mapping[tuple[str, ...], str]
) -> exp.Select:
    """The select with a LEFT JOIN for each relation the formulas use, parents before their children."""
    for chain in sorted(joins, key=lambda c: (len(c), c)):
        table, on = _relation_join(ws, source_id, chain)
        select = select.join(table, on=on, join_type="left")
    return select


def _join_subjects(select: exp.Select, ws: m.Workspace, subjects: _Subjects) -> exp.Select:
    """The select with the roster joined to each person, and the unit tree to each unit."""
    people = ws.organization.people
    if subjects.person is not None and people is not None:
        select = select.join(
            exp.Table(this=_q(people.source), alias=exp.TableAlias(this=_q(PERSON))),
            on=exp.EQ(this=subjects.person.copy(), expression=exp.cast(_col(PERSON, people.id), "VARCHAR")),
            join_type="left",
        )
    if subjects.unit is not None:
        select = select.join(
            exp.Table(this=_q(UNITS), alias=exp.TableAlias(this=_q(UP))),
            on=exp.EQ(this=_col(UP, "unit"), expression=exp.cast(subjects.unit.copy(), "VARCHAR")),
            join_type="left",
        )
    return select


def _grouping_sets_clause(
    period: exp.Column, by: Sequence[exp.Expression], set_cols: Sequence[tuple[int, exp.Expr] | None]
) -> exp.GroupingSets:
    """``GROUPING SETS``: each set is the period, the ``by`` columns and its subject column, if any."""
    sets = [
        exp.Tuple(expressions=[period.copy(), *(e.copy() for e in by), *([c[1].copy()] if c else [])]) for c in set_cols
    ]
    return exp.GroupingSets(expressions=sets)


def compile_empty(ws: m.Workspace, formulas: Formulas, group: ScanGroup, dialect: str = "duckdb") -> exp.Select:
    """Each KPI of a group computed over no rows (0 for the count family, null for the rest)."""
    cals = calendars(ws)
    columns = []
    joins: dict[tuple[str, ...], str] = {}
    for spec in group.kpis:
        ctx = PlanContext(ws, formulas, group.key.source, kpi_params(ws, ws.kpis[spec.id]), dialect, cals)
        columns.append(compile_expr(spec.formula, ctx).as_(spec.id, quoted=True))
        joins.update(ctx.joins)
    select = exp.select(*columns).from_(exp.Table(this=_q(group.key.source), alias=exp.TableAlias(this=_q(T))))
    return join_relations(select, ws, group.key.source, joins).where(exp.false())


def _any_kpi(ws: m.Workspace, group: ScanGroup) -> m.Kpi:
    return ws.kpis[group.kpis[0].id]


def row_filter(spec: KpiSpec, ctx: PlanContext) -> exp.Expression | None:
    """The KPI's own rows among its scan's: its segment and its `where`, or None for every row."""
    parts = []
    if spec.segment is not None:
        parts.append(ctx.segment(spec.segment))
    if spec.where is not None:
        parts.append(exp.paren(compile_expr(spec.where, ctx)))
    if not parts:
        return None
    return cast(exp.Expression, exp.and_(*parts)) if len(parts) > 1 else parts[0]


def _relation_join(ws: m.Workspace, source_id: str, chain: tuple[str, ...]) -> tuple[exp.Table, exp.Expression]:
    parent_table, parent_source = T, source_id
    for name in chain[:-1]:
        parent_source = ws.sources[parent_source].relations[name].source
    if len(chain) > 1:
        parent_table = "__".join(chain[:-1])
    relation = ws.sources[parent_source].relations[chain[-1]]
    target = ws.sources[relation.source]
    people = ws.organization.people
    target_key = target.key or (people.id if people is not None and people.source == target.id else None)
    if target_key is None:
        raise KpiError(
            [
                error(
                    Code.RELATION_NOT_UNIQUE,
                    f"relation `{chain[-1]}` points at source `{target.id}`, which declares no `key`",
                    ws.source_map.key((*target.data_path,)),
                    f"declare `key:` on source `{target.id}` so each row matches at most one",
                )
            ]
        )
    alias = "__".join(chain)
    on = exp.EQ(
        this=exp.cast(_col(parent_table, relation.key), "VARCHAR"),
        expression=exp.cast(_col(alias, target_key), "VARCHAR"),
    )
    return exp.Table(this=_q(target.id), alias=exp.TableAlias(this=_q(alias))), on


def _unit_values(unit_paths: Mapping[str, tuple[str, ...]], depth: int) -> exp.Expression:
    rows = [tuple([unit, *path, *([None] * (depth - len(path)))]) for unit, path in sorted(unit_paths.items())]
    if not rows:
        rows = [tuple([None] * (depth + 1))]
    names = ["unit", *(f"a{i}" for i in range(depth))]
    return exp.select("*").from_(exp.values(rows, alias="v", columns=names))


def _is_date(column: m.Column | None) -> bool:
    return column is not None and column.type == "date"


def _bound(moment: datetime) -> exp.Expression:
    return exp.cast(exp.Literal.string(moment.strftime("%Y-%m-%d %H:%M:%S+00")), "TIMESTAMPTZ")


def _in_slice(time_col: exp.Expression, s: Slice, column: m.Column | None) -> exp.Expr:
    if _is_date(column):
        return exp.Between(
            this=time_col.copy(),
            low=exp.cast(exp.Literal.string(s.first_day), "DATE"),
            high=exp.cast(exp.Literal.string(s.last_day), "DATE"),
        )
    return exp.and_(
        exp.GTE(this=time_col.copy(), expression=_bound(s.start)),
        exp.LT(this=time_col.copy(), expression=_bound(s.end)),
    )


def _before_end(time_col: exp.Expression, s: Slice, column: m.Column | None) -> exp.Expr:
    if _is_date(column):
        return exp.LTE(this=time_col.copy(), expression=exp.cast(exp.Literal.string(s.last_day), "DATE"))
    return exp.LT(this=time_col.copy(), expression=_bound(s.end))


def _in_slices(time_col: exp.Expression, slices: Sequence[Slice], column: m.Column | None) -> exp.Expr:
    first, last = slices[0], slices[-1]
    whole = Slice("", first.start, last.end, first.first_day, last.last_day)
    return _in_slice(time_col, whole, column)


def _period_label(time_col: exp.Expression, slices: Sequence[Slice], column: m.Column | None) -> exp.Expression:
    """Each row's sub-period label.

    The scan keeps only rows inside the slices (:func:`_in_slices`); when the slices follow one
    another without gaps (as ``--grain`` splits a period), a row's slice is the first whose end
    lies after it, one comparison per slice instead of two.
    """
    if len(slices) == 1:
        return exp.Literal.string(slices[0].label)
    case = exp.Case()
    if all(a.end == b.start for a, b in pairwise(slices)):
        for s in slices[:-1]:
            case = case.when(_before_end(time_col, s, column), exp.Literal.string(s.label))
        return case.else_(exp.Literal.string(slices[-1].label))
    for s in slices:
        case = case.when(_in_slice(time_col, s, column), exp.Literal.string(s.label))
    return case


__all__ = [
    "PlanContext",
    "ScanQuery",
    "Slice",
    "compile_empty",
    "compile_scan",
    "join_relations",
    "period_rows",
    "row_filter",
]
