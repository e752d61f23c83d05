"""From a KPI value to a status and a score (SPEC §5), and ranks and goal roll-ups.

Pure functions over ``Decimal`` in :data:`kpi_engine.scoring.exact.CONTEXT`. A value becomes a
Decimal through :func:`to_decimal12` (12 significant digits) before it is compared with a target;
resolved target points are rounded the same way, so a value that prints like its target meets it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Literal, NamedTuple, TypeVar, assert_never, cast

from kpi_engine.config.model import Direction, Quantity, ScorePoints, Scoring, Target
from kpi_engine.config.scalars import Duration
from kpi_engine.scoring.exact import CONTEXT, TWELVE, as_decimal, in_context, tidy, to_decimal12

__all__ = [
    "SCORED_STATUSES",
    "AssessRow",
    "Assessment",
    "Assessor",
    "ResolvedTarget",
    "ScoringError",
    "Status",
    "assess",
    "competition_ranks",
    "ranks_in_order",
    "goal_attainment",
    "goal_status",
    "resolve_points",
    "score",
    "seconds_per_unit",
    "status",
    "to_decimal12",
]

Status = Literal["not_in_force", "no_data", "insufficient", "invalid", "green", "yellow", "red"]
SCORED_STATUSES: tuple[Status, ...] = ("green", "yellow", "red")
_UNSCORED: tuple[Status, ...] = ("not_in_force", "no_data", "insufficient", "invalid")
# Worst first; a goal takes the worst status among its KPIs that are in force and have a status.
_SEVERITY: tuple[Status, ...] = ("red", "invalid", "insufficient", "no_data", "yellow", "green")
_UNIT_SECONDS = {"minutes": Decimal(60), "hours": Decimal(3600), "days": Decimal(86400)}
_ZERO, _ONE = Decimal(0), Decimal(1)
H = TypeVar("H", bound=Hashable)


class ScoringError(ValueError):
    """A target or scoring rule that cannot score a value (e.g. ``ratio`` with a target ≤ 0)."""


@dataclass(frozen=True)
class ResolvedTarget:
    """Absolute target points in the KPI's value unit, each rounded to 12 significant digits."""

    threshold: Decimal | None = None
    target: Decimal | None = None
    stretch: Decimal | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    threshold_min: Decimal | None = None
    threshold_max: Decimal | None = None


class Assessment(NamedTuple):
    """A KPI value's status and score (the score is None unless the status is green/yellow/red).

    A NamedTuple rather than a frozen dataclass, like the other per-row records of evaluation:
    one is made for every KPI row, and a NamedTuple is several times faster to build.
    """

    status: Status | None
    score: Decimal | None
    target: ResolvedTarget | None = None


def seconds_per_unit(unit: str | None) -> Decimal:
    """Seconds in one value unit of a duration KPI: minutes, hours, days; seconds otherwise."""
    return _UNIT_SECONDS.get(unit or "", _ONE)


def _point(q: Quantity | None, unit_seconds: Decimal) -> Decimal | None:
    if q is None:
        return None
    if isinstance(q, Duration):
        return to_decimal12(as_decimal(q.seconds, "duration") / unit_seconds)
    return to_decimal12(q)


@in_context
def resolve_points(
    target: Target, previous_value: Decimal | None, value_unit_seconds: Decimal | None, direction: Direction = "higher"
) -> ResolvedTarget | None:
    """Absolute points of a target; None when a ``vs: previous`` target has a null or zero base."""
    return _resolve_points(target, previous_value, value_unit_seconds, direction)


