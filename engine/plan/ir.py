"""The evaluation plan: which KPIs are computed together in one scan of their source, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from kpi_engine.config.model import Window
from kpi_engine.expr.ast import Expr
from kpi_engine.expr.types import Type


@dataclass(frozen=True, order=True)
class ScanKey:
    """KPIs with equal keys share one scan: same source, same time column, same attribution, same window."""

    source: str
    time: str
    level: str  # "person" | "unit" | "organization"
    by_column: str | None
    window: Window | None = None

    def describe(self) -> str:
        """Human words for the key, used by `kpi compile --explain`."""
        who = "the organization only" if self.by_column is None else f"{self.level} from `{self.by_column}`"
        rolling = f", rolling window {self.window}" if self.window is not None else ""
        return f"source `{self.source}`, time `{self.time}`{rolling}, subjects: {who}"

    def order(self) -> tuple[str, str, str, str, int, str]:
        """A total order of keys (None sorts first), for a stable scan order."""
        window = (self.window.count, self.window.unit) if self.window is not None else (0, "")
        return (self.source, self.time, self.level, self.by_column or "", *window)


@dataclass(frozen=True)
class KpiSpec:
    """One source KPI inside a scan: its typed formula and its own row filter."""

    id: str
    formula: Expr
    result_type: Type
    where: Expr | None
    segment: str | None
    valid_if: Expr | None
    location: str  # file:line of the definition, for SQL comments


@dataclass(frozen=True)
class ScanGroup:
    """KPIs computed together in one scan of their source, because they share its key."""

    key: ScanKey
    kpis: tuple[KpiSpec, ...]


@dataclass(frozen=True)
class DerivedSpec:
    """A derived KPI: its typed formula over other KPIs' values, computed after the scans."""

    id: str
    formula: Expr
    inputs: tuple[str, ...]
    uses_previous: tuple[str, ...]
    location: str


@dataclass(frozen=True)
class Plan:
    """Scan groups in a stable order, then derived KPIs in dependency order."""

    scans: tuple[ScanGroup, ...]
    derived: tuple[DerivedSpec, ...] = ()
    reasons: tuple[str, ...] = field(default=())

    @property
    def kpi_ids(self) -> tuple[str, ...]:
        """Every KPI of the plan: the scans' in scan order, then the derived ones in dependency order."""
        return tuple(k.id for g in self.scans for k in g.kpis) + tuple(d.id for d in self.derived)

    def explain(self) -> str:
        """Which KPIs share a scan, and why the others do not."""
        lines = [
            f"{len(self.scans)} scan{'s' if len(self.scans) != 1 else ''} for "
            f"{sum(len(g.kpis) for g in self.scans)} source KPIs"
        ]
        for i, group in enumerate(self.scans, 1):
            lines.append(f"scan {i}: {group.key.describe()}")
            for spec in group.kpis:
                extra = []
                if spec.segment:
                    extra.append(f"segment {spec.segment}")
                if spec.where is not None:
                    extra.append("own where")
                note = f" (filtered in the scan: {', '.join(extra)})" if extra else ""
                lines.append(f"  - {spec.id}{note}  [{spec.location}]")
        if self.derived:
            lines.append("derived KPIs, computed from the scans' results in this order:")
            lines += [f"  - {d.id} from {', '.join(d.inputs) or '(constants)'}  [{d.location}]" for d in self.derived]
        lines += [f"not fused: {reason}" for reason in self.reasons]
        return "\n".join(lines)
