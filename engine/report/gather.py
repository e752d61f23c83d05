"""What `kpi report` shows, gathered once from a run: pure data, no markup.

Per KPI, every unit's value and status over the whole period, ranked best first, with the target
points and the organization's value; per unit, its sibling units, its people ranked and their
scorecards; per person, their statement (every number `kpi explain` gives), their values against
their unit and the organization, and their payout under a plan. With ``--grain``, each of those
also per sub-period (trends). Numbers stay ``Decimal``; :mod:`kpi_engine.report.html` renders them,
and a workbook writer can take the same :class:`Report`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import NamedTuple, overload

from kpi_engine.config import model as m
from kpi_engine.errors import Code, Diagnostic, KpiError, Severity, error, unknown
from kpi_engine.evaluation import Evaluation
from kpi_engine.evaluation.org import OrgData, Person
from kpi_engine.evaluation.results import KpiResult, ScorecardResult
from kpi_engine.evaluation.runner import collector_paused
from kpi_engine.pay import BonusRun
from kpi_engine.report.statement import Statement, person_statement
from kpi_engine.scoring.score import ResolvedTarget

#: (KPI, subject type, subject) → that subject's result.
Key = tuple[str, str, str | None]


class Mark(NamedTuple):
    """One subject's result for a KPI in a period: who, the value, its rows, status, score and rank."""

    subject: str | None  # a person or unit id; None for the organization; the period label in a trend
    name: str
    value: Decimal | None
    n: int
    status: str | None
    score: Decimal | None
    rank: int | None


class Line(NamedTuple):
    """A target point drawn across a chart: `threshold`, `target`, `min` or `max`."""

    label: str
    value: Decimal


class Trend(NamedTuple):
    """One subject's results per sub-period (``--grain``), in period order."""

    name: str
    points: tuple[Mark, ...]


@dataclass(frozen=True)
class KpiInfo:
    """What a reader needs to know about a KPI beside its numbers."""

    id: str
    name: str
    unit: str | None
    direction: str
    description: str | None
    goal: str | None


@dataclass(frozen=True)
class Ranking:
    """A KPI across the organization: every unit ranked best first, the organization's value, its trend."""

    kpi: KpiInfo
    lines: tuple[Line, ...]  # the target points every unit shares (none when targets differ per unit)
    targets_differ: bool  # units have targets of their own (from data, roster columns): no shared lines
    organization: Mark | None
    units: tuple[Mark, ...]  # units with a value, best first; then units without one
    trend: Trend | None


class Comparison(NamedTuple):
    """A subject (a unit, a person) against others on one KPI: its own mark, the others', the organization's.

    A NamedTuple, like :class:`Mark`: a report makes one per person and KPI (24,000 for 2,000 people).
    """

    kpi: KpiInfo
    lines: tuple[Line, ...]  # the subject's own target points
    own: Mark
    others: tuple[Mark, ...]  # a unit's siblings (it among them, best first); a person's unit
    organization: Mark | None
    ranked: int  # how many subjects of its kind have a rank on this KPI
    trends: tuple[Trend, ...]  # own, then (a person's) their unit, then the organization
    peers: tuple[Decimal, Decimal] | None = None  # a person's: the lowest and highest value in their unit
    trend_peers: tuple[Decimal, Decimal] | None = None  # a person's: the same over every sub-period (--grain)


class CardLine(NamedTuple):
    """A person's scorecard result as a unit page lists it."""

    person: str
    name: str
    scorecard: str
    total_score: Decimal | None
    scored: int
    items: int


@dataclass(frozen=True)
class UnitPage:
    """A unit: where it sits, how it compares with its siblings, its people ranked and their scorecards.

    Where it sits is gathered with the report (the index lists every unit); the rest when the page
    is rendered, so a large report's worker processes share that work (as with people's pages).
    """

    id: str
    name: str
    path: tuple[tuple[str, str], ...]  # (id, name) from the top unit down to this unit's parent
    children: tuple[tuple[str, str], ...]
    people: tuple[tuple[str, str], ...]  # the people whose roster unit is this one: (id, name)
    everyone: int  # people in this unit and the units inside it
    gather_details: Callable[[], UnitDetails] = field(compare=False, repr=False)

    @cached_property
    def details(self) -> UnitDetails:
        """The comparisons, the people ranked and their scorecards, gathered when first read."""
        return self.gather_details()

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        """The unit against its sibling units and the organization, KPI by KPI."""
        return self.details.comparisons

    @property
    def ranked(self) -> tuple[tuple[KpiInfo, tuple[Mark, ...]], ...]:
        """Per KPI, the unit's people best first."""
        return self.details.ranked

    @property
    def cards(self) -> tuple[CardLine, ...]:
        """The scorecard results of the unit's people."""
        return self.details.cards


