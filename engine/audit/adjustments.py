"""A bonus run against the approved one for the same plan and period: per-person adjustments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from kpi_engine.audit.recording import stored_results
from kpi_engine.config import model as m
from kpi_engine.data.ledger import RunRecord, full_run, list_runs
from kpi_engine.documents import money, payouts

if TYPE_CHECKING:
    from kpi_engine.pay import BonusRun


@dataclass(frozen=True)
class Adjustment:
    """One person whose payout differs from the approved run."""

    person: str
    approved: Decimal
    now: Decimal

    @property
    def delta(self) -> Decimal:
        """What the person would get on top of (or back from) the approved payout."""
        return self.now - self.approved


def approved_run(root: Path, timezone: str, plan: str, period: str) -> RunRecord | None:
    """The latest approved bonus run of a plan and period, if any (found without reading any run's results)."""
    for run in list_runs(root, timezone):
        if (
            run.kind == "bonus"
            and run.approved_by
            and run.options.get("plan") == plan
            and run.options.get("period") == period
        ):
            return run
    return None


def against_approved(ws: m.Workspace, run: BonusRun) -> tuple[RunRecord | None, list[Adjustment]]:
    """The approved run of the same plan and period (if any) and the people this run pays differently."""
    found = approved_run(ws.root, ws.organization.timezone, run.plan.id, run.period.label)
    if found is None:
        return None, []
    approved = full_run(ws.root, found)
    paid = payouts(stored_results(ws.root, approved))
    now = {p.person: Decimal(money(p.payout, run.plan.rounding_to) or 0) for p in run.result.payouts}
    return approved, adjustments({person: Decimal(str(amount)) for person, amount in paid.items()}, now)


def adjustments(approved: Mapping[str, Decimal], now: Mapping[str, Decimal]) -> list[Adjustment]:
    """People whose payout differs from the approved one (a person missing on one side counts as 0)."""
    before = dict(approved)
    after = dict(now)
    return [
        Adjustment(person, before.get(person, Decimal(0)), after.get(person, Decimal(0)))
        for person in sorted(set(before) | set(after))
        if before.get(person, Decimal(0)) != after.get(person, Decimal(0))
    ]
