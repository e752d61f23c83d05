"""Hypothesis strategies: well-typed formula ASTs over the exprkit scope, random rows with
nulls, zeros, negatives and DST-crossing timestamps, and arbitrary (untyped) ASTs for the
printer round trip."""

from __future__ import annotations

import datetime
import string
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from kpi_engine.expr import ast
from kpi_engine.expr.ast import Expr
from kpi_engine.expr.printer import KEYWORDS

SearchStrategy = st.SearchStrategy

# --- well-typed formulas -------------------------------------------------------------------

NUMBER_COLUMNS = ("amount", "qty", "csat", "id", "First Response (min)")
STRING_COLUMNS = (("priority",), ("channel",), ("agent", "unit"))
TIMESTAMP_COLUMNS = ("created_at", "resolved_at")
BOOLEAN_NAMES = ("down", "critical", "routine", "emailed")
NUMBER_LITERALS = tuple(Decimal(v) for v in ("0", "1", "2", "3", "0.5", "0.25", "10", "0.1", "100"))
STRING_LITERALS = ("a", "b", "B", " a ", "", "it's", "critical")
SAFE_TIMESTAMPS = tuple(
    datetime.datetime.fromisoformat(t)
    for t in ("2025-03-29 12:00", "2025-03-30 01:30", "2025-03-30 05:00", "2025-03-31 09:15", "2025-04-02 18:00")
)
DATES = tuple(datetime.date(2025, 3, 25) + datetime.timedelta(days=i) for i in range(0, 16, 3))


def _name(*parts: str) -> Expr:
    return ast.Name(tuple(parts))


def number_literal() -> SearchStrategy[Expr]:
    return st.one_of(
        st.sampled_from(NUMBER_LITERALS).map(lambda v: ast.Number(v)),
        st.sampled_from((Decimal("0.8"), Decimal("0.5"))).map(lambda v: ast.Number(v, percent=True)),
        st.sampled_from(("sla_hours", "target")).map(ast.Param),
    )


def duration_literal() -> SearchStrategy[Expr]:
    return st.one_of(
        st.sampled_from(
            [
                (Decimal(30), "s"),
                (Decimal(900), "min"),
                (Decimal(3600), "h"),
                (Decimal(14400), "h"),
                (Decimal(86400), "d"),
                (Decimal(604800), "w"),
            ]
        ).map(lambda p: ast.DurationLit(*p)),
        st.just(ast.Param("sla")),
    )


def _choice(*options: SearchStrategy[Expr]) -> SearchStrategy[Expr]:
    """Pick one of the strategies uniformly (``one_of`` favours the first ones heavily here)."""
    return st.integers(0, len(options) - 1).flatmap(lambda i: options[i])