class UnitDetails(NamedTuple):
    """What a unit page shows beyond where the unit sits."""

    comparisons: tuple[Comparison, ...]
    ranked: tuple[tuple[KpiInfo, tuple[Mark, ...]], ...]
    cards: tuple[CardLine, ...]


@dataclass(frozen=True)
class PersonPage:
    """One person's page: their statement, their values against their unit and the organization."""

    person: Person
    unit_name: str
    statement: Statement | None  # None when no scorecard applies to them
    comparisons: tuple[Comparison, ...]


class GoalLine(NamedTuple):
    """A goal's status and attainment over the period."""

    id: str
    name: str
    status: str | None
    attainment: Decimal | None


@dataclass(frozen=True)
class Payouts:
    """A plan's totals (the index shows these; no person's amount)."""

    plan: str
    currency: str
    total: Decimal
    pool: Decimal | None
    paid: int  # people with a payout row
    unit: Decimal  # the plan's rounding unit (0.01)


class PersonPages(Sequence[PersonPage]):
    """The people's pages in order, each gathered when it is read.

    A report for thousands of people renders their pages in worker processes
    (:func:`kpi_engine.report.html.html_pages`), and each worker gathers the pages it renders, so
    that work is split too. A page is the same whenever and wherever it is gathered: it comes from
    the run's results alone. Pages are not kept: each is rendered once, and keeping thousands of
    them only grew the memory every worker writes to (new memory is what a worker pays for most).
    """

    def __init__(self, ids: tuple[str, ...], make: Callable[[str], PersonPage]) -> None:
        self.ids = ids  # the people's ids, in page order
        self._make = make

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, at: int) -> PersonPage: ...

    @overload
    def __getitem__(self, at: slice) -> tuple[PersonPage, ...]: ...

    def __getitem__(self, at: int | slice) -> PersonPage | tuple[PersonPage, ...]:
        if isinstance(at, slice):
            return tuple(self[i] for i in range(*at.indices(len(self.ids))))
        return self._make(self.ids[at])  # a negative index counts from the end; IndexError past it


@dataclass(frozen=True)
class Report:
    """Everything `kpi report` writes, gathered once."""

    organization: str
    version: str
    period: str
    grain: str | None
    periods: tuple[str, ...]  # the sub-periods of a trend, in order (empty without --grain)
    goals: tuple[GoalLine, ...]
    rankings: tuple[Ranking, ...]
    units: tuple[UnitPage, ...]
    people: PersonPages
    payouts: Payouts | None
    notes: tuple[str, ...]  # the run's warnings, as the index lists them
    complete: bool  # False with --person: only those people's pages are written


class _Index:
    """The results of one evaluation by key, with ranked counts; trends by key and period."""

    def __init__(self, ev: Evaluation, trend: Evaluation | None, periods: Sequence[str]) -> None:
        self.rows: dict[Key, KpiResult] = {(r.kpi, r.subject_type, r.subject): r for r in ev.kpis if not r.by}
        self.ranked: dict[tuple[str, str], int] = defaultdict(int)
        for r in ev.kpis:
            if r.rank is not None and not r.by:
                self.ranked[(r.kpi, r.subject_type)] += 1
        self.periods = tuple(periods)
        self.marks: dict[tuple[Key, str], Mark | None] = {}
        self.trends: dict[tuple[Key, str], Trend | None] = {}
        self.trend: dict[Key, dict[str, KpiResult]] = defaultdict(dict)
        for r in trend.kpis if trend is not None else ():
            if not r.by:
                self.trend[(r.kpi, r.subject_type, r.subject)][r.period] = r

    def mark(self, key: Key, name: str) -> Mark | None:
        found = self.rows.get(key)
        return None if found is None else _mark(found, name, key[2])

    def shared_mark(self, key: Key, name: str) -> Mark | None:
        """A unit's or the organization's mark, made once for all the pages that show it."""
        if (key, name) not in self.marks:
            self.marks[(key, name)] = self.mark(key, name)
        return self.marks[(key, name)]

    def shared_series(self, key: Key, name: str) -> Trend | None:
        """A unit's or the organization's trend, made once for all the pages that show it."""
        if (key, name) not in self.trends:
            self.trends[(key, name)] = self.series(key, name)
        return self.trends[(key, name)]

    def series(self, key: Key, name: str) -> Trend | None:
        if not self.periods:
            return None
        found = self.trend.get(key, {})
        points = []
        for label in self.periods:
            r = found.get(label)
            points.append(Mark(label, name, None, 0, "no_data", None, None) if r is None else _mark(r, name, label))
        return Trend(name, tuple(points))


