"""A bonus plan for a period: evaluate the scorecards, then pay each person from their total score."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal

from kpi_engine.compiled import Compiled
from kpi_engine.config import model as m
from kpi_engine.errors import Code, Diagnostic, KpiError, error, unknown, warning
from kpi_engine.evaluation import Evaluation, evaluate, period_of
from kpi_engine.evaluation.org import OrgData, Person
from kpi_engine.evaluation.roster import unmatched_scorecards
from kpi_engine.execution import Engine, Target
from kpi_engine.periods import GRAINS, Period
from kpi_engine.scoring.payout import PersonInput, PersonPayout, PlanResult, plan_result


@dataclass(frozen=True)
class BonusRun:
    """A plan's payouts with the evaluation they come from."""

    plan: m.BonusPlan
    period: Period
    evaluation: Evaluation
    result: PlanResult

    def payout(self, person: str) -> PersonPayout | None:
        """The person's payout, if the plan applies to them (payouts are sorted by person id)."""
        payouts = self.result.payouts
        at = bisect_left(payouts, person, key=lambda p: p.person)
        return payouts[at] if at < len(payouts) and payouts[at].person == person else None


def find_plan(ws: m.Workspace, plan_id: str | None) -> m.BonusPlan:
    """The named plan, or the only one defined."""
    if plan_id is None:
        if len(ws.bonus_plans) == 1:
            return next(iter(ws.bonus_plans.values()))
        raise KpiError(
            [
                error(
                    Code.MISSING_KEY,
                    "name the bonus plan with --plan",
                    None,
                    "plans: " + ", ".join(sorted(ws.bonus_plans))
                    if ws.bonus_plans
                    else "this workspace defines no `bonus_plans`",
                )
            ]
        )
    if plan_id not in ws.bonus_plans:
        message, hint = unknown("bonus plan", plan_id, list(ws.bonus_plans))
        raise KpiError([error(Code.UNKNOWN_REFERENCE, message, None, hint)])
    return ws.bonus_plans[plan_id]


def plan_period(plan: m.BonusPlan, period: str | None) -> str:
    """The period to pay: --period, else the plan's own fixed period."""
    if period is not None:
        return period
    if plan.period is None or plan.period in GRAINS:
        raise KpiError(
            [error(Code.BAD_PERIOD, f"plan `{plan.id}` has no fixed period; pass --period", None, "e.g. --period 2026")]
        )
    return plan.period


def roster_value(ws: m.Workspace, plan: m.BonusPlan, person: Person) -> Decimal | None:
    """The roster value the target bonus is sized on (`… of COLUMN` or `column COLUMN`)."""
    column = plan.target_bonus.column
    if column is None:
        return None
    people = ws.organization.people
    if people is not None and column == "base_salary" and people.base_salary:
        column = people.base_salary
    if people is not None and column == people.base_salary:
        return person.base_salary
    text = person.column(column)
    try:
        return Decimal(text) if text not in (None, "") else None
    except ArithmeticError:
        return None


def check_period_kind(ws: m.Workspace, plan: m.BonusPlan, whole: Period) -> None:
    """Refuse paying a plan for a period of another kind than its own (a quarterly plan for a year)."""
    if plan.period is None:
        return
    kind = plan.period if plan.period in GRAINS else period_of(ws, plan.period).kind
    if kind != whole.kind:
        span = ws.source_map.value((*plan.path, "period"))
        raise KpiError(
            [
                error(
                    Code.PLAN_PERIOD_KIND,
                    f"plan `{plan.id}` pays per {kind} (`period: {plan.period}`), "
                    f"but --period {whole.label} is a {whole.kind}",
                    span,
                    f"pass a {kind} (e.g. {_example(kind)}), or change the plan's `period:`",
                )
            ]
        )


def _example(kind: str) -> str:
    return {
        "year": "2026",
        "quarter": "2026-Q1",
        "month": "2026-03",
        "week": "2026-W05",
        "day": "2026-03-14",
        "range": "2026-01-01..2026-06-30",
    }.get(kind, "2026")


def missing_money(ws: m.Workspace, plan: m.BonusPlan, result: PlanResult, org: OrgData) -> list[Diagnostic]:
    """A warning per person whose payout is 0 because the roster has no salary or target-bonus cell."""
    out = []
    column = plan.target_bonus.column
    for p in result.payouts:
        if p.reason not in ("no_base_salary", "no_target_bonus"):
            continue
        person = org.people.get(p.person)
        what = (
            f"no `{column}` in the roster"
            if plan.target_bonus.kind != "column"
            else f"no target bonus in roster column `{column}`"
        )
        out.append(
            warning(
                Code.NO_TARGET_BONUS,
                f"person `{p.person}` in plan `{plan.id}` has {what}, so their payout is 0",
                person.row if person else None,
                f"fill `{column}` for them in the roster",
            )
        )
    return out


def compute_bonus(
    compiled: Compiled,
    plan_id: str | None,
    period: str | None,
    wh: Engine | None = None,
    *,
    any_period: bool = False,
    target: Target = Target(),
) -> BonusRun:
    """Every person of the plan's scorecards paid for the period (on `wh` when given, else a session of `target`).

    A period of another kind than the plan's is refused, except with ``any_period`` (`kpi test` fixtures
    pay a plan over the fixture's own period).
    """
    ws = compiled.workspace
    if compiled.selected:
        raise ValueError("a bonus plan is paid on every KPI: compile the workspace without narrowing it")
    plan = find_plan(ws, plan_id)
    label = plan_period(plan, period)
    whole = period_of(ws, label)
    if not any_period:
        check_period_kind(ws, plan, whole)
    evaluation = evaluate(compiled, label, wh=wh, target=target)
    cards = {s.person: s for s in evaluation.scorecards if s.scorecard in plan.scorecards}
    people = []
    for pid in sorted(cards):
        person = evaluation.org.people[pid]
        people.append(
            PersonInput(
                pid,
                cards[pid].total_score,
                cards[pid].scorecard,
                roster_value(ws, plan, person),
                person.fte,
                person.hired,
                person.left,
            )
        )
    result = plan_result(plan, people, whole.start, whole.end)
    evaluation.diagnostics += unmatched_scorecards(ws, evaluation.org, plan.scorecards)
    evaluation.diagnostics += missing_money(ws, plan, result, evaluation.org)
    return BonusRun(plan, whole, evaluation, result)