def _resolve_points(
    target: Target, previous_value: Decimal | None, value_unit_seconds: Decimal | None, direction: Direction
) -> ResolvedTarget | None:
    unit = _ONE if value_unit_seconds is None else as_decimal(value_unit_seconds, "value_unit_seconds")
    if unit <= 0:
        raise ValueError(f"seconds per value unit must be positive, not {unit}")
    names = ("threshold", "target", "stretch", "min", "max", "threshold_min", "threshold_max")
    points = {name: _point(getattr(target, name), unit) for name in names}
    if target.vs == "previous":
        if previous_value is None:
            return None
        previous = to_decimal12(as_decimal(previous_value, "previous_value"))
        if previous == 0:
            return None
        changes = {"threshold": target.threshold_change, "target": target.change, "stretch": target.stretch_change}
        if all(change is None for change in changes.values()):
            changes["target"] = _ZERO  # `vs: previous` alone: at least as good as last period
        for name, change in changes.items():
            if change is not None:
                points[name] = to_decimal12(previous * (1 + as_decimal(change, name + "_change")))
    elif target.benchmark is not None:
        benchmark = _point(target.benchmark, unit)
        better_by = _ZERO if target.better_by is None else as_decimal(target.better_by, "better_by")
        if benchmark is not None and direction != "range":
            factor = 1 - better_by if direction == "lower" else 1 + better_by
            points["target"] = to_decimal12(benchmark * factor)
    return ResolvedTarget(**points)


def _better_or_equal(value: Decimal, point: Decimal, direction: Direction) -> bool:
    return value <= point if direction == "lower" else value >= point


@in_context
def score(
    value: Decimal,
    target: ResolvedTarget | None,
    direction: Direction,
    scoring: Scoring | None,
    points: ScorePoints,
    *,
    unit_seconds: Decimal | None = None,
) -> Decimal:
    """The score of a value (a fraction, 1 = 100%); ``unit_seconds`` converts duration band edges."""
    return tidy(_score(as_decimal(value), target, direction, scoring, points, unit_seconds))


def _score(
    v: Decimal,
    target: ResolvedTarget | None,
    direction: Direction,
    scoring: Scoring | None,
    points: ScorePoints,
    unit_seconds: Decimal | None,
) -> Decimal:
    if direction == "range":
        return _range_score(v, _need(target, "a range"))
    method = "linear" if scoring is None else scoring.method
    match method:
        case "linear":
            return _linear(v, _need(target, "linear scoring"), direction, points)
        case "ratio":
            return _ratio(v, _need(target, "ratio scoring"), direction, points)
        case "bands":
            assert scoring is not None
            return _bands(v, scoring, direction, _ONE if unit_seconds is None else as_decimal(unit_seconds))
        case "binary":
            goal = _need(target, "binary scoring").target
            if goal is None:
                raise ScoringError("binary scoring needs a `target` point")
            return _ONE if _better_or_equal(v, goal, direction) else _ZERO
        case _:
            assert_never(method)


def _need(target: ResolvedTarget | None, what: str) -> ResolvedTarget:
    if target is None:
        raise ScoringError(f"{what} needs a target")
    return target


LinearPoints = tuple[int, list[tuple[Decimal, Decimal]]]
"""Linear scoring's points mirrored to higher-is-better: the sign (-1 for lower) and (point, score), sorted."""


def _linear_points(t: ResolvedTarget, direction: Direction, points: ScorePoints) -> LinearPoints:
    # Mirror lower-is-better onto higher-is-better: negate the value and the points.
    sign = -1 if direction == "lower" else 1
    given = [
        (sign * p, s)
        for p, s in ((t.threshold, points.threshold), (t.target, points.target), (t.stretch, points.stretch))
        if p is not None
    ]
    if not given:
        raise ScoringError("linear scoring needs at least one target point")
    given.sort(key=lambda point: point[0])
    return sign, given


def _linear(v: Decimal, t: ResolvedTarget, direction: Direction, points: ScorePoints) -> Decimal:
    return _linear_at(v, _linear_points(t, direction, points))


