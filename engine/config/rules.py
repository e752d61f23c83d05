"""Semantic rules over the model: each ``check_*`` returns the diagnostics it finds.

References, weights, targets, the unit tree, policies and the lints of SPEC §6.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from kpi_engine.config import model as m
from kpi_engine.config.dependencies import MAX_DERIVED_DEPTH, kpi_graph, kpi_levels
from kpi_engine.config.loader import DataPath
from kpi_engine.config.model import MAX_UNIT_DEPTH, field_path, kpi_reference_problem
from kpi_engine.config.money import check_gate_below_cap
from kpi_engine.config.scalars import Duration
from kpi_engine.errors import Code, Diagnostic, Severity, error, unknown, warning
from kpi_engine.source import Span

Rule = Callable[[m.Workspace], Iterable[Diagnostic]]
SPEED_PARTNERS = ("quality", "satisfaction")


def _err(
    ws: m.Workspace, code: Code, message: str, path: DataPath, hint: str | None = None, key: bool = False
) -> Diagnostic:
    span = ws.source_map.key(path) if key else ws.source_map.value(path)
    return error(code, message, span, hint)


def _ref(ws: m.Workspace, kind: str, name: str, pool: Iterable[str], path: DataPath) -> Diagnostic:
    message, hint = unknown(kind, name, list(pool))
    return _err(ws, Code.UNKNOWN_REFERENCE, message, path, hint)


# --- references --------------------------------------------------------------------------


def check_organization_references(ws: m.Workspace) -> Iterator[Diagnostic]:
    """The roster and unit sources exist and declare the mapped columns."""
    org = ws.organization
    for label, mapping in (("people", org.people), ("units", org.units)):
        if mapping is None:
            continue
        path: DataPath = ("organization", label)
        source = ws.sources.get(mapping.source)
        if source is None:
            yield _ref(ws, "source", mapping.source, ws.sources, (*path, "source"))
            continue
        if not source.columns:
            continue
        for key, column in vars(mapping).items():
            if key == "source" or column is None or column in source.columns:
                continue
            message, hint = unknown("column", column, list(source.columns))
            yield _err(ws, Code.UNKNOWN_REFERENCE, f"{message} in source `{source.id}`", (*path, key), hint)


def check_source_references(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Keys, time columns and relations name declared columns and sources."""
    for source in ws.sources.values():
        path = source.data_path
        if source.path is None and source.table is None:
            yield _err(
                ws,
                Code.MISSING_KEY,
                f"source `{source.id}` needs `path:` or `table:`",
                path,
                "e.g. path: data/tickets.csv",
                key=True,
            )
        for field_name in ("key", "time"):
            column = getattr(source, field_name)
            if column is not None and source.columns and column not in source.columns:
                message, hint = unknown("column", column, list(source.columns))
                yield _err(ws, Code.UNKNOWN_REFERENCE, message, (*path, field_name), hint)
        if source.time and source.columns.get(source.time, m.Column("", "timestamp")).type not in ("date", "timestamp"):
            yield _err(
                ws,
                Code.WRONG_TYPE,
                f"time column `{source.time}` must be a date or timestamp",
                (*path, "time"),
                f"declare `{source.time}: timestamp` under columns",
            )
        for rel in source.relations.values():
            rpath = (*path, "relations", rel.name)
            if rel.source not in ws.sources:
                yield _ref(ws, "source", rel.source, ws.sources, (*rpath, "source"))
            if source.columns and rel.key not in source.columns:
                message, hint = unknown("column", rel.key, list(source.columns))
                yield _err(ws, Code.UNKNOWN_REFERENCE, message, (*rpath, "key"), hint)
            if rel.name in source.columns:
                yield _err(
                    ws,
                    Code.DUPLICATE_ID,
                    f"relation `{rel.name}` has the name of a column",
                    rpath,
                    "give the relation another name",
                    key=True,
                )


