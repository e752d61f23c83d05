"""From values to results: statuses, scores and ranks per KPI row; scorecard totals; goals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NamedTuple

from kpi_engine.config import model as m
from kpi_engine.config.dependencies import derived_inputs
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.evaluation.org import OrgData
from kpi_engine.evaluation.targets import SubjectTargets
from kpi_engine.evaluation.values import Key, KpiValue, RowKey, Values
from kpi_engine.periods import Period, periods_spanned
from kpi_engine.scoring import scorecard as sc
from kpi_engine.scoring.exact import TWELVE
from kpi_engine.scoring.score import (
    Assessment,
    Assessor,
    AssessRow,
    ScoringError,
    goal_attainment,
    goal_status,
    ranks_in_order,
)


class KpiResult(NamedTuple):
    """One KPI row of the report: value, status, score and rank of a subject in a period.

    A NamedTuple, not a frozen dataclass: evaluation makes one per row (hundreds of thousands), and
    a NamedTuple is about four times faster to build. The same holds for :class:`ItemResult`.
    """

    kpi: str
    subject_type: str
    subject: str | None
    period: str
    value: Decimal | None
    n: int
    status: str | None
    score: Decimal | None
    rank: int | None = None
    by: tuple[tuple[str, str | None], ...] = ()
    target: object | None = None


class ItemResult(NamedTuple):
    """One entry of a person's scorecard in a period: its value, score, weight and contribution."""

    kpi: str
    at: str
    subject: str | None
    weight: Decimal
    value: Decimal | None
    n: int
    status: str | None
    score: Decimal | None
    contribution: Decimal | None
    effective_weight: Decimal
    target: object | None = None


@dataclass(frozen=True)
class ScorecardResult:
    """One person's scorecard in one period: each item and the total score."""

    scorecard: str
    person: str
    period: str
    total_score: Decimal | None
    items: tuple[ItemResult, ...]


@dataclass(frozen=True)
class GoalResult:
    """A goal's status in one period, from its KPIs."""

    goal: str
    period: str
    status: str | None
    attainment: Decimal | None


def inherited_problem(
    ws: m.Workspace,
    kpi: m.Kpi,
    key: Key,
    values: Values,
    seen: frozenset[str] = frozenset(),
    memo: dict[str, str | None] | None = None,
) -> str | None:
    """A derived KPI is `invalid` (or `insufficient`) when one of its inputs is, for the same subject and period.

    A number built from data that failed its own checks must not be paid for.

    Each derived input is judged once per call (``memo``): KPIs that share inputs cost no repeated walks.
    """
    if kpi.source is not None:
        return None
    memo = {} if memo is None else memo
    if kpi.id in memo:
        return memo[kpi.id]
    found: str | None = None
    for name in derived_inputs(ws, kpi):
        other = ws.kpis[name]
        value = values.get((name, *key[1:]))
        problem: str | None = None
        if other.source is None and name not in seen:
            problem = inherited_problem(ws, other, key, values, seen | {kpi.id}, memo)
        elif value is not None and value.valid is False:
            problem = "invalid"
        elif value is not None and other.min_sample is not None and 0 < value.n < other.min_sample:
            problem = "insufficient"
        if problem == "invalid" or (problem and found is None):
            found = problem
    memo[kpi.id] = found
    return found


def _assessor(ws: m.Workspace, kpi: m.Kpi, target: m.Target | None, scoring: m.Scoring | None) -> Assessor:
    return Assessor(
        target, kpi.direction, scoring, ws.organization.score_points, unit=kpi.unit, min_sample=kpi.min_sample
    )


