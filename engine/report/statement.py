"""`kpi explain`: a statement a person can read — every number behind their score and payout."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from kpi_engine.config import model as m
from kpi_engine.documents import money
from kpi_engine.errors import Code, KpiError, error, unknown
from kpi_engine.evaluation import Evaluation
from kpi_engine.evaluation.org import Person
from kpi_engine.evaluation.results import ItemResult, ScorecardResult
from kpi_engine.pay import BonusRun
from kpi_engine.scoring.score import ResolvedTarget


# Not cached: most numbers of a statement are the person's own (a cache missed every time cost more
# than the formatting); the target points, which everyone of a scorecard shares, are (_points).
def _num(value: Decimal | None, unit: str | None) -> str:
    if value is None:
        return "no value"
    if unit == "percent":
        return f"{_trim(value.scaleb(2))}%"
    text = _trim(value)
    return f"{text} {unit}" if unit in ("minutes", "hours", "days") else text


def _rounded(value: Decimal, unit: Decimal) -> Decimal:
    """``value`` at the plan's unit, in a context wide enough for any amount."""
    return value.quantize(unit, context=Context(prec=max(28, value.adjusted() + 40)))


_WIDE = Context(prec=64)
_PLACES = tuple(Decimal(1).scaleb(-places) for places in range(8))


def half_up(value: Decimal, places: int) -> Decimal:
    """``value`` rounded half up to ``places`` decimals, in a context wide enough for it (KPI values reach 10^26)."""
    digits = value.adjusted() + places + 4
    wide = _WIDE if digits <= _WIDE.prec else Context(prec=digits)  # one context for every usual value
    quantum = _PLACES[places] if places < len(_PLACES) else Decimal(1).scaleb(-places)
    return value.quantize(quantum, rounding=ROUND_HALF_UP, context=wide)


