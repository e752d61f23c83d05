"""The report's charts as inline SVG: ranking bars, trend lines and sparklines, drawn by the engine.

No JavaScript and no request anywhere: each chart is one ``<svg>`` element with a ``<title>``,
its geometry computed here (coordinates with one decimal, so the same numbers give the same bytes)
and its markup written by a template under ``report/templates/`` with autoescaping on — apart from
the bars and lines a report draws tens of thousands of times (:func:`_bar_row`, :func:`_trace`),
written here with every text escaped. A person's charts are their unit's chart with their own bar or
line drawn in (:func:`person_frame`, :func:`person_trend`). Status
colours come with a symbol and a word (:mod:`kpi_engine.report.markup`); the page puts a table of
the same numbers beside every chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from markupsafe import Markup

from kpi_engine.report.markup import Look, escape_text, look, number, template


class Bar(NamedTuple):
    """One bar: whose, the value, its status, and whether it is the page's own subject (outlined)."""

    label: str
    value: Decimal | None
    status: str | None
    own: bool = False


class Rule(NamedTuple):
    """A line across a chart: a target point or the organization's value."""

    label: str  # `threshold`, `target`, `min`, `organization` …
    value: Decimal


class Series(NamedTuple):
    """One line of a trend chart: a subject's value and status per sub-period."""

    name: str
    values: tuple[Decimal | None, ...]
    statuses: tuple[str | None, ...]


class Stroke(NamedTuple):
    """A line as the legend names it and draws a sample of it: its label, colour, dash pattern and width."""

    label: str
    colour: str
    dash: str
    width: str


class Across(NamedTuple):
    """A target point or the organization's value drawn across a chart: up a bar chart, along a trend."""

    label: str
    colour: str
    dash: str
    width: str
    x: str = ""  # a bar chart's: where it stands, from y1 to y2
    y1: str = ""
    y2: str = ""
    y: str = ""  # a trend chart's: its height


class Sample(NamedTuple):
    """A legend entry: a sample of the line from x1 to x2 at height y, and its label from text_x."""

    label: str
    colour: str
    dash: str
    width: str
    x1: str
    x2: str
    text_x: str
    y: str


class Tick(NamedTuple):
    """An axis label: where it stands along the axis, and its text."""

    at: str
    text: str


class Point(NamedTuple):
    """A point of a trend line, marked by its status."""

    x: str
    y: str
    status: Look


class PeriodLabel(NamedTuple):
    """A period under a trend's axis (every one is placed; at most 12 are labelled)."""

    x: str
    text: str
    shown: bool


WIDTH = 640
NAME_WIDTH = 190  # bar labels, right-aligned before the plot
VALUE_WIDTH = 100  # the value and status symbol after the longest bar
ROW = 22
LEGEND = 26
MAX_LABEL = 28  # characters of a name drawn in a chart; the table beside it has the whole name

#: How each kind of line is drawn: stroke colour, dash pattern, width.
RULES = {
    "threshold": ("#6b6b6b", "5 3", "1.5"),
    "threshold min": ("#6b6b6b", "5 3", "1.5"),
    "threshold max": ("#6b6b6b", "5 3", "1.5"),
    "target": ("#1b1b1b", "", "1.5"),
    "min": ("#1b1b1b", "", "1.5"),
    "max": ("#1b1b1b", "", "1.5"),
    "organization": ("#1f4e79", "2 2", "2"),
}
#: Trend series, in order: the page's own subject, then the others, the organization last.
SERIES_STYLES = (("#1f4e79", ""), ("#6a3d9a", "6 3"), ("#3d3d3d", "2 2"), ("#b15928", "8 3 2 3"))


def _f(x: float) -> str:
    """A coordinate with one decimal (`-0.0` written as `0.0`)."""
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def tick(value: float, span: float, unit: str | None) -> str:
    """An axis label: a KPI value, whole numbers once the axis spans ten or more (counts, amounts)."""
    if unit in ("percent", "minutes", "hours", "days") or span < 10:
        return number(Decimal(repr(value)), unit)
    return number(Decimal(round(value)), "count")