def _linear_at(v: Decimal, prepared: LinearPoints) -> Decimal:
    sign, given = prepared
    x = sign * v
    if x < given[0][0]:
        return _ZERO
    if x >= given[-1][0]:
        return given[-1][1]
    for (p0, s0), (p1, s1) in pairwise(given):
        if p0 <= x < p1:
            return s0 + (s1 - s0) * (x - p0) / (p1 - p0)
    raise AssertionError("unreachable: x lies between the first and the last point")


def _ratio(v: Decimal, t: ResolvedTarget, direction: Direction, points: ScorePoints) -> Decimal:
    goal = t.target
    if goal is None or goal <= 0:
        raise ScoringError(f"ratio scoring needs a positive `target` point, not {goal}")
    cap = points.stretch
    if direction == "lower":
        # At or below zero nothing can be better: the cap, which keeps the score monotone.
        ratio = cap if v <= 0 else goal / v
    else:
        ratio = v / goal
    return min(max(ratio, _ZERO), cap)


def _bands(v: Decimal, scoring: Scoring, direction: Direction, unit_seconds: Decimal) -> Decimal:
    bands = [(_point(band.edge, unit_seconds), band.score) for band in scoring.bands]
    if direction == "lower":  # `to:` edges: the band with the smallest edge at or above the value
        reached = [(-edge, s) for edge, s in bands if edge is not None and v <= edge]
    else:  # `from:` edges: the band with the largest edge at or below the value
        reached = [(edge, s) for edge, s in bands if edge is not None and v >= edge]
    return max(reached, key=lambda band: band[0])[1] if reached else _ZERO


def _range_score(v: Decimal, t: ResolvedTarget) -> Decimal:
    if t.min is None or t.max is None:
        raise ScoringError("a range target needs `min` and `max`")
    if t.min <= v <= t.max:
        return _ONE
    if v < t.min:
        edge, inner = t.threshold_min, t.min
        if edge is None or v <= edge:
            return _ZERO
        return (v - edge) / (inner - edge)
    edge, inner = t.threshold_max, t.max
    if edge is None or v >= edge:
        return _ZERO
    return (edge - v) / (edge - inner)


@in_context
def status(
    value: Decimal | None,
    n: int,
    target: ResolvedTarget | None,
    direction: Direction,
    *,
    min_sample: int | None = None,
    valid: bool | None = True,
    in_force: bool = True,
    has_target: bool | None = None,
) -> Status | None:
    """The status of a KPI value, decided in SPEC §5's order.

    ``valid`` is the ``valid_if`` result (None = null, which counts as false); ``has_target`` says
    the KPI has a target even though it did not resolve (a relative target on a null or zero base:
    ``no_data``); it defaults to ``target is not None``. Without a target the status is None.
    """
    return _status(value, n, target, direction, min_sample, valid, in_force, has_target)


def _status(
    value: Decimal | None,
    n: int,
    target: ResolvedTarget | None,
    direction: Direction,
    min_sample: int | None,
    valid: bool | None,
    in_force: bool,
    has_target: bool | None,
) -> Status | None:
    if not in_force:
        return "not_in_force"
    if n <= 0:
        return "no_data"
    if min_sample is not None and n < min_sample:
        return "insufficient"
    if valid is not True:
        return "invalid"
    if value is None:
        return "no_data"
    if target is None:
        return "no_data" if has_target else None
    v = as_decimal(value)
    if direction == "range":
        return _range_status(v, target)
    if target.target is not None and _better_or_equal(v, target.target, direction):
        return "green"
    if target.threshold is not None and _better_or_equal(v, target.threshold, direction):
        return "yellow"
    return "red"


def _range_status(v: Decimal, t: ResolvedTarget) -> Status:
    if t.min is None or t.max is None:
        raise ScoringError("a range target needs `min` and `max`")
    if t.min <= v <= t.max:
        return "green"
    if v < t.min:
        return "yellow" if t.threshold_min is not None and v >= t.threshold_min else "red"
    return "yellow" if t.threshold_max is not None and v <= t.threshold_max else "red"


