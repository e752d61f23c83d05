"""What the expression compiler asks of its caller (the planner).

Where columns live, what segments and KPIs mean, and the values of params and calendars.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlglot import exp

from kpi_engine.expr.scope import Calendar, ParamValue


class CompileContext(Protocol):
    """The caller's side of :func:`kpi_engine.sql.compile_expr.compile_expr`."""

    @property
    def dialect(self) -> str:
        """The sqlglot dialect to write; what it cannot express exactly is refused (E312)."""
        ...

    def column(self, path: tuple[str, ...]) -> exp.Expression:
        """A column of the source (``("csat",)``) or through relations (``("agent", "unit")``)."""
        ...

    def segment(self, name: str) -> exp.Expression:
        """A segment's row condition (boolean)."""
        ...

    def param(self, name: str) -> ParamValue:
        """The value of ``$name`` for the KPI being compiled."""
        ...

    def calendar(self, name: str | None) -> Calendar:
        """A calendar by id; None means the only calendar defined."""
        ...

    def kpi(self, id: str) -> exp.Expression:
        """A KPI's value, for derived formulas."""
        ...

    def previous(self, id: str) -> exp.Expression:
        """A KPI's value in the previous period, for derived formulas."""
        ...


@dataclass(frozen=True)
class TableContext:
    """A ready-made context: columns of one table alias, KPIs as columns of a KPI table.

    Relations are joined under their own aliases (``agent.unit`` → ``"agent"."unit"``).
    """

    table: str = "t"
    dialect: str = "duckdb"
    segments: Mapping[str, exp.Expression] = field(default_factory=dict)
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    kpi_table: str = "k"
    previous_table: str = "p"

    def column(self, path: tuple[str, ...]) -> exp.Expression:
        """A column of the table, or of a relation's alias (``agent.unit`` → ``"agent"."unit"``)."""
        table = self.table if len(path) == 1 else "__".join(path[:-1])
        return exp.column(path[-1], table=table, quoted=True)

    def segment(self, name: str) -> exp.Expression:
        """The segment's condition as given in ``segments``."""
        return self.segments[name]

    def param(self, name: str) -> ParamValue:
        """The value given for ``$name`` in ``params``."""
        return self.params[name]

    def calendar(self, name: str | None) -> Calendar:
        """The calendar given under ``name``; None means the only one given."""
        if name is None:
            (only,) = self.calendars.values()
            return only
        return self.calendars[name]

    def kpi(self, id: str) -> exp.Expression:
        """The KPI's value: its column in the KPI table."""
        return exp.column(id, table=self.kpi_table, quoted=True)

    def previous(self, id: str) -> exp.Expression:
        """The KPI's value in the previous period: its column in the previous period's table."""
        return exp.column(id, table=self.previous_table, quoted=True)
