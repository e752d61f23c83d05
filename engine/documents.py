"""The JSON documents of a run (SPEC §7.2) and the conventions their values follow.

Numbers at 12 significant digits, money as strings at the plan's unit, definitions as the user wrote
them. The ledger (audit/) stores and re-verifies these documents by their hash and the reports print
them, so they sit below both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any

from kpi_engine.scoring.exact import to_decimal12
from kpi_engine.scoring.payout import PersonPayout, round_money

if TYPE_CHECKING:
    from kpi_engine.evaluation import Evaluation
    from kpi_engine.evaluation.results import KpiResult, ScorecardResult
    from kpi_engine.pay import BonusRun

_PLAIN = re.compile(r"[A-Za-z0-9_.%/+-][A-Za-z0-9_.%/+ -]*")


def number(value: Decimal | int | None) -> float | int | None:
    """A JSON number rounded to 12 significant digits (an int stays an int)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return value
    rounded = to_decimal12(value)
    if rounded == rounded.to_integral_value() and abs(rounded) < 10**15:
        return int(rounded)  # counts print as 12, not 12.0
    # A 12-digit decimal converts to the float whose shortest repr has the same digits.
    return float(rounded)


def money(value: Decimal | None, unit: Decimal = Decimal("0.01")) -> str | None:
    """Money as a string at the plan's unit ("1234.50"), never "-0.00".

    Amounts reaching here are already rounded to the unit; quantize only fixes the scale (3000 → 3000.00).
    """
    if value is None:
        return None
    if value == 0:
        value = abs(value)
    exponent = unit.normalize().as_tuple().exponent
    scale = Decimal(1).scaleb(min(0, int(exponent))) if isinstance(exponent, int) else Decimal(1)
    # The default context (28 digits) cannot rescale a larger amount; money is exact, so widen it.
    return format(value.quantize(scale, context=Context(prec=max(28, value.adjusted() + 40))), "f")


def to_json(document: Any) -> str:
    """Deterministic, human-readable JSON (UTF-8, two-space indent, a final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def written(value: Any, nested: bool = False) -> str:
    """A value as the user wrote it: scalars as text, mappings and lists in YAML flow style."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {written(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(written(v, True) for v in value) + "]"
    text = str(value)
    if (
        nested
        and not isinstance(value, int)
        and (not _PLAIN.fullmatch(text) or text.strip() != text or text in ("true", "false", "null", "~"))
    ):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


# --- `kpi evaluate` ------------------------------------------------------------------------


def kpi_row(r: KpiResult) -> dict[str, Any]:
    """One KPI result as its JSON object."""
    row: dict[str, Any] = {
        "kpi": r.kpi,
        "subject_type": r.subject_type,
        "subject": r.subject,
        "period": r.period,
        "value": number(r.value),
        "n": r.n,
        "status": r.status,
        "score": number(r.score),
        "rank": r.rank,
    }
    if r.by:
        row["by"] = dict(r.by)
    return row


def scorecard_row(s: ScorecardResult) -> dict[str, Any]:
    """One person's scorecard as its JSON object."""
    return {
        "scorecard": s.scorecard,
        "person": s.person,
        "period": s.period,
        "total_score": number(s.total_score),
        "items": [
            {
                "kpi": i.kpi,
                "at": i.at,
                "subject": i.subject,
                "weight": number(i.weight),
                "value": number(i.value),
                "status": i.status,
                "score": number(i.score),
                "contribution": number(i.contribution),
            }
            for i in s.items
        ],
    }


def evaluation_document(ev: Evaluation, run: Mapping[str, Any]) -> dict[str, Any]:
    """The whole `evaluate --format json` document."""
    return {
        "run": dict(run),
        "kpis": [kpi_row(r) for r in ev.kpis],
        "scorecards": [
            scorecard_row(s) for s in sorted(ev.scorecards, key=lambda s: (s.scorecard, s.person, s.period))
        ],
        "goals": [
            {"goal": g.goal, "period": g.period, "status": g.status, "attainment": number(g.attainment)}
            for g in ev.goals
        ],
    }


# --- `kpi bonus` ---------------------------------------------------------------------------


def target_bonus(run: BonusRun, p: PersonPayout) -> str | None:
    """A person's target bonus as money at the plan's unit, rounded as the plan rounds; None without one."""
    if p.target_bonus is None:
        return None
    return money(round_money(p.target_bonus, run.plan.rounding_to, run.plan.rounding_mode), run.plan.rounding_to)


def payout_row(run: BonusRun, p: PersonPayout) -> dict[str, Any]:
    """One person's payout as its JSON object; money as strings."""
    return {
        "person": p.person,
        "scorecard": p.scorecard,
        "total_score": number(p.total_score),
        "factor": number(p.factor),
        "proration": number(p.proration),
        "target_bonus": target_bonus(run, p),
        "computed": money(p.computed, run.plan.rounding_to),
        "payout": money(p.payout, run.plan.rounding_to),
        "share": number(p.share),
        "reason": p.reason,
    }


def bonus_document(run: BonusRun, run_block: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """The whole `bonus --format json` document."""
    return {
        "run": dict(run_block),
        "plan": run.plan.id,
        "currency": currency,
        "pool": money(run.result.pool, run.plan.rounding_to) if run.result.pool is not None else None,
        "total": money(run.result.total, run.plan.rounding_to),
        "payouts": [payout_row(run, p) for p in run.result.payouts],
    }
