"""The stage sequence: load → shape → model → formulas → rules. Nothing else lives here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kpi_engine.config import model as m
from kpi_engine.config.build import build_model
from kpi_engine.config.rules import check_rules
from kpi_engine.config.workspace import Unit, discover, load_definitions
from kpi_engine.errors import Code, Diagnostic, KpiError, Severity, error
from kpi_engine.source import Span


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one workspace or fragment."""

    unit: Unit
    workspace: m.Workspace | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity == Severity.ERROR for d in self.diagnostics)


def check_unit(unit: Unit, data: bool = False) -> Checked:
    """Run every static stage on one workspace (or fragment), collecting all diagnostics.

    With ``data``, a valid workspace's roster file (when it exists) is checked against the units and
    the scorecards too.
    """
    defs = load_definitions(unit)
    found = list(defs.diagnostics)
    if not unit.fragment and "organization" not in defs.data and not _has_errors(found):
        found.append(error(Code.NO_ORGANIZATION, "this workspace has no `organization`",
                           Span(str(unit.root), 1, 1), "add an `organization:` section to one file"))
    if _has_errors(found):
        return Checked(unit, None, _sorted(found))
    workspace, problems = build_model(defs)
    found += problems
    if not _has_errors(found):
        from kpi_engine.config.formulas import check_formulas

        found += check_formulas(workspace, fragment=unit.fragment)
    found += check_rules(workspace, fragment=unit.fragment)
    if data and not unit.fragment and not _has_errors(found):
        from kpi_engine.evaluation.roster import check_roster

        found += check_roster(workspace)
    return Checked(unit, workspace, _sorted(found))


def validate(paths: list[Path], data: bool = False) -> list[Checked]:
    """Check every workspace and fragment found at the given paths (with ``data``: their rosters too)."""
    results = []
    seen: set[tuple[Path, ...]] = set()  # two files of one workspace check it once
    for path in paths:
        if not path.exists():
            diag = error(Code.FILE_NOT_FOUND, f"`{path}` does not exist", None, "check the path")
            results.append(Checked(Unit(path, (), True), None, (diag,)))
            continue
        units = discover(path)
        if not units:
            diag = error(Code.NO_WORKSPACE, f"no YAML definitions found in `{path}`", None,
                         "definitions are *.yaml or *.yml files")
            results.append(Checked(Unit(path, (), True), None, (diag,)))
        for unit in units:
            key = (unit.root.resolve(), *(f.resolve() for f in unit.files))
            if key not in seen:
                seen.add(key)
                results.append(check_unit(unit, data))
    return results


def load_workspace(path: Path) -> m.Workspace:
    """Load one workspace for evaluation; raise KpiError with every diagnostic if it is not valid."""
    if not path.exists():
        raise KpiError([error(Code.FILE_NOT_FOUND, f"`{path}` does not exist", None, "check the path")])
    units = [u for u in discover(path) if not u.fragment]
    if len(units) != 1:
        message = (f"no workspace (a file with `organization:`) found in `{path}`" if not units else
                   f"`{path}` holds {len(units)} workspaces: " + ", ".join(str(u.root) for u in units))
        raise KpiError([error(Code.NO_WORKSPACE, message, None, "name one workspace folder or file")])
    checked = check_unit(units[0])
    errors = [d for d in checked.diagnostics if d.severity == Severity.ERROR]
    if errors or checked.workspace is None:
        raise KpiError(errors)
    return checked.workspace


def _has_errors(found: list[Diagnostic]) -> bool:
    return any(d.severity == Severity.ERROR for d in found)


def _sorted(found: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    unique = list(dict.fromkeys(found))
    return tuple(sorted(unique, key=Diagnostic.sort_key))