def short(name: str) -> str:
    """A name as a chart draws it: at most :data:`MAX_LABEL` characters."""
    return name if len(name) <= MAX_LABEL else name[: MAX_LABEL - 1] + "…"


class Scale(NamedTuple):
    """A linear map from values to one axis of the drawing."""

    low: float
    high: float
    start: float
    end: float

    def at(self, value: Decimal | float) -> float:
        """Where a value sits on the axis."""
        span = self.high - self.low
        return self.start + (float(value) - self.low) / span * (self.end - self.start)


def _domain(values: Sequence[Decimal | None], rules: Sequence[Rule], zero: bool) -> tuple[float, float]:
    numbers = [float(v) for v in values if v is not None] + [float(r.value) for r in rules]
    if zero:
        numbers.append(0.0)
    if not numbers:
        return 0.0, 1.0
    low, high = min(numbers), max(numbers)
    if high == low:
        return (low - 1, high + 1) if low else (0.0, 1.0)
    pad = (high - low) * 0.05
    return (low if zero and low == 0 else low - pad), (high if zero and high == 0 else high + pad)


def _rule(rule: Rule, unit: str | None) -> Stroke:
    colour, dash, width = RULES.get(rule.label, RULES["target"])
    return Stroke(f"{rule.label} {number(rule.value, unit)}", colour, dash, width)


def _bar_domain(values: Sequence[Decimal | None], rules: Sequence[Rule]) -> tuple[float, float]:
    """Where the bars start and end.

    From zero, unless every number is positive and they lie close together far from zero (shares of
    80–95%): then from a quarter of their spread below the smallest, so that differences show. The
    axis is labelled at its start, middle and end, so a bar that does not start at zero says so.
    """
    numbers = [float(v) for v in values if v is not None] + [float(r.value) for r in rules]
    if not numbers:
        return 0.0, 1.0
    low, high = min(numbers), max(numbers)
    if high == low:
        return (0.0, high * 1.05) if high > 0 else _domain(values, rules, zero=True)
    if low > 0 and (high - low) < 0.5 * high:
        spread = high - low
        return max(0.0, low - spread * 0.25), high + spread * 0.05
    return _domain(values, rules, zero=True)


#: Where a person's own bar goes in a chart frame shared by everyone of their unit (:func:`person_frame`).
SLOT = "<!--own-bar-->"


@lru_cache(maxsize=65536)  # names, status words and values recur on thousands of charts
def _escaped(text: str) -> str:
    """Text for SVG markup: ``&``, ``<``, ``>`` and quotes as entities (as the templates' autoescaping writes them)."""
    return escape_text(text)


@lru_cache(maxsize=256)
def _row_at(row: int) -> tuple[str, str]:
    """Where row ``row``'s texts (their baseline) and its bar (its top) sit."""
    y = 8 + row * ROW
    return _f(y + ROW / 2 + 4), _f(y + 4)


_NAME_X = _f(NAME_WIDTH - 8)
_VALUE_X = _f(WIDTH - VALUE_WIDTH + 10)
_BAR_HEIGHT = _f(ROW - 8)


def _bar_row(b: Bar, row: int, x: Scale, base: float, unit: str | None) -> str:
    """One bar in row ``row`` of a chart as SVG markup: its name, bar, value and status symbol, and a ``<title>``.

    Written here rather than by a template: a report draws tens of thousands of these (a person's own
    bar on every chart of their page). Every piece of text in it is escaped.
    """
    end = x.at(b.value) if b.value is not None else base
    status = look(b.status)
    text = _escaped(f"{status.symbol} {number(b.value, unit)}")
    text_y, bar_y = _row_at(row)
    bold = ' font-weight="bold"' if b.own else ""
    stroke = ' stroke="#000" stroke-width="2"' if b.own else ""
    return (
        f'<g class="bar{" own" if b.own else ""}">\n'
        f"<title>{_escaped(b.label)}: {text} ({_escaped(status.word)})</title>\n"
        f'<text x="{_NAME_X}" y="{text_y}" text-anchor="end"{bold}>{_escaped(short(b.label))}</text>\n'
        f'<rect x="{_f(min(base, end))}" y="{bar_y}" width="{_f(abs(end - base))}" height="{_BAR_HEIGHT}" '
        f'fill="{_escaped(status.colour)}"{stroke}/>\n'
        f'<text x="{_VALUE_X}" y="{text_y}"{bold}>{text}</text>\n'
        "</g>"
    )