def _assess_each(
    ws: m.Workspace,
    kpi: m.Kpi,
    rows: list[AssessRow],
    whose: Sequence[tuple[str, str | None, str]],
    periods: Mapping[str, Period],
    subject_targets: SubjectTargets | None,
) -> list[Assessment]:
    """A KPI's rows under its target: at once, or grouped by the points each (level, subject, period) gets.

    Points differ by row when they are `per` a length of time (scaled to each period) or come from
    data (each subject's own, :class:`SubjectTargets`); rows with the same points share an assessor.
    """
    target = kpi.target
    if target is None or (target.per is None and not target.from_data):
        return _assess(_assessor(ws, kpi, target, kpi.scoring), rows, kpi.id)
    groups: dict[m.Target | None, list[int]] = {}
    for i, (level, subject, label) in enumerate(whose):
        own = own_target(ws, kpi.id, target, level, subject, label, periods, subject_targets)
        groups.setdefault(own, []).append(i)
    out: list[Assessment | None] = [None] * len(rows)
    for own, members in groups.items():
        rule = _assessor(ws, kpi, own, kpi.scoring)
        for i, a in zip(members, _assess(rule, [rows[i] for i in members], kpi.id), strict=True):
            out[i] = a
    return [a for a in out if a is not None]


def _left_out(
    kpi: m.Kpi,
    entry: m.ScorecardEntry,
    resolved: object,
    subject_targets: SubjectTargets | None,
    whose: tuple[str, str, str],
) -> bool:
    """Whether an entry whose points come from data found none for its subject: left out (and said), not scored 0."""
    target = entry.target or kpi.target
    missing = target is not None and target.from_data and resolved is None
    if missing and subject_targets is not None:
        subject_targets.left_out[whose].append(kpi.id)
    return missing


def own_target(
    ws: m.Workspace,
    kpi: str,
    target: m.Target,
    level: str,
    subject: str | None,
    label: str,
    periods: Mapping[str, Period],
    subject_targets: SubjectTargets | None,
) -> m.Target | None:
    """The points one subject gets for one period: its own from data, then scaled when `per` a length."""
    own: m.Target | None = target
    if target.from_data:
        own = (subject_targets or SubjectTargets()).resolve(kpi, target, level, subject, label)
    if own is not None and own.per is not None:
        own = scaled(own, periods[label], ws.organization.fiscal_year_start)
    return own


def scaled(target: m.Target, period: Period, fiscal_year_start: tuple[int, int]) -> m.Target:
    """A target whose points are `per` a length of time, as points for ``period`` (SPEC §10).

    Every point is multiplied by the number of such lengths the period spans
    (:func:`~kpi_engine.periods.periods_spanned`): 40 per month is 40 over March, 20 over 1–14
    February, 120 over a quarter. The result has no `per`, so it is assessed like any absolute target.
    """
    if target.per is None:
        return target
    factor = periods_spanned(period, target.per, fiscal_year_start)

    def times(point: m.Quantity | None) -> m.Quantity | None:
        if point is None:
            return None
        if isinstance(point, Decimal):
            return point * factor
        return replace(point, seconds=point.seconds * factor)

    return replace(
        target,
        per=None,
        threshold=times(target.threshold),
        target=times(target.target),
        stretch=times(target.stretch),
        min=times(target.min),
        max=times(target.max),
        threshold_min=times(target.threshold_min),
        threshold_max=times(target.threshold_max),
    )


def _inherited(
    ws: m.Workspace, kpi: m.Kpi, value: KpiValue | None, in_force: bool, values: Values
) -> Assessment | None:
    """A derived KPI's row takes `invalid`/`insufficient` from its inputs (see :func:`inherited_problem`)."""
    if kpi.source is not None or value is None or not in_force:
        return None
    problem = inherited_problem(ws, kpi, (kpi.id, value.level, value.subject, value.period, value.by), values)
    return None if problem is None else Assessment(problem, None, None)  # type: ignore[arg-type]


def _in_force(what: m.Kpi | m.ScorecardEntry, periods: Mapping[str, Period]) -> dict[str, bool]:
    """Whether a KPI or a scorecard entry is in force, per period label."""
    return {label: sc.in_force(what.effective_from, what.effective_to, p.start, p.end) for label, p in periods.items()}


class Found(NamedTuple):
    """The KPI results of :func:`kpi_results` on their values' rows.

    ``results[kpi][i]`` is the result of row ``i`` of the KPI's block in ``values`` (None where the
    row is hidden from the KPI).
    """

    values: Values
    results: Mapping[str, list[KpiResult | None]]


