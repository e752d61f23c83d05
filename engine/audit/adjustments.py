"""A bonus run against the approved one for the same plan and period: per-person adjustments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from kpi_engine.data.ledger import RunRecord, list_runs


@dataclass(frozen=True)
class Adjustment:
    person: str
    approved: Decimal
    now: Decimal

    @property
    def delta(self) -> Decimal:
        return self.now - self.approved


def approved_run(root: Path, timezone: str, plan: str, period: str) -> RunRecord | None:
    """The latest approved bonus run of a plan and period, if any."""
    for run in list_runs(root, timezone):
        if run.kind == "bonus" and run.approved_by and run.options.get("plan") == plan \
                and run.options.get("period") == period:
            return run
    return None


def adjustments(approved: RunRecord, document: dict[str, Any]) -> list[Adjustment]:
    """People whose payout differs from the approved run (a person missing on one side counts as 0)."""
    before = {p["person"]: Decimal(p["payout"]) for p in approved.results.get("payouts", [])}
    after = {p["person"]: Decimal(p["payout"]) for p in document.get("payouts", [])}
    return [Adjustment(person, before.get(person, Decimal(0)), after.get(person, Decimal(0)))
            for person in sorted(set(before) | set(after))
            if before.get(person, Decimal(0)) != after.get(person, Decimal(0))]