def _mark(r: KpiResult, name: str, subject: str | None) -> Mark:
    return Mark(subject, name, r.value, r.n, r.status, r.score, r.rank)


@lru_cache(maxsize=4096)  # one target object serves every subject that shares it
def target_lines(target: object) -> tuple[Line, ...]:
    """The target points a chart draws: threshold and target (a range: its bounds and thresholds)."""
    if not isinstance(target, ResolvedTarget):
        return ()
    names = ("threshold_min", "min", "max", "threshold_max", "threshold", "target")
    return tuple(Line(n.replace("_", " "), v) for n in names if (v := getattr(target, n)) is not None)


def best_first(marks: Iterable[Mark]) -> tuple[Mark, ...]:
    """Marks in rank order (the KPI's direction), ties and unranked by name then id; no rank last."""
    return tuple(sorted(marks, key=lambda k: (k.rank is None, k.rank or 0, k.name, k.subject or "")))


def kpi_info(kpi: m.Kpi) -> KpiInfo:
    """A KPI's name, unit, direction, description and goal."""
    return KpiInfo(kpi.id, kpi.name, kpi.unit, kpi.direction, kpi.description, kpi.goal)


def _ranking(kpi: KpiInfo, index: _Index, org: OrgData, org_name: str) -> Ranking:
    marks = [mk for uid, u in org.units.items() if (mk := index.mark((kpi.id, "unit", uid), u.name)) is not None]
    top = index.rows.get((kpi.id, "organization", None))
    targets = {index.rows[(kpi.id, "unit", mk.subject)].target for mk in marks} | ({top.target} if top else set())
    lines = target_lines(next(iter(targets))) if len(targets) == 1 else ()
    differ = len(targets) > 1 and any(t is not None for t in targets)
    organization = index.mark((kpi.id, "organization", None), org_name)
    trend = index.series((kpi.id, "organization", None), org_name)
    return Ranking(kpi, lines, differ, organization, best_first(marks), trend)


def _comparison(
    kpi: KpiInfo,
    index: _Index,
    own: tuple[Key, str],
    others: Sequence[tuple[Key, str]],
    org_name: str,
) -> Comparison | None:
    """A unit's comparison with its siblings (``others``, the unit among them) on a KPI."""
    key, name = own
    mark = index.mark(key, name)
    if mark is None:
        return None
    shown = [mk for k, n in others if (mk := index.shared_mark(k, n)) is not None]
    top = (kpi.id, "organization", None)
    organization = index.shared_mark(top, org_name)
    trends = [index.series(key, name), index.shared_series(top, org_name)]
    return Comparison(
        kpi,
        target_lines(index.rows[key].target),
        mark,
        best_first(shown),
        organization,
        index.ranked[(kpi.id, key[1])],
        tuple(t for t in trends if t is not None),
    )


def _unit_page(
    uid: str,
    kpis: Sequence[KpiInfo],
    index: _Index,
    org: OrgData,
    children: Mapping[str | None, list[str]],
    members: Mapping[str, list[Person]],
    cards: Mapping[str, ScorecardResult],
    org_name: str,
) -> UnitPage:
    unit = org.units[uid]
    path = tuple((a, org.units[a].name) for a in reversed(org.ancestors(uid)[1:]) if a in org.units)
    people = members.get(uid, [])
    return UnitPage(
        uid,
        unit.name,
        path,
        tuple((c, org.units[c].name) for c in children.get(uid, [])),
        tuple((p.id, p.name) for p in people),
        sum(len(members.get(u, [])) for u in _subtree(uid, children)),
        lambda: _unit_details(uid, kpis, index, org, children, people, cards, org_name),
    )