def kpi_results(
    ws: m.Workspace,
    values: Values,
    periods: Mapping[str, Period],
    previous: Values,
    previous_label: Mapping[str, str],
    by_names: Sequence[str],
    subject_targets: SubjectTargets | None = None,
) -> tuple[list[KpiResult], Found]:
    """Status, score and rank of every value shown: in the order SPEC §7.2 reports them, and by key.

    A block's rows are grouped for ranking and put in report order once for all its KPIs; each KPI
    is assessed in one batch, its target and scoring prepared once (:class:`Assessor`).
    """
    results: dict[str, list[KpiResult | None]] = {}
    order: dict[str, list[int]] = {}
    for block in values.blocks:
        keys = block.keys
        pairs = {by: tuple(zip(by_names, by, strict=True)) for by in {key[3] for key in keys}}
        levels, subjects, labels = [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]
        by_pairs = [pairs[k[3]] for k in keys]
        groups = _rank_groups(keys)
        in_order = _report_order(keys)
        for kid, (numbers, ns, valid) in block.columns.items():
            kpi = ws.kpis[kid]
            hidden = block.hidden.get(kid, set())
            shown = [i for i in range(len(keys)) if i not in hidden] if hidden else range(len(keys))
            in_force = _in_force(kpi, periods)
            before: list[Decimal | None] = [None] * len(keys)
            if previous.blocks:
                for i in shown:
                    level, subject, label, by = keys[i]
                    found = previous.get((kid, level, subject, previous_label.get(label, ""), by))
                    before[i] = None if found is None else found.value
            assessed: list[Assessment | None] = [None] * len(keys)
            rows: list[AssessRow] = [
                (
                    numbers[i],
                    ns[i],
                    True if valid is None or valid[i] is None else valid[i],
                    in_force[labels[i]],
                    before[i],
                )
                for i in shown
            ]
            whose = [keys[i][:3] for i in shown]
            for i, a in zip(shown, _assess_each(ws, kpi, rows, whose, periods, subject_targets), strict=True):
                assessed[i] = a
            if kpi.source is None:
                for i in shown:
                    assessed[i] = (
                        _inherited(ws, kpi, values.get((kid, *keys[i])), in_force[labels[i]], values) or assessed[i]
                    )
            ranks = _ranks(kpi.direction, groups, hidden, numbers, assessed)
            results[kid] = [
                None
                if a is None
                else KpiResult(kid, level, subject, label, value, n, a.status, a.score, rank, by, a.target)
                for level, subject, label, by, value, n, a, rank in zip(
                    levels, subjects, labels, by_pairs, numbers, ns, assessed, ranks, strict=True
                )
            ]
            order[kid] = in_order
    ordered = [result for kid in sorted(results) for i in order[kid] if (result := results[kid][i]) is not None]
    return ordered, Found(values, results)


def _report_order(keys: Sequence[RowKey]) -> list[int]:
    """A block's rows in report order: subject type, subject, period, breakdown values (SPEC §7.2).

    Each part is ranked among its few distinct values first, so the sort compares integers.
    """

    def ranked(values: set[Any], key: Callable[[Any], Any] | None = None) -> dict[Any, int]:
        return {value: i for i, value in enumerate(sorted(values, key=key))}

    subjects = ranked({(k[0], k[1]) for k in keys}, lambda s: (s[0], s[1] or ""))
    periods = ranked({k[2] for k in keys})
    bys = ranked({k[3] for k in keys}, lambda by: tuple((x is not None, x or "") for x in by))
    np_, nb = len(periods), len(bys)
    sort_keys = [(subjects[(k[0], k[1])] * np_ + periods[k[2]]) * nb + bys[k[3]] for k in keys]
    return sorted(range(len(keys)), key=sort_keys.__getitem__)


def _rank_groups(keys: Sequence[RowKey]) -> list[list[int]]:
    """A block's rows that are ranked together: the subjects of a level, per period and breakdown."""
    groups: dict[tuple[str, str, tuple[str | None, ...]], list[int]] = defaultdict(list)
    for i, (level, _, label, by) in enumerate(keys):
        if level != "organization":
            groups[(label, level, by)].append(i)
    return list(groups.values())


