"""`kpi validate` on data: the roster against the unit tree and the scorecards (skipped with --no-data).

The check reads the roster with the import's own rules, in DuckDB, which costs about 0.4 s of start-up
(DuckDB, sqlglot's DuckDB dialect, typing the file). Its result depends only on the bytes of the
definition files and of the roster and unit files, so it is cached per workspace in the user's cache
folder (``$XDG_CACHE_HOME/kpi-engine``, else ``~/.cache/kpi-engine``), keyed by their sha256 and the
engine version: an unchanged workspace is checked again without DuckDB. ``KPI_NO_CACHE=1`` turns the
cache off; a cache that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi_engine import __version__
from kpi_engine.config import model as m
from kpi_engine.data.files import file_sha256, source_files
from kpi_engine.errors import Code, Diagnostic, KpiError, Severity, error, warning
from kpi_engine.source import Span

if TYPE_CHECKING:
    from kpi_engine.evaluation.org import OrgData
    from kpi_engine.scoring.scorecard import Conflict


def check_roster(ws: m.Workspace) -> list[Diagnostic]:
    """People whose unit does not exist, and people matched by two scorecards, when the roster file exists."""
    people = ws.organization.people
    if people is None or people.source not in ws.sources:
        return []
    needed = [people.source] + ([ws.organization.units.source] if ws.organization.units else [])
    try:
        data = [f.path for source_id in needed for f in source_files(ws.sources[source_id])]
    except KpiError:
        return []  # no data yet: nothing to check
    key = _cache_key(ws, data)
    cached = _cached(ws, key)
    if cached is not None:
        return cached
    found = _check(ws, needed)
    _store(ws, key, found)
    return found


def _check(ws: m.Workspace, needed: list[str]) -> list[Diagnostic]:
    from kpi_engine.data.warehouse import import_sources, open_memory
    from kpi_engine.evaluation.org import load_org, person_index
    from kpi_engine.scoring.scorecard import assign_scorecards

    try:
        with open_memory(ws.organization.timezone) as wh:
            import_sources(wh, ws.sources, only=needed)
            org = load_org(ws, wh)
    except KpiError as exc:
        return list(exc.diagnostics)
    found = list(org.diagnostics)
    assignment = assign_scorecards(ws.scorecards.values(), person_index(org), org.units)  # type: ignore[arg-type]
    return found + conflict_diagnostics(ws, assignment.conflicts) + unmatched_scorecards(ws, org, list(ws.scorecards))


# --- the cache ----------------------------------------------------------------------------------


def _cache_file(ws: m.Workspace) -> Path | None:
    if os.environ.get("KPI_NO_CACHE"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kpi-engine"
    where = hashlib.sha256(str(Path(ws.root).resolve()).encode()).hexdigest()[:32]
    return base / f"roster-{where}.json"


def _cache_key(ws: m.Workspace, data: Sequence[Path]) -> str:
    """What the check's result depends on: engine, where paths are shown from, every input file's bytes."""
    parts: list[Any] = [__version__, os.getcwd(), str(ws.root)]
    for path in (*ws.files, *data):
        try:
            parts.append([str(path), file_sha256(Path(path))[0]])
        except KpiError:  # unreadable now: the check itself reports it
            parts.append([str(path), None])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _cached(ws: m.Workspace, key: str) -> list[Diagnostic] | None:
    place = _cache_file(ws)
    try:
        stored = json.loads(place.read_text(encoding="utf-8")) if place is not None else None
        if not isinstance(stored, dict) or stored.get("key") != key:
            return None
        return [_diagnostic(d) for d in stored["diagnostics"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(ws: m.Workspace, key: str, found: list[Diagnostic]) -> None:
    place = _cache_file(ws)
    if place is None:
        return
    try:
        place.parent.mkdir(parents=True, exist_ok=True)
        temporary = place.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"key": key, "diagnostics": [_plain(d) for d in found]}), encoding="utf-8")
        os.replace(temporary, place)
    except OSError:
        pass


def _plain(d: Diagnostic) -> dict[str, Any]:
    def span(s: Span | None) -> list[Any] | None:
        return None if s is None else [s.file, s.line, s.col, s.end_line, s.end_col]

    return {
        "code": d.code.value,
        "message": d.message,
        "span": span(d.span),
        "hint": d.hint,
        "severity": d.severity.value,
        "related": [[label, span(s)] for label, s in d.related],
    }


def _diagnostic(plain: dict[str, Any]) -> Diagnostic:
    def span(s: list[Any] | None) -> Span | None:
        return None if s is None else Span(*s)

    related = tuple((str(label), Span(*s)) for label, s in plain["related"])
    return Diagnostic(
        Code(plain["code"]), plain["message"], span(plain["span"]), plain["hint"], Severity(plain["severity"]), related
    )


def unmatched_scorecards(ws: m.Workspace, org: OrgData, ids: Iterable[str]) -> list[Diagnostic]:
    """A warning per scorecard (of `ids`) whose `applies_to` matches nobody in the roster."""
    from kpi_engine.evaluation.org import person_index
    from kpi_engine.scoring.scorecard import applies, unit_lineage

    people = person_index(org)
    out = []
    for card_id in sorted(set(ids)):
        card = ws.scorecards.get(card_id)
        if card is None:
            continue
        if any(applies(card, p.role, p.unit, *unit_lineage(p.unit, org.units)) for p in people):  # type: ignore[arg-type]
            continue
        span = ws.source_map.key(("scorecards", card_id, "applies_to")) or ws.source_map.key(("scorecards", card_id))
        out.append(
            warning(
                Code.SCORECARD_MATCHES_NOBODY,
                f"scorecard `{card_id}` applies to nobody in the roster ({len(people)} people)",
                span,
                "check `applies_to` (roles, units, unit_tags) against the roster's roles and units",
            )
        )
    return out


def conflict_diagnostics(ws: m.Workspace, conflicts: Iterable[Conflict]) -> list[Diagnostic]:
    """A person matched by two scorecards, reported at the `applies_to` of the last of them."""
    out = []
    for c in conflicts:
        last = c.scorecards[-1]
        span = ws.source_map.key(("scorecards", last, "applies_to")) or ws.source_map.key(("scorecards", last))
        out.append(
            error(
                Code.PERSON_TWO_SCORECARDS,
                f"person `{c.person}` is matched by scorecards " + ", ".join(f"`{s}`" for s in c.scorecards),
                span,
                "narrow `applies_to` (roles, units, unit_tags) so each person has one scorecard",
            )
        )
    return out
