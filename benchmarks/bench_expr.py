"""Expression benchmark: parse and type-check 1,000 varied formulas (goal: under 1 s).

    .venv/bin/python benchmarks/bench_expr.py [--count 1000] [--compile]

The formulas cycle through templates covering every function, operator and literal kind,
each instance with different columns and constants so nothing is cached between them.
--compile also times compiling the checked trees to DuckDB SQL text.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlglot  # noqa: E402

from kpi_engine.expr.scope import Calendar, Duration, KpiInfo, Scope, Type  # noqa: E402
from kpi_engine.expr.typecheck import FormulaKind, check  # noqa: E402
from kpi_engine.sql.compile_expr import TableContext, compile_expr, to_sql  # noqa: E402

NUMBERS = ("amount", "qty", "csat", "`First Response (min)`")
WINDOWS = ((540, 1080),)
CALENDAR = Calendar("office", "Europe/Riga", {d: WINDOWS for d in range(1, 6)}, (datetime.date(2025, 1, 1),))
SCOPE = Scope(
    columns={
        "amount": Type.NUMBER,
        "qty": Type.NUMBER,
        "csat": Type.NUMBER,
        "First Response (min)": Type.NUMBER,
        "priority": Type.STRING,
        "channel": Type.STRING,
        "down": Type.BOOLEAN,
        "created_at": Type.TIMESTAMP,
        "resolved_at": Type.TIMESTAMP,
        "due": Type.DATE,
    },
    relations={"agent": Scope(columns={"id": Type.STRING, "unit": Type.STRING})},
    segments={"critical": None, "routine": None},
    params={"sla_hours": Decimal(4), "sla": Duration(Decimal(14400)), "target": Decimal("0.8")},
    kpis={"revenue": KpiInfo(), "visits": KpiInfo()},
    calendars={"office": CALENDAR},
)
TEMPLATES: tuple[tuple[FormulaKind, str], ...] = (
    ("formula", "median(minutes(resolved_at - created_at)) + {k}"),
    ("formula", "share(hours(resolved_at - created_at) <= $sla_hours, critical) * {k}%"),
    ("formula", "sum({n}) / count() - avg({m}) * {k}"),
    ("formula", "percentile({n}, {p}%) - stddev({m})"),
    ("formula", "count_if({n} between {k} and {k2} and not down) / nullif_guard"),
    ("formula", "avg(business_hours(created_at, resolved_at)) + sum(business_days(created_at, due, 'office'))"),
    ("formula", "round(avg_if({n}, channel in ('email', 'chat', 'x{k}')), 2) + least(max({m}), {k}, null)"),
    ("formula", "count_distinct(agent.unit) + count({n}) + min({m}) + max({n}) * {k}"),
    ("formula", "sum_if({n}, priority = 'critical' or down is null) / greatest(count(), 1)"),
    ("formula", "avg(if(weekday(created_at) >= 6, {n}, 0)) + sum(year(due) - 2000) + quarter(max(due))"),
    ("formula", "coalesce(avg({n}) / sum({m}), 0) + abs(floor(-avg({n}))) + ceil({k}.5)"),
    ("where", "priority = 'critical' and {n} > {k} or agent.unit <> 'north' and down"),
    ("where", "created_at >= date '2025-0{d}-1{d}' and resolved_at <= created_at + $sla"),
    ("where", "lower(trim(channel)) not in ('phone', 'x{k}') and {n} is not null"),
    ("valid_if", "share(critical) < {k}% and count() >= {k}"),
    ("derived", "revenue / previous(visits) - {k}"),
    ("formula", "avg(csat) + sum(qty"),  # a syntax error: errors cost time too
    ("formula", "avg(csta) + sum(priority)"),  # type errors
)


def formulas(count: int) -> list[tuple[FormulaKind, str]]:
    out = []
    for i in range(count):
        kind, template = TEMPLATES[i % len(TEMPLATES)]
        text = template.format(
            n=NUMBERS[i % 4], m=NUMBERS[(i // 4) % 4], k=i % 97 + 1, k2=i % 97 + 50, p=i % 100, d=i % 9 + 1
        ).replace("nullif_guard", f"({i % 7 + 1} + count())")
        out.append((kind, text))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    work = formulas(args.count)
    check(*work[0], SCOPE)  # build the Lark parser once, outside the timing
    start = time.perf_counter()
    results = [check(text, kind, SCOPE) for kind, text in work]
    elapsed = time.perf_counter() - start
    ok = sum(r.ok for r in results)
    chars = sum(len(t) for _, t in work)
    print(
        f"parse + typecheck: {len(work)} formulas ({chars} characters, {ok} valid, {len(work) - ok} with "
        f"diagnostics) in {elapsed:.3f} s ({elapsed / len(work) * 1e6:.0f} µs each); goal < 1 s: "
        f"{'met' if elapsed < 1 else 'MISSED'}"
    )
    if args.compile:
        segments = {
            "critical": sqlglot.condition('"t"."priority" = \'critical\''),
            "routine": sqlglot.condition('"t"."priority" <> \'critical\''),
        }
        ctx = TableContext(params=SCOPE.params, calendars=SCOPE.calendars, segments=segments)
        typed = [r.expr for r in results if r.expr is not None]
        start = time.perf_counter()
        chars = sum(len(to_sql(compile_expr(expr, ctx), ctx.dialect)) for expr in typed)
        elapsed = time.perf_counter() - start
        print(f"compile to DuckDB SQL: {len(typed)} formulas ({chars} characters of SQL) in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
