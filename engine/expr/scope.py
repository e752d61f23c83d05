"""What a formula can see: the interface the model builder fills for the type checker.

A :class:`Scope` describes one source (its columns, relations and segments) plus the
workspace-wide params, KPIs and calendars. It is plain immutable data.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from kpi_engine.expr.types import Type

if TYPE_CHECKING:
    from kpi_engine.expr.ast import Expr

__all__ = ["Calendar", "Duration", "KpiInfo", "ParamValue", "Scope", "Type", "param_type"]


@dataclass(frozen=True)
class Duration:
    """A param value that is a duration (``sla: 4h``), in exact seconds."""

    seconds: Decimal


ParamValue = Decimal | str | bool | Duration


@dataclass(frozen=True)
class KpiInfo:
    """What a derived formula needs to know about a KPI it references."""

    type: Type = Type.NUMBER


@dataclass(frozen=True)
class Calendar:
    """Working time for business_hours/business_days.

    ``week`` maps an ISO weekday (1 = Monday … 7 = Sunday) to its working windows as
    ``(start_minute, end_minute)`` of the day in the calendar's ``timezone``.
    """

    id: str
    timezone: str
    week: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: tuple[datetime.date, ...] = ()


@dataclass(frozen=True)
class Scope:
    """Names a formula may use; see SPEC §3 (names) and §2.4-2.7."""

    columns: Mapping[str, Type] = field(default_factory=dict)
    relations: Mapping[str, Scope] = field(default_factory=dict)
    segments: Mapping[str, Expr | None] = field(default_factory=dict)
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    kpis: Mapping[str, KpiInfo] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)


def param_type(value: ParamValue) -> Type:
    """The formula type of a param value."""
    if isinstance(value, bool):
        return Type.BOOLEAN
    if isinstance(value, Duration):
        return Type.DURATION
    if isinstance(value, str):
        return Type.STRING
    return Type.NUMBER
