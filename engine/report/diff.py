"""`kpi diff` output: JSON (SPEC §7.2), a text report for people, Markdown tables for pull requests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kpi_engine.audit.compare import Change, DefinitionsDiff, PayoutImpact
from kpi_engine.documents import money, to_json

SHOWN = 160  # longest value printed in text and Markdown (JSON carries every value whole)


def diff_document(result: DefinitionsDiff) -> dict[str, Any]:
    """``{"changes": […]}`` plus ``payouts`` and ``total`` when a plan was paid on data; money as strings."""
    document: dict[str, Any] = {
        "changes": [
            {"kind": c.kind, "path": c.path, "old": c.old, "new": c.new, "old_at": c.old_at, "new_at": c.new_at}
            for c in result.changes
        ]
    }
    impact = result.impact
    if impact is not None:
        document["payouts"] = [
            {
                "person": p.person,
                "old": _money(p.old, impact),
                "new": _money(p.new, impact),
                "delta": _money(p.delta, impact),
            }
            for p in impact.payouts
        ]
        document["total"] = {
            "old": _money(impact.old_total, impact),
            "new": _money(impact.new_total, impact),
            "delta": _money(impact.delta, impact),
        }
    return document


def diff_json(result: DefinitionsDiff) -> str:
    """The `kpi diff --format json` output: :func:`diff_document` as JSON text."""
    return to_json(diff_document(result))


def _money(value: Decimal | None, impact: PayoutImpact) -> str | None:
    return money(value, impact.unit)


def _signed(value: Decimal, impact: PayoutImpact) -> str:
    text = money(value, impact.unit) or ""
    return text if text.startswith("-") or value == 0 else "+" + text


def _short(value: str | None) -> str:
    if value is None:
        return "—"
    return value if len(value) <= SHOWN else value[: SHOWN - 1] + "…"


def _where(change: Change) -> str:
    if change.kind == "added":
        return change.new_at or ""
    if change.kind == "removed":
        return change.old_at or ""
    if change.old_at == change.new_at:
        return change.new_at or ""
    return f"{change.old_at} → {change.new_at}"


def _columns(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _impact_title(impact: PayoutImpact) -> str:
    return f"plan {impact.plan}, period {impact.period}, {impact.currency}, data of {impact.data_root}"


def diff_text(result: DefinitionsDiff) -> str:
    """A report for people: each change with its place on both sides, then the money."""
    count = len(result.changes)
    lines = [f"{result.old} → {result.new}: {count} change{'s' if count != 1 else ''} in the definitions"]
    for c in result.changes:
        if c.kind == "changed":
            lines.append(f"  ~ {c.path}: {_short(c.old)} → {_short(c.new)}  ({_where(c)})")
        else:
            sign, value = ("+", c.new) if c.kind == "added" else ("-", c.old)
            lines.append(f"  {sign} {c.path}: {_short(value)}  ({_where(c)})")
    impact = result.impact
    if impact is not None:
        lines += ["", f"Payouts on the same data — {_impact_title(impact)}"]
        rows = [["person", "name", "old", "new", "delta"]]
        rows += [
            [p.person, p.name, _money(p.old, impact) or "—", _money(p.new, impact) or "—", _signed(p.delta, impact)]
            for p in impact.payouts
        ]
        rows.append(
            [
                "total",
                "",
                _money(impact.old_total, impact) or "—",
                _money(impact.new_total, impact) or "—",
                _signed(impact.delta, impact),
            ]
        )
        table = _columns(rows, {2, 3, 4})
        rule = "-" * max(len(line) for line in table)
        lines += ["  " + line for line in [table[0], rule, *table[1:-1], rule, table[-1]]]
    return "\n".join(lines) + "\n"


def _md(text: str | None) -> str:
    if text is None:
        return "—"
    shown = _short(text).replace("|", "\\|").replace("\n", " ")
    fence = "``" if "`" in shown else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def diff_markdown(result: DefinitionsDiff) -> str:
    """Markdown for a pull request: a table of changes and a table of payout changes."""
    count = len(result.changes)
    out = [f"### Definition changes: `{result.old}` → `{result.new}` ({count})", ""]
    if result.changes:
        out += ["| change | path | old | new | where |", "|---|---|---|---|---|"]
        out += [f"| {c.kind} | `{c.path}` | {_md(c.old)} | {_md(c.new)} | {_where(c)} |" for c in result.changes]
    else:
        out.append("No changes.")
    impact = result.impact
    if impact is not None:
        out += [
            "",
            f"### Payouts on the same data — {_impact_title(impact)}",
            "",
            "| person | name | old | new | delta |",
            "|---|---|---:|---:|---:|",
        ]
        out += [
            f"| {p.person} | {p.name.replace('|', '/')} | {_money(p.old, impact) or '—'} | "
            f"{_money(p.new, impact) or '—'} | {_signed(p.delta, impact)} |"
            for p in impact.payouts
        ]
        out.append(
            f"| **total** | | **{_money(impact.old_total, impact) or '—'}** | "
            f"**{_money(impact.new_total, impact) or '—'}** | **{_signed(impact.delta, impact)}** |"
        )
    return "\n".join(out) + "\n"