def _ranks(
    direction: m.Direction,
    groups: Sequence[list[int]],
    hidden: set[int],
    values: Sequence[Decimal | None],
    assessed: Sequence[Assessment | None],
) -> list[int | None]:
    """Competition ranks of one KPI's shown rows within each group."""
    ranks: list[int | None] = [None] * len(values)
    for group in groups:
        members = [i for i in group if i not in hidden] if hidden else group
        if direction == "range":  # scores, compared at 12 digits like values
            scores = [a.score if (a := assessed[i]) is not None else None for i in members]
            ranked = ranks_in_order([None if s is None else TWELVE.plus(s) for s in scores], "higher")
        else:
            ranked = ranks_in_order([values[i] for i in members], direction)
        for i, rank in zip(members, ranked, strict=True):
            ranks[i] = rank
    return ranks


def scorecard_results(
    ws: m.Workspace,
    org: OrgData,
    assignment: Mapping[str, str],
    values: Values,
    periods: Mapping[str, Period],
    previous: Values,
    previous_label: Mapping[str, str],
    known: Found,
    subject_targets: SubjectTargets | None = None,
) -> list[ScorecardResult]:
    """Each scored person's scorecard per period: items at their levels, weights and the total.

    An entry without its own target or scoring reuses the KPI row's assessment (``known``, from
    :func:`kpi_results`), found by the person's row in the KPI's block (looked up once per block
    and level); each scorecard's weights are checked once (:class:`Weighing`).
    """
    cards = {card_id: _Card(ws, ws.scorecards[card_id], periods, known) for card_id in sorted(set(assignment.values()))}
    own: dict[tuple[int, str], Assessor] = {}
    out = []
    for person_id in sorted(assignment):
        card = cards[assignment[person_id]]
        person = org.people[person_id]
        subjects = {"person": person.id, "unit": person.unit, "organization": None}
        for label in periods:
            items: list[tuple[Any, ...]] = []  # an ItemResult's fields but the weighing's two
            scores: list[Decimal | None] = []
            counts: list[bool] = []
            rows: dict[tuple[int, str], int | None] = {}  # (block, level) → the subject's row
            for (kpi, entry, reuse, block, mine, slot), entry_in_force in zip(
                card.entries, card.in_force[label], strict=True
            ):
                at = entry.at
                subject = subjects[at]
                if reuse and entry_in_force and block is not None:
                    i = rows.get(slot, -1)
                    if i == -1:
                        i = rows[slot] = block.index.get((at, subject, label, ()))
                    same = None if i is None else mine[i]
                    if same is not None:
                        _, _, _, _, value, n, status, score, _, _, target = same
                        items.append((kpi.id, at, subject, entry.weight, value, n, status, score, target))
                        scores.append(score)
                        missing = _left_out(kpi, entry, target, subject_targets, (card.id, person.id, label))
                        counts.append(status != "not_in_force" and not missing)
                        continue
                key = (kpi.id, at, subject, label, ())
                found = values.get(key)
                prev = previous.get((*key[:3], previous_label.get(label, ""), ())) if previous.blocks else None
                a = _assess_entry(
                    ws,
                    kpi,
                    entry,
                    found,
                    prev,
                    entry_in_force and card.kpi_in_force[kpi.id][label],
                    values,
                    own,
                    label,
                    periods,
                    subject,
                    subject_targets,
                )
                items.append(
                    (
                        kpi.id,
                        at,
                        subject,
                        entry.weight,
                        None if found is None else found.value,
                        0 if found is None else found.n,
                        a.status,
                        a.score,
                        a.target,
                    )
                )
                scores.append(a.score)
                missing = _left_out(kpi, entry, a.target, subject_targets, (card.id, person.id, label))
                counts.append(a.status != "not_in_force" and not missing)
            total, shares, contributions = card.weighing.total(scores, counts)
            out.append(
                ScorecardResult(
                    card.id,
                    person.id,
                    label,
                    total,
                    tuple(
                        ItemResult(kid, at, subject, weight, value, n, status, score, contribution, share, target)
                        for (kid, at, subject, weight, value, n, status, score, target), share, contribution in zip(
                            items, shares, contributions, strict=True
                        )
                    ),
                )
            )
    return out