@functools.lru_cache(maxsize=4096)
def _absolute_points(target: Target, unit_seconds: Decimal, direction: Direction) -> ResolvedTarget | None:
    """Points that do not depend on the previous period are resolved once per target, not once per row."""
    return resolve_points(target, None, unit_seconds, direction)


AssessRow = tuple["Decimal | None", int, "bool | None", bool, "Decimal | None"]
"""One value to assess: the value (12 significant digits, as :func:`to_decimal12` gives it), the
number of rows it was computed from, the ``valid_if`` result, whether the KPI is in force, and the
previous period's value (for ``vs: previous`` targets)."""


class Assessor:
    """:func:`assess` for many values under one target and scoring rule.

    The absolute target points, and linear scoring's sorted points, are prepared once; the rows
    are assessed in one decimal context. Evaluation assesses every KPI row this way.
    """

    def __init__(
        self,
        target: Target | None,
        direction: Direction,
        scoring: Scoring | None,
        points: ScorePoints,
        *,
        unit: str | None = None,
        min_sample: int | None = None,
    ) -> None:
        self.target, self.direction, self.scoring, self.points = target, direction, scoring, points
        self.min_sample = min_sample
        self.unit_seconds = seconds_per_unit(unit)
        self.relative = target is not None and target.vs is not None
        self.fixed = None if target is None or self.relative else _absolute_points(target, self.unit_seconds, direction)
        self.bands_only = scoring is not None and scoring.method == "bands" and direction != "range"
        linear = direction != "range" and (scoring is None or scoring.method == "linear")
        self._linear: LinearPoints | None = None
        if linear and self.fixed is not None:
            with localcontext(CONTEXT):
                self._linear = _linear_points(self.fixed, direction, points)

    @in_context
    def assess_many(self, rows: Iterable[AssessRow]) -> list[Assessment]:
        """The status, score and resolved target of each row, in order."""
        if self._linear is not None:
            return self._assess_linear(rows)
        return [self._assess(*row) for row in rows]

    def _assess_linear(self, rows: Iterable[AssessRow]) -> list[Assessment]:
        """:meth:`_assess` for an absolute target scored linearly (most KPIs), unrolled into one loop.

        The same decisions in the same order as :func:`_status` and :func:`_linear_at`; a property
        test holds the two paths equal. Unscored rows share one immutable assessment per status.
        """
        fixed, prepared = self.fixed, self._linear
        assert fixed is not None and prepared is not None
        lower = self.direction == "lower"
        green, yellow = fixed.target, fixed.threshold
        min_sample = 1 if self.min_sample is None else self.min_sample  # n ≥ 1 by then: no check
        unscored = {status: Assessment(status, None, fixed) for status in _UNSCORED}
        sign, points = prepared
        (first, _), (last, best) = points[0], points[-1]
        best = tidy(best)
        # _linear_at's segments with their differences: the same operations, in the same order.
        segments = [(p0, s0, s1 - s0, p1, p1 - p0) for (p0, s0), (p1, s1) in pairwise(points)]
        between: dict[Decimal, Decimal] = {}  # the score of each value between the points, computed once
        out: list[Assessment] = []
        for value, n, valid, in_force, _ in rows:
            if not in_force:
                out.append(unscored["not_in_force"])
            elif n <= 0:
                out.append(unscored["no_data"])
            elif n < min_sample:
                out.append(unscored["insufficient"])
            elif valid is not True:
                out.append(unscored["invalid"])
            elif value is None:
                out.append(unscored["no_data"])
            else:
                if green is not None and (value <= green if lower else value >= green):
                    status: Status = "green"
                elif yellow is not None and (value <= yellow if lower else value >= yellow):
                    status = "yellow"
                else:
                    status = "red"
                x = value if sign == 1 else -value
                if x < first:
                    points_ = _ZERO
                elif x >= last:
                    points_ = best
                elif (found := between.get(x)) is not None:
                    points_ = found
                else:  # the first segment ending after x also starts at or before it
                    points_ = between[x] = tidy(
                        next(s0 + rise * (x - p0) / run for p0, s0, rise, p1, run in segments if x < p1)
                    )
                out.append(Assessment(status, points_, fixed))
        return out

    def _assess(
        self, value: Decimal | None, n: int, valid: bool | None, in_force: bool, previous_value: Decimal | None
    ) -> Assessment:
        target, direction = self.target, self.direction
        if target is None:
            resolved = None
        elif not self.relative:
            resolved = self.fixed
        else:
            resolved = _resolve_points(target, previous_value, self.unit_seconds, direction)
        found = _status(value, n, resolved, direction, self.min_sample, valid, in_force, target is not None)
        if value is None or not (found in SCORED_STATUSES or (found is None and self.bands_only)):
            return Assessment(found, None, resolved)
        if self._linear is not None:  # set only for an absolute target, so `resolved` is `self.fixed`
            return Assessment(found, tidy(_linear_at(value, self._linear)), resolved)
        points = _score(value, resolved, direction, self.scoring, self.points, self.unit_seconds)
        return Assessment(found, tidy(points), resolved)


