"""What compiling a workspace produces, once: the model, its typed formulas and the evaluation plan.

Every run-time stage (evaluate, pay, `kpi test`, `kpi compile`, `runs verify`, `kpi diff`) consumes
a :class:`Compiled` built by :func:`kpi_engine.pipeline.compile_workspace`; none of them parses or
type-checks a formula again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kpi_engine.config import model as m
from kpi_engine.errors import Diagnostic
from kpi_engine.expr.ast import Expr
from kpi_engine.expr.types import Type
from kpi_engine.plan.ir import Plan


@dataclass
class Formulas:
    """Typed formula trees by owner, plus what was wrong with the others (filled by the formulas stage)."""

    segments: dict[str, Expr] = field(default_factory=dict)
    formula: dict[str, Expr] = field(default_factory=dict)
    where: dict[str, Expr] = field(default_factory=dict)
    valid_if: dict[str, Expr] = field(default_factory=dict)
    types: dict[str, Type] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class Compiled:
    """A valid workspace ready to run: its model, typed formulas and the plan of the KPIs asked for.

    ``selected`` holds the KPI ids asked for (`--kpi`); empty means every KPI, and only then do
    scorecards and bonus plans have everything they need.
    """

    workspace: m.Workspace
    formulas: Formulas
    plan: Plan
    selected: tuple[str, ...] = ()