def _frame(
    title: str, bars: Sequence[Bar], rules: Sequence[Rule], unit: str | None, also: Sequence[Decimal], slots: int
) -> tuple[Markup, Scale, float]:
    """A bar chart whose first ``slots`` rows are left for :data:`SLOT`; its scale (over ``also`` too) and base."""
    top = 8
    bottom = top + ROW * max(len(bars) + slots, 1)
    low, high = _bar_domain([*(b.value for b in bars), *also], rules)
    x = Scale(low, high, NAME_WIDTH, WIDTH - VALUE_WIDTH)
    base = x.at(0) if low <= 0 <= high else x.at(low)
    lines = [Across(*_rule(r, unit), x=_f(x.at(r.value)), y1=_f(top - 4), y2=_f(bottom + 2)) for r in rules]
    ticks = [Tick(_f(x.at(v)), tick(v, high - low, unit)) for v in (low, (low + high) / 2, high)]
    legend, below = _legend(lines, bottom + 22)
    frame = template("bars.svg.j2").render(
        title=title,
        width=WIDTH,
        height=_f(bottom + 22 + below),
        slot=Markup(SLOT) if slots else "",
        bars=[Markup(_bar_row(b, i + slots, x, base, unit)) for i, b in enumerate(bars)],
        lines=lines,
        legend=legend,
        ticks=ticks,
        tick_y=_f(bottom + 16),
        tick_y2=_f(bottom + 6),
        axis_x=_f(base),
        axis_y1=_f(top - 2),
        axis_y2=_f(bottom + 2),
        plot_x1=_f(NAME_WIDTH),
        plot_x2=_f(WIDTH - VALUE_WIDTH),
    )
    return Markup(frame), x, base


def bar_chart(title: str, bars: Sequence[Bar], rules: Sequence[Rule], unit: str | None) -> Markup:
    """Horizontal bars in the given order (best first), with target and organization lines and a legend.

    Each bar's value and status symbol stand in a column at the right, clear of the lines.
    """
    return _frame(title, bars, rules, unit, (), 0)[0]


class PersonFrame(NamedTuple):
    """A person's chart without their bar: the markup before and after it, the scale and where bars start."""

    before: str
    after: str
    x: Scale
    base: float
    unit: str | None

    def around(self, own: Bar) -> Markup:
        """The chart with ``own`` as its first bar."""
        return Markup(f"{self.before}{_bar_row(own, 0, self.x, self.base, self.unit)}\n{self.after}")


@lru_cache(maxsize=4096)
def person_frame(
    title: str,
    reference: tuple[Bar, ...],
    rules: tuple[Rule, ...],
    unit: str | None,
    peers: tuple[Decimal, Decimal] | None,
) -> PersonFrame:
    """A person's bar chart without their bar: the bars they are compared with (their unit, the organization).

    The axis spans every value of the person's unit (``peers``: the lowest and highest), so all of
    a unit's people get the same axis, and this is drawn once per unit and KPI;
    :meth:`PersonFrame.around` puts a person's own bar in.
    """
    frame, x, base = _frame(title, reference, rules, unit, peers or (), 1)
    before, after = str(frame).split(SLOT, 1)
    return PersonFrame(before, after, x, base, unit)


def _legend(lines: Sequence[Stroke | Across], y: float) -> tuple[list[Sample], float]:
    """The legend's entries, a sample of each line and its label, in rows as wide as the chart; and its height."""
    out = []
    at, row = 8.0, 0
    for line in lines:
        wide = 30 + 7.2 * len(line.label) + 18
        if at > 8.0 and at + wide > WIDTH:
            at, row = 8.0, row + 1
        out.append(Sample(*line[:4], _f(at), _f(at + 24), _f(at + 30), _f(y + 10 + row * 20)))
        at += wide
    return out, (LEGEND + row * 20 if lines else 0)


