"""Worked examples of SPEC §6 scorecards: totals, renormalize vs zero, who a scorecard applies to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from kpi_engine.config.model import AppliesTo, Scorecard, ScorecardEntry, Unit
from kpi_engine.scoring.exact import exact_sum
from kpi_engine.scoring.scorecard import (
    Conflict,
    EntryScore,
    Person,
    applies,
    assign_scorecards,
    in_force,
    total_score,
    unit_lineage,
)

ITEMS = [
    EntryScore("quality", D("0.25"), D("1"), "unit", "green"),
    EntryScore("sla", D("0.35"), D("0.8"), "unit", "yellow"),
    EntryScore("csat", D("0.15"), None, "person", "insufficient"),
    EntryScore("csat", D("0.10"), D("1.5"), "unit", "green"),
    EntryScore("profit", D("0.15"), D("0"), "organization", "red"),
]


def test_total_when_every_entry_has_a_score() -> None:
    items = [EntryScore("a", D("0.6"), D("0.5")), EntryScore("b", D("0.4"), D("1.5"))]
    total, out = total_score(items, "renormalize")
    assert total == D("0.9")
    assert [(c.effective_weight, c.contribution) for c in out] == [(D("0.6"), D("0.3")), (D("0.4"), D("0.6"))]


def test_renormalize_leaves_out_entries_without_a_score() -> None:
    total, out = total_score(ITEMS, "renormalize")
    # weights 25/35/10/15 of 85: (0.25 + 0.28 + 0.15 + 0) / 0.85
    assert total is not None and abs(total - D("0.68") / D("0.85")) < D("1e-28")
    assert sum(c.effective_weight for c in out) == 1
    assert out[2].effective_weight == 0 and out[2].contribution is None
    assert total == exact_sum(c.contribution for c in out if c.contribution is not None)


def test_renormalized_thirds_sum_to_exactly_one() -> None:
    items = [EntryScore(k, D("0.25"), D(1)) for k in "abc"] + [EntryScore("d", D("0.25"), None)]
    total, out = total_score(items, "renormalize")
    weights = [c.effective_weight for c in out]
    assert sum(weights) == 1
    assert weights[0] == D("0.3333333333333333333333333334")  # the leftover 1e-28 goes to the first
    assert total == 1


def test_zero_counts_entries_without_a_score_as_zero() -> None:
    total, out = total_score(ITEMS, "zero")
    assert total == D("0.25") + D("0.28") + D("0.15")
    assert out[2].effective_weight == D("0.15") and out[2].contribution == 0


def test_not_in_force_entries_are_left_out_under_both_policies() -> None:
    items = [EntryScore("a", D("0.5"), D("0.8")), EntryScore("b", D("0.5"), None, status="not_in_force")]
    for policy in ("renormalize", "zero"):
        total, out = total_score(items, policy)  # type: ignore[arg-type]
        assert total == D("0.8")
        assert out[1].effective_weight == 0 and out[1].contribution is None


@pytest.mark.parametrize("policy", ["renormalize", "zero"])
def test_no_score_at_all_gives_no_total(policy: str) -> None:
    items = [EntryScore("a", D("0.5"), None), EntryScore("b", D("0.5"), None)]
    total, out = total_score(items, policy)  # type: ignore[arg-type]
    assert total is None and len(out) == 2
    assert total_score([], policy)[0] is None  # type: ignore[arg-type]


def test_in_force_overlaps_the_period() -> None:
    year = (date(2026, 1, 1), date(2026, 12, 31))
    assert in_force(None, None, *year)
    assert in_force(date(2026, 7, 1), None, *year)
    assert not in_force(date(2027, 1, 1), None, *year)
    assert not in_force(None, date(2025, 12, 31), *year)
    assert in_force(None, date(2026, 1, 1), *year)


UNITS = {
    "bank": Unit("bank", "Bank"),
    "central": Unit("central", "Central office", "bank"),
    "finance": Unit("finance", "Finance", "central", ("support",)),
    "payroll": Unit("payroll", "Payroll", "finance"),
    "retail": Unit("retail", "Retail", "bank", ("business",)),
}


def card(ident: str, **applies_to: tuple[str, ...]) -> Scorecard:
    return Scorecard(ident, (ScorecardEntry("x", D(1)),), applies_to=AppliesTo(**applies_to))


def test_unit_lineage() -> None:
    assert unit_lineage("payroll", UNITS) == (("finance", "central", "bank"), frozenset({"support"}))
    assert unit_lineage("bank", UNITS) == ((), frozenset())
    assert unit_lineage(None, UNITS) == ((), frozenset())


@pytest.mark.parametrize(
    ("applies_to", "role", "unit", "expected"),
    [
        ({}, "agent", "retail", True),
        ({"roles": ("director",)}, "director", "retail", True),
        ({"roles": ("director",)}, "agent", "retail", False),
        ({"units": ("central",)}, "agent", "payroll", True),  # descendants
        ({"units": ("central",)}, "agent", "retail", False),
        ({"unit_tags": ("support",)}, "agent", "payroll", True),
        ({"unit_tags": ("support",)}, "agent", "retail", False),
        ({"roles": ("director",), "unit_tags": ("support",)}, "director", "retail", False),  # ANDed
        ({"roles": ("director",), "unit_tags": ("support",)}, "director", "finance", True),
    ],
)
def test_applies(applies_to: dict[str, tuple[str, ...]], role: str, unit: str, expected: bool) -> None:
    ancestors, tags = unit_lineage(unit, UNITS)
    assert applies(card("c", **applies_to), role, unit, ancestors, tags) is expected


def test_assign_reports_a_person_matched_by_two_scorecards() -> None:
    cards = [
        card("support_director", roles=("director",), unit_tags=("support",)),
        card("directors", roles=("director",)),
        card("agents", roles=("agent",)),
    ]
    people = [
        Person("p1", "director", "payroll"),
        Person("p2", "director", "retail"),
        Person("p3", "agent", "retail"),
        Person("p4", "cleaner", "retail"),
    ]
    got = assign_scorecards(cards, people, UNITS)
    assert got.by_person == {"p2": "directors", "p3": "agents"}
    assert got.conflicts == (Conflict("p1", ("directors", "support_director")),)