def _trim(value: Decimal, places: int = 2) -> str:
    text = format(half_up(value, places), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{_trim(value.scaleb(2), 1)}%"


@lru_cache(maxsize=4096)  # one target object serves every person of a scorecard entry
def _points(target: Any, unit: str | None) -> str:
    if not isinstance(target, ResolvedTarget):
        return "no target"
    parts = [
        f"{name} {_num(getattr(target, name), unit)}"
        for name in ("threshold_min", "min", "max", "threshold_max", "threshold", "target", "stretch")
        if getattr(target, name) is not None
    ]
    return ", ".join(parts) or "no target"


# How each scoring method reads in a sentence ("green, scored …").
METHOD_WORDS = {
    "linear": "linearly between the target points",
    "ratio": "as the ratio of value to target",
    "bands": "by bands",
    "binary": "as met or not met (binary)",
    "range": "on the range",
}


def _why(item: ItemResult, kpi: m.Kpi, entry: m.ScorecardEntry | None = None) -> str:
    if item.status == "not_in_force":
        return "not in force in this period: left out"
    if item.status in ("no_data", "insufficient", "invalid"):
        reasons = {
            "no_data": "no data",
            "insufficient": f"only {item.n} rows (at least {kpi.min_sample} needed)",
            "invalid": "the data did not pass its validity check",
        }
        return f"{reasons[item.status]}: no score"
    own = entry is not None and entry.scoring is not None and kpi.direction != "range"
    scoring = entry.scoring if own and entry is not None else kpi.scoring
    method = (scoring.method if scoring else "linear") if kpi.direction != "range" else "range"
    return f"{item.status}, scored {METHOD_WORDS[method]}" + (" (this scorecard's method)" if own else "")


def _entry(ws: m.Workspace, card: str, item: ItemResult) -> m.ScorecardEntry | None:
    """The scorecard entry an item comes from: (kpi, at) is unique in a scorecard."""
    scorecard = ws.scorecards.get(card)
    return next((e for e in scorecard.entries if e.kpi == item.kpi and e.at == item.at), None) if scorecard else None


def direction_words(direction: str | None) -> str:
    """Which way a KPI is good, in words: `higher is better`, `lower is better` or `inside the range is best`."""
    if direction == "range":
        return "inside the range is best"
    return "lower is better" if direction == "lower" else "higher is better"


class Fact(NamedTuple):
    """One line of a statement: what it is (`value`, `payout factor`) and the sentence with its numbers."""

    label: str
    text: str


class ItemStatement(NamedTuple):
    """One scorecard entry of a statement: its heading and its facts (formula, value, target, status, score)."""

    kpi: str
    at: str
    status: str | None
    heading: str
    facts: tuple[Fact, ...]


class Statement(NamedTuple):
    """Every number `kpi explain` gives for a person, as facts the text and the HTML report both print."""

    person: Person
    scorecard: str
    period: str
    version: str
    items: tuple[ItemStatement, ...]
    total: str
    payout: tuple[Fact, ...] | None  # None: no plan given, or the person is not in it
    not_in_plan: str | None = None  # the sentence when the plan has no scorecard for the person
    plan: str | None = None  # "Bonus plan support_2026, period 2026" above the payout facts


def item_statement(ws: m.Workspace, item: ItemResult, card: str = "") -> ItemStatement:
    """The facts of one scorecard entry: formula, value and rows, target points, status and why, score."""
    kpi = ws.kpis[item.kpi]
    where = {"person": "your own", "unit": f"unit {item.subject}", "organization": "whole organization"}[item.at]
    weight = _pct(item.weight)
    if item.effective_weight and item.effective_weight != item.weight:
        weight += f" → {_pct(item.effective_weight)} after renormalizing"
    facts = (
        Fact("formula", kpi.formula.strip()),
        Fact("value", f"{_num(item.value, kpi.unit)} from {item.n} rows ({direction_words(kpi.direction)})"),
        Fact("target", _points(item.target, kpi.unit)),
        Fact("status", _why(item, kpi, _entry(ws, card, item))),
        Fact("score", f"{_pct(item.score)} × weight {weight} = contribution {_pct(item.contribution)}"),
    )
    return ItemStatement(item.kpi, item.at, item.status, f"{kpi.name} ({item.kpi}, {where})", facts)


def _total(ws: m.Workspace, card: ScorecardResult) -> str:
    unscored = any(i.score is None for i in card.items)
    how = f" ({ws.scorecards[card.scorecard].on_insufficient} for KPIs without a score)" if unscored else ""
    return _pct(card.total_score) + how


def payout_facts(ws: m.Workspace, run: BonusRun, person: str) -> tuple[Fact, ...] | None:
    """The payout part of a statement, fact by fact; None when no scorecard of the plan applies to the person."""
    plan = run.plan
    currency = ws.organization.currency
    p = run.payout(person)
    if p is None:
        return None
    gate = f"gate {_pct(plan.gate)}" + (f", cap {_pct(plan.cap)}" if plan.cap is not None else "")
    factor_note = (
        "below the gate: nothing is paid" if p.gate_applied else "capped" if p.cap_applied else "the total score"
    )
    facts = [Fact("payout factor", f"{_pct(p.factor)} ({factor_note}; {gate})")]
    if p.target_bonus is not None:
        tb = plan.target_bonus
        how = {
            "percent": f"{_pct(tb.value)} of {tb.column}",
            "fixed": "a fixed amount",
            "column": f"roster column {tb.column}",
        }[tb.kind]
        amount = money(_rounded(p.target_bonus, plan.rounding_to), plan.rounding_to)
        facts.append(Fact("target bonus", f"{amount} {currency} ({how})"))
    else:
        column = plan.target_bonus.column
        facts.append(Fact("target bonus", f"none (the roster has no `{column}` for them: nothing is paid)"))
    facts.append(
        Fact(
            "proration",
            f"{_pct(p.proration)} = FTE {_trim(p.fte)} × {p.days_employed}/{p.days_in_period} "
            "days employed in the period",
        )
    )
    unit = plan.rounding_to
    facts.append(
        Fact(
            "computed",
            f"{money(p.computed, unit)} {currency} = target bonus × factor × proration, rounded "
            f"{plan.rounding_mode.replace('_', ' ')} to {plan.rounding_to}",
        )
    )
    if run.result.pool is not None:
        facts.append(
            Fact("pool", f"{money(run.result.pool, unit)} {currency} shared in proportion to computed payouts")
        )
        facts.append(Fact("your share", f"{_pct(p.share)} of the pool"))
    facts.append(Fact("payout", f"{money(p.payout, unit)} {currency}"))
    return tuple(facts)


def not_in_plan(run: BonusRun, person: str) -> str:
    """The sentence for a person no scorecard of the plan applies to."""
    return f"Bonus plan {run.plan.id}: {person} is not in this plan (no scorecard of the plan applies)."


def person_statement(ws: m.Workspace, person: Person, card: ScorecardResult, run: BonusRun | None = None) -> Statement:
    """Every number behind a person's score (and payout, with a plan's run), as facts."""
    items = tuple(item_statement(ws, item, card.scorecard) for item in card.items)
    payout = payout_facts(ws, run, person.id) if run is not None else None
    missing = not_in_plan(run, person.id) if run is not None and payout is None else None
    version = ws.organization.version
    plan = f"Bonus plan {run.plan.id}, period {run.period.label}" if run is not None else None
    return Statement(person, card.scorecard, card.period, version, items, _total(ws, card), payout, missing, plan)


def statement_text(found: Statement) -> str:
    """A statement as `kpi explain` prints it."""
    who = found.person
    lines = [
        f"Statement for {who.name} ({who.id}), unit {who.unit}, role {who.role}",
        f"Scorecard {found.scorecard}, period {found.period}, rules version {found.version}",
        "",
    ]
    for item in found.items:
        lines.append(f"  {item.heading}")
        lines += [f"    {fact.label:<12} {fact.text}" for fact in item.facts]
        lines.append("")
    lines.append(f"Total score: {found.total}")
    if found.not_in_plan is not None:
        lines.append(found.not_in_plan)
    elif found.payout is not None:
        lines += ["", str(found.plan)]
        lines += [f"  {fact.label:<14} {fact.text}" for fact in found.payout]
    return "\n".join(lines)


def statement(ws: m.Workspace, evaluation: Evaluation, run: BonusRun | None, person: str) -> str:
    """`kpi explain`: every number behind a person's score (and payout, with a plan's run), as text."""
    who = evaluation.org.people.get(person)
    if who is None:
        message, hint = unknown("person", person, list(evaluation.org.people))
        raise KpiError([error(Code.UNKNOWN_REFERENCE, message, None, hint)])
    card = next((s for s in evaluation.scorecards if s.person == person), None)
    if card is None:
        raise KpiError(
            [
                error(
                    Code.UNKNOWN_REFERENCE,
                    f"no scorecard applies to {who.name} ({person})",
                    None,
                    "check `applies_to` of the scorecards (roles, units, unit tags)",
                )
            ]
        )
    return statement_text(person_statement(ws, who, card, run))