def check_segment_references(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Every segment filters a source that exists."""
    for segment in ws.segments.values():
        if segment.source not in ws.sources:
            yield _ref(ws, "source", segment.source, ws.sources, (*segment.path, "source"))


def check_kpi_references(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Goals, sources, segments, attribution and time columns of every KPI resolve.

    The variants of a KPI share its definition, so what they share is checked on the first of them only.
    """
    seen_base: set[str] = set()
    for kpi in ws.kpis.values():
        first_of_base = kpi.base_id not in seen_base
        seen_base.add(kpi.base_id)
        if first_of_base and kpi.goal is not None and kpi.goal not in ws.goals:
            yield _ref(ws, "goal", kpi.goal, ws.goals, (*kpi.path, "goal"))
        yield from _kpi_source_references(ws, kpi, first_of_base)


def _kpi_source_references(ws: m.Workspace, kpi: m.Kpi, first_of_base: bool) -> Iterator[Diagnostic]:
    """A KPI's segment, source and source columns resolve; each check needs the ones before it to pass."""
    unknown_segment = _unknown_segment(ws, kpi)
    if unknown_segment is not None:
        yield unknown_segment
        return
    if kpi.source is None:
        if first_of_base:
            yield from _keys_needing_source(ws, kpi)
        return
    source = ws.sources.get(kpi.source)
    if source is None:
        if first_of_base:
            yield _ref(ws, "source", kpi.source, ws.sources, (*kpi.path, "source"))
        return
    if kpi.segment is not None and ws.segments[kpi.segment].source != kpi.source:
        seg = ws.segments[kpi.segment]
        spath = kpi.variant_path if kpi.variant else (*kpi.path, "segment")
        yield _err(
            ws,
            Code.SEGMENT_SOURCE,
            f"segment `{seg.id}` filters source `{seg.source}`, but KPI `{kpi.id}` reads `{kpi.source}`",
            spath or kpi.path,
            f"define a segment on `{kpi.source}`",
            key=kpi.variant is not None,
        )
    if first_of_base and source.columns:
        yield from _kpi_column_references(ws, kpi, source)


def _unknown_segment(ws: m.Workspace, kpi: m.Kpi) -> Diagnostic | None:
    """The error for a variant's or a KPI's segment that is not defined, or None."""
    if kpi.variant is not None:
        if kpi.variant not in ws.segments:
            message, hint = unknown("segment", kpi.variant, list(ws.segments))
            return _err(ws, Code.UNKNOWN_REFERENCE, message, kpi.variant_path or kpi.path, hint, key=True)
    elif kpi.segment is not None and kpi.segment not in ws.segments:
        return _ref(ws, "segment", kpi.segment, ws.segments, (*kpi.path, "segment"))
    return None


def _keys_needing_source(ws: m.Workspace, kpi: m.Kpi) -> Iterator[Diagnostic]:
    """Keys set on a derived KPI that only mean something for a KPI over a source's rows."""
    for field_name in ("by", "where", "time", "min_sample"):
        if getattr(kpi, field_name) is not None:
            yield _err(
                ws,
                Code.BAD_VALUE,
                f"`{field_name}` needs a `source`: a derived KPI takes subjects and rows from the KPIs it combines",
                (*kpi.path, field_name),
                "add `source:` or remove the key",
                key=True,
            )


def _kpi_column_references(ws: m.Workspace, kpi: m.Kpi, source: m.Source) -> Iterator[Diagnostic]:
    """The KPI's attribution and time columns are columns (or relation paths) of its source."""
    path = kpi.path
    if kpi.by is not None and kpi.by.column not in source.columns and not _is_relation_path(source, kpi.by.column):
        message, hint = unknown("column", kpi.by.column, list(source.columns))
        yield _err(ws, Code.UNKNOWN_REFERENCE, f"{message} in source `{source.id}`", (*path, "by", kpi.by.level), hint)
    time = kpi.time or source.time
    if kpi.time is not None and kpi.time not in source.columns:
        message, hint = unknown("column", kpi.time, list(source.columns))
        yield _err(ws, Code.UNKNOWN_REFERENCE, f"{message} in source `{source.id}`", (*path, "time"), hint)
    elif time is None:
        yield _err(
            ws,
            Code.MISSING_KEY,
            f"KPI `{kpi.id}` has no time column to place rows in a period",
            path,
            f"set `time:` on the KPI or on source `{source.id}`",
            key=True,
        )


def _is_relation_path(source: m.Source, column: str) -> bool:
    head, _, _ = column.partition(".")
    return "." in column and head in source.relations


def check_formula_syntax_without_source(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Formulas on a source defined elsewhere (a library fragment) still have their syntax checked.

    The formulas stage type-checks only formulas whose source resolves; these are parsed here.
    """
    from kpi_engine.errors import KpiError
    from kpi_engine.expr.parser import parse

    owners = [(seg.where, (*seg.path, "where")) for seg in ws.segments.values() if seg.source not in ws.sources]
    for kpi in ws.kpis.values():
        if kpi.source is not None and kpi.source not in ws.sources:
            owners += [
                (text, field_path(ws, kpi, name))
                for name in ("formula", "where", "valid_if")
                if (text := getattr(kpi, name)) is not None
            ]
    for path, text in {where: text for text, where in owners}.items():  # variants share their KPI's formula

        def locate(offset: int, length: int, path: DataPath = path) -> Span:
            return ws.source_map.span_in_value(path, offset, length) or Span("<formula>", 1, offset + 1)

        try:
            parse(text, locate)
        except KpiError as problem:
            yield from problem.diagnostics


def check_scorecard_references(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Scorecard entries name existing KPIs; applies_to names existing units and tags."""
    tags = {t for u in ws.units.values() for t in u.tags}
    for card in ws.scorecards.values():
        for entry in card.entries:
            problem = kpi_reference_problem(ws, entry.kpi)
            if problem:
                yield _err(ws, Code.UNKNOWN_REFERENCE, problem[0], (*entry.path, "kpi"), problem[1])
        if ws.organization.units is not None:
            continue  # units also come from data; they are checked against the data
        for i, unit in enumerate(card.applies_to.units):
            if ws.units and unit not in ws.units:
                yield _ref(ws, "unit", unit, ws.units, (*card.path, "applies_to", "units", i))
        for i, tag in enumerate(card.applies_to.unit_tags):
            if ws.units and tag not in tags:
                yield _ref(ws, "unit tag", tag, tags, (*card.path, "applies_to", "unit_tags", i))


def check_policy_references(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Policies name KPIs and scorecards that exist."""
    for policy in ws.policies.values():
        if (
            policy.kpi is not None
            and policy.kpi not in ws.kpis
            and not any(k.startswith(policy.kpi + ".") for k in ws.kpis)
        ):
            yield _ref(ws, "KPI", policy.kpi, ws.kpis, (*policy.path, "kpi"))
        for i, ident in enumerate(policy.scorecard_ids):
            if ident not in ws.scorecards:
                yield _ref(ws, "scorecard", ident, ws.scorecards, (*policy.path, "scorecards", "ids", i))


def check_plan_references(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Bonus plans name scorecards that exist and roster columns that are mapped."""
    people = ws.organization.people
    for plan in ws.bonus_plans.values():
        for i, ident in enumerate(plan.scorecards):
            if ident not in ws.scorecards:
                yield _ref(ws, "scorecard", ident, ws.scorecards, (*plan.path, "scorecards", i))
        tb = plan.target_bonus
        column = tb.column
        if column is None:
            continue
        roster = ws.sources.get(people.source) if people else None
        mapped = {"base_salary": people.base_salary} if people else {}
        actual = mapped.get(column) or column
        if roster is not None and roster.columns and actual not in roster.columns:
            message, hint = unknown("roster column", column, list(roster.columns))
            yield _err(ws, Code.UNKNOWN_REFERENCE, message, (*plan.path, "target_bonus"), hint)
        elif people is None and ws.organization is not None and ws.data.get("organization"):
            yield _err(
                ws,
                Code.MISSING_KEY,
                "a target bonus from a roster column needs `organization.people`",
                (*plan.path, "target_bonus"),
                "map the roster under organization.people",
            )


# --- structure ---------------------------------------------------------------------------


def check_unit_tree(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Parents exist, the unit tree has no cycle and is at most MAX_UNIT_DEPTH levels deep."""
    for unit in ws.units.values():
        if unit.parent is not None and unit.parent not in ws.units:
            yield _ref(ws, "unit", unit.parent, ws.units, (*unit.path, "parent"))
    level: dict[str, int] = {}
    reported: set[str] = set()
    too_deep: list[str] = []
    for start in sorted(ws.units):
        chain: list[str] = []
        on_chain: set[str] = set()
        node: str | None = start
        while node is not None and node in ws.units and node not in on_chain and node not in level:
            chain.append(node)
            on_chain.add(node)
            node = ws.units[node].parent
        if node is not None and node in on_chain:
            loop = chain[chain.index(node) :]
            if node not in reported:
                reported.update(loop)
                yield _err(
                    ws,
                    Code.UNIT_CYCLE,
                    "unit tree has a cycle: " + " → ".join([*loop, node]),
                    (*ws.units[loop[-1]].path, "parent"),
                    "one of these units must have another parent",
                )
            node = None
        above = level.get(node, 0) if node is not None else 0
        for i, uid in enumerate(reversed(chain)):
            level[uid] = above + i + 1
            if level[uid] == MAX_UNIT_DEPTH + 1:
                too_deep.append(uid)
    for uid in sorted(too_deep):
        yield _err(
            ws,
            Code.UNIT_TREE_TOO_DEEP,
            f"unit `{uid}` is level {MAX_UNIT_DEPTH + 1} of the unit tree; the limit is {MAX_UNIT_DEPTH} levels",
            (*ws.units[uid].path, "parent"),
            "flatten the tree: group units with tags instead of extra levels",
        )


def check_weights_sum_to_100(ws: m.Workspace) -> Iterator[Diagnostic]:
    """A scorecard's weights sum to exactly 100%, compared as decimals."""
    for card in ws.scorecards.values():
        total = sum((e.weight for e in card.entries), Decimal(0))
        if card.entries and total != 1:
            yield _err(
                ws,
                Code.WEIGHTS_NOT_100,
                f"weights of scorecard `{card.id}` sum to {_pct(total)}, not 100%",
                (*card.path, "kpis"),
                f"adjust the weights by {_pct(1 - total)}",
                key=True,
            )


def check_duplicate_entries(ws: m.Workspace) -> Iterator[Diagnostic]:
    """The same (kpi, at) pair appears once per scorecard."""
    for card in ws.scorecards.values():
        first: dict[tuple[str, str], m.ScorecardEntry] = {}
        for entry in card.entries:
            key = (entry.kpi, entry.at)
            if key in first:
                yield Diagnostic(
                    Code.DUPLICATE_ENTRY,
                    f"`{entry.kpi}` at `{entry.at}` is in scorecard `{card.id}` twice",
                    ws.source_map.value(entry.path),
                    "merge the two entries",
                    related=(("first entry", ws.source_map.value(first[key].path)),)  # type: ignore[arg-type]
                    if ws.source_map.value(first[key].path)
                    else (),
                )
            else:
                first[key] = entry


def check_entry_levels(ws: m.Workspace) -> Iterator[Diagnostic]:
    """An entry's level exists for its KPI (person needs by person; unit needs by person/unit)."""
    for card in ws.scorecards.values():
        for entry in card.entries:
            kpi = ws.kpis.get(entry.kpi)
            if kpi is None:
                continue
            levels = kpi_levels(ws, kpi)
            if entry.at not in levels:
                have = ", ".join(sorted(levels))
                yield _err(
                    ws,
                    Code.ENTRY_LEVEL,
                    f"KPI `{kpi.id}` is not computed at `{entry.at}` level (it exists at: {have})",
                    (*entry.path, "at") if entry.at != "person" else entry.path,
                    f"use `at: {sorted(levels, key=_LEVEL_ORDER.index)[0]}` or attribute the KPI with `by:`",
                )


_LEVEL_ORDER = ["person", "unit", "organization"]


def check_kpi_cycles(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Derived KPIs do not depend on themselves, however the reference is written."""
    for cycle in kpi_graph(ws).cycles:
        start = cycle.index(min(cycle[:-1]))
        loop = (*cycle[start:-1], *cycle[:start], cycle[start])
        kpi = ws.kpis[loop[-2]]  # its formula closes the loop
        yield _err(
            ws,
            Code.KPI_CYCLE,
            "derived KPIs form a cycle: " + " → ".join(loop),
            (*kpi.path, "formula"),
            "a KPI cannot depend on itself, directly or through others",
        )


def check_derived_depth(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Derived KPIs built on derived KPIs nest at most MAX_DERIVED_DEPTH levels."""
    for kid, depth in sorted(kpi_graph(ws).depth.items()):
        if depth == MAX_DERIVED_DEPTH + 1:
            yield _err(
                ws,
                Code.DERIVED_TOO_DEEP,
                f"derived KPI `{kid}` is built on {depth - 1} levels of derived KPIs; the limit is {MAX_DERIVED_DEPTH}",
                (*ws.kpis[kid].path, "formula"),
                "compute intermediate values from the source rows, or combine several steps into one formula",
            )


def _points(target: m.Target) -> list[tuple[str, m.Quantity]]:
    return [
        (name, value) for name in ("threshold", "target", "stretch") if (value := getattr(target, name)) is not None
    ]


def _comparable(a: m.Quantity, b: m.Quantity) -> bool:
    return isinstance(a, Duration) == isinstance(b, Duration)


def _key(q: m.Quantity) -> Decimal:
    return q.seconds if isinstance(q, Duration) else q


def check_target(ws: m.Workspace, target: m.Target, direction: str, owner: str) -> Iterator[Diagnostic]:
    """Target points are consistent with the KPI's direction; range targets are well-formed.

    Points that differ by subject (`from:`, `column NAME`) are checked as each subject's are assessed.
    """
    if not target.from_data:
        yield from _check_points(ws, target, direction, owner)


def _check_points(ws: m.Workspace, target: m.Target, direction: str, owner: str) -> Iterator[Diagnostic]:
    path = target.path
    if direction == "range":
        if target.min is None or target.max is None:
            yield _err(
                ws,
                Code.RANGE_TARGET,
                f"{owner} has `direction: range`; its target needs `min` and `max`",
                path,
                "e.g. target: {min: 15, max: 20, threshold_min: 10, threshold_max: 25}",
            )
            return
        chain = [
            (n, v) for n in ("threshold_min", "min", "max", "threshold_max") if (v := getattr(target, n)) is not None
        ]
        for (n1, v1), (n2, v2) in zip(chain, chain[1:], strict=False):
            if not _comparable(v1, v2) or _key(v1) > _key(v2) or (n1 != "min" and _key(v1) == _key(v2)):
                found = f"{_shown(ws, (*path, n1), v1)} and {_shown(ws, (*path, n2), v2)}"
                yield _err(
                    ws,
                    Code.RANGE_TARGET,
                    f"range target needs {n1} ≤ {n2}, found {found}",
                    (*path, n2),
                    "order the points threshold_min ≤ min ≤ max ≤ threshold_max",
                )
        return
    if target.is_range:
        yield _err(
            ws,
            Code.RANGE_TARGET,
            f"{owner} has a range target but `direction: {direction}`",
            path,
            "set `direction: range`, or use threshold/target/stretch",
        )
        return
    if target.vs is None and target.benchmark is None and target.target is None:
        yield _err(
            ws,
            Code.TARGET_INCONSISTENT,
            f"target of {owner} has no `target` point",
            path,
            "add `target:`; threshold and stretch are optional",
            key=True,
        )
    points = _points(target)
    durations = [name for name, value in points if isinstance(value, Duration)]
    if 0 < len(durations) < len(points):  # report the odd one out once, not every pair it is in
        odd = [name for name, _ in points if name not in durations] if len(durations) * 2 > len(points) else durations
        kinds = ("a duration", "numbers") if odd[0] in durations else ("a number", "durations")
        yield _err(
            ws,
            Code.TARGET_INCONSISTENT,
            f"the {odd[0]} is {kinds[0]}, but the other points are {kinds[1]}",
            (*path, odd[0]),
            "write every point as a duration (4h) or every point as a number",
        )
        return
    for (n1, v1), (n2, v2) in zip(points, points[1:], strict=False):
        better = _key(v2) > _key(v1) if direction == "higher" else _key(v2) < _key(v1)
        if not better:
            word = "above" if direction == "higher" else "below"
            yield _err(
                ws,
                Code.TARGET_INCONSISTENT,
                f"for a `{direction}` KPI the {n2} ({_shown(ws, (*path, n2), v2)}) must be {word} the {n1} "
                f"({_shown(ws, (*path, n1), v1)})",
                (*path, n2),
                "order the points threshold < target < stretch"
                if direction == "higher"
                else "for lower-is-better: threshold > target > stretch",
            )
    changes = [
        (n, v) for n in ("threshold_change", "change", "stretch_change") if (v := getattr(target, n)) is not None
    ]
    for (n1, v1), (n2, v2) in zip(changes, changes[1:], strict=False):
        better = v2 > v1 if direction == "higher" else v2 < v1
        if not better:
            yield _err(
                ws,
                Code.TARGET_INCONSISTENT,
                f"{n2} ({_pct(v2)}) must be better than {n1} ({_pct(v1)})",
                (*path, n2),
                "order threshold_change, change, stretch_change in the KPI's direction",
            )


def _shown(ws: m.Workspace, path: DataPath, value: object) -> str:
    """A value as the user wrote it (`80%`, `4h`), falling back to the parsed value."""
    raw: object = ws.data
    for part in path:
        if isinstance(raw, dict) and part in raw:
            raw = raw[part]
        elif isinstance(raw, list) and isinstance(part, int) and part < len(raw):
            raw = raw[part]
        else:
            return str(value)
    return str(raw) if isinstance(raw, (str, int, Decimal)) and not isinstance(raw, bool) else str(value)


def _edge_path(ws: m.Workspace, scoring: m.Scoring, index: int) -> DataPath:
    band = ws.source_map.values.get((*scoring.path, "bands", index, "to"))
    return (*scoring.path, "bands", index, "to" if band is not None else "from")


def check_bands(ws: m.Workspace, scoring: m.Scoring, direction: str) -> Iterator[Diagnostic]:
    """Bands step in one direction, with comparable edges."""
    if scoring.method == "bands" and not scoring.bands:
        yield _err(
            ws,
            Code.BANDS,
            "scoring method `bands` needs `bands:`",
            scoring.path,
            "e.g. bands: [{from: 70%, score: 50%}, {from: 80%, score: 100%}]",
        )
    edges = [b.edge for b in scoring.bands]
    for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False)):
        ok = _comparable(a, b) and (_key(b) > _key(a) if direction != "lower" else _key(b) < _key(a))
        if not ok:
            order = "increase" if direction != "lower" else "decrease (lower is better: use `to:`)"
            yield _err(
                ws,
                Code.BANDS,
                f"band edges must {order}: {_shown(ws, _edge_path(ws, scoring, i), a)} then "
                f"{_shown(ws, _edge_path(ws, scoring, i + 1), b)}",
                (*scoring.path, "bands", i + 1),
                "list the bands from the worst to the best",
            )


def check_ratio_target(
    ws: m.Workspace, target: m.Target | None, scoring: m.Scoring | None, owner: str
) -> Iterator[Diagnostic]:
    """Ratio scoring divides by the `target` point: a written target must be above 0."""
    if scoring is None or scoring.method != "ratio" or target is None or target.target is None:
        return
    if _key(target.target) <= 0:
        yield _err(
            ws,
            Code.TARGET_INCONSISTENT,
            f"{owner} is scored by `ratio`, which divides by the target, "
            f"but the target is {_shown(ws, (*target.path, 'target'), target.target)}",
            (*target.path, "target"),
            "give a target above 0, or score it `linear` or by `bands`",
        )


def check_targets(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Targets and scoring on KPIs, variants and scorecard entries."""
    seen: set[DataPath] = set()
    for kpi in ws.kpis.values():
        if kpi.target is not None and kpi.target.path not in seen:
            seen.add(kpi.target.path)
            yield from check_target(ws, kpi.target, kpi.direction, f"KPI `{kpi.id}`")
        if kpi.scoring is not None and kpi.scoring.path not in seen:
            seen.add(kpi.scoring.path)
            yield from check_bands(ws, kpi.scoring, kpi.direction)
        yield from check_ratio_target(ws, kpi.target, kpi.scoring, f"KPI `{kpi.id}`")
    for card in ws.scorecards.values():
        for entry in card.entries:
            entry_kpi = ws.kpis.get(entry.kpi)
            if entry_kpi is None:
                continue
            kpi = entry_kpi
            if entry.target is not None:
                yield from check_target(ws, entry.target, kpi.direction, f"`{entry.kpi}` in `{card.id}`")
            if entry.scoring is not None:
                yield from check_bands(ws, entry.scoring, kpi.direction)
            scoring = entry.scoring or kpi.scoring
            if entry.target is not None or entry.scoring is not None:
                yield from check_ratio_target(ws, entry.target or kpi.target, scoring, f"`{entry.kpi}` in `{card.id}`")
            has_bands = scoring is not None and scoring.method == "bands"
            if entry.target is None and kpi.target is None and not has_bands:
                yield _err(
                    ws,
                    Code.ENTRY_NO_TARGET,
                    f"`{entry.kpi}` has no target, so it cannot be scored in `{card.id}`",
                    (*entry.path, "kpi"),
                    "give the KPI (or this entry) a target: {threshold: …, target: …}",
                )


# --- policies and lints ------------------------------------------------------------------


def _covered(policy: m.Policy, card: m.Scorecard) -> bool:
    if policy.scorecard_ids:
        return card.id in policy.scorecard_ids
    return policy.scorecards == "all" or bool(set(policy.scorecards) & set(card.tags))


def check_policies(ws: m.Workspace) -> Iterator[Diagnostic]:
    """Weight bounds and KPI counts that policies set for the scorecards they cover."""
    for policy in ws.policies.values():
        for card in ws.scorecards.values():
            if not _covered(policy, card):
                continue
            known = policy.kpi in ws.kpis or any(k.startswith(f"{policy.kpi}.") for k in ws.kpis)
            if policy.kpi is not None and policy.weight is not None and known:  # an unknown KPI is reported once
                entries = [e for e in card.entries if e.kpi == policy.kpi or e.kpi.startswith(policy.kpi + ".")]
                total = sum((e.weight for e in entries), Decimal(0))
                lo, hi = policy.weight.min, policy.weight.max
                if (lo is not None and total < lo) or (hi is not None and total > hi):
                    bounds = f"{_pct(lo) if lo is not None else '0%'}–{_pct(hi) if hi is not None else '100%'}"
                    where = (*entries[0].path, "weight") if entries else card.path
                    found = f"weighs {_pct(total)}" if entries else "is absent (weighs 0%)"
                    yield _err(
                        ws,
                        Code.POLICY_WEIGHT,
                        f"`{policy.kpi}` {found} in scorecard `{card.id}`",
                        where,
                        f"policy `{policy.id}` requires {bounds}",
                        key=not entries,
                    )
            if policy.kpi_count is not None:
                count = len(card.entries)
                lo, hi = policy.kpi_count.min, policy.kpi_count.max
                if (lo is not None and count < lo) or (hi is not None and count > hi):
                    yield _err(
                        ws,
                        Code.POLICY_KPI_COUNT,
                        f"scorecard `{card.id}` has {count} KPIs",
                        (*card.path, "kpis"),
                        f"policy `{policy.id}` requires {lo}–{hi} KPIs",
                        key=True,
                    )


def check_lints(ws: m.Workspace) -> Iterator[Diagnostic]:
    """The built-in lints of SPEC §6 (warnings; errors with --strict)."""
    seen: set[str] = set()
    for kpi in ws.kpis.values():
        if kpi.goal is None and kpi.base_id not in seen:
            seen.add(kpi.base_id)
            yield warning(
                Code.LINT_NO_GOAL,
                f"KPI `{kpi.base_id}` is linked to no goal",
                ws.source_map.key(kpi.path),
                "add `goal:` so everyone sees what this KPI serves",
            )
    for card in ws.scorecards.values():
        count = len(card.entries)
        if count > 10 or count < 3:
            yield warning(
                Code.LINT_KPI_COUNT,
                f"scorecard `{card.id}` has {count} KPIs",
                ws.source_map.key((*card.path, "kpis")),
                "keep 3 to 10 KPIs: focus is what pays",
            )
        cats = Counter(ws.kpis[e.kpi].category for e in card.entries if e.kpi in ws.kpis)
        if cats.get("speed") and not any(cats.get(c) for c in SPEED_PARTNERS):
            yield warning(
                Code.LINT_SPEED_WITHOUT_QUALITY,
                f"scorecard `{card.id}` pays for speed with no quality or satisfaction KPI",
                ws.source_map.key((*card.path, "kpis")),
                "add a quality or satisfaction KPI so speed is not bought with sloppiness",
            )
        for entry in card.entries:
            weighted = ws.kpis.get(entry.kpi)
            if weighted is not None and weighted.category == "activity" and entry.weight > 0:
                yield warning(
                    Code.LINT_ACTIVITY_WEIGHTED,
                    f"`{entry.kpi}` is an activity KPI weighted {_pct(entry.weight)} in `{card.id}`",
                    ws.source_map.value((*entry.path, "weight")),
                    "pay for results, not activity: track it without weight or replace it",
                )


def _pct(value: Decimal | None) -> str:
    if value is None:
        return "?"
    text = format((value * 100).normalize(), "f")
    return f"{text}%"


RULES: tuple[Rule, ...] = (
    check_organization_references,
    check_source_references,
    check_segment_references,
    check_kpi_references,
    check_formula_syntax_without_source,
    check_scorecard_references,
    check_policy_references,
    check_plan_references,
    check_gate_below_cap,
    check_unit_tree,
    check_weights_sum_to_100,
    check_duplicate_entries,
    check_entry_levels,
    check_kpi_cycles,
    check_derived_depth,
    check_targets,
    check_policies,
    check_lints,
)


def check_rules(ws: m.Workspace, fragment: bool = False) -> list[Diagnostic]:
    """Run every rule; for a fragment, keep only findings whose references resolve locally."""
    found: list[Diagnostic] = []
    for rule in RULES:
        for diagnostic in rule(ws):
            if fragment and (diagnostic.code == Code.UNKNOWN_REFERENCE or diagnostic.severity == Severity.WARNING):
                continue
            found.append(diagnostic)
    return found
