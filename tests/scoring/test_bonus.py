"""Worked examples of SPEC §6 bonus plans: proration, gate and cap, pools, rounding."""

from __future__ import annotations

import decimal
from datetime import date
from decimal import Decimal as D

import pytest

from kpi_engine.config.model import BonusPlan, TargetBonus
from kpi_engine.scoring.exact import CONTEXT
from kpi_engine.scoring.payout import (
    PersonInput,
    allocate_pool,
    payout,
    plan_result,
    proration,
    proration_detail,
    round_money,
    target_bonus_amount,
)

YEAR = (date(2025, 1, 1), date(2025, 12, 31))  # 365 days
PLAN = BonusPlan("directors", ("sd",), TargetBonus("percent", D("0.2"), "base_salary"), gate=D("0.6"), cap=D("1.5"))


# --- proration ---------------------------------------------------------------------------


def test_half_fte_hired_first_of_july() -> None:
    got = proration(D("0.5"), date(2025, 7, 1), None, *YEAR)
    assert got == CONTEXT.divide(D("0.5") * 184, D(365))
    detail = proration_detail(D("0.5"), date(2025, 7, 1), None, *YEAR)
    assert (detail.fte, detail.days_employed, detail.days_in_period) == (D("0.5"), 184, 365)


@pytest.mark.parametrize(
    ("hired", "left", "days"),
    [
        (None, None, 365),
        (date(2024, 3, 1), None, 365),
        (date(2025, 12, 31), None, 1),  # the hire day counts
        (None, date(2025, 1, 1), 1),  # the leave day counts
        (date(2025, 3, 1), date(2025, 3, 31), 31),  # hired and left mid-period
        (None, date(2024, 12, 31), 0),  # left before the period starts
        (date(2026, 1, 1), None, 0),  # hired after it ends
        (date(2025, 6, 1), date(2025, 5, 1), 0),  # left before hired
    ],
)
def test_days_employed(hired: date | None, left: date | None, days: int) -> None:
    assert proration_detail(None, hired, left, *YEAR).days_employed == days


def test_proration_kinds() -> None:
    hired = date(2025, 7, 1)
    assert proration(D("0.5"), hired, None, *YEAR, kinds=("fte",)) == D("0.5")
    assert proration(D("0.5"), hired, None, *YEAR, kinds=("employment",)) == CONTEXT.divide(D(184), D(365))
    assert proration(D("0.5"), hired, None, *YEAR, kinds=()) == 1
    assert proration(None, None, date(2024, 1, 1), *YEAR) == 0
    with pytest.raises(ValueError):
        proration(None, None, None, *YEAR, kinds=("tenure",))


# --- payouts -------------------------------------------------------------------------------


def person(total: str | None, **kw: object) -> PersonInput:
    return PersonInput("p1", None if total is None else D(total), "sd", roster_value=D("60000.00"), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("total", "factor", "gate", "cap", "amount"),
    [
        ("0.93", "0.93", False, False, "11160.00"),
        ("0.6", "0.6", False, False, "7200.00"),  # at the gate: paid
        ("0.59", "0", True, False, "0.00"),  # below the gate
        ("1.5", "1.5", False, False, "18000.00"),
        ("1.7", "1.5", False, True, "18000.00"),  # capped
    ],
)
def test_gate_and_cap(total: str, factor: str, gate: bool, cap: bool, amount: str) -> None:
    got = payout(PLAN, person(total), *YEAR)
    assert (got.factor, got.gate_applied, got.cap_applied) == (D(factor), gate, cap)
    assert str(got.computed) == amount and got.payout == got.computed
    assert got.target_bonus == D("12000")


def test_no_total_score_pays_zero_with_a_reason() -> None:
    got = payout(PLAN, person(None), *YEAR)
    assert (str(got.payout), got.reason, got.factor) == ("0.00", "no_total_score", 0)


def test_payout_is_prorated_and_rounded_once() -> None:
    got = payout(PLAN, person("1", fte=D("0.5"), hired=date(2025, 7, 1)), *YEAR)
    # 12000 × 1 × 0.5 × 184 / 365 = 3024.6575…
    assert str(got.computed) == "3024.66"
    assert (got.days_employed, got.days_in_period, got.fte) == (184, 365, D("0.5"))


def test_left_before_the_period_pays_nothing() -> None:
    got = payout(PLAN, person("1", left=date(2024, 12, 31)), *YEAR)
    assert (str(got.payout), got.reason) == ("0.00", "not_employed")


