"""The report's look in one place: the Jinja2 environment (autoescaping on), number formats, status colours.

Every page and chart is a template under ``report/templates/`` (package data), rendered by one
environment built once per process. Names and ids come from YAML and data, so they are untrusted:
autoescaping turns ``<``, ``&`` and quotes into entities in text and attribute values alike.
Numbers are written with a fixed number of decimals (``Decimal`` quantized half up), so the same
run gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any, NamedTuple

import jinja2
import markupsafe
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Expr
from markupsafe import Markup

from kpi_engine.report.statement import direction_words, half_up


class Look(NamedTuple):
    """How a status shows: a colour, a symbol and words (never colour alone, SPEC §11)."""

    colour: str
    symbol: str
    word: str  # the status as printed
    meaning: str  # what it means, for the legend and titles
    css: str = "grey"  # the page's class for it: green, yellow, red or grey


GREY = "#8c8c8c"
LOOKS = {
    "green": Look("#2e7d32", "✔", "green", "target met", "green"),
    "yellow": Look("#e0a800", "▲", "yellow", "threshold met, target not", "yellow"),
    "red": Look("#c62828", "✖", "red", "threshold not met", "red"),
    "no_data": Look(GREY, "○", "no data", "no rows, or no value could be computed"),
    "insufficient": Look(GREY, "○", "too few rows", "fewer rows than the KPI's minimum sample"),
    "invalid": Look(GREY, "○", "invalid", "the data failed the KPI's validity check"),
    "not_in_force": Look(GREY, "○", "not in force", "outside the KPI's effective dates"),
    None: Look(GREY, "–", "no target", "tracked without a target"),
}


def look(status: str | None) -> Look:
    """The colour, symbol and words of a status (an unknown one shows grey, by its own name)."""
    found = LOOKS.get(status)
    return found if found is not None else Look(GREY, "○", str(status), str(status))


def _fixed(value: Decimal, places: int) -> str:
    return format(half_up(value, places), ",f")


SUFFIX = {"minutes": " min", "hours": " h", "days": " d"}


@lru_cache(maxsize=65536)  # the same values recur on many pages (a unit's, the organization's)
def number(value: Decimal | None, unit: str | None = None) -> str:
    """A KPI value for people, by its unit: `87.4%`, `8.0 min`, `1,528`, `12,500.00`, `0.93`; `—` for none."""
    if value is None:
        return "—"
    if unit == "percent":
        return _fixed(value * 100, 1) + "%"
    if unit in SUFFIX:
        return _fixed(value, 1) + SUFFIX[unit]
    if unit == "money":
        return _fixed(value, 2)
    if unit == "count" and value == value.to_integral_value():
        return _fixed(value, 0)
    return _fixed(value, 2)


@lru_cache(maxsize=65536)
def percent(value: Decimal | None) -> str:
    """A score, weight or share as a percentage with one decimal; `—` for none."""
    return "—" if value is None else _fixed(value * 100, 1) + "%"


def money_text(value: Decimal | None, unit: Decimal = Decimal("0.01")) -> str:
    """An amount at the plan's rounding unit, with thousands separators."""
    if value is None:
        return "—"
    exponent = unit.as_tuple().exponent
    return _fixed(value, max(0, -exponent) if isinstance(exponent, int) else 2)


@lru_cache(maxsize=4096)
def points(lines: tuple[tuple[str, Decimal], ...], unit: str | None) -> str:
    """Target points in words: `threshold 70.0%, target 80.0%`; `—` when there are none."""
    return ", ".join(f"{label} {number(value, unit)}" for label, value in lines) or "—"


@lru_cache(maxsize=64)
def badge(status: str | None) -> Markup:
    """A status as the pages show it: symbol and word on its colour, its meaning as a tooltip (rendered once)."""
    return Markup(template("badge.html.j2").render(look=look(status)).strip())


def better(kpi: object) -> str:
    """Which way the KPI is good, in the statement's words (the templates' filter)."""
    return direction_words(getattr(kpi, "direction", None))


def by_period(trends: Sequence[Any], periods: Sequence[str]) -> list[tuple[str, tuple[Any, ...]]]:
    """A trend table's rows: each sub-period with every trend's point in it (the templates' filter)."""
    return list(zip(periods, zip(*(t.points for t in trends), strict=True), strict=True)) if trends else []


@cache
def legend() -> Markup:
    """The key of status colours, symbols and meanings at the top of every page (rendered once)."""
    return Markup(template("legend.html.j2").render())


@cache
def css() -> Markup:
    """The pages' style sheet, written inline into every page (read once; the page puts the line break after it)."""
    return Markup(_template_source("report.css")[0].removesuffix("\n"))


def _template_source(name: str) -> tuple[str, str, None]:
    text = (files("kpi_engine.report") / "templates" / name).read_text(encoding="utf-8")
    return text, name, None


def _escaper() -> Callable[[str], str]:
    """MarkupSafe's own escaping of a ``str`` to a ``str`` (its C code); as MarkupSafe 2 spells it otherwise."""
    inner = getattr(markupsafe, "_escape_inner", None)  # MarkupSafe 3: what `escape` calls before wrapping
    return inner if callable(inner) else lambda text: str(markupsafe.escape(text))


_escape_str = _escaper()


def escape_text(value: object) -> str:
    """A value written into a page: escaped exactly as :func:`markupsafe.escape` would, as plain text.

    ``markupsafe.escape`` wraps every result in a new ``Markup`` object; a page joins hundreds of
    thousands of values into one string and never uses them as ``Markup``, so building those
    objects was about a quarter of rendering a person's page. Markup (``__html__``) passes through as it is.
    """
    if type(value) is str:
        return _escape_str(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        text = html()  # Markup (a str) is joined as it is: str() would copy a chart's whole text
        return text if isinstance(text, str) else str(text)
    return _escape_str(str(value))


class _TextEscaping(CodeGenerator):
    """Compiles ``{{ value }}`` of an autoescaping template to :func:`escape_text` instead of ``escape``.

    The one change to Jinja2's code: what an output expression is passed through (Jinja2's hook for
    it). Output is only ever yielded and joined, or collected and wrapped as ``Markup`` (macros,
    ``{% set %}`` blocks), so text serves as well as a ``Markup`` object. Templates whose escaping
    can change while rendering (``{% autoescape %}`` blocks) keep Jinja2's own code.
    """

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escape_text(")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)


class _Environment(jinja2.Environment):
    """The report's environment: templates compiled by :class:`_TextEscaping`."""

    code_generator_class = _TextEscaping
    escape_text = staticmethod(escape_text)


@cache
def environment() -> jinja2.Environment:
    """The report's Jinja2 environment: package templates, autoescaping on, strict about undefined names."""
    env = _Environment(
        loader=jinja2.FunctionLoader(lambda name: _template_source(name)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Filters rather than global functions where a page calls them thousands of times: Jinja2 calls
    # a filter directly, a global function through the context.
    env.filters.update(
        number=number,
        percent=percent,
        money=money_text,
        points=points,
        badge=badge,
        look=look,
        better=better,
        by_period=by_period,
    )
    env.globals.update(legend=legend, css=css)
    return env


def template(name: str) -> jinja2.Template:
    """A compiled template of the report (compiled once per process)."""
    return environment().get_template(name)
