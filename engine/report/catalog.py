"""`kpi catalog`: a human catalog of every rule, generated from the loaded workspace so it cannot drift.

The catalog is built once as a small document (headings, paragraphs, field lists, tables whose
cells are text, code and links) and rendered to Markdown or to a standalone HTML5 page; each
renderer escapes for its own format. Values are shown as the user wrote them (``25%``, ``4h``);
the model decides the structure (variants, inheritance, who weighs which KPI).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kpi_engine.audit.hashing import definitions_hash
from kpi_engine.config import model as m
from kpi_engine.config.model import DataPath
from kpi_engine.documents import written

# --- the document ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """Text shown as code: an id, a formula, a value as written."""

    text: str


@dataclass(frozen=True)
class Link:
    """Text that links to a :class:`Target` or a heading of the catalog by its anchor."""

    text: str
    anchor: str


@dataclass(frozen=True)
class Target:
    """An id shown as code that links can point at (a variant KPI, a segment)."""

    text: str
    anchor: str


Inline = str | Code | Link | Target
Cell = tuple[Inline, ...]
Row = tuple[Cell, ...]


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1 is the title), with an anchor when links point at it."""

    level: int
    text: Cell
    anchor: str | None = None


@dataclass(frozen=True)
class Para:
    """A paragraph of inline text."""

    text: Cell


@dataclass(frozen=True)
class Table:
    """A table: header labels and rows of inline-text cells."""

    header: tuple[str, ...]
    rows: tuple[Row, ...]


Block = Heading | Para | Table


def anchor(kind: str, ident: str) -> str:
    """A stable fragment id: ``kpi-resolved_in_sla-critical`` (ids never hold `-`, so this is unique)."""
    return f"{kind}-{ident.replace('.', '-')}"


def _fields(rows: Iterable[tuple[str, Cell | None]]) -> Table:
    return Table(("field", "value"), tuple(((label,), cell) for label, cell in rows if cell))


def _code(value: Any) -> Cell | None:
    return None if value is None else (Code(str(value)),)


def _links(kind: str, ids: Iterable[str]) -> Cell:
    out: list[Inline] = []
    for i, ident in enumerate(ids):
        out += [", "] if i else []
        out.append(Link(ident, anchor(kind, ident)))
    return tuple(out)


def _raw(ws: m.Workspace, path: DataPath) -> Any:
    value: Any = ws.data
    for part in path:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value


def _plain(value: Any) -> str:
    return ", ".join(_plain(v) for v in value) if isinstance(value, list) else written(value)


def _text(value: Any) -> Cell | None:
    return None if value is None or value == {} or value == [] else (_plain(value),)


def _pairs(raw: Any) -> Cell | None:
    """``{threshold: 70%, target: 80%}`` → ``threshold: 70% · target: 80%``; lists as ``a, b``."""
    if not isinstance(raw, dict) or not raw:
        return _text(raw)
    return (" · ".join(f"{k}: {_plain(v)}" for k, v in raw.items()),)


# --- content ---------------------------------------------------------------------------------


def catalog_blocks(ws: m.Workspace) -> list[Block]:
    """The whole catalog as a document, every list in a fixed order."""
    org = ws.organization
    blocks: list[Block] = [Heading(1, (f"{org.name} — KPI catalog",)), _organization(ws)]
    blocks += _goals(ws) + _kpis(ws) + _scorecards(ws) + _policies(ws) + _plans(ws) + _reference(ws)
    return blocks


def _organization(ws: m.Workspace) -> Table:
    org, raw = ws.organization, _raw(ws, ("organization",)) or {}
    fiscal = f"{org.fiscal_year_start[0]:02d}-{org.fiscal_year_start[1]:02d}"
    points = raw.get("score_points") or {"threshold": "50%", "target": "100%", "stretch": "150%"}
    return _fields(
        [
            ("organization", (org.name,)),
            ("version", (org.version,)),
            ("effective from", _text(raw.get("effective_from"))),
            ("currency", (org.currency,)),
            ("timezone", (org.timezone,)),
            ("fiscal year starts", (fiscal,)),
            ("score points", _pairs(points)),
            ("definitions hash", (Code(definitions_hash(ws)),)),
            (
                "contents",
                (
                    f"goals {len(ws.goals)} · KPIs {len(ws.kpis)} · scorecards {len(ws.scorecards)} · "
                    f"policies {len(ws.policies)} · bonus plans {len(ws.bonus_plans)}",
                ),
            ),
        ]
    )


