"""The typed model of a workspace: frozen dataclasses with every reference resolved.

Each object keeps ``path``, its data path in the merged definitions, so a later stage can
ask the source map where it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from kpi_engine.config.loader import DataPath, SourceMap
from kpi_engine.config.scalars import Duration
from kpi_engine.errors import unknown
from kpi_engine.names import Grain, Level
from kpi_engine.source import Span

Quantity = Decimal | Duration
ParamValue = Decimal | str | bool | Duration
Direction = Literal["higher", "lower", "range"]


@dataclass(frozen=True)
class ScorePoints:
    """The score a KPI earns at its threshold, target and stretch (``organization.score_points``)."""

    threshold: Decimal = Decimal("0.5")
    target: Decimal = Decimal("1")
    stretch: Decimal = Decimal("1.5")


@dataclass(frozen=True)
class PeopleMapping:
    """Which roster source holds the people, and which of its columns mean what."""

    source: str
    id: str
    unit: str
    role: str
    name: str | None = None
    base_salary: str | None = None
    fte: str | None = None
    hired: str | None = None
    left: str | None = None


# Levels of the unit tree, a top unit being level 1 (E433). Evaluation groups by every level at
# once, and DuckDB's GROUPING takes at most 64 columns; 32 leaves room and is deeper than any org chart.
MAX_UNIT_DEPTH = 32


@dataclass(frozen=True)
class UnitsMapping:
    """Which source lists the units of the tree, and which of its columns mean what."""

    source: str
    id: str
    name: str | None = None
    parent: str | None = None
    tags: str | None = None


@dataclass(frozen=True)
class Organization:
    """The organization a workspace describes: currency, time zone, fiscal year, roster and unit tree."""

    name: str
    version: str
    currency: str = "EUR"
    timezone: str = "UTC"
    fiscal_year_start: tuple[int, int] = (1, 1)
    effective_from: date | None = None
    people: PeopleMapping | None = None
    units: UnitsMapping | None = None
    score_points: ScorePoints = field(default_factory=ScorePoints)
    approvals_distinct_from_runner: bool = False
    allow_paths: tuple[Path, ...] = ()
    engine: str = "duckdb"  # `organization.engine.name`: where commands run by default (SPEC §12)
    engine_connection: str | None = None  # `organization.engine.connection`
    path: DataPath = ("organization",)


@dataclass(frozen=True)
class Unit:
    """A unit of the org tree; a unit without a parent is a root."""

    id: str
    name: str
    parent: str | None = None
    tags: tuple[str, ...] = ()
    path: DataPath = ()


@dataclass(frozen=True)
class Column:
    """A declared column of a source: its type and the constraints a row must meet to be imported."""

    name: str
    type: str
    required: bool = False
    values: tuple[str, ...] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    above: Decimal | None = None  # an exclusive minimum: set by the engine on a roster's fte (SPEC §14)


#: Declared column types the engine may read as `decimal` instead (roster money and fte columns).
NUMERIC_OR_TEXT = ("string", "integer", "number", "decimal")


@dataclass(frozen=True)
class CsvOptions:
    """How a source's CSV files are written: delimiter, number notation, quoting, encoding, nulls, dates."""

    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None
    quote: str = '"'
    encoding: str = "utf-8"
    header: bool = True
    nulls: tuple[str, ...] = ("",)
    date_format: str | None = None
    timestamp_format: str | None = None


@dataclass(frozen=True)
class Relation:
    """A many-to-one link: ``key`` in this source matches the target source's key."""

    name: str
    source: str
    key: str


@dataclass(frozen=True)
class Source:
    """A data source: files or a workspace table, with its declared columns, key, time column and relations."""

    id: str
    base_dir: Path
    path: str | None = None
    table: str | None = None
    key: str | None = None
    time: str | None = None
    columns: Mapping[str, Column] = field(default_factory=dict)
    relations: Mapping[str, Relation] = field(default_factory=dict)
    csv: CsvOptions = field(default_factory=CsvOptions)
    sheet: str | None = None
    data_path: DataPath = ()
    span: Span | None = None  # where `path:` (or the source) is written, for data errors
    # where its files may be (SPEC §14): the workspace root relative to base_dir (None: not confined), and
    # the organization's allow_paths; relative, so a workspace moved with its data keeps its boundary
    root_from_base: str | None = None
    allow_paths: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Calendar:
    """Working time for ``business_hours()`` and ``business_days()``: weekly hours and holidays in a zone."""

    id: str
    timezone: str
    week: Mapping[int, tuple[tuple[int, int], ...]]  # ISO weekday 1..7 → (start_minute, end_minute)
    holidays: tuple[date, ...] = ()
    path: DataPath = ()


