"""`kpi explain`: a statement a person can read — every number behind their score and payout."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from kpi_engine.config import model as m
from kpi_engine.documents import money
from kpi_engine.errors import Code, KpiError, error, unknown
from kpi_engine.evaluation import Evaluation
from kpi_engine.evaluation.org import Person
from kpi_engine.evaluation.results import ItemResult, ScorecardResult
from kpi_engine.pay import BonusRun
from kpi_engine.scoring.score import ResolvedTarget


def _num(value: Decimal | None, unit: str | None) -> str:
    if value is None:
        return "no value"
    if unit == "percent":
        return f"{_trim(value * 100)}%"
    text = _trim(value)
    return f"{text} {unit}" if unit in ("minutes", "hours", "days") else text


def _rounded(value: Decimal, unit: Decimal) -> Decimal:
    """``value`` at the plan's unit, in a context wide enough for any amount."""
    return value.quantize(unit, context=Context(prec=max(28, value.adjusted() + 40)))


def _trim(value: Decimal, places: int = 2) -> str:
    wide = Context(prec=max(28, value.adjusted() + places + 2))  # KPI values reach 10^26, money further
    text = format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=wide), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{_trim(value * 100, 1)}%"


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


def _better(direction: str) -> str:
    return "inside the range is best" if direction == "range" else f"{direction} is better"


def _item_lines(ws: m.Workspace, item: ItemResult, card: str = "") -> list[str]:
    kpi = ws.kpis[item.kpi]
    where = {"person": "your own", "unit": f"unit {item.subject}", "organization": "whole organization"}[item.at]
    weight = _pct(item.weight)
    if item.effective_weight and item.effective_weight != item.weight:
        weight += f" → {_pct(item.effective_weight)} after renormalizing"
    return [
        f"  {kpi.name} ({item.kpi}, {where})",
        f"    formula      {kpi.formula.strip()}",
        f"    value        {_num(item.value, kpi.unit)} from {item.n} rows ({_better(kpi.direction)})",
        f"    target       {_points(item.target, kpi.unit)}",
        f"    status       {_why(item, kpi, _entry(ws, card, item))}",
        f"    score        {_pct(item.score)} × weight {weight} = contribution {_pct(item.contribution)}",
    ]


def scorecard_statement(ws: m.Workspace, person: Person, card: ScorecardResult) -> list[str]:
    """The scorecard part of a statement."""
    lines = [
        f"Statement for {person.name} ({person.id}), unit {person.unit}, role {person.role}",
        f"Scorecard {card.scorecard}, period {card.period}, rules version {ws.organization.version}",
        "",
    ]
    for item in card.items:
        lines += _item_lines(ws, item, card.scorecard)
        lines.append("")
    lines.append(
        f"Total score: {_pct(card.total_score)}"
        + (
            f" ({ws.scorecards[card.scorecard].on_insufficient} for KPIs without a score)"
            if any(i.score is None for i in card.items)
            else ""
        )
    )
    return lines


def bonus_statement(ws: m.Workspace, run: BonusRun, person: str) -> list[str]:
    """The payout part of a statement."""
    plan = run.plan
    currency = ws.organization.currency
    p = next((x for x in run.result.payouts if x.person == person), None)
    if p is None:
        return [f"Bonus plan {plan.id}: {person} is not in this plan (no scorecard of the plan applies)."]
    lines = ["", f"Bonus plan {plan.id}, period {run.period.label}"]
    gate = f"gate {_pct(plan.gate)}" + (f", cap {_pct(plan.cap)}" if plan.cap is not None else "")
    factor_note = (
        "below the gate: nothing is paid" if p.gate_applied else "capped" if p.cap_applied else "the total score"
    )
    lines.append(f"  payout factor  {_pct(p.factor)} ({factor_note}; {gate})")
    if p.target_bonus is not None:
        tb = plan.target_bonus
        how = {
            "percent": f"{_pct(tb.value)} of {tb.column}",
            "fixed": "a fixed amount",
            "column": f"roster column {tb.column}",
        }[tb.kind]
        lines.append(
            f"  target bonus   {money(_rounded(p.target_bonus, plan.rounding_to), plan.rounding_to)} {currency} ({how})"
        )
    else:
        lines.append(
            f"  target bonus   none (the roster has no `{plan.target_bonus.column}` for them: nothing is paid)"
        )
    lines.append(
        f"  proration      {_pct(p.proration)} = FTE {_trim(p.fte)} × {p.days_employed}/{p.days_in_period} "
        "days employed in the period"
    )
    unit = plan.rounding_to
    lines.append(
        f"  computed       {money(p.computed, unit)} {currency} = target bonus × factor × proration, rounded "
        f"{plan.rounding_mode.replace('_', ' ')} to {plan.rounding_to}"
    )
    if run.result.pool is not None:
        lines.append(
            f"  pool           {money(run.result.pool, unit)} {currency} shared in proportion to computed payouts"
        )
        lines.append(f"  your share     {_pct(p.share)} of the pool")
    lines.append(f"  payout         {money(p.payout, unit)} {currency}")
    return lines


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
    lines = scorecard_statement(ws, who, card)
    if run is not None:
        lines += bonus_statement(ws, run, person)
    return "\n".join(lines)
