"""The organization from data: the roster (people) and the unit tree with each unit's ancestors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlglot import exp

from kpi_engine.config import model as m
from kpi_engine.config.model import MAX_UNIT_DEPTH
from kpi_engine.errors import Code, Diagnostic, did_you_mean, error, warning
from kpi_engine.execution import Engine
from kpi_engine.scoring import scorecard as sc
from kpi_engine.source import Span, display_path


@dataclass(frozen=True)
class Person:
    """One roster row: who a person is, where they sit, and what pays them."""

    id: str
    name: str
    unit: str
    role: str
    base_salary: Decimal | None = None
    fte: Decimal | None = None
    hired: date | None = None
    left: date | None = None
    columns: tuple[tuple[str, str | None], ...] = ()
    row: Span | None = None  # the roster row, for diagnostics

    def column(self, name: str) -> str | None:
        """A roster column's value as text (for `target_bonus: column …`)."""
        return dict(self.columns).get(name)


@dataclass(frozen=True)
class OrgUnit:
    """One unit of the organization tree, from YAML or from data."""

    id: str
    name: str
    parent: str | None = None
    tags: tuple[str, ...] = ()


@dataclass
class OrgData:
    """People by id, units by id, and each unit's path from its top unit down to itself."""

    people: dict[str, Person] = field(default_factory=dict)
    units: dict[str, OrgUnit] = field(default_factory=dict)
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def ancestors(self, unit: str) -> tuple[str, ...]:
        """The unit and every unit above it, nearest first."""
        return tuple(reversed(self.paths.get(unit, ())))

    def tags(self, unit: str) -> set[str]:
        """Tags of a unit and of the units above it (tags pass down the tree)."""
        return {t for u in self.ancestors(unit) for t in self.units[u].tags if u in self.units}


def _text(column: str | None) -> exp.Expression:
    if column is None:
        return exp.null()
    return exp.cast(exp.column(column, quoted=True), "VARCHAR")


def _decimal(text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def load_people(ws: m.Workspace, wh: Engine) -> dict[str, Person]:
    """The roster rows, every value read as text and converted exactly (no float enters)."""
    people = ws.organization.people
    if people is None:
        return {}
    source = ws.sources[people.source]
    mapped = [
        people.id,
        people.name,
        people.unit,
        people.role,
        people.base_salary,
        people.fte,
        people.hired,
        people.left,
    ]
    extra = sorted(c for c in source.columns if c not in mapped)
    # Imported files carry each row's file and line (a `table:` source has neither).
    place = [_text("_file"), _text("_line")] if source.path is not None else [exp.null(), exp.null()]
    query = exp.select(*(_text(c) for c in [*mapped, *extra]), *place).from_(exp.to_identifier(source.id, quoted=True))
    out = {}
    for row in wh.run(query):
        values = [None if v is None else str(v) for v in row]
        pid = values[0]
        if pid is None:
            continue
        file, line = values[-2:]
        where = Span(display_path(source.base_dir / file), int(line), 1) if file and line else None
        out[pid] = Person(
            pid,
            values[1] or pid,
            values[2] or "",
            values[3] or "",
            _decimal(values[4]),
            _decimal(values[5]),
            _date(values[6]),
            _date(values[7]),
            tuple((c, v) for c, v in zip([*mapped, *extra], values[:-2], strict=True) if c is not None),
            where,
        )
    return out


def load_units(ws: m.Workspace, wh: Engine, people: dict[str, Person]) -> tuple[dict[str, OrgUnit], list[Diagnostic]]:
    """Units from YAML, from the units source, or else every unit named in the roster."""
    found: list[Diagnostic] = []
    units = {u.id: OrgUnit(u.id, u.name, u.parent, u.tags) for u in ws.units.values()}
    mapping = ws.organization.units
    if mapping is not None:
        query = exp.select(_text(mapping.id), _text(mapping.name), _text(mapping.parent), _text(mapping.tags)).from_(
            exp.to_identifier(mapping.source, quoted=True)
        )
        for uid, name, parent, tags in wh.run(query):
            if uid is None or uid in units:
                continue
            tag_list = tuple(sorted(t.strip() for t in str(tags or "").split(",") if t.strip()))
            units[str(uid)] = OrgUnit(str(uid), str(name or uid), str(parent) if parent else None, tag_list)
    if not units:
        units = {p.unit: OrgUnit(p.unit, p.unit) for p in people.values() if p.unit}
    span = ws.source_map.key(("organization", "people")) if ws.organization.people else None
    for person in sorted(people.values(), key=lambda p: p.id):
        if person.unit not in units:
            hint = did_you_mean(person.unit, units) or "add the unit under `units:` or fix the roster"
            found.append(
                error(
                    Code.UNKNOWN_UNIT,
                    f"person `{person.id}` belongs to unit `{person.unit}`, which is not in the unit tree",
                    person.row or span,
                    hint,
                )
            )
    for unit in sorted(units.values(), key=lambda u: u.id):
        if unit.parent is not None and unit.parent not in units:
            found.append(
                warning(
                    Code.UNKNOWN_PARENT,
                    f"unit `{unit.id}` has parent `{unit.parent}`, which does not exist; it is treated as a top unit",
                    span,
                    "fix the parent in the units data",
                )
            )
    return units, found


def unit_paths(
    units: dict[str, OrgUnit],
    span: Span | None = None,
) -> tuple[dict[str, tuple[str, ...]], list[Diagnostic]]:
    """Each unit's path from its top unit.

    A cycle in unit data is reported and cut, and a tree deeper than MAX_UNIT_DEPTH is an error
    (``span``: where the units are declared).
    """
    paths: dict[str, tuple[str, ...]] = {}
    found: list[Diagnostic] = []
    for uid in sorted(units):
        chain = [uid]
        on_chain = {uid}
        parent = units[uid].parent
        while parent is not None and parent in units and parent not in paths:
            if parent in on_chain:
                found.append(
                    error(
                        Code.UNIT_CYCLE,
                        "unit tree has a cycle: " + " → ".join([*chain, parent]),
                        span,
                        "fix the parents in the units data",
                    )
                )
                parent = None
                break
            chain.append(parent)
            on_chain.add(parent)
            parent = units[parent].parent
        above = paths[parent] if parent is not None and parent in paths else ()
        for i, unit in enumerate(reversed(chain)):  # the top of the chain first
            paths[unit] = (*above, *reversed(chain[len(chain) - 1 - i :]))
    too_deep = sorted(u for u, path in paths.items() if len(path) > MAX_UNIT_DEPTH)
    if too_deep:
        first = min(too_deep, key=lambda u: (len(paths[u]), u))
        more = f" (and {len(too_deep) - 1} more units below)" if len(too_deep) > 1 else ""
        found.append(
            error(
                Code.UNIT_TREE_TOO_DEEP,
                f"unit `{first}` is level {len(paths[first])} of the unit tree; "
                f"the limit is {MAX_UNIT_DEPTH} levels{more}",
                span,
                "flatten the tree: group units with tags instead of extra levels",
            )
        )
    return paths, found


def load_org(ws: m.Workspace, wh: Engine) -> OrgData:
    """People and units as the data says, with what is wrong about them."""
    people = load_people(ws, wh)
    units, found = load_units(ws, wh, people)
    paths, cycles = unit_paths(units, ws.source_map.key(("organization", "units")) if ws.organization.units else None)
    return OrgData(people, units, paths, found + cycles)


def person_index(org: OrgData) -> list[sc.Person]:
    """The roster in the form scorecard matching takes."""
    return [sc.Person(p.id, p.role, p.unit) for p in org.people.values()]
