"""Scorecards: who a scorecard applies to, and the weighted total of its entries (SPEC §6).

How the total stays exact. The weights that count are scaled to sum to 100% by the
largest-remainder method at 28 decimal places (:data:`WEIGHT_UNIT`): each effective weight is
``weight / Σ weights`` floored to 1e-28, and the few 1e-28 left over go to the largest remainders
(ties to the earlier entry), so the effective weights sum to exactly 1. When the weights already
sum to 1 (every entry scored) the effective weights are the written weights, digit for digit.
Each contribution is then ``effective weight × score`` and the total is ``Σ contributions``, both
computed exactly (``decimal.Inexact`` trapped): the total is the sum of the reported contributions
with no rounding at all. The only rounding is that of the effective weights (less than 1e-28 each); at 28 places they
sum to 1 even in Python's default 28-digit context. Sum contributions with
:func:`kpi_engine.scoring.exact.exact_sum`: they can be longer than 28 digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Literal

from kpi_engine.config.model import Level, Scorecard, Unit
from kpi_engine.scoring.exact import EXACT, as_decimal, in_context, largest_remainder, tidy
from kpi_engine.scoring.score import Status

__all__ = [
    "WEIGHT_UNIT",
    "Conflict",
    "EntryContribution",
    "EntryScore",
    "Person",
    "ScorecardAssignment",
    "Weighing",
    "applies",
    "assign_scorecards",
    "in_force",
    "total_score",
    "unit_lineage",
]

WEIGHT_UNIT = Decimal("1e-28")
_ZERO, _ONE = Decimal(0), Decimal(1)
OnInsufficient = Literal["renormalize", "zero"]


@dataclass(frozen=True)
class EntryScore:
    """One scorecard entry's input: its weight, and its score (None when it has none)."""

    kpi: str
    weight: Decimal
    score: Decimal | None
    at: Level = "person"
    status: Status | None = None


@dataclass(frozen=True)
class EntryContribution:
    """One entry's part of the total: the weight it ended up with, and weight × score.

    ``contribution`` is None for an entry left out (``renormalize`` without a score, or not in
    force); ``zero`` counts an entry without a score as a 0 contribution with its full weight.
    """

    kpi: str
    at: Level
    weight: Decimal
    score: Decimal | None
    status: Status | None
    effective_weight: Decimal
    contribution: Decimal | None


@in_context
def total_score(
    items: Sequence[EntryScore], on_insufficient: OnInsufficient
) -> tuple[Decimal | None, tuple[EntryContribution, ...]]:
    """Σ weight × score; ``renormalize`` leaves entries without a score out, ``zero`` counts them as 0.

    Entries not in force are left out under both policies (they are not part of the scorecard in
    that period). The total is None when no entry has a score.
    """
    scores = [None if item.score is None else as_decimal(item.score, f"score of {item.kpi}") for item in items]
    weighing = Weighing([as_decimal(item.weight, f"weight of {item.kpi}") for item in items], on_insufficient)
    scores = [None if item.score is None else as_decimal(item.score, f"score of {item.kpi}") for item in items]
    total, effective, contributions = weighing.total(scores, [item.status != "not_in_force" for item in items])
    return total, tuple(
        EntryContribution(
            item.kpi, item.at, weighing.weights[i], scores[i], item.status, effective[i], contributions[i]
        )
        for i, item in enumerate(items)
    )