def _unit_details(
    uid: str,
    kpis: Sequence[KpiInfo],
    index: _Index,
    org: OrgData,
    children: Mapping[str | None, list[str]],
    people: Sequence[Person],
    cards: Mapping[str, ScorecardResult],
    org_name: str,
) -> UnitDetails:
    unit = org.units[uid]
    siblings = children.get(unit.parent, [])
    comparisons = []
    for kpi in kpis:
        others = [((kpi.id, "unit", s), org.units[s].name) for s in siblings]
        found = _comparison(kpi, index, ((kpi.id, "unit", uid), unit.name), others, org_name)
        if found is not None:
            comparisons.append(found)
    ranked = []
    for kpi in kpis:
        marks = [mk for p in people if (mk := index.mark((kpi.id, "person", p.id), p.name)) is not None]
        if marks:
            ranked.append((kpi, best_first(marks)))
    lines = []
    for p in people:
        card = cards.get(p.id)
        if card is not None:
            scored = sum(i.score is not None for i in card.items)
            lines.append(CardLine(p.id, p.name, card.scorecard, card.total_score, scored, len(card.items)))
    return UnitDetails(tuple(comparisons), tuple(ranked), tuple(lines))


class _Beside(NamedTuple):
    """What a person's comparison on a KPI shares with everyone of their unit."""

    others: tuple[Mark, ...]  # their unit
    organization: Mark | None
    trends: tuple[Trend, ...]  # their unit's, then the organization's (with --grain)
    ranked: int  # people with a rank on the KPI
    peers: tuple[Decimal, Decimal] | None  # the lowest and highest value of the KPI in their unit
    trend_peers: tuple[Decimal, Decimal] | None  # the same over every sub-period (with --grain)


class _Units:
    """Per KPI and unit, what its people's comparisons share (:class:`_Beside`), each worked out once."""

    def __init__(self, index: _Index, org: OrgData, members: Mapping[str, list[Person]], org_name: str) -> None:
        self.index, self.org, self.members, self.org_name = index, org, members, org_name
        self.found: dict[tuple[str, str], _Beside] = {}

    def beside(self, kpi: str, unit: str) -> _Beside:
        if (kpi, unit) not in self.found:
            index = self.index
            known = self.org.units.get(unit)
            key = (kpi, "unit", unit)
            mark = None if known is None else index.shared_mark(key, known.name)
            top = (kpi, "organization", None)
            trends = [
                None if mark is None else index.shared_series(key, mark.name),
                index.shared_series(top, self.org_name),
            ]
            rows, members = index.rows, self.members.get(unit, [])
            values = [
                r.value for p in members if (r := rows.get((kpi, "person", p.id))) is not None and r.value is not None
            ]
            by_period = [
                r.value
                for p in members
                for r in index.trend.get((kpi, "person", p.id), {}).values()
                if r.value is not None
            ]
            self.found[(kpi, unit)] = _Beside(
                () if mark is None else (mark,),
                index.shared_mark(top, self.org_name),
                tuple(t for t in trends if t is not None),
                index.ranked[(kpi, "person")],
                (min(values), max(values)) if values else None,
                (min(by_period), max(by_period)) if by_period else None,
            )
        return self.found[(kpi, unit)]


def _person_page(
    ws: m.Workspace,
    person: Person,
    kpis: Sequence[KpiInfo],
    index: _Index,
    org: OrgData,
    card: ScorecardResult | None,
    run: BonusRun | None,
    units: _Units,
) -> PersonPage:
    unit = org.units.get(person.unit)
    unit_name = unit.name if unit is not None else person.unit
    comparisons = []
    rows = index.rows
    for kpi in kpis:
        key = (kpi.id, "person", person.id)
        r = rows.get(key)
        if r is None:
            continue
        shared = units.beside(kpi.id, person.unit)
        own = index.series(key, "You")
        comparisons.append(
            Comparison(
                kpi,
                target_lines(r.target),
                _mark(r, "You", person.id),
                shared.others,
                shared.organization,
                shared.ranked,
                shared.trends if own is None else (own, *shared.trends),
                shared.peers,
                shared.trend_peers,
            )
        )
    found_statement = person_statement(ws, person, card, run) if card is not None else None
    return PersonPage(person, unit_name, found_statement, tuple(comparisons))


