"""Money rules of the model: each currency's minor unit, and the roster columns money is read from.

Money and proration inputs are strict (SPEC §14): the roster columns a bonus is sized on (the base
salary, `target_bonus: … of COLUMN`, `target_bonus: column COLUMN`) and the `fte` column are read as
`decimal` whatever type they were declared with, so `1e5`, `1_000`, `0x10`, `NaN` or fullwidth digits
reject the roster row instead of becoming a float, a zero or an internal error. A negative amount, or
an fte outside (0, 1], rejects the row too, with its reason in `rejects`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal

from kpi_engine.config import model as m
from kpi_engine.errors import Code, Diagnostic, error

__all__ = ["MINOR_UNITS", "check_gate_below_cap", "minor_unit", "money_columns", "strict_roster"]

#: ISO 4217 currencies whose minor unit is not 1/100 of the main unit (every other code: 0.01).
MINOR_UNITS: dict[str, Decimal] = {
    **{
        code: Decimal(1)
        for code in (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        )
    },
    **{code: Decimal("0.001") for code in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")},
    **{code: Decimal("0.0001") for code in ("CLF", "UYW")},
}
CENT = Decimal("0.01")


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of a currency (ISO 4217): JPY 1, EUR 0.01, KWD 0.001."""
    return MINOR_UNITS.get(currency.upper(), CENT)


def money_columns(people: m.PeopleMapping, plans: Mapping[str, m.BonusPlan]) -> set[str]:
    """Roster columns that hold money: the base salary and every column a target bonus is sized on."""
    columns = {people.base_salary} if people.base_salary else set()
    for plan in plans.values():
        column = plan.target_bonus.column
        if column is None:
            continue
        columns.add(people.base_salary if column == "base_salary" and people.base_salary else column)
    return columns


def strict_roster(
    sources: Mapping[str, m.Source], organization: m.Organization, plans: Mapping[str, m.BonusPlan]
) -> dict[str, m.Source]:
    """The sources with the roster's money and fte columns read as non-negative decimals (fte in (0, 1])."""
    out = dict(sources)
    people = organization.people
    if people is None or people.source not in sources:
        return out
    source = sources[people.source]
    columns = dict(source.columns)
    for name in sorted(money_columns(people, plans)):
        if name in columns and columns[name].type in m.NUMERIC_OR_TEXT:
            column = columns[name]
            floor = Decimal(0) if column.min is None else max(column.min, Decimal(0))
            columns[name] = replace(column, type="decimal", min=floor)
    if people.fte and people.fte in columns and columns[people.fte].type in m.NUMERIC_OR_TEXT:
        column = columns[people.fte]
        ceiling = Decimal(1) if column.max is None else min(column.max, Decimal(1))
        above = None if column.min is not None and column.min > 0 else Decimal(0)
        columns[people.fte] = replace(column, type="decimal", max=ceiling, above=above)
    out[people.source] = replace(source, columns=columns)
    return out


def check_gate_below_cap(ws: m.Workspace) -> Iterator[Diagnostic]:
    """`payout: {gate, cap}` with the gate at or above the cap would pay nobody, or only the cap."""
    for plan in ws.bonus_plans.values():
        if plan.cap is not None and plan.gate >= plan.cap:
            span = ws.source_map.value((*plan.path, "payout", "gate"))
            yield error(
                Code.GATE_NOT_BELOW_CAP,
                f"bonus plan `{plan.id}`: the gate ({_percent(plan.gate)}) is not below the cap ({_percent(plan.cap)})",
                span,
                "the gate is the lowest total score that pays, the cap the highest factor paid: "
                "e.g. gate: 60%, cap: 150%",
            )


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"