class _Card:
    """A scorecard prepared for evaluation: its entries' KPIs, which periods they are in force, its weights."""

    def __init__(self, ws: m.Workspace, card: m.Scorecard, periods: Mapping[str, Period], known: Found) -> None:
        self.id = card.id
        # Each entry: its KPI, itself, whether it reuses the KPI's assessment, the KPI's block and
        # results, and the (block, level) its subject's row is looked up by.
        self.entries = []
        for e in card.entries:
            block = known.values.home.get(e.kpi)
            self.entries.append(
                (
                    ws.kpis[e.kpi],
                    e,
                    e.target is None and e.scoring is None,
                    block,
                    known.results.get(e.kpi, []),
                    (id(block), e.at),
                )
            )
        by_entry = [_in_force(e, periods) for e in card.entries]
        self.in_force = {label: [entry[label] for entry in by_entry] for label in periods}
        self.kpi_in_force = {e.kpi: _in_force(ws.kpis[e.kpi], periods) for e in card.entries}
        self.weighing = sc.Weighing([e.weight for e in card.entries], card.on_insufficient)


def _assess_entry(
    ws: m.Workspace,
    kpi: m.Kpi,
    entry: m.ScorecardEntry,
    value: KpiValue | None,
    previous: KpiValue | None,
    in_force: bool,
    values: Values,
    own: dict[tuple[int, str], Assessor],
    label: str,
    periods: Mapping[str, Period],
    subject: str | None = None,
    subject_targets: SubjectTargets | None = None,
) -> Assessment:
    """An entry's own assessment: its target and scoring (or the KPI's), and whether both are in force."""
    inherited = _inherited(ws, kpi, value, in_force, values)
    if inherited is not None:
        return inherited
    target = entry.target or kpi.target
    varies = target is not None and (target.per is not None or target.from_data)
    cached = (id(entry), f"{subject}\0{label}" if varies else "")
    rule = own.get(cached)
    if rule is None:
        if target is not None and varies:
            target = own_target(ws, kpi.id, target, entry.at, subject, label, periods, subject_targets)
        rule = own[cached] = _assessor(ws, kpi, target, entry.scoring or kpi.scoring)
    return _assess(rule, [_row(value, in_force, previous)], kpi.id)[0]


def _assess(rule: Assessor, rows: list[AssessRow], kpi_id: str) -> list[Assessment]:
    """Statuses and scores; a target that cannot score (a ratio over a target resolved to 0) names the KPI."""
    try:
        return rule.assess_many(rows)
    except ScoringError as exc:
        raise KpiError(
            [
                error(
                    Code.TARGET_INCONSISTENT,
                    f"KPI `{kpi_id}` cannot be scored: {exc}",
                    None,
                    "a `ratio` score divides by the target; give a target above 0 (a relative or "
                    "benchmark target can resolve to 0), or score it `linear`",
                )
            ]
        ) from None


def _row(value: KpiValue | None, in_force: bool, previous: KpiValue | None) -> AssessRow:
    """What :class:`Assessor` needs of a value (a missing one is no rows at all)."""
    base = None if previous is None else previous.value
    if value is None:
        return None, 0, True, in_force, base
    return value.value, value.n, True if value.valid is None else value.valid, in_force, base


def goal_results(ws: m.Workspace, rows: Sequence[KpiResult]) -> list[GoalResult]:
    """Goal status (worst of its KPIs) and attainment (mean score, each capped at 100%), per period."""
    org_rows: dict[tuple[str, str], list[KpiResult]] = defaultdict(list)
    for r in rows:
        if r.subject_type == "organization" and not r.by:
            goal = ws.kpis[r.kpi].goal
            if goal is not None:
                org_rows[(goal, r.period)].append(r)
    return [
        GoalResult(
            goal,
            period,
            goal_status(r.status for r in items),  # type: ignore[misc]
            goal_attainment([r.score for r in items]),
        )
        for (goal, period), items in sorted(org_rows.items())
    ]