def _goals(ws: m.Workspace) -> list[Block]:
    blocks: list[Block] = [Heading(2, ("Goals",), "goals")]
    for gid, goal in sorted(ws.goals.items()):
        horizon = " – ".join(str(d) for d in (goal.horizon_from, goal.horizon_to) if d) or None
        kpis = sorted(k.id for k in ws.kpis.values() if k.goal == gid)
        blocks += [
            Heading(3, (goal.name, " ", Code(gid)), anchor("goal", gid)),
            _fields(
                [("owner", _text(goal.owner)), ("horizon", _text(horizon)), ("KPIs", _links("kpi", kpis) or ("none",))]
            ),
        ]
    orphans = sorted(k.id for k in ws.kpis.values() if k.goal is None)
    if orphans:
        blocks.append(Para(("KPIs linked to no goal: ", *_links("kpi", orphans))))
    if len(blocks) == 1:
        blocks.append(Para(("No goals are defined.",)))
    return blocks


def _attribution(kpi: m.Kpi) -> str:
    if kpi.by is not None:
        return f"per {kpi.by.level}, by column {kpi.by.column}"
    return "derived: same subjects as its inputs" if kpi.derived else "organization only"


def _effective(raw: Any) -> Cell | None:
    if not isinstance(raw, dict):
        return None
    start, end = raw.get("effective_from"), raw.get("effective_to")
    if start is None and end is None:
        return None
    return (f"{written(start) if start else '…'} – {written(end) if end else '…'}",)


def _scoring(ws: m.Workspace, kpi: m.Kpi) -> Cell:
    if kpi.scoring is not None:
        return _pairs(_raw(ws, kpi.scoring.path)) or ("",)
    if kpi.target is None:
        return ("not scored (no target)",)
    return ("linear between the target points (organization score points)",)


def _kpis(ws: m.Workspace) -> list[Block]:
    blocks: list[Block] = [Heading(2, ("KPIs",), "kpis")]
    raw_kpis: dict[str, Any] = _raw(ws, ("kpis",)) or {}
    for base in sorted(raw_kpis):
        raw = raw_kpis[base]
        members = sorted((k for k in ws.kpis.values() if k.base_id == base), key=lambda k: k.id)
        if not members:
            continue
        first = members[0]
        variants = [k for k in members if k.variant is not None]
        name = str(raw.get("name", base))
        blocks.append(Heading(3, (name, " ", Code(base)), anchor("kpi", base)))
        if raw.get("description"):
            blocks.append(Para((str(raw["description"]),)))
        shared = first if not variants else None
        blocks.append(
            _fields(
                [
                    (
                        "id",
                        (Code(base),) if not variants else tuple(x for k in variants for x in (Code(k.id), " "))[:-1],
                    ),
                    ("goal", _links("goal", [raw["goal"]]) if raw.get("goal") else None),
                    ("formula", _code(raw.get("formula"))),
                    ("source", _text(raw.get("source")) or ("— (derived from other KPIs)",)),
                    ("attribution", (_attribution(first),)),
                    ("where", _code(raw.get("where"))),
                    ("segment", _links("segment", [raw["segment"]]) if raw.get("segment") else None),
                    ("time column", _text(raw.get("time"))),
                    ("unit", _text(raw.get("unit"))),
                    ("direction", (str(raw.get("direction", "higher")),)),
                    ("category", _text(raw.get("category"))),
                    ("indicator", _text(raw.get("indicator"))),
                    ("minimum sample", _text(raw.get("min_sample"))),
                    ("valid if", _code(raw.get("valid_if"))),
                    ("params", _pairs(raw.get("params"))),
                    ("target", _pairs(raw.get("target"))),
                    ("scoring", _scoring(ws, shared) if shared else _pairs(raw.get("scoring"))),
                    ("effective", _effective(raw)),
                ]
            )
        )
        if variants:
            blocks += [Heading(4, ("Variants",)), _variants(ws, variants)]
        blocks += _weighed(ws, members)
    return blocks


def _variants(ws: m.Workspace, variants: Sequence[m.Kpi]) -> Table:
    rows: list[Row] = []
    for k in variants:
        own = _raw(ws, k.variant_path or ()) or {}
        overrides = {key: v for key, v in own.items() if key not in ("params", "target")}
        segment = ws.segments.get(k.variant or "")
        rows.append(
            (
                (Target(k.id, anchor("kpi", k.id)),),
                (k.name,),
                (Code(segment.where),) if segment else ("",),
                _pairs(dict(sorted(k.params.items()))) or ("",),
                (_pairs(_raw(ws, k.target.path)) if k.target else None) or ("—",),
                _pairs(overrides) or ("",),
                _scoring(ws, k),
            )
        )
    return Table(("KPI", "name", "segment rows", "params", "target", "overrides", "scoring"), tuple(rows))