@dataclass(frozen=True)
class Segment:
    """A named row filter on a source, usable as a KPI's ``segment``, its variants and a formula name."""

    id: str
    source: str
    where: str
    description: str | None = None
    path: DataPath = ()


@dataclass(frozen=True)
class Goal:
    """A goal KPIs link to; its status and attainment are reported from theirs."""

    id: str
    name: str
    owner: str | None = None
    horizon_from: date | None = None
    horizon_to: date | None = None
    path: DataPath = ()


@dataclass(frozen=True)
class Band:
    """One step of ``bands`` scoring: values from (direction higher) or up to (lower) ``edge`` score ``score``."""

    edge: Quantity
    score: Decimal


@dataclass(frozen=True)
class Scoring:
    """How a KPI's value becomes a score: ``linear``, ``ratio``, ``bands`` or ``binary``."""

    method: Literal["linear", "ratio", "bands", "binary"] = "linear"
    bands: tuple[Band, ...] = ()
    path: DataPath = ()


@dataclass(frozen=True)
class TargetFrom:
    """Targets from data (SPEC §10): the rows of ``source`` give each subject's target per period."""

    source: str
    subject: str
    period: str
    value: str


@dataclass(frozen=True)
class Target:
    """Target points; absolute, relative to the previous period, or to a benchmark."""

    threshold: Quantity | None = None
    target: Quantity | None = None
    stretch: Quantity | None = None
    min: Quantity | None = None
    max: Quantity | None = None
    threshold_min: Quantity | None = None
    threshold_max: Quantity | None = None
    vs: Literal["previous"] | None = None
    change: Decimal | None = None
    threshold_change: Decimal | None = None
    stretch_change: Decimal | None = None
    benchmark: Quantity | None = None
    better_by: Decimal | None = None
    per: Grain | None = None
    data: TargetFrom | None = None
    """With `from:`, each subject's target per period; `threshold`/`stretch` are then fractions of it."""
    columns: tuple[tuple[str, str], ...] = ()
    """Points read from a roster column for each person: (point, column), e.g. ("target", "deal_quota")."""
    path: DataPath = ()

    @property
    def from_data(self) -> bool:
        """Whether the points differ by subject (read from a source or the roster)."""
        return self.data is not None or bool(self.columns)

    @property
    def is_range(self) -> bool:
        """Whether the target is a range (``min``/``max``), scored 100% inside it."""
        return self.min is not None or self.max is not None


@dataclass(frozen=True)
class By:
    """Whom a KPI's rows are attributed to: people or units, by the column that names them."""

    level: Literal["person", "unit"]
    column: str


@dataclass(frozen=True, order=True)
class Window:
    """A rolling window (SPEC §10): ``count`` days, weeks or calendar months ending with a period's end."""

    count: int
    unit: Literal["day", "week", "month"]

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'s' if self.count != 1 else ''}"


@dataclass(frozen=True)
class Kpi:
    """One evaluable KPI; a segment variant is its own Kpi with a dotted id."""

    id: str
    name: str
    formula: str
    source: str | None = None
    by: By | None = None
    description: str | None = None
    goal: str | None = None
    where: str | None = None
    segment: str | None = None
    time: str | None = None
    window: Window | None = None
    unit: str | None = None
    direction: Direction = "higher"
    category: str | None = None
    indicator: str | None = None
    min_sample: int | None = None
    valid_if: str | None = None
    target: Target | None = None
    scoring: Scoring | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    base_id: str = ""
    variant: str | None = None
    path: DataPath = ()
    variant_path: DataPath | None = None

    @property
    def derived(self) -> bool:
        """Whether the KPI combines other KPIs instead of reading a source's rows."""
        return self.source is None


@dataclass(frozen=True)
class AppliesTo:
    """Whom a scorecard applies to: roles, units with their descendants, unit tags (all must match)."""

    roles: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    unit_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScorecardEntry:
    """A weighted KPI of a scorecard, at the level whose value counts, with optional overrides."""

    kpi: str
    weight: Decimal
    at: Level = "person"
    target: Target | None = None
    scoring: Scoring | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    path: DataPath = ()