def _series_style(i: int, count: int) -> tuple[str, str]:
    """The page's own subject solid, the organization (last) dotted, anything between dashed."""
    if i == 0:
        return SERIES_STYLES[0]
    if i == count - 1:
        return SERIES_STYLES[2]
    return SERIES_STYLES[1] if i == 1 else SERIES_STYLES[3]


def _trace(name: str, colour: str, dash: str, segments: Sequence[str], points: Sequence[Point]) -> str:
    """One trend line as SVG markup: its pieces and its points marked by status, with a ``<title>``.

    Written here rather than by a template, like a bar (:func:`_bar_row`): a report with ``--grain``
    draws one for every person and KPI. Every piece of text in it is escaped.
    """
    stroke = f'stroke="{_escaped(colour)}"'
    dashed = f' stroke-dasharray="{_escaped(dash)}"' if dash else ""
    return "\n".join(
        [
            '<g class="series">',
            f"<title>{_escaped(name)}</title>",
            *(f'<polyline points="{seg}" fill="none" {stroke} stroke-width="2"{dashed}/>' for seg in segments),
            *(_circle(pt, stroke) for pt in points),
            "</g>",
        ]
    )


def _circle(pt: Point, stroke: str) -> str:
    """A point of a trend line: a circle filled with its status's colour."""
    return f'<circle cx="{pt.x}" cy="{pt.y}" r="4" fill="{_escaped(pt.status.colour)}" {stroke} stroke-width="1.5"/>'


class _TrendAxes(NamedTuple):
    """Where a trend chart's periods stand (x) and how its values map to heights (y)."""

    xs: tuple[float, ...]
    y: Scale

    def place(self, values: Sequence[Decimal | None], statuses: Sequence[str | None]) -> tuple[list[str], list[Point]]:
        """A series' points, and its line's pieces (``x,y x,y …``) broken where a period has no value."""
        segments: list[list[str]] = [[]]
        points = []
        for px, v, st in zip(self.xs, values, statuses, strict=True):
            if v is None:
                segments.append([])
                continue
            at, py = _f(px), _f(self.y.at(v))
            segments[-1].append(f"{at},{py}")
            points.append(Point(at, py, look(st)))
        return [" ".join(seg) for seg in segments if seg], points

    def draw(self, s: Series, colour: str, dash: str) -> str:
        """A series as :func:`_trace` markup."""
        return _trace(s.name, colour, dash, *self.place(s.values, s.statuses))


#: Where a person's own line goes in a trend chart shared by everyone of their unit (:func:`person_trend`).
TREND_SLOT = "<!--own-line-->"