def _subtree(uid: str, children: Mapping[str | None, list[str]]) -> set[str]:
    """A unit and every unit inside it."""
    found, stack = set(), [uid]
    while stack:
        u = stack.pop()
        if u not in found:
            found.add(u)
            stack += children.get(u, [])
    return found


def _tree(org: OrgData) -> dict[str | None, list[str]]:
    """Each unit's children (None: the top units), sorted by name then id."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for uid, unit in org.units.items():
        children[unit.parent if unit.parent in org.units else None].append(uid)
    for found in children.values():
        found.sort(key=lambda u: (org.units[u].name, u))
    return children


def tree_order(org: OrgData) -> list[str]:
    """Every unit, depth first from the top units, siblings by name.

    Units caught in a cycle of unit data (reported and cut when the organization is loaded) have no
    top unit above them; they come last, so no unit is left out.
    """
    children = _tree(org)
    out: list[str] = []
    seen: set[str] = set()

    def walk(starts: list[str]) -> None:
        stack = list(reversed(starts))
        while stack:
            uid = stack.pop()
            if uid not in seen:
                seen.add(uid)
                out.append(uid)
                stack += reversed(children.get(uid, []))

    walk(children.get(None, []))
    walk(sorted((u for u in org.units if u not in seen), key=lambda u: (org.units[u].name, u)))
    return out


def note_text(d: Diagnostic) -> str:
    """A warning as the index lists it: where, code and message."""
    where = f"{d.span.file}:{d.span.line}: " if d.span else ""
    return f"{where}{d.code.value}: {d.message}"


@collector_paused()  # as in evaluation: thousands of small records, none cyclic
def gather(
    ws: m.Workspace,
    ev: Evaluation,
    *,
    trend: Evaluation | None = None,
    periods: Sequence[str] = (),
    grain: str | None = None,
    run: BonusRun | None = None,
    people: Sequence[str] | None = None,
) -> Report:
    """The report of an evaluation over the whole period (and its sub-periods, and a plan's payouts).

    ``people``: only those people's pages, and no organization or unit pages (statements to hand out).
    The collector is paused meanwhile.
    """
    org = ev.org
    org_name = ws.organization.name
    index = _Index(ev, trend, periods)
    present = {r.kpi for r in ev.kpis}
    kpis = [kpi_info(k) for k in ws.kpis.values() if k.id in present]
    cards = {c.person: c for c in ev.scorecards}
    complete = people is None
    chosen = sorted(org.people) if people is None else list(dict.fromkeys(people))
    missing = [unknown("person", p, list(org.people)) for p in chosen if p not in org.people]
    if missing:
        raise KpiError([error(Code.UNKNOWN_REFERENCE, message, None, hint) for message, hint in missing])
    members: dict[str, list[Person]] = defaultdict(list)
    for pid in sorted(org.people):
        members[org.people[pid].unit].append(org.people[pid])
    shared = _Units(index, org, members, org_name)
    pages = PersonPages(
        tuple(chosen), lambda p: _person_page(ws, org.people[p], kpis, index, org, cards.get(p), run, shared)
    )
    if not complete:
        return Report(org_name, ws.organization.version, ev.period.label, grain, tuple(periods),
                      (), (), (), pages, None, (), False)  # fmt: skip
    children = _tree(org)
    units = tuple(_unit_page(u, kpis, index, org, children, members, cards, org_name) for u in tree_order(org))
    goals = tuple(GoalLine(g.goal, ws.goals[g.goal].name if g.goal in ws.goals else g.goal, g.status, g.attainment)
                  for g in sorted(ev.goals, key=lambda g: g.goal))  # fmt: skip
    payouts = None
    if run is not None:
        plan = run.plan
        payouts = Payouts(plan.id, ws.organization.currency, run.result.total, run.result.pool,
                          len(run.result.payouts), plan.rounding_to)  # fmt: skip
    notes = tuple(note_text(d) for d in ev.diagnostics if d.severity == Severity.WARNING)
    return Report(
        org_name,
        ws.organization.version,
        ev.period.label,
        grain,
        tuple(periods),
        goals,
        tuple(_ranking(k, index, org, org_name) for k in kpis),
        units,
        pages,
        payouts,
        notes,
        True,
    )
