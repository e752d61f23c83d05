"""A run's results as tables of columns, and the JSON documents (SPEC §7.2) they print as.

Numbers at 12 significant digits, money as strings at the plan's unit, definitions as the user wrote
them. :func:`evaluation_results` and :func:`bonus_results` round every number once and build each
result row once, as columns of the plain values the JSON shows; the ledger (audit/) hashes and stores
those columns and the reports (report/) render CSV, JSON and tables from them, so this module sits
below both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from kpi_engine.json_text import dumps
from kpi_engine.scoring.exact import TWELVE, to_decimal12
from kpi_engine.scoring.payout import PersonPayout, round_money

if TYPE_CHECKING:
    from kpi_engine.evaluation import Evaluation
    from kpi_engine.pay import BonusRun

_PLAIN = re.compile(r"[A-Za-z0-9_.%/+-][A-Za-z0-9_.%/+ -]*")
_LIMIT = 10**15


def number(value: Decimal | int | None, _plus: Callable[[Decimal], Decimal] = TWELVE.plus) -> float | int | None:
    """A JSON number rounded to 12 significant digits, half-even (an integral result is an int).

    Integral results below 10^15 are ints, so counts print as 12, not 12.0; every other result is the
    float whose shortest repr has the rounded digits. :func:`stored_number` undoes the storage as a
    float exactly.
    """
    if type(value) is Decimal and value.is_finite():  # the common case first: it runs for every value
        rounded = float(_plus(value))  # a 12-digit decimal converts to the float that prints its digits
        return int(rounded) if rounded.is_integer() and -_LIMIT < rounded < _LIMIT else rounded
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int) and -_LIMIT < value < _LIMIT:
        return value
    if isinstance(value, Decimal):
        raise ValueError(f"value must be finite, not {value}")
    return number(to_decimal12(value))


def stored_number(value: float | None) -> float | int | None:
    """A :func:`number` stored as a float, back as :func:`number` gave it (int when integral below 10^15)."""
    if value is not None and value.is_integer() and -_LIMIT < value < _LIMIT:
        return int(value)
    return value


def money(value: Decimal | None, unit: Decimal = Decimal("0.01")) -> str | None:
    """Money as a string at the plan's unit ("1234.50"), never "-0.00".

    Amounts reaching here are already rounded to the unit; quantize only fixes the scale (3000 → 3000.00).
    """
    if value is None:
        return None
    if value == 0:
        value = abs(value)
    exponent = unit.normalize().as_tuple().exponent
    scale = Decimal(1).scaleb(min(0, int(exponent))) if isinstance(exponent, int) else Decimal(1)
    # The default context (28 digits) cannot rescale a larger amount; money is exact, so widen it.
    return format(value.quantize(scale, context=Context(prec=max(28, value.adjusted() + 40))), "f")


def to_json(document: Any) -> str:
    """Deterministic, human-readable JSON (UTF-8, two-space indent, a final newline)."""
    return dumps(document) + "\n"


def written(value: Any, nested: bool = False) -> str:
    """A value as the user wrote it: scalars as text, mappings and lists in YAML flow style."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {written(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(written(v, True) for v in value) + "]"
    text = str(value)
    if (
        nested
        and not isinstance(value, int)
        and (not _PLAIN.fullmatch(text) or text.strip() != text or text in ("true", "false", "null", "~"))
    ):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


# --- results as tables of columns ------------------------------------------------------------

LAYOUT = "columns/1"
"""How the ledger keeps a run's results: these tables, one row per result (hashed by audit/hashing.py)."""

Kind = Literal["text", "number", "integer", "texts"]
"""What a column holds: strings, :func:`number` values, integers, or lists of strings (`by` values)."""

Columns = tuple[tuple[str, Kind], ...]

SCHEMA: dict[str, dict[str, Columns]] = {
    "evaluate": {
        "kpis": (
            ("kpi", "text"),
            ("subject_type", "text"),
            ("subject", "text"),
            ("period", "text"),
            ("value", "number"),
            ("n", "integer"),
            ("status", "text"),
            ("score", "number"),
            ("rank", "integer"),
            ("by", "texts"),
        ),
        "scorecards": (("scorecard", "text"), ("person", "text"), ("period", "text"), ("total_score", "number")),
        "items": (
            ("card", "integer"),
            ("kpi", "text"),
            ("at", "text"),
            ("subject", "text"),
            ("weight", "number"),
            ("value", "number"),
            ("status", "text"),
            ("score", "number"),
            ("contribution", "number"),
        ),
        "goals": (("goal", "text"), ("period", "text"), ("status", "text"), ("attainment", "number")),
    },
    "bonus": {
        "payouts": (
            ("person", "text"),
            ("scorecard", "text"),
            ("total_score", "number"),
            ("factor", "number"),
            ("proration", "number"),
            ("target_bonus", "text"),
            ("computed", "text"),
            ("payout", "text"),
            ("share", "number"),
            ("reason", "text"),
        ),
    },
}
"""The tables of each kind of run, in order, with their columns in order: what the ledger stores and hashes.

`items.card` is the row of the item's scorecard in `scorecards`; `kpis.by` holds a row's breakdown
values in the order of the run's `by` field (null without `--by`).
"""