@dataclass(frozen=True)
class Scorecard:
    """The weighted KPIs whose scores make the total score of the people it applies to."""

    id: str
    entries: tuple[ScorecardEntry, ...]
    tags: tuple[str, ...] = ()
    applies_to: AppliesTo = field(default_factory=AppliesTo)
    period: str | None = None
    on_insufficient: Literal["renormalize", "zero"] = "renormalize"
    path: DataPath = ()


@dataclass(frozen=True)
class Bounds:
    """Inclusive bounds of a policy; either side may be open."""

    min: Decimal | None = None
    max: Decimal | None = None


@dataclass(frozen=True)
class Policy:
    """An organization rule on scorecards: bounds on one KPI's weight or on the number of KPIs."""

    id: str
    scorecards: Literal["all"] | tuple[str, ...]  # "all", or tags
    scorecard_ids: tuple[str, ...] = ()
    description: str | None = None
    kpi: str | None = None
    weight: Bounds | None = None
    kpi_count: Bounds | None = None
    path: DataPath = ()


@dataclass(frozen=True)
class TargetBonus:
    """The bonus at a 100% score: a percentage of a roster column, a fixed amount, or a roster column."""

    kind: Literal["percent", "fixed", "column"]
    value: Decimal | None = None
    column: str | None = None


@dataclass(frozen=True)
class BonusPlan:
    """How the total scores of some scorecards' people become money: gate, cap, pool, proration, rounding."""

    id: str
    scorecards: tuple[str, ...]
    target_bonus: TargetBonus
    period: str | None = None
    gate: Decimal = Decimal(0)
    cap: Decimal | None = None
    pool: Decimal | None = None
    proration: tuple[str, ...] = ("fte", "employment")
    rounding_to: Decimal = Decimal("0.01")
    rounding_mode: Literal["half_up", "half_even"] = "half_up"
    path: DataPath = ()


@dataclass(frozen=True)
class KpiTest:
    """A ``kpi test`` fixture: rows per source, a period, and the results they must give."""

    id: str
    period: str
    data: Mapping[str, tuple[Mapping[str, object], ...]]
    expect: tuple[Mapping[str, object], ...]
    path: DataPath = ()


@dataclass(frozen=True)
class Workspace:
    """A loaded, resolved definition set."""

    root: Path
    files: tuple[Path, ...]
    organization: Organization
    units: Mapping[str, Unit]
    sources: Mapping[str, Source]
    params: Mapping[str, ParamValue]
    calendars: Mapping[str, Calendar]
    segments: Mapping[str, Segment]
    goals: Mapping[str, Goal]
    kpis: Mapping[str, Kpi]
    scorecards: Mapping[str, Scorecard]
    policies: Mapping[str, Policy]
    bonus_plans: Mapping[str, BonusPlan]
    tests: Mapping[str, KpiTest]
    source_map: SourceMap
    data: Mapping[str, object]
    # Facts derived once from the definitions (the derived-KPI graph); not part of equality.
    derived_cache: dict[str, object] = field(default_factory=dict, init=False, compare=False, repr=False)


# --- what later stages ask the model -----------------------------------------------------


def field_path(ws: Workspace, kpi: Kpi, name: str) -> DataPath:
    """Where a KPI's field was written: in its segment variant when the variant sets it."""
    if kpi.variant is not None and kpi.variant_path is not None:
        kpis: Any = ws.data.get("kpis", {})
        raw = kpis.get(kpi.base_id, {}).get("segments", {}).get(kpi.variant) or {}
        if isinstance(raw, dict) and name in raw:
            return (*kpi.variant_path, name)
    return (*kpi.path, name)


def kpi_reference_problem(ws: Workspace, name: str) -> tuple[str, str | None] | None:
    """Why ``name`` is not a KPI id usable in a scorecard, or None when it is."""
    if name in ws.kpis:
        return None
    variants = sorted(k for k in ws.kpis if k.startswith(name + "."))
    if variants:
        return (
            f"KPI `{name}` is defined per segment; name one of its variants",
            "use " + " or ".join(f"`{v}`" for v in variants),
        )
    return unknown("KPI", name, list(ws.kpis))