def _trend_frame(
    title: str,
    periods: Sequence[str],
    series: Sequence[Series],
    rules: Sequence[Rule],
    unit: str | None,
    own: str | None,
    also: Sequence[Decimal],
) -> tuple[Markup, _TrendAxes]:
    """A trend chart of ``series``; with ``own`` (a name), the first line is left for :data:`TREND_SLOT`.

    The vertical axis spans the series, the lines and ``also`` (the values the left-out line may take).
    """
    left, right, top, bottom, height = 70.0, 36.0, 12.0, 40.0, 200.0
    values = [v for s in series for v in s.values]
    low, high = _domain([*values, *also], rules, zero=False)
    y = Scale(low, high, height - bottom, top)
    step = (WIDTH - left - right) / max(len(periods) - 1, 1)
    xs = tuple(left + i * step if len(periods) > 1 else (WIDTH + left - right) / 2 for i in range(len(periods)))
    axes = _TrendAxes(xs, y)
    every = max(1, -(-len(periods) // 12))  # at most 12 period labels under the axis
    ticks = [low + (high - low) * k / 4 for k in range(5)]
    names = ([] if own is None else [own]) + [s.name for s in series]  # the left-out line first, as drawn
    styles = [_series_style(i, len(names)) for i in range(len(names))]
    drawn = styles if own is None else styles[1:]  # the styles of the lines drawn here
    lines = [Across(*_rule(r, unit), y=_f(y.at(r.value))) for r in rules]
    strokes = [Stroke(n, colour, dash, "2") for n, (colour, dash) in zip(names, styles, strict=True)]
    legend, below = _legend([*strokes, *lines], height + 2)
    frame = template("trend.svg.j2").render(
        title=title,
        width=WIDTH,
        height=_f(height + below + 4),
        left=_f(left),
        right=_f(WIDTH - right),
        top=_f(top),
        base=_f(height - bottom),
        ticks=[Tick(_f(y.at(t)), tick(t, high - low, unit)) for t in ticks],
        periods=[
            PeriodLabel(_f(px), label, i % every == 0) for i, (px, label) in enumerate(zip(xs, periods, strict=True))
        ],
        label_y=_f(height - bottom + 20),
        slot=Markup(TREND_SLOT) if own is not None else "",
        series=[Markup(axes.draw(s, *style)) for s, style in zip(series, drawn, strict=True)],
        lines=lines,
        legend=legend,
    )
    return Markup(frame), axes


def trend_chart(
    title: str, periods: Sequence[str], series: Sequence[Series], rules: Sequence[Rule], unit: str | None
) -> Markup:
    """Lines over the sub-periods, one per series, each point coloured and marked by its status."""
    return _trend_frame(title, periods, series, rules, unit, None, ())[0]


class TrendFrame(NamedTuple):
    """A person's trend chart without their line: the markup before and after it, and its axes."""

    before: str
    after: str
    axes: _TrendAxes
    colour: str
    dash: str

    def around(self, own: Series) -> Markup:
        """The chart with ``own`` as its first line."""
        return Markup(f"{self.before}{self.axes.draw(own, self.colour, self.dash)}{self.after}")


@lru_cache(maxsize=4096)
def person_trend_frame(
    title: str,
    periods: tuple[str, ...],
    own: str,
    shared: tuple[Series, ...],
    rules: tuple[Rule, ...],
    unit: str | None,
    span: tuple[Decimal, Decimal],
) -> TrendFrame:
    """What :func:`person_trend` draws for everyone of a unit alike, drawn once per unit and KPI."""
    frame, axes = _trend_frame(title, periods, shared, rules, unit, own, span)
    before, after = str(frame).split(TREND_SLOT, 1)
    return TrendFrame(before, after, axes, *_series_style(0, len(shared) + 1))


def person_trend(
    title: str,
    periods: Sequence[str],
    own: Series,
    shared: Sequence[Series],
    rules: Sequence[Rule],
    unit: str | None,
    span: tuple[Decimal, Decimal] | None,
) -> Markup:
    """A person's line over the sub-periods with their unit's and the organization's.

    The vertical axis spans every value of the person's unit in every sub-period (``span``: the
    lowest and highest), so all of a unit's people get the same axis and the rest of the chart is
    drawn once per unit and KPI. Without a span, or with a value outside it, the chart is drawn whole.
    """
    values = [v for v in own.values if v is not None]
    if span is None or any(v < span[0] or v > span[1] for v in values):
        return trend_chart(title, periods, [own, *shared], rules, unit)
    return person_trend_frame(title, tuple(periods), own.name, tuple(shared), tuple(rules), unit, span).around(own)


def sparkline(title: str, values: Sequence[Decimal | None], statuses: Sequence[str | None]) -> Markup:
    """A small line of values for a table cell, its last point marked by status."""
    width, height, pad = 120.0, 28.0, 4.0
    low, high = _domain(values, (), zero=False)
    y = Scale(low, high, height - pad, pad)
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    segments, points = _TrendAxes(tuple(pad + i * step for i in range(len(values))), y).place(values, statuses)
    return Markup(
        template("spark.svg.j2").render(
            title=title,
            width=_f(width),
            height=_f(height),
            segments=segments,
            last=points[-1] if points else None,
        )
    )
