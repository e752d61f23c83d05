"""`kpi compile`: the SQL evaluation runs, per scan, with each KPI commented; and the plan explained."""

from __future__ import annotations

from kpi_engine.compiled import Compiled
from kpi_engine.evaluation import period_of, slices_of
from kpi_engine.evaluation.org import OrgUnit, unit_paths
from kpi_engine.periods import resolve_period, today
from kpi_engine.sql.compile_plan import compile_scan
from kpi_engine.sql.render import to_sql


def plan_sql(compiled: Compiled, period: str | None, dialect: str, explain: bool) -> str:
    """The SQL of every scan for the period (default: the fiscal year of today in the organization's zone)."""
    ws, formulas, plan = compiled.workspace, compiled.formulas, compiled.plan
    org = ws.organization
    label = period or resolve_period("this-year", today(org.timezone), org.fiscal_year_start)
    whole = period_of(ws, label)
    slices = slices_of(ws, [whole])
    # Units named in YAML give the real depth; data-defined units are read at evaluation time.
    paths, _ = unit_paths({u.id: OrgUnit(u.id, u.name, u.parent, u.tags) for u in ws.units.values()})
    parts = [f"-- kpi compile: period {whole.label} ({whole.start}..{whole.end}), dialect {dialect}"]
    if explain:
        parts.append("\n".join("-- " + line for line in plan.explain().splitlines()))
    for i, group in enumerate(plan.scans, 1):
        query = compile_scan(ws, formulas, group, slices, paths or {"": ()}, dialect=dialect)
        parts.append(f"-- scan {i}: {group.key.describe()}\n" + to_sql(query.select, dialect, pretty=True) + ";")
    for spec in plan.derived:
        parts.append(
            f"-- derived KPI {spec.id} [{spec.location}]: computed after the scans from "
            + (", ".join(spec.inputs) or "constants")
        )
    return "\n\n".join(parts) + "\n"