class Formulas:
    """Strategies for expressions of one type at one level ("row" or "agg")."""

    def __init__(self, max_depth: int = 3) -> None:
        self.max_depth = max_depth

    # numbers
    def number(self, level: str, depth: int) -> SearchStrategy[Expr]:
        leaves = [number_literal()]
        if level == "row":
            leaves.append(st.sampled_from(NUMBER_COLUMNS).map(_name))
        else:
            leaves.append(self.number_aggregate(depth))
        if depth <= 0:
            return _choice(*leaves)
        d = depth - 1
        n = self.number(level, d)
        compound = [
            st.tuples(st.sampled_from("+-*/"), n, n).map(lambda t: ast.Arith(t[0], t[1], t[2])),  # type: ignore[arg-type]
            n.map(ast.Neg),
            st.tuples(st.sampled_from(("abs", "floor", "ceil")), n).map(lambda t: ast.Call(t[0], (t[1],))),
            st.tuples(n, st.sampled_from((0, 1, 2, -1))).map(
                lambda t: (
                    ast.Call(
                        "round",
                        (t[0], ast.Number(Decimal(abs(t[1]))) if t[1] >= 0 else ast.Neg(ast.Number(Decimal(-t[1])))),
                    )
                    if t[1]
                    else ast.Call("round", (t[0],))
                )
            ),
            st.tuples(self.boolean(level, d), n, n).map(lambda t: ast.Call("if", t)),
            st.tuples(n, st.one_of(n, st.just(ast.Null()))).map(lambda t: ast.Call("coalesce", t)),
            st.tuples(st.sampled_from(("least", "greatest")), st.lists(n, min_size=2, max_size=3)).map(
                lambda t: ast.Call(t[0], tuple(t[1]))
            ),
            st.tuples(st.sampled_from(("seconds", "minutes", "hours", "days")), self.duration(level, d)).map(
                lambda t: ast.Call(t[0], (t[1],))
            ),
            st.tuples(
                st.sampled_from(("year", "month", "quarter", "weekday")),
                st.one_of(self.timestamp(level, d), self.date(level, d)),
            ).map(lambda t: ast.Call(t[0], (t[1],))),
        ]
        if level == "row":
            compound.append(
                st.tuples(
                    st.sampled_from(("business_hours", "business_days")),
                    st.sampled_from(TIMESTAMP_COLUMNS + ("due",)),
                    st.sampled_from(TIMESTAMP_COLUMNS + ("due",)),
                    st.sampled_from(("office", "night")),
                ).map(lambda t: ast.Call(t[0], (_name(t[1]), _name(t[2]), ast.String(t[3]))))
            )
        return _choice(*leaves, *compound)

    def number_aggregate(self, depth: int) -> SearchStrategy[Expr]:
        d = max(depth - 1, 0)
        num, boolean, anything = self.number("row", d), self.boolean("row", d), self.any_row(d)
        dur = self.duration("row", d)
        p = st.one_of(
            st.sampled_from(("0", "0.25", "0.5", "0.9", "1")).map(lambda v: ast.Number(Decimal(v))),
            st.just(ast.Param("target")),
        )
        options: dict[str, SearchStrategy[Expr]] = {
            "count": st.just(ast.Call("count", ())),
            "count_x": anything.map(lambda e: ast.Call("count", (e,))),
            "count_distinct": anything.map(lambda e: ast.Call("count_distinct", (e,))),
            "count_if": boolean.map(lambda e: ast.Call("count_if", (e,))),
            "percentile": st.tuples(num, p).map(lambda t: ast.Call("percentile", t)),
            "share": st.lists(boolean, min_size=1, max_size=2).map(lambda xs: ast.Call("share", tuple(xs))),
            "duration": st.tuples(
                st.sampled_from(("hours", "minutes")),
                st.tuples(st.sampled_from(("sum", "avg", "min", "max", "median", "stddev")), dur).map(
                    lambda t: ast.Call(t[0], (t[1],))
                ),
            ).map(lambda t: ast.Call(t[0], (t[1],))),
        }
        for name in ("sum", "avg", "min", "max", "median", "stddev"):
            options[name] = num.map(lambda e, name=name: ast.Call(name, (e,)))  # type: ignore[misc]
        for name in ("sum_if", "avg_if"):
            options[name] = st.tuples(num, boolean).map(lambda t, name=name: ast.Call(name, t))  # type: ignore[misc]
        return st.sampled_from(sorted(options)).flatmap(lambda key: options[key])

    # booleans
    def boolean(self, level: str, depth: int) -> SearchStrategy[Expr]:
        leaves: list[SearchStrategy[Expr]] = [st.booleans().map(ast.Boolean), st.just(ast.Param("strict"))]
        if level == "row":
            leaves.append(st.sampled_from(BOOLEAN_NAMES).map(_name))
        if depth <= 0:
            return _choice(*leaves)
        d = depth - 1
        b, n, s = self.boolean(level, d), self.number(level, d), self.string(level, d)
        compare = st.sampled_from(("=", "<>", "<", "<=", ">", ">="))
        return _choice(
            *leaves,
            st.tuples(compare, n, n).map(lambda t: ast.Compare(*t)),  # type: ignore[arg-type]
            st.tuples(compare, s, s).map(lambda t: ast.Compare(*t)),  # type: ignore[arg-type]
            st.tuples(compare, self.duration(level, d), self.duration(level, d)).map(lambda t: ast.Compare(*t)),  # type: ignore[arg-type]
            st.tuples(compare, self.timestamp(level, d), st.one_of(self.timestamp(level, d), self.date(level, d))).map(
                lambda t: ast.Compare(*t)
            ),  # type: ignore[arg-type]
            st.tuples(st.sampled_from(("and", "or")), b, b).map(lambda t: ast.Logic(*t)),  # type: ignore[arg-type]
            b.map(ast.Not),
            st.tuples(self.any_of(level, d), st.booleans()).map(lambda t: ast.IsNull(*t)),
            st.tuples(n, st.lists(st.one_of(n, st.just(ast.Null())), min_size=1, max_size=3), st.booleans()).map(
                lambda t: ast.InList(t[0], tuple(t[1]), t[2])
            ),
            st.tuples(s, st.lists(s, min_size=1, max_size=3), st.booleans()).map(
                lambda t: ast.InList(t[0], tuple(t[1]), t[2])
            ),
            st.tuples(n, n, n, st.booleans()).map(lambda t: ast.Between(*t)),
        )

    # durations
    def duration(self, level: str, depth: int) -> SearchStrategy[Expr]:
        leaves = [duration_literal()]
        if level == "row":
            leaves.append(
                st.tuples(st.sampled_from(TIMESTAMP_COLUMNS), st.sampled_from(TIMESTAMP_COLUMNS)).map(
                    lambda t: ast.Arith("-", _name(t[0]), _name(t[1]))
                )
            )
            leaves.append(st.just(ast.Arith("-", _name("due"), ast.Call("date", (_name("created_at"),)))))
        else:
            leaves.append(
                st.tuples(
                    st.sampled_from(("sum", "avg", "min", "max", "median")), self.duration("row", max(depth - 1, 0))
                ).map(lambda t: ast.Call(t[0], (t[1],)))
            )
        if depth <= 0:
            return _choice(*leaves)
        d = depth - 1
        dur, n = self.duration(level, d), self.number(level, d)
        return _choice(
            *leaves,
            st.tuples(st.sampled_from("+-"), dur, dur).map(lambda t: ast.Arith(t[0], t[1], t[2])),  # type: ignore[arg-type]
            st.tuples(dur, n).map(lambda t: ast.Arith("*", t[0], t[1])),
            st.tuples(n, dur).map(lambda t: ast.Arith("*", t[0], t[1])),
            st.tuples(dur, n).map(lambda t: ast.Arith("/", t[0], t[1])),
            dur.map(ast.Neg),
        )

    # timestamps and dates
    def timestamp(self, level: str, depth: int) -> SearchStrategy[Expr]:
        leaves = [st.sampled_from(SAFE_TIMESTAMPS).map(ast.TimestampLit)]
        if level == "row":
            leaves.append(st.sampled_from(TIMESTAMP_COLUMNS).map(_name))
        else:
            leaves.append(
                st.tuples(st.sampled_from(("min", "max")), st.sampled_from(TIMESTAMP_COLUMNS)).map(
                    lambda t: ast.Call(t[0], (_name(t[1]),))
                )
            )
        if depth <= 0:
            return _choice(*leaves)
        d = depth - 1
        return _choice(
            *leaves,
            st.tuples(st.sampled_from("+-"), self.timestamp(level, d), duration_literal()).map(
                lambda t: ast.Arith(t[0], t[1], t[2])
            ),  # type: ignore[arg-type]
        )

    def date(self, level: str, depth: int) -> SearchStrategy[Expr]:
        leaves = [st.sampled_from(DATES).map(ast.DateLit)]
        if level == "row":
            leaves.append(st.just(_name("due")))
            leaves.append(st.sampled_from(TIMESTAMP_COLUMNS).map(lambda c: ast.Call("date", (_name(c),))))
        else:
            leaves.append(st.sampled_from(("min", "max")).map(lambda f: ast.Call(f, (_name("due"),))))
        return _choice(*leaves)

    # strings
    def string(self, level: str, depth: int) -> SearchStrategy[Expr]:
        leaves = [st.sampled_from(STRING_LITERALS).map(ast.String), st.just(ast.Param("vip"))]
        if level == "row":
            leaves.append(st.sampled_from(STRING_COLUMNS).map(lambda p: _name(*p)))
        else:
            leaves.append(
                st.tuples(st.sampled_from(("min", "max")), st.sampled_from(STRING_COLUMNS)).map(
                    lambda t: ast.Call(t[0], (_name(*t[1]),))
                )
            )
        if depth <= 0:
            return _choice(*leaves)
        s = self.string(level, depth - 1)
        return _choice(
            *leaves,
            st.tuples(st.sampled_from(("lower", "upper", "trim")), s).map(lambda t: ast.Call(t[0], (t[1],))),
            st.tuples(s, s).map(lambda t: ast.Call("coalesce", t)),
        )

    def any_row(self, depth: int) -> SearchStrategy[Expr]:
        return self.any_of("row", depth)

    def any_of(self, level: str, depth: int) -> SearchStrategy[Expr]:
        return _choice(
            self.number(level, depth),
            self.string(level, depth),
            self.boolean(level, 0),
            self.duration(level, 0),
            self.date(level, 0),
        )

    # top level
    def formula(self) -> SearchStrategy[Expr]:
        return _choice(self.number("agg", self.max_depth), self.duration("agg", self.max_depth - 1))

    def row_value(self) -> SearchStrategy[Expr]:
        depth = self.max_depth
        return _choice(
            self.number("row", depth),
            self.boolean("row", depth),
            self.duration("row", depth - 1),
            self.string("row", depth - 1),
            self.timestamp("row", depth - 1),
            self.date("row", 0),
        )