def test_fixed_and_column_target_bonus() -> None:
    assert target_bonus_amount(TargetBonus("fixed", D(5000)), None) == D(5000)
    assert target_bonus_amount(TargetBonus("column", column="bonus"), D("750.5")) == D("750.5")
    assert target_bonus_amount(TargetBonus("column", column="bonus"), None) is None
    assert target_bonus_amount(TargetBonus("percent", D("0.2"), "base"), D("12345.67")) == D("2469.134")
    fixed = BonusPlan("f", ("sd",), TargetBonus("fixed", D(5000)))
    assert str(payout(fixed, PersonInput("p", D("0.8")), *YEAR).payout) == "4000.00"
    no_base = payout(PLAN, PersonInput("p", D("0.8")), *YEAR)
    assert (str(no_base.payout), no_base.reason) == ("0.00", "no_base_salary")
    no_cell = payout(BonusPlan("c", ("sd",), TargetBonus("column", column="bonus")), PersonInput("p", D("0.8")), *YEAR)
    assert (str(no_cell.payout), no_cell.reason) == ("0.00", "no_target_bonus")


def test_plan_result_without_a_pool() -> None:
    people = [PersonInput("b", D("1"), roster_value=D(1000)), PersonInput("a", D("0.5"), roster_value=D(1000))]
    got = plan_result(PLAN, people, *YEAR)
    assert [p.person for p in got.payouts] == ["a", "b"]
    assert got.total == D("0.00") + D("200.00") and got.pool is None
    assert [p.share for p in got.payouts] == [0, 1]  # a is below the gate


def test_plan_result_with_a_pool() -> None:
    plan = BonusPlan("p", ("sd",), TargetBonus("fixed", D(100)), pool=D("1000.00"))
    people = [PersonInput("a", D("0.45")), PersonInput("b", D("0.20")), PersonInput("c", D("0.34"))]
    got = plan_result(plan, people, *YEAR)
    assert [str(p.payout) for p in got.payouts] == ["454.55", "202.02", "343.43"]
    assert [str(p.computed) for p in got.payouts] == ["45.00", "20.00", "34.00"]
    assert got.total == D("1000.00") == got.pool
    assert sum(p.share for p in got.payouts) == pytest.approx(1)  # type: ignore[comparison-overlap]


# --- pools and rounding ----------------------------------------------------------------------


def test_pool_example() -> None:
    got = allocate_pool(D("1000.00"), {"a": D(45), "b": D(20), "c": D(34)})
    assert {k: str(v) for k, v in got.items()} == {"a": "454.55", "b": "202.02", "c": "343.43"}


def test_pool_three_ways_goes_to_the_lower_id_on_ties() -> None:
    got = allocate_pool(D("1000.00"), {"c": D(1), "a": D(1), "b": D(1)})
    assert {k: str(v) for k, v in got.items()} == {"a": "333.34", "b": "333.33", "c": "333.33"}


def test_pool_when_every_payout_is_zero_pays_nothing() -> None:
    got = allocate_pool(D("1000.00"), {"a": D(0), "b": D(0)})
    assert {k: str(v) for k, v in got.items()} == {"a": "0.00", "b": "0.00"}


def test_pool_that_is_not_a_whole_number_of_units_is_refused() -> None:
    with pytest.raises(ValueError):
        allocate_pool(D("10.005"), {"a": D(1)})


@pytest.mark.parametrize(
    ("x", "mode", "expected"),
    [
        ("2.675", "half_up", "2.68"),
        ("2.665", "half_even", "2.66"),
        ("2.675", "half_even", "2.68"),
        ("-2.675", "half_up", "-2.68"),
        ("-0.004", "half_up", "0.00"),
        ("-0.005", "half_even", "0.00"),
        ("0.005", "half_up", "0.01"),
        ("1234.5", "half_up", "1234.50"),
        ("0", "half_up", "0.00"),
    ],
)
def test_round_money(x: str, mode: str, expected: str) -> None:
    assert str(round_money(D(x), D("0.01"), mode)) == expected  # type: ignore[arg-type]


def test_round_money_to_other_units() -> None:
    assert str(round_money(D("12.5"), D("1"), "half_even")) == "12"
    assert str(round_money(D("1.075"), D("0.05"), "half_up")) == "1.10"


def test_hundred_half_cents_rounded_once_on_the_total() -> None:
    assert str(round_money(sum([D("0.005")] * 100, D(0)), D("0.01"))) == "0.50"


def test_floats_never_enter_the_money_path() -> None:
    with pytest.raises(decimal.FloatOperation):
        round_money(2.675)  # type: ignore[arg-type]
    with pytest.raises(decimal.FloatOperation):
        allocate_pool(D("10.00"), {"a": 0.5})  # type: ignore[dict-item]
    with pytest.raises(decimal.FloatOperation):
        payout(PLAN, PersonInput("p", 0.9, roster_value=D(1000)), *YEAR)  # type: ignore[arg-type]
    with pytest.raises(decimal.FloatOperation):
        proration(0.5, None, None, *YEAR)  # type: ignore[arg-type]
