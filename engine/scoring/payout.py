"""Bonus payouts: proration, gate and cap, pools, and money rounding (SPEC §6).

The money path, per person: ``target bonus × factor × fte × days employed`` is an exact product
(``decimal.Inexact`` trapped), divided once by the days in the period. That exact rational is
rounded once, at the end, to the plan's unit with the plan's mode — never per factor. With a pool,
the pool is split in proportion to those computed payouts by the largest-remainder method, so the
amounts sum to the pool exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from kpi_engine.config.model import BonusPlan, TargetBonus
from kpi_engine.scoring.exact import (
    CONTEXT,
    RoundingMode,
    as_decimal,
    exact_product,
    exact_sum,
    in_context,
    largest_remainder,
    round_fraction,
    tidy,
)

__all__ = [
    "PersonInput",
    "PersonPayout",
    "PlanResult",
    "Proration",
    "Reason",
    "allocate_pool",
    "payout",
    "plan_result",
    "proration",
    "proration_detail",
    "round_money",
    "target_bonus_amount",
]

PRORATION_KINDS = ("fte", "employment")
CENT = Decimal("0.01")
Reason = Literal["no_total_score", "below_gate", "not_employed", "no_target_bonus", "no_base_salary"]


@dataclass(frozen=True)
class Proration:
    """The parts of a proration: fte × days employed / days in period."""

    fte: Decimal
    days_employed: int
    days_in_period: int

    @property
    def factor(self) -> Decimal:
        """The FTE × days employed / days in period (40 significant digits)."""
        return CONTEXT.divide(exact_product(self.fte, Decimal(self.days_employed)), Decimal(self.days_in_period))


def proration_detail(
    fte: Decimal | None,
    hired: date | None,
    left: date | None,
    period_start: date,
    period_end: date,
    kinds: Iterable[str] = PRORATION_KINDS,
) -> Proration:
    """The fte and the days employed in the period (hire and leave days both count) that prorate a bonus."""
    kinds = tuple(kinds)
    unknown = sorted(set(kinds) - set(PRORATION_KINDS))
    if unknown:
        raise ValueError(f"unknown proration {unknown}; use fte and/or employment")
    if period_end < period_start:
        raise ValueError(f"the period ends ({period_end}) before it starts ({period_start})")
    days_in_period = (period_end - period_start).days + 1
    share = Decimal(1) if fte is None or "fte" not in kinds else as_decimal(fte, "fte")
    if share < 0:
        raise ValueError(f"fte must not be negative, not {share}")
    if "employment" not in kinds:
        return Proration(share, days_in_period, days_in_period)
    first = max(period_start, hired) if hired is not None else period_start
    last = min(period_end, left) if left is not None else period_end
    return Proration(share, max(0, (last - first).days + 1), days_in_period)


@in_context
def proration(
    fte: Decimal | None,
    hired: date | None,
    left: date | None,
    period_start: date,
    period_end: date,
    kinds: Iterable[str] = PRORATION_KINDS,
) -> Decimal:
    """The FTE × (days employed in period / days in period); the FTE defaults to 1."""
    return proration_detail(fte, hired, left, period_start, period_end, kinds).factor


@in_context
def round_money(x: Decimal, to: Decimal = CENT, mode: RoundingMode = "half_up") -> Decimal:
    """``x`` rounded once to a multiple of ``to`` (half_up = half away from zero); never ``-0.00``."""
    return _round_exact(Fraction(as_decimal(x, "amount")), as_decimal(to, "rounding unit"), mode)


def _round_exact(x: Fraction, to: Decimal, mode: RoundingMode) -> Decimal:
    if to <= 0:
        raise ValueError(f"the rounding unit must be positive, not {to}")
    # count × to with an integer count: a zero is +0 × to, so "-0.00" cannot appear.
    return exact_product(Decimal(round_fraction(x / Fraction(to), mode)), to)


@in_context
def allocate_pool(pool: Decimal, computed: Mapping[str, Decimal], to: Decimal = CENT) -> dict[str, Decimal]:
    """Split a pool in proportion to the computed payouts (largest remainder, ties to the lower id).

    The amounts sum to the pool exactly; when every computed payout is 0, nothing is paid.
    """
    return largest_remainder(as_decimal(pool, "pool"), computed, as_decimal(to, "rounding unit"))


def target_bonus_amount(target_bonus: TargetBonus, roster_value: Decimal | None) -> Decimal | None:
    """The bonus at 100%: percent × the roster column, a fixed amount, or the roster column itself."""
    match target_bonus.kind:
        case "fixed":
            return None if target_bonus.value is None else as_decimal(target_bonus.value, "target bonus")
        case "percent":
            if roster_value is None or target_bonus.value is None:
                return None
            return exact_product(as_decimal(target_bonus.value, "target bonus"), as_decimal(roster_value, "base"))
        case "column":
            return None if roster_value is None else as_decimal(roster_value, "target bonus")


@dataclass(frozen=True)
class PersonInput:
    """A person in a plan: their scorecard total and the roster facts that prorate and size the bonus.

    ``roster_value`` is the value of the roster column the target bonus names (``20% of COLUMN`` or
    ``column COLUMN``); it is unused for a fixed amount.
    """

    person: str
    total_score: Decimal | None
    scorecard: str | None = None
    roster_value: Decimal | None = None
    fte: Decimal | None = None
    hired: date | None = None
    left: date | None = None


@dataclass(frozen=True)
class PersonPayout:
    """Every number of a person's statement.

    ``computed`` is the rounded payout before any pool; ``unrounded`` the same before rounding (40
    significant digits; the rounding itself is done on the exact rational). ``payout`` is what is
    paid: ``computed``, or the person's part of the pool. ``share`` = payout / Σ payouts.
    """

    person: str
    scorecard: str | None
    total_score: Decimal | None
    factor: Decimal
    gate_applied: bool
    cap_applied: bool
    proration: Decimal
    fte: Decimal
    days_employed: int
    days_in_period: int
    target_bonus: Decimal | None
    unrounded: Decimal
    computed: Decimal
    payout: Decimal
    share: Decimal = Decimal(0)
    reason: Reason | None = None


@in_context
def payout(plan: BonusPlan, person: PersonInput, period_start: date, period_end: date) -> PersonPayout:
    """One person's payout before any pool: target bonus × factor × proration, rounded once.

    factor = total score, 0 below the gate, capped at the cap; a null total score pays 0 (reason
    ``no_total_score``).
    """
    detail = proration_detail(person.fte, person.hired, person.left, period_start, period_end, plan.proration)
    bonus = target_bonus_amount(plan.target_bonus, person.roster_value)
    total = None if person.total_score is None else as_decimal(person.total_score, "total score")
    gate_applied = total is not None and total < plan.gate
    cap_applied = total is not None and not gate_applied and plan.cap is not None and total > plan.cap
    if total is None or gate_applied:
        factor = Decimal(0)
    else:
        factor = tidy(plan.cap) if cap_applied and plan.cap is not None else max(total, Decimal(0))
    reason: Reason | None = None
    if total is None:
        reason = "no_total_score"
    elif gate_applied:
        reason = "below_gate"
    elif bonus is None:
        reason = "no_base_salary" if plan.target_bonus.kind == "percent" else "no_target_bonus"
    elif detail.days_employed == 0 or detail.fte == 0:
        reason = "not_employed"
    numerator = exact_product(bonus or Decimal(0), factor, detail.fte, Decimal(detail.days_employed))
    exact = Fraction(numerator) / detail.days_in_period
    computed = _round_exact(exact, plan.rounding_to, plan.rounding_mode)
    return PersonPayout(
        person.person,
        person.scorecard,
        total,
        factor,
        gate_applied,
        cap_applied,
        tidy(detail.factor),
        detail.fte,
        detail.days_employed,
        detail.days_in_period,
        bonus,
        tidy(CONTEXT.divide(numerator, Decimal(detail.days_in_period))),
        computed,
        computed,
        reason=reason,
    )


@dataclass(frozen=True)
class PlanResult:
    """A plan's payouts (sorted by person id) and their total; ``pool`` is None without a pool."""

    plan: str
    pool: Decimal | None
    total: Decimal
    payouts: tuple[PersonPayout, ...]


@in_context
def plan_result(plan: BonusPlan, people: Iterable[PersonInput], period_start: date, period_end: date) -> PlanResult:
    """Every person's payout under a plan; with a pool, the pool split in proportion to the computed payouts."""
    results = sorted((payout(plan, p, period_start, period_end) for p in people), key=lambda r: r.person)
    ids = [r.person for r in results]
    if len(set(ids)) != len(ids):
        raise ValueError("a person appears twice in the plan")
    if plan.pool is not None:
        amounts = allocate_pool(plan.pool, {r.person: r.unrounded for r in results}, plan.rounding_to)
        results = [replace(r, payout=amounts[r.person]) for r in results]
    total = exact_sum(r.payout for r in results)
    results = [replace(r, share=tidy(r.payout / total) if total else Decimal(0)) for r in results]
    return PlanResult(plan.id, plan.pool, total, tuple(results))
