"""Build the typed model from schema-valid definitions data, resolving every name once."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from kpi_engine.config import model as m
from kpi_engine.config.loader import DataPath, SourceMap
from kpi_engine.config.money import minor_unit, strict_roster
from kpi_engine.config.paths import Boundary, allowed_folders
from kpi_engine.config.scalars import ValueProblem, parse_date, parse_percent, parse_quantity
from kpi_engine.config.workspace import Definitions
from kpi_engine.errors import Code, Diagnostic, did_you_mean, error

T = TypeVar("T")
WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
FRAGMENT_ORG = m.Organization(name="(fragment)", version="")


class _Builder:
    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self.map: SourceMap = defs.source_map
        self.data: dict[str, Any] = defs.data
        self.diagnostics: list[Diagnostic] = []
        organization = self.data.get("organization")
        self.allowed = allowed_folders(
            organization.get("allow_paths") if isinstance(organization, dict) else None, defs.root
        )

    # --- helpers -----------------------------------------------------------------------
    def fail(self, code: Code, message: str, path: DataPath, hint: str | None = None, key: bool = False) -> None:
        span = self.map.key(path) if key else self.map.value(path)
        self.diagnostics.append(error(code, message, span, hint))

    def value(self, parse: Callable[[Any], T], raw: Any, path: DataPath, code: Code) -> T | None:
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueProblem as problem:
            self.fail(code, str(problem), path, problem.hint)
            return None

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    def base_dir(self, section: str, ident: str) -> Path:
        origin = self.defs.origins.get((section, ident))
        return origin.parent if origin else self.defs.root

    # --- sections ----------------------------------------------------------------------
    def organization(self) -> m.Organization:
        raw = self.data.get("organization")
        if not isinstance(raw, dict):
            return FRAGMENT_ORG
        path: DataPath = ("organization",)
        fys = (1, 1)
        if isinstance(raw.get("fiscal_year_start"), str):
            try:
                month, day = (int(x) for x in raw["fiscal_year_start"].split("-"))
                parse_date(f"2001-{month:02d}-{day:02d}")
                fys = (month, day)
            except (ValueError, ValueProblem):
                self.fail(
                    Code.BAD_DATE,
                    f"`{raw['fiscal_year_start']}` is not a month and day",
                    (*path, "fiscal_year_start"),
                    'write MM-DD, e.g. "04-01"',
                )
        points = raw.get("score_points") or {}
        score_points = m.ScorePoints(
            *(
                self.value(
                    lambda v: parse_percent(v, allow_above_one=True),
                    points.get(k),
                    (*path, "score_points", k),
                    Code.BAD_PERCENT,
                )
                or default
                for k, default in (("threshold", Decimal("0.5")), ("target", Decimal(1)), ("stretch", Decimal("1.5")))
            )
        )
        people = raw.get("people")
        units = raw.get("units")
        return m.Organization(
            name=str(raw.get("name", "")),
            version=str(raw.get("version", "")),
            currency=raw.get("currency", "EUR"),
            timezone=raw.get("timezone", "UTC"),
            fiscal_year_start=fys,
            effective_from=self.value(parse_date, raw.get("effective_from"), (*path, "effective_from"), Code.BAD_DATE),
            people=m.PeopleMapping(**people) if isinstance(people, dict) else None,
            units=m.UnitsMapping(**units) if isinstance(units, dict) else None,
            score_points=score_points,
            allow_paths=self.allowed,
            approvals_distinct_from_runner=bool((raw.get("approvals") or {}).get("distinct_from_runner", False)),
            **self.engine(raw.get("engine"), (*path, "engine")),
        )

    def on_spark(self) -> bool:
        """Whether `organization.engine` is Spark, the one engine that reads `path:` URIs itself."""
        engine = self.section("organization").get("engine")
        return isinstance(engine, dict) and engine.get("name") == "spark"

    def engine(self, raw: Any, path: DataPath) -> dict[str, Any]:
        """`organization.engine` (the schema has checked its shape): DuckDB takes no connection."""
        if not isinstance(raw, dict):
            return {}
        name, connection = str(raw.get("name", "duckdb")), raw.get("connection")
        if name == "duckdb" and connection is not None:
            self.fail(
                Code.BAD_VALUE,
                "the duckdb engine takes no connection: it runs embedded on the workspace's own data",
                (*path, "connection"),
                "drop `connection`, or set `name: spark` or `name: postgres`",
                key=True,
            )
        return {"engine": name, "engine_connection": connection if isinstance(connection, str) else None}

    def units(self) -> dict[str, m.Unit]:
        out = {}
        for ident, raw in self.section("units").items():
            raw = raw or {}
            out[ident] = m.Unit(
                ident, str(raw.get("name", ident)), raw.get("parent"), tuple(raw.get("tags", ())), ("units", ident)
            )
        return out

    def sources(self) -> dict[str, m.Source]:
        out = {}
        for ident, raw in self.section("sources").items():
            columns = {}
            for name, spec in (raw.get("columns") or {}).items():
                if isinstance(spec, str):
                    columns[name] = m.Column(name, spec)
                else:
                    values = spec.get("values")
                    columns[name] = m.Column(
                        name,
                        spec.get("type", "string"),
                        bool(spec.get("required", False)),
                        tuple(str(v) for v in values) if values is not None else None,
                        Decimal(spec["min"]) if spec.get("min") is not None else None,
                        Decimal(spec["max"]) if spec.get("max") is not None else None,
                    )
            relations = {
                name: m.Relation(name, rel["source"], rel["key"]) for name, rel in (raw.get("relations") or {}).items()
            }
            csv_raw = dict(raw.get("csv") or {})
            if "nulls" in csv_raw:
                csv_raw["nulls"] = tuple(csv_raw["nulls"])
            base_dir = self.base_dir("sources", ident)
            out[ident] = m.Source(
                ident,
                base_dir,
                raw.get("path"),
                raw.get("table"),
                raw.get("key"),
                raw.get("time"),
                columns,
                relations,
                m.CsvOptions(**csv_raw),
                raw.get("sheet"),
                ("sources", ident),
                self.map.value(("sources", ident, "path")) or self.map.key(("sources", ident)),
                os.path.relpath(self.defs.root, base_dir),
                self.allowed,
            )
            if isinstance(raw.get("path"), str):
                problem = Boundary.of(self.defs.root, self.allowed).check(
                    raw["path"], base_dir, f"source `{ident}`: path", uris=self.on_spark()
                )
                if problem is not None:
                    self.fail(problem.code, problem.message, ("sources", ident, "path"), problem.hint)
        return out

    def params(self, raw: Mapping[str, Any], path: DataPath) -> dict[str, m.ParamValue]:
        out: dict[str, m.ParamValue] = {}
        for name, value in raw.items():
            if isinstance(value, bool):
                out[name] = value
            elif isinstance(value, (int, Decimal)):
                out[name] = Decimal(value)
            elif isinstance(value, str):
                try:
                    quantity = parse_quantity(value)
                    out[name] = quantity
                except ValueProblem:
                    out[name] = value
            else:
                self.fail(
                    Code.WRONG_TYPE,
                    f"parameter `{name}` must be a number, percentage, duration, text or true/false",
                    (*path, name),
                )
        return out

    def calendars(self) -> dict[str, m.Calendar]:
        out = {}
        tz = (
            self.data.get("organization", {}).get("timezone", "UTC")
            if isinstance(self.data.get("organization"), dict)
            else "UTC"
        )
        for ident, raw in self.section("calendars").items():
            path: DataPath = ("calendars", ident)
            week: dict[int, tuple[tuple[int, int], ...]] = {}
            for day, spec in (raw.get("week") or {}).items():
                windows = self.windows(spec, (*path, "week", day))
                if windows:
                    week[WEEKDAYS[day]] = windows
            holidays = tuple(
                sorted(
                    h
                    for h in (
                        self.value(parse_date, h, (*path, "holidays", i), Code.BAD_DATE)
                        for i, h in enumerate(raw.get("holidays") or [])
                    )
                    if h
                )
            )
            out[ident] = m.Calendar(ident, raw.get("timezone", tz), week, holidays, path)
        return out

    def windows(self, spec: Any, path: DataPath) -> tuple[tuple[int, int], ...]:
        windows = []
        for part in str(spec).split(","):
            try:
                start_text, end_text = part.strip().split("-")
                start, end = (_minutes(t) for t in (start_text, end_text))
                if not 0 <= start < end <= 24 * 60:
                    raise ValueError
            except ValueError:
                self.fail(
                    Code.BAD_VALUE,
                    f"`{part.strip()}` is not a working window",
                    path,
                    'write "09:00-18:00" (several windows: "09:00-13:00, 14:00-18:00")',
                )
                continue
            windows.append((start, end))
        return tuple(sorted(windows))

    def segments(self) -> dict[str, m.Segment]:
        return {
            ident: m.Segment(
                ident, raw["source"], str(raw.get("where", "true")), raw.get("description"), ("segments", ident)
            )
            for ident, raw in self.section("segments").items()
        }

    def goals(self) -> dict[str, m.Goal]:
        out = {}
        for ident, raw in self.section("goals").items():
            horizon = raw.get("horizon") or {}
            path: DataPath = ("goals", ident, "horizon")
            out[ident] = m.Goal(
                ident,
                str(raw.get("name", ident)),
                raw.get("owner"),
                self.value(parse_date, horizon.get("from"), (*path, "from"), Code.BAD_DATE),
                self.value(parse_date, horizon.get("to"), (*path, "to"), Code.BAD_DATE),
                ("goals", ident),
            )
        return out

    def target(self, raw: Any, path: DataPath) -> m.Target | None:
        if not isinstance(raw, dict):
            return None
        fields: dict[str, Any] = {"path": path}
        columns = []
        for key in (*_POINTS, "benchmark"):
            if isinstance(raw.get(key), str) and raw[key].strip().startswith("column "):
                columns.append(
                    (key, self.roster_column(raw[key].strip().removeprefix("column ").strip(), (*path, key)))
                )
            elif key in raw and "from" in raw and key in ("threshold", "stretch"):
                share = lambda v: parse_percent(v, allow_above_one=True)  # noqa: E731 - of the subject's target
                fields[key] = self.value(share, raw[key], (*path, key), Code.BAD_PERCENT)
            elif key in raw:
                fields[key] = self.value(parse_quantity, raw[key], (*path, key), Code.BAD_VALUE)
        fields["columns"] = tuple(columns)
        if isinstance(raw.get("from"), dict):
            fields["data"] = self.target_from(raw["from"], (*path, "from"))
        for key in ("change", "threshold_change", "stretch_change", "better_by"):
            if key in raw:
                fields[key] = self.value(
                    lambda v: parse_percent(v, allow_above_one=True, signed=True),
                    raw[key],
                    (*path, key),
                    Code.BAD_PERCENT,
                )
        if "vs" in raw:
            fields["vs"] = raw["vs"]
        if "per" in raw:
            fields["per"] = self.per(raw, path)
        return m.Target(**fields)

    def roster_column(self, name: str, path: DataPath) -> str:
        """A `column NAME` target point: a column of the roster source (checked when there is a roster)."""
        people = self.section("organization").get("people")
        roster = self.section("sources").get(str(people.get("source"))) if isinstance(people, dict) else None
        columns = (roster or {}).get("columns") if isinstance(roster, dict) else None
        if not isinstance(columns, dict):
            self.fail(
                Code.UNKNOWN_REFERENCE,
                f"`column {name}` reads the roster, and the organization has no roster source",
                path,
                "map `organization.people` to a source with this column, or write the point as a number",
            )
        elif name not in columns:
            self.fail(
                Code.UNKNOWN_REFERENCE,
                f"the roster has no column `{name}`",
                path,
                did_you_mean(name, list(columns)) or "declare the column in the roster source's `columns`",
            )
        return name

    def target_from(self, raw: dict[str, Any], path: DataPath) -> m.TargetFrom:
        """`target.from`: a declared source and three of its columns (the schema checked the keys)."""
        found = m.TargetFrom(str(raw["source"]), str(raw["subject"]), str(raw["period"]), str(raw["value"]))
        source = self.section("sources").get(found.source)
        if not isinstance(source, dict):
            self.fail(
                Code.UNKNOWN_REFERENCE,
                f"unknown source `{found.source}`",
                (*path, "source"),
                did_you_mean(found.source, list(self.section("sources"))) or "declare it under `sources`",
            )
            return found
        columns = list(source.get("columns") or {})
        for key in ("subject", "period", "value"):
            name = getattr(found, key)
            if name not in columns:
                self.fail(
                    Code.UNKNOWN_REFERENCE,
                    f"source `{found.source}` has no column `{name}`",
                    (*path, key),
                    did_you_mean(name, columns) or f"its columns: {', '.join(columns)}",
                )
        return found

    def per(self, raw: dict[str, Any], path: DataPath) -> str | None:
        """`target.per`: absolute points that are numbers or durations, never shares or relative targets."""
        relative = [k for k in ("vs", "benchmark") if k in raw]
        shares = [k for k in _POINTS if isinstance(raw.get(k), str) and str(raw[k]).strip().endswith("%")]
        if relative or shares:
            self.fail(
                Code.BAD_VALUE,
                f"`per: {raw['per']}` scales absolute points with the period's length; "
                + (f"`{relative[0]}` is relative to another value" if relative else f"`{shares[0]}` is a share"),
                (*path, "per"),
                "use `per` with counts, sums or durations (e.g. `target: 40, per: month`)",
                key=True,
            )
            return None
        return str(raw["per"])

    def scoring(self, raw: Any, path: DataPath) -> m.Scoring | None:
        if not isinstance(raw, dict):
            return None
        bands = []
        for i, band in enumerate(raw.get("bands") or []):
            edge_key = "from" if "from" in band else "to"
            edge = self.value(parse_quantity, band.get(edge_key), (*path, "bands", i, edge_key), Code.BAD_VALUE)
            score = self.value(
                lambda v: parse_percent(v, allow_above_one=True),
                band.get("score"),
                (*path, "bands", i, "score"),
                Code.BAD_PERCENT,
            )
            if edge is not None and score is not None:
                bands.append(m.Band(edge, score))
        return m.Scoring(raw.get("method", "bands" if bands else "linear"), tuple(bands), path)

    def kpis(self) -> dict[str, m.Kpi]:
        out: dict[str, m.Kpi] = {}
        for ident, raw in self.section("kpis").items():
            path: DataPath = ("kpis", ident)
            base = self.kpi_fields(ident, raw, path)
            variants = raw.get("segments")
            if not isinstance(variants, dict):
                out[ident] = m.Kpi(**base)
                continue
            for segment, vraw in variants.items():
                vpath = (*path, "segments", segment)
                vraw = vraw or {}
                fields = dict(base)
                own = self.kpi_fields(ident, vraw, vpath)
                for key in vraw:
                    if key in own and key != "params":
                        fields[key] = own[key]
                fields["params"] = {**base["params"], **own["params"]}
                fields.update(id=f"{ident}.{segment}", segment=segment, variant=segment, variant_path=vpath)
                if "name" not in vraw:
                    fields["name"] = f"{base['name']} ({segment})"
                out[f"{ident}.{segment}"] = m.Kpi(**fields)
        return out

    def kpi_fields(self, ident: str, raw: dict[str, Any], path: DataPath) -> dict[str, Any]:
        by = raw.get("by")
        by_model = None
        if isinstance(by, dict) and len(by) == 1:
            level, column = next(iter(by.items()))
            by_model = m.By(level, column)
        return {
            "id": ident,
            "name": str(raw.get("name", ident)),
            "formula": str(raw.get("formula", "")),
            "source": raw.get("source"),
            "by": by_model,
            "description": raw.get("description"),
            "goal": raw.get("goal"),
            "where": raw.get("where"),
            "segment": raw.get("segment"),
            "time": raw.get("time"),
            "window": self.window(raw, path),
            "unit": raw.get("unit"),
            "direction": raw.get("direction", "higher"),
            "category": raw.get("category"),
            "indicator": raw.get("indicator"),
            "min_sample": raw.get("min_sample"),
            "valid_if": raw.get("valid_if"),
            "target": self.target(raw.get("target"), (*path, "target")),
            "scoring": self.scoring(raw.get("scoring"), (*path, "scoring")),
            "effective_from": self.value(
                parse_date, raw.get("effective_from"), (*path, "effective_from"), Code.BAD_DATE
            ),
            "effective_to": self.value(parse_date, raw.get("effective_to"), (*path, "effective_to"), Code.BAD_DATE),
            "params": self.params(raw.get("params") or {}, (*path, "params")),
            "base_id": ident,
            "path": path,
        }

    def window(self, raw: dict[str, Any], path: DataPath) -> m.Window | None:
        """`window:` (its shape checked by the schema): on a source KPI only."""
        text = raw.get("window")
        if not isinstance(text, str):
            return None
        if raw.get("source") is None:
            self.fail(
                Code.BAD_VALUE,
                "a window belongs on a KPI that reads a source; a derived KPI combines its inputs' values",
                (*path, "window"),
                "put the window on the source KPIs this formula uses",
                key=True,
            )
            return None
        found = re.fullmatch(r"\s*(\d+)\s*([a-z]+)\s*", text)
        if found is None:
            return None
        count, unit = int(found.group(1)), found.group(2)
        if unit.startswith(("y", "year")):
            return m.Window(count * 12, "month")
        return m.Window(count, "day" if unit.startswith("d") else "week" if unit.startswith("w") else "month")

    def scorecards(self) -> dict[str, m.Scorecard]:
        out = {}
        for ident, raw in self.section("scorecards").items():
            path: DataPath = ("scorecards", ident)
            entries = []
            for i, e in enumerate(raw.get("kpis") or []):
                epath = (*path, "kpis", i)
                weight = self.value(parse_percent, e.get("weight"), (*epath, "weight"), Code.BAD_PERCENT)
                entries.append(
                    m.ScorecardEntry(
                        str(e.get("kpi")),
                        weight if weight is not None else Decimal(0),
                        e.get("at", "person"),
                        self.target(e.get("target"), (*epath, "target")),
                        self.scoring(e.get("scoring"), (*epath, "scoring")),
                        self.value(parse_date, e.get("effective_from"), (*epath, "effective_from"), Code.BAD_DATE),
                        self.value(parse_date, e.get("effective_to"), (*epath, "effective_to"), Code.BAD_DATE),
                        epath,
                    )
                )
            applies = raw.get("applies_to") or {}
            out[ident] = m.Scorecard(
                ident,
                tuple(entries),
                tuple(raw.get("tags") or ()),
                m.AppliesTo(
                    tuple(applies.get("roles") or ()),
                    tuple(applies.get("units") or ()),
                    tuple(applies.get("unit_tags") or ()),
                ),
                None if raw.get("period") is None else str(raw.get("period")),
                raw.get("on_insufficient", "renormalize"),
                path,
            )
        return out

    def bounds(self, raw: Any, path: DataPath, percent: bool) -> m.Bounds | None:
        if not isinstance(raw, dict):
            return None

        def read(v: Any) -> Decimal:
            return parse_percent(v) if percent else Decimal(v)

        return m.Bounds(
            self.value(read, raw.get("min"), (*path, "min"), Code.BAD_PERCENT),
            self.value(read, raw.get("max"), (*path, "max"), Code.BAD_PERCENT),
        )

    def policies(self) -> dict[str, m.Policy]:
        out = {}
        for ident, raw in self.section("policies").items():
            path: DataPath = ("policies", ident)
            sel = raw.get("scorecards", "all")
            tags: Literal["all"] | tuple[str, ...] = "all"
            ids: tuple[str, ...] = ()
            if isinstance(sel, dict):
                tags = tuple(sel.get("tags") or ()) if "tags" in sel else "all"
                ids = tuple(sel.get("ids") or ())
            out[ident] = m.Policy(
                ident,
                tags,
                ids,
                raw.get("description"),
                raw.get("kpi"),
                self.bounds(raw.get("weight"), (*path, "weight"), True),
                self.bounds(raw.get("kpi_count"), (*path, "kpi_count"), False),
                path,
            )
        return out

    def bonus_plans(self, currency: str = "EUR") -> dict[str, m.BonusPlan]:
        out = {}
        for ident, raw in self.section("bonus_plans").items():
            path: DataPath = ("bonus_plans", ident)
            target_bonus = self.target_bonus(raw.get("target_bonus"), (*path, "target_bonus"))
            payout = raw.get("payout") or {}
            rounding = raw.get("rounding") or {}
            pool = raw.get("pool") or {}
            gate = self.value(parse_percent, payout.get("gate"), (*path, "payout", "gate"), Code.BAD_PERCENT)
            cap = self.value(
                lambda v: parse_percent(v, allow_above_one=True),
                payout.get("cap"),
                (*path, "payout", "cap"),
                Code.BAD_PERCENT,
            )
            out[ident] = m.BonusPlan(
                ident,
                tuple(raw.get("scorecards") or ()),
                target_bonus,
                None if raw.get("period") is None else str(raw.get("period")),
                gate or Decimal(0),
                cap,
                Decimal(pool["amount"]) if pool.get("amount") is not None else None,
                tuple(raw.get("proration", ("fte", "employment"))),
                Decimal(rounding["to"]) if rounding.get("to") is not None else minor_unit(str(currency)),
                rounding.get("mode", "half_up"),
                path,
            )
        return out

    def target_bonus(self, raw: Any, path: DataPath) -> m.TargetBonus:
        if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool):
            return m.TargetBonus("fixed", Decimal(raw))
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("column "):
                return m.TargetBonus("column", column=text.removeprefix("column ").strip())
            if " of " in text:
                pct_text, column = text.split(" of ", 1)
                pct = self.value(
                    lambda v: parse_percent(v, allow_above_one=True), pct_text.strip(), path, Code.BAD_PERCENT
                )
                return m.TargetBonus("percent", pct, column.strip())
        self.fail(
            Code.BAD_VALUE,
            f"`{raw}` is not a target bonus",
            path,
            'write "20% of base_salary", a fixed amount like 5000, or "column target_bonus"',
        )
        return m.TargetBonus("fixed", Decimal(0))

    def tests(self) -> dict[str, m.KpiTest]:
        out = {}
        for ident, raw in self.section("tests").items():
            data = {src: tuple(rows or ()) for src, rows in (raw.get("data") or {}).items()}
            out[ident] = m.KpiTest(
                ident, str(raw.get("period", "")), data, tuple(raw.get("expect") or ()), ("tests", ident)
            )
        return out


_POINTS = ("threshold", "target", "stretch", "min", "max", "threshold_min", "threshold_max")


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    if len(minutes) != 2:
        raise ValueError(text)
    return int(hours) * 60 + int(minutes)


def build_model(defs: Definitions) -> tuple[m.Workspace, list[Diagnostic]]:
    """The typed model of schema-valid definitions, with the diagnostics found while reading values."""
    b = _Builder(defs)
    organization, units, sources = b.organization(), b.units(), b.sources()
    params, calendars, segments, goals = (
        b.params(b.section("params"), ("params",)),
        b.calendars(),
        b.segments(),
        b.goals(),
    )
    kpis, scorecards, policies, plans = b.kpis(), b.scorecards(), b.policies(), b.bonus_plans(organization.currency)
    workspace = m.Workspace(
        root=defs.root,
        files=tuple(defs.files),
        organization=organization,
        units=units,
        sources=strict_roster(sources, organization, plans),
        params=params,
        calendars=calendars,
        segments=segments,
        goals=goals,
        kpis=kpis,
        scorecards=scorecards,
        policies=policies,
        bonus_plans=plans,
        tests=b.tests(),
        source_map=defs.source_map,
        data=defs.data,
    )
    return workspace, b.diagnostics