# --- random rows --------------------------------------------------------------------------

_UTC = datetime.UTC
_BASE = datetime.datetime(2025, 3, 29, 20, 0, tzinfo=_UTC)  # Riga DST starts 2025-03-30 01:00 UTC


def _maybe(values: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return st.one_of(st.none(), values)


ROW_VALUES: dict[str, SearchStrategy[Any]] = {
    "amount": _maybe(st.one_of(st.integers(-40, 40).map(lambda k: k / 4), st.sampled_from((0.0, 0.1, 1000.5)))),
    "qty": _maybe(st.integers(-3, 6).map(float)),
    "csat": _maybe(st.integers(1, 5).map(float)),
    "First Response (min)": _maybe(st.integers(0, 120).map(float)),
    "priority": _maybe(st.sampled_from(("critical", "high", "a", "b", "B", " a ", "", "it's"))),
    "channel": _maybe(st.sampled_from(("email", "phone", "a", " a "))),
    "down": _maybe(st.booleans()),
    "created_at": _maybe(st.integers(-60, 200).map(lambda k: _BASE + datetime.timedelta(minutes=37 * k))),
    "resolved_at": _maybe(st.integers(-60, 260).map(lambda k: _BASE + datetime.timedelta(minutes=41 * k))),
    "due": _maybe(st.integers(0, 20).map(lambda k: datetime.date(2025, 3, 24) + datetime.timedelta(days=k))),
    "agent_id": _maybe(st.sampled_from(("a1", "a2", "a3", "zz"))),
}


@st.composite
def rows(draw: Any, max_size: int = 6) -> list[dict[str, Any]]:
    count = draw(st.integers(0, max_size))
    out = []
    for i in range(count):
        row = {name: draw(values) for name, values in ROW_VALUES.items()}
        row["id"] = float(i + 1)
        out.append(row)
    return out


# --- arbitrary ASTs for print → parse ---------------------------------------------------------

_IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_PLAIN = _IDENT.filter(lambda s: s.lower() not in KEYWORDS)
_ODD = st.text(alphabet=string.printable + "äß€", min_size=1, max_size=8)


def any_ast(max_leaves: int = 12) -> SearchStrategy[Expr]:
    leaves: SearchStrategy[Expr] = st.one_of(
        st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False).map(ast.Number),
        st.integers(0, 500).map(lambda k: ast.Number(Decimal(k) / 100, percent=True)),
        st.tuples(st.integers(0, 10**5), st.sampled_from(("s", "min", "h", "d", "w"))).map(
            lambda t: ast.DurationLit(
                Decimal(t[0]) * {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}[t[1]], t[1]
            )
        ),
        st.text(max_size=6).map(ast.String),
        st.booleans().map(ast.Boolean),
        st.just(ast.Null()),
        st.dates(min_value=datetime.date(1000, 1, 1)).map(ast.DateLit),
        st.datetimes(
            min_value=datetime.datetime(1000, 1, 1),
            timezones=st.one_of(
                st.none(),
                st.sampled_from(
                    (
                        _UTC,
                        datetime.timezone(datetime.timedelta(hours=2)),
                        datetime.timezone(datetime.timedelta(hours=-5, minutes=-30)),
                    )
                ),
            ),
        ).map(ast.TimestampLit),
        st.lists(st.one_of(_PLAIN, _ODD), min_size=1, max_size=3).map(lambda p: ast.Name(tuple(p))),
        _IDENT.map(ast.Param),
    )

    def extend(children: SearchStrategy[Expr]) -> SearchStrategy[Expr]:
        return st.one_of(
            children.map(ast.Neg),
            children.map(ast.Not),
            st.tuples(st.sampled_from("+-*/"), children, children).map(lambda t: ast.Arith(*t)),  # type: ignore[arg-type]
            st.tuples(st.sampled_from(("and", "or")), children, children).map(lambda t: ast.Logic(*t)),  # type: ignore[arg-type]
            st.tuples(st.sampled_from(("=", "<>", "<", "<=", ">", ">=")), children, children).map(
                lambda t: ast.Compare(*t)
            ),  # type: ignore[arg-type]
            st.tuples(children, st.booleans()).map(lambda t: ast.IsNull(*t)),
            st.tuples(children, st.lists(children, min_size=1, max_size=3), st.booleans()).map(
                lambda t: ast.InList(t[0], tuple(t[1]), t[2])
            ),
            st.tuples(children, children, children, st.booleans()).map(lambda t: ast.Between(*t)),
            st.tuples(_PLAIN, st.lists(children, max_size=3)).map(lambda t: ast.Call(t[0], tuple(t[1]))),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)