@in_context
def assess(
    value: float | Decimal | int | None,
    n: int,
    target: Target | None,
    direction: Direction,
    scoring: Scoring | None,
    points: ScorePoints,
    *,
    previous_value: Decimal | None = None,
    unit: str | None = None,
    min_sample: int | None = None,
    valid: bool | None = True,
    in_force: bool = True,
) -> Assessment:
    """Round the value to 12 digits, resolve the target, then decide the status and the score.

    A KPI without a target but with ``bands`` scoring (which a scorecard entry allows) keeps
    status None and is still scored from its bands.
    """
    number = None if value is None else to_decimal12(value)
    rule = Assessor(target, direction, scoring, points, unit=unit, min_sample=min_sample)
    return rule.assess_many([(number, n, valid, in_force, previous_value)])[0]


@in_context
def competition_ranks(items: Iterable[tuple[H, Decimal | None]], direction: Direction) -> dict[H, int | None]:
    """Competition ranks ("1224"), best first; null → null rank; ``range`` ranks scores, higher first.

    Values are compared at 12 significant digits, as they are reported.
    """
    keys, values = [], []
    for key, v in items:
        keys.append(key)
        values.append(None if v is None else TWELVE.plus(v) if type(v) is Decimal else to_decimal12(v))
    return dict(zip(keys, ranks_in_order(values, direction), strict=True))


def ranks_in_order(values: Sequence[Decimal | None], direction: Direction) -> list[int | None]:
    """:func:`competition_ranks` of values already at 12 significant digits, as a list in their order."""
    ranks: list[int | None] = [None] * len(values)
    value_at = cast("Callable[[int], Decimal]", values.__getitem__)  # only indices of non-null values are sorted
    order = sorted((i for i, v in enumerate(values) if v is not None), key=value_at, reverse=direction != "lower")
    rank, last = 0, None
    for position, i in enumerate(order, 1):
        v = values[i]
        if v != last:
            rank, last = position, v
        ranks[i] = rank
    return ranks


def goal_status(statuses: Iterable[Status | None]) -> Status | None:
    """The worst status of a goal's KPIs: red, invalid, insufficient, no_data, yellow, green.

    KPIs not in force or without a status do not count; None when none counts.
    """
    counted = [s for s in statuses if s in _SEVERITY]
    return min(counted, key=_SEVERITY.index) if counted else None


@in_context
def goal_attainment(scores: Sequence[Decimal | None]) -> Decimal | None:
    """The mean of a goal's KPI scores, each capped at 100%; KPIs without a score are left out."""
    scored = [min(as_decimal(s, "score"), _ONE) for s in scores if s is not None]
    if not scored:
        return None
    return sum(scored, _ZERO) / len(scored)