def column_json(values: Sequence[Any]) -> str:
    """A column's values as compact ASCII JSON: what the results hash covers and the ledger loads.

    Its numbers are also the text every output prints them with (ints and floats print alike in
    compact and indented JSON, in CSV and in the ledger's DOUBLE text), so a float is formatted once.
    """
    return json.dumps(values, separators=(",", ":"), allow_nan=False)


def json_cells(text: str) -> list[str]:
    """The values of a :func:`column_json` array of numbers, each as its own JSON text (`null` included)."""
    return text[1:-1].split(",") if len(text) > 2 else []


@dataclass(frozen=True)
class Table:
    """One table of a run's results: one list per column, all of one length."""

    name: str
    columns: Columns
    data: tuple[list[Any], ...]

    def __len__(self) -> int:
        return len(self.data[0]) if self.data else 0

    def index(self, name: str) -> int:
        """The position of a column."""
        return [c for c, _ in self.columns].index(name)

    def column(self, name: str) -> list[Any]:
        """The values of one column."""
        return self.data[self.index(name)]

    @cached_property
    def json(self) -> tuple[str, ...]:
        """Every column as :func:`column_json`, written once for the hash, the ledger and the outputs."""
        return tuple(map(column_json, self.data))


@dataclass(frozen=True)
class Results:
    """What a run computed: its kind, a few fields and its tables (:data:`SCHEMA`).

    The fields: a bonus run's plan, currency, pool and total; an evaluation's `by` columns.
    """

    kind: str
    fields: dict[str, Any]
    tables: dict[str, Table]

    def table(self, name: str) -> Table:
        """One of the run's tables."""
        return self.tables[name]


def make_table(kind: str, name: str, data: Sequence[list[Any]]) -> Table:
    """A table of the schema from its columns (checked to be of one length)."""
    columns = SCHEMA[kind][name]
    if len(data) != len(columns) or len({len(d) for d in data}) > 1:
        raise ValueError(f"table `{name}` needs {len(columns)} columns of one length")
    return Table(name, columns, tuple(data))


def _numbers(values: Iterable[Decimal | None]) -> list[float | int | None]:
    """:func:`number` of each value, each distinct value rounded once.

    A column repeats values (weights, capped and zero scores, shares of small counts), and
    :func:`number` depends on the value alone (equal decimals such as 0.5 and 0.50 round alike).
    """
    given = values if isinstance(values, list) else list(values)
    if bool in set(map(type, given)):  # True and 1 are one key: let number() refuse the boolean
        return list(map(number, given))
    rounded = {v: number(v) for v in dict.fromkeys(given)}
    return list(map(rounded.__getitem__, given))