class Weighing:
    """A scorecard's weights and policy, checked once; :meth:`total` weighs any set of entry scores.

    Evaluation prepares one per scorecard and weighs every person and period with it. The effective
    weights depend only on which entries count, and a scorecard has few such sets (most people lack
    the same scores), so each set's weights are split by largest remainder once and kept.
    """

    def __init__(self, weights: Sequence[Decimal], on_insufficient: OnInsufficient) -> None:
        if on_insufficient not in ("renormalize", "zero"):
            raise ValueError(f"unknown on_insufficient `{on_insufficient}`; use renormalize or zero")
        if any(w < 0 for w in weights):
            raise ValueError("scorecard weights must not be negative")
        self.weights = tuple(weights)
        self.zero = on_insufficient == "zero"
        with localcontext(EXACT):
            # Weights that already sum to 100% are their own effective weights (the validated, usual
            # case) whenever every entry counts; otherwise the counted ones are split again.
            self._whole = sum(self.weights, _ZERO) == 1
            self._shares = [tidy(w) for w in self.weights]
        self._split: dict[tuple[int, ...], dict[int, Decimal]] = {}

    def _effective(self, counted: tuple[int, ...]) -> dict[int, Decimal]:
        """The effective weight of each counted entry (tidied): the weights, or them split to sum to 100%."""
        found = self._split.get(counted)
        if found is None:
            weights = {i: self.weights[i] for i in counted}
            if weights and sum(weights.values(), _ZERO) != 1:
                weights = largest_remainder(_ONE, weights, WEIGHT_UNIT)
            found = self._split[counted] = {i: tidy(w) for i, w in weights.items()}
        return found

    def total(
        self, scores: Sequence[Decimal | None], counts: Sequence[bool]
    ) -> tuple[Decimal | None, list[Decimal], list[Decimal | None]]:
        """The total (None when no counted entry has a score), each effective weight and each contribution.

        ``counts`` is False for an entry not in force; ``renormalize`` also leaves out entries
        without a score, ``zero`` counts them as 0 with their full weight.
        """
        zero = self.zero
        with localcontext(EXACT):
            if self._whole and all(counts) and (zero or None not in scores):
                shares = list(self._shares)
                contributions: list[Decimal | None] = [
                    tidy(w * s) if s is not None else _ZERO for w, s in zip(self.weights, scores, strict=True)
                ]
                scored = any(s is not None for s in scores)
            else:
                counted = tuple(i for i, s in enumerate(scores) if counts[i] and (zero or s is not None))
                effective = self._effective(counted)
                shares, contributions = [], []
                for i, s in enumerate(scores):
                    share = effective.get(i)
                    shares.append(_ZERO if share is None else share)
                    contributions.append(None if share is None else tidy(share * (_ZERO if s is None else s)))
                scored = any(scores[i] is not None for i in counted)
            if not scored:
                return None, shares, contributions
            return tidy(sum((c for c in contributions if c is not None), _ZERO)), shares, contributions


def in_force(effective_from: date | None, effective_to: date | None, period_start: date, period_end: date) -> bool:
    """True when the effective dates overlap the period (both ends inclusive, None = open)."""
    return (effective_from is None or effective_from <= period_end) and (
        effective_to is None or effective_to >= period_start
    )


@dataclass(frozen=True)
class Person:
    """What scorecard matching needs to know about a roster row."""

    id: str
    role: str | None
    unit: str | None


def unit_lineage(unit: str | None, units: Mapping[str, Unit]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The ancestors of a unit (nearest first) and the tags of the unit and its ancestors."""
    ancestors: list[str] = []
    tags: set[str] = set()
    seen: set[str] = set()
    current = unit
    while current is not None and current not in seen and current in units:
        seen.add(current)
        node = units[current]
        tags.update(node.tags)
        if current != unit:
            ancestors.append(current)
        current = node.parent
    if current is not None and current not in seen and current not in units:
        ancestors.append(current)  # a parent id without its own definition still counts as an ancestor
    return tuple(ancestors), frozenset(tags)


def applies(
    scorecard: Scorecard,
    person_role: str | None,
    person_unit: str | None,
    unit_ancestors: Iterable[str],
    unit_tags: Iterable[str],
) -> bool:
    """Whether ``applies_to`` matches a person: roles, units (with descendants), unit tags; ANDed, empty = any."""
    rule = scorecard.applies_to
    if rule.roles and person_role not in rule.roles:
        return False
    if rule.units:
        lineage = {person_unit, *unit_ancestors}
        if not lineage & set(rule.units):
            return False
    return not rule.unit_tags or bool(set(unit_tags) & set(rule.unit_tags))


@dataclass(frozen=True)
class Conflict:
    """A person matched by more than one scorecard (the caller reports it as E414)."""

    person: str
    scorecards: tuple[str, ...]


@dataclass(frozen=True)
class ScorecardAssignment:
    """The one scorecard of each matched person, and the people matched by several."""

    by_person: Mapping[str, str]
    conflicts: tuple[Conflict, ...]


def assign_scorecards(
    scorecards: Iterable[Scorecard], people: Iterable[Person], units: Mapping[str, Unit]
) -> ScorecardAssignment:
    """Find each person's scorecard; a person matched by two or more gets none and is a conflict.

    Unit tags are inherited: a person in a sub-unit of a ``support`` unit matches ``unit_tags:
    [support]``, just as ``units:`` matches descendants.
    """
    cards = sorted(scorecards, key=lambda card: card.id)
    by_person: dict[str, str] = {}
    conflicts = []
    for person in sorted(people, key=lambda p: p.id):
        ancestors, tags = unit_lineage(person.unit, units)
        matched = tuple(card.id for card in cards if applies(card, person.role, person.unit, ancestors, tags))
        if len(matched) == 1:
            by_person[person.id] = matched[0]
        elif matched:
            conflicts.append(Conflict(person.id, matched))
    return ScorecardAssignment(by_person, tuple(conflicts))