def _weighed(ws: m.Workspace, members: Sequence[m.Kpi]) -> list[Block]:
    ids = {k.id for k in members}
    rows: list[Row] = []
    for sid, card in sorted(ws.scorecards.items()):
        for entry in card.entries:
            if entry.kpi in ids:
                rows.append(
                    (
                        (Link(sid, anchor("scorecard", sid)),),
                        (Code(entry.kpi),),
                        (entry.at,),
                        (written(_raw(ws, (*entry.path, "weight"))),),
                        _pairs(_raw(ws, (*entry.path, "target"))) or ("KPI's target",),
                    )
                )
    if not rows:
        return [Para(("Weighed in no scorecard.",))]
    return [Heading(4, ("Weighed in",)), Table(("scorecard", "KPI", "level", "weight", "target"), tuple(rows))]


def _scorecards(ws: m.Workspace) -> list[Block]:
    blocks: list[Block] = [Heading(2, ("Scorecards",), "scorecards")]
    for sid, card in sorted(ws.scorecards.items()):
        raw = _raw(ws, card.path) or {}
        plans = sorted(p for p, plan in ws.bonus_plans.items() if sid in plan.scorecards)
        blocks += [
            Heading(3, (Code(sid),), anchor("scorecard", sid)),
            _fields(
                [
                    ("applies to", _pairs(raw.get("applies_to")) or ("everyone",)),
                    ("tags", _text(raw.get("tags"))),
                    ("period", _text(raw.get("period")) or ("the command's --period",)),
                    ("without a score", (card.on_insufficient,)),
                    ("bonus plans", _links("plan", plans) or None),
                ]
            ),
        ]
        rows: list[Row] = [
            (
                (str(i),),
                (Link(e.kpi, anchor("kpi", e.kpi)),),
                (e.at,),
                (written(_raw(ws, (*e.path, "weight"))),),
                _pairs(_raw(ws, (*e.path, "target"))) or ("KPI's target",),
                _effective(_raw(ws, e.path)) or ("",),
            )
            for i, e in enumerate(card.entries)
        ]
        total = sum((e.weight for e in card.entries), start=Decimal(0))
        rows.append((("",), ("total",), ("",), (f"{written((total * 100).normalize())}%",), ("",), ("",)))
        blocks.append(Table(("#", "KPI", "level", "weight", "target", "effective"), tuple(rows)))
    return blocks


def _policies(ws: m.Workspace) -> list[Block]:
    if not ws.policies:
        return []
    rows = []
    for pid, policy in sorted(ws.policies.items()):
        raw = _raw(ws, policy.path) or {}
        rule: list[Inline] = []
        if policy.kpi:
            rule += ["weight of ", Link(policy.kpi, anchor("kpi", policy.kpi)), f" {_bounds(raw.get('weight'))}"]
        if raw.get("kpi_count"):
            rule += [("; " if rule else "") + f"number of KPIs {_bounds(raw.get('kpi_count'))}"]
        rows.append(
            ((Code(pid),), (str(policy.description or ""),), _pairs(raw.get("scorecards")) or ("all",), tuple(rule))
        )
    return [Heading(2, ("Policies",), "policies"), Table(("policy", "description", "scorecards", "rule"), tuple(rows))]