def _transpose(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows (named tuples of results) as one list per field (one C-level pass each; `zip(*rows)` is slower)."""
    return [list(map(itemgetter(i), rows)) for i in range(width)]


def evaluation_results(ev: Evaluation) -> Results:
    """An evaluation's KPI results, scorecards (sorted) and goals as tables; every number rounded once."""
    kpi, kind, subject, period, value, n, status, score, rank, by, _ = _transpose(ev.kpis, 11)
    names = [name for name, _ in by[0]] if by and by[0] else []
    if any([name for name, _ in pairs] != names for pairs in by):
        raise ValueError("the KPI results of one evaluation break down by different columns")
    by_values: list[Any] = [[v for _, v in pairs] for pairs in by] if names else [None] * len(by)
    kpis = [kpi, kind, subject, period, _numbers(value), n, status, _numbers(score), rank, by_values]
    cards = sorted(ev.scorecards, key=lambda s: (s.scorecard, s.person, s.period))
    items = [item for card in cards for item in card.items]
    i_kpi, i_at, i_subject, i_weight, i_value, _, i_status, i_score, i_contribution, _, _ = _transpose(items, 11)
    return Results(
        "evaluate",
        {"by": names},
        {
            "kpis": make_table("evaluate", "kpis", kpis),
            "scorecards": make_table(
                "evaluate",
                "scorecards",
                [
                    [s.scorecard for s in cards],
                    [s.person for s in cards],
                    [s.period for s in cards],
                    _numbers(s.total_score for s in cards),
                ],
            ),
            "items": make_table(
                "evaluate",
                "items",
                [
                    [i for i, card in enumerate(cards) for _ in card.items],
                    i_kpi,
                    i_at,
                    i_subject,
                    _numbers(i_weight),
                    _numbers(i_value),
                    i_status,
                    _numbers(i_score),
                    _numbers(i_contribution),
                ],
            ),
            "goals": make_table(
                "evaluate",
                "goals",
                [
                    [g.goal for g in ev.goals],
                    [g.period for g in ev.goals],
                    [g.status for g in ev.goals],
                    _numbers(g.attainment for g in ev.goals),
                ],
            ),
        },
    )


def target_bonus(run: BonusRun, p: PersonPayout) -> str | None:
    """A person's target bonus as money at the plan's unit, rounded as the plan rounds; None without one."""
    if p.target_bonus is None:
        return None
    return money(round_money(p.target_bonus, run.plan.rounding_to, run.plan.rounding_mode), run.plan.rounding_to)


def bonus_results(run: BonusRun, currency: str) -> Results:
    """A bonus run's payouts as a table, and its plan, currency, pool and total; money as strings."""
    unit, payouts = run.plan.rounding_to, run.result.payouts
    return Results(
        "bonus",
        {
            "plan": run.plan.id,
            "currency": currency,
            "pool": money(run.result.pool, unit) if run.result.pool is not None else None,
            "total": money(run.result.total, unit),
        },
        {
            "payouts": make_table(
                "bonus",
                "payouts",
                [
                    [p.person for p in payouts],
                    [p.scorecard for p in payouts],
                    _numbers(p.total_score for p in payouts),
                    _numbers(p.factor for p in payouts),
                    _numbers(p.proration for p in payouts),
                    [target_bonus(run, p) for p in payouts],
                    [money(p.computed, unit) for p in payouts],
                    [money(p.payout, unit) for p in payouts],
                    _numbers(p.share for p in payouts),
                    [p.reason for p in payouts],
                ],
            )
        },
    )


# --- the documents ---------------------------------------------------------------------------


def _records(table: Table, keys: Sequence[str], values: Mapping[str, list[Any]] | None = None) -> list[Any]:
    """The table's rows as dicts with `keys` in that order; `values` gives the columns a table does not hold."""
    data = [values[k] if values and k in values else table.column(k) for k in keys]
    return [dict(zip(keys, row, strict=True)) for row in zip(*data, strict=True)]


def _kpi_records(results: Results, keys: Sequence[str], sort_keys: bool) -> list[dict[str, Any]]:
    table = results.table("kpis")
    names: list[str] = results.fields.get("by") or []
    if not names:
        return _records(table, [k for k in keys if k != "by"])
    order = sorted(names) if sort_keys else names
    position = [names.index(name) for name in order]
    by = [None if v is None else {order[i]: v[p] for i, p in enumerate(position)} for v in table.column("by")]
    return _records(table, keys, {"by": by})


def _scorecard_records(results: Results, keys: Sequence[str], item_keys: Sequence[str]) -> list[dict[str, Any]]:
    items: list[list[dict[str, Any]]] = [[] for _ in range(len(results.table("scorecards")))]
    cards = results.table("items").column("card")
    for card, item in zip(cards, _records(results.table("items"), item_keys), strict=True):
        items[card].append(item)
    return _records(results.table("scorecards"), keys, {"items": items})


KPI_KEYS = ("kpi", "subject_type", "subject", "period", "value", "n", "status", "score", "rank", "by")
SCORECARD_KEYS = ("scorecard", "person", "period", "total_score", "items")
ITEM_KEYS = ("kpi", "at", "subject", "weight", "value", "status", "score", "contribution")
GOAL_KEYS = ("goal", "period", "status", "attainment")
PAYOUT_KEYS = (
    "person",
    "scorecard",
    "total_score",
    "factor",
    "proration",
    "target_bonus",
    "computed",
    "payout",
    "share",
    "reason",
)


def results_document(results: Results, sort_keys: bool = False) -> dict[str, Any]:
    """The run's JSON document without its run block (SPEC §7.2).

    `sort_keys`: every object's keys in sorted order, as the ledger has always shown a run's results.
    """

    def keys(found: Sequence[str]) -> Sequence[str]:
        return sorted(found) if sort_keys else found

    if results.kind == "bonus":
        fields = results.fields
        document: dict[str, Any] = {
            "plan": fields.get("plan"),
            "currency": fields.get("currency"),
            "pool": fields.get("pool"),
            "total": fields.get("total"),
            "payouts": _records(results.table("payouts"), keys(PAYOUT_KEYS)),
        }
    else:
        document = {
            "kpis": _kpi_records(results, keys(KPI_KEYS), sort_keys),
            "scorecards": _scorecard_records(results, keys(SCORECARD_KEYS), keys(ITEM_KEYS)),
            "goals": _records(results.table("goals"), keys(GOAL_KEYS)),
        }
    return {k: document[k] for k in keys(list(document))}


def payout_pairs(results: Results | Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """(person, payout as money text) of a bonus run's results, columns or a stored document, in order."""
    if isinstance(results, Results):
        table = results.tables.get("payouts")
        return [] if table is None else list(zip(table.column("person"), table.column("payout"), strict=True))
    return [(p.get("person"), p.get("payout")) for p in results.get("payouts", []) if isinstance(p, dict)]


def payouts(results: Results | Mapping[str, Any]) -> dict[str, Any]:
    """Person → payout (money text) of a bonus run's results, columns or a stored document."""
    return {str(person): paid for person, paid in payout_pairs(results)}