def _bounds(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    low, high = raw.get("min"), raw.get("max")
    if low is not None and high is not None:
        return f"between {written(low)} and {written(high)}"
    return f"at least {written(low)}" if low is not None else f"at most {written(high)}"


def _plans(ws: m.Workspace) -> list[Block]:
    blocks: list[Block] = [Heading(2, ("Bonus plans",), "plans")] if ws.bonus_plans else []
    for pid, plan in sorted(ws.bonus_plans.items()):
        raw = _raw(ws, plan.path) or {}
        payout = raw.get("payout") or {}
        blocks += [
            Heading(3, (Code(pid),), anchor("plan", pid)),
            _fields(
                [
                    ("scorecards", _links("scorecard", plan.scorecards)),
                    ("period", _text(raw.get("period"))),
                    ("target bonus", _text(raw.get("target_bonus"))),
                    (
                        "gate",
                        (f"total score below {written(payout['gate'])} pays nothing",) if "gate" in payout else None,
                    ),
                    ("cap", (f"factor capped at {written(payout['cap'])}",) if "cap" in payout else None),
                    (
                        "pool",
                        (
                            f"{written((raw.get('pool') or {}).get('amount'))} {ws.organization.currency}, shared in "
                            "proportion to the computed payouts (largest remainder)",
                        )
                        if plan.pool is not None
                        else None,
                    ),
                    ("proration", (" × ".join(plan.proration) or "none",)),
                    ("rounding", (f"to {written(plan.rounding_to)} {ws.organization.currency}, {plan.rounding_mode}",)),
                    ("currency", (ws.organization.currency,)),
                ]
            ),
        ]
    return blocks


def _reference(ws: m.Workspace) -> list[Block]:
    blocks: list[Block] = []
    rows: tuple[Row, ...]
    if ws.segments:
        rows = tuple(
            ((Target(s.id, anchor("segment", s.id)),), (s.source,), (Code(s.where),), (s.description or "",))
            for s in sorted(ws.segments.values(), key=lambda s: s.id)
        )
        blocks += [
            Heading(2, ("Segments",), "segments"),
            Table(("segment", "source", "rows where", "description"), rows),
        ]
    params: dict[str, Any] = _raw(ws, ("params",)) or {}
    if params:
        rows = tuple(((Code(k),), (written(v),)) for k, v in sorted(params.items()))
        blocks += [Heading(2, ("Parameters",), "params"), Table(("param", "value"), rows)]
    if ws.sources:
        rows = tuple(
            (
                (Code(s.id),),
                (s.path or f"table {s.table}",),
                _text(s.key) or ("",),
                _text(s.time) or ("",),
                (", ".join(s.columns),),
            )
            for s in sorted(ws.sources.values(), key=lambda s: s.id)
        )
        blocks += [Heading(2, ("Sources",), "sources"), Table(("source", "data", "key", "time", "columns"), rows)]
    return blocks


# --- Markdown --------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|#])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _md_inline(item: Inline) -> str:
    match item:
        case Code(text):
            fence = "``" if "`" in text else "`"
            pad = " " if fence == "``" or text.startswith(" ") or text.endswith(" ") else ""
            return f"{fence}{pad}{text.replace('|', '&#124;')}{pad}{fence}"
        case Link(text, target):
            return f"[{_md_escape(text)}](#{target})"
        case Target(text, target):
            return f'<a id="{target}"></a>`{text}`'
        case str():
            return _md_escape(item)


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(lambda mt: "\\" + mt.group(0), text).replace("\n", " ")


def _md_cell(cell: Cell) -> str:
    return "".join(_md_inline(i) for i in cell).replace("\n", " ")


def render_markdown(blocks: Sequence[Block]) -> str:
    """The catalog as Markdown (GitHub-flavoured tables, explicit anchors for KPIs)."""
    out: list[str] = []
    for block in blocks:
        match block:
            case Heading(level, text, target):
                out.append((f'<a id="{target}"></a>\n\n' if target else "") + "#" * level + " " + _md_cell(text))
            case Para(text):
                out.append(_md_cell(text))
            case Table(header, rows):
                lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
                out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


# --- HTML ------------------------------------------------------------------------------------

_CSS = """body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1,h2{border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}code{background:#f4f4f4;padding:0 .2rem;border-radius:3px}
nav ul{columns:3;list-style:none;padding:0}a{color:#0b57a3}"""


def _html_inline(item: Inline) -> str:
    match item:
        case Code(text):
            return f"<code>{html.escape(text)}</code>"
        case Link(text, target):
            return f'<a href="#{html.escape(target)}">{html.escape(text)}</a>'
        case Target(text, target):
            return f'<code id="{html.escape(target)}">{html.escape(text)}</code>'
        case str():
            return html.escape(item)


def _html_cell(cell: Cell) -> str:
    return "".join(_html_inline(i) for i in cell)


def render_html(blocks: Sequence[Block], title: str) -> str:
    """The catalog as one standalone HTML5 page with a table of contents; every text escaped."""
    body: list[str] = []
    toc = [
        f'<li><a href="#{html.escape(b.anchor)}">{_html_cell(b.text)}</a></li>'
        for b in blocks
        if isinstance(b, Heading) and b.level == 2 and b.anchor
    ]
    for block in blocks:
        match block:
            case Heading(level, text, target):
                ident = f' id="{html.escape(target)}"' if target else ""
                body.append(f"<h{level}{ident}>{_html_cell(text)}</h{level}>")
                if level == 1:
                    body.append("<nav><ul>" + "".join(toc) + "</ul></nav>")
            case Para(text):
                body.append(f"<p>{_html_cell(text)}</p>")
            case Table(header, rows):
                head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
                lines = ["<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>" for row in rows]
                body.append(
                    f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(lines) + "\n</tbody>\n</table>"
                )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def catalog(ws: m.Workspace, format: str = "md") -> str:
    """The catalog of a workspace as Markdown (``md``) or a standalone HTML page (``html``)."""
    blocks = catalog_blocks(ws)
    if format == "html":
        return render_html(blocks, f"{ws.organization.name} {ws.organization.version} — KPI catalog")
    return render_markdown(blocks)
