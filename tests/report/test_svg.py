"""The report's SVG charts, number formats and file names: goldens for a fixed small example, geometry
worked out by hand, and untrusted names escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal as D
from pathlib import Path

import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from kpi_engine.report.html import file_names, file_stem
from kpi_engine.report.markup import environment, escape_text, number, percent
from kpi_engine.report.svg import (
    Bar,
    Rule,
    Series,
    bar_chart,
    person_frame,
    person_trend,
    sparkline,
    trend_chart,
)

GOLDENS = Path(__file__).resolve().parent.parent / "goldens" / "report"
SVG = "{http://www.w3.org/2000/svg}"

BARS = [
    Bar("Specialists (tier 2)", D("0.916"), "green"),
    Bar("Front line (tier 1)", D("0.874"), "yellow", own=True),
    Bar("Night shift", D("0.61"), "red"),
]
RULES = [Rule("threshold", D("0.8")), Rule("target", D("0.9")), Rule("organization", D("0.888"))]
PERIODS = ["2026-01", "2026-02", "2026-03"]
SERIES = [
    Series("You", (D("0.80"), None, D("0.92")), ("yellow", "no_data", "green")),
    Series("Front line (tier 1)", (D("0.85"), D("0.86"), D("0.87")), ("yellow", "yellow", "yellow")),
    Series("Northwind Support", (D("0.88"), D("0.89"), D("0.90")), ("yellow", "yellow", "green")),
]


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDENS / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden {path.name}: run pytest {__file__} --update-goldens"
    assert text == path.read_text(encoding="utf-8"), f"golden {path.name} differs; rerun with --update-goldens"


def charts() -> dict[str, str]:
    return {
        "bars.svg": str(bar_chart("CSAT: units ranked best first", BARS, RULES, "percent")),
        "trend.svg": str(trend_chart("CSAT by month", PERIODS, SERIES, RULES[:2], "percent")),
        "spark.svg": str(sparkline("CSAT by month", [D("0.85"), D("0.86"), D("0.87")], ["yellow", "yellow", "red"])),
    }


@pytest.mark.parametrize("name", ["bars.svg", "trend.svg", "spark.svg"])
def test_chart_golden(name: str, update_goldens: bool) -> None:
    text = charts()[name]
    assert charts()[name] == text, "the same numbers gave different bytes"
    check_golden(name, text, update_goldens)


def test_no_stale_goldens(update_goldens: bool) -> None:
    if update_goldens:
        pytest.skip("rewriting goldens")
    assert {p.name for p in GOLDENS.iterdir()} == set(charts())


def test_every_chart_is_well_formed_svg_with_a_title() -> None:
    for name, text in charts().items():
        root = ET.fromstring(text)
        assert root.tag == f"{SVG}svg", name
        assert root[0].tag == f"{SVG}title" and root[0].text, name


def test_bar_geometry_by_hand() -> None:
    """Values 0.61–0.916 and lines 0.8–0.9: spread 0.306 < half of 0.916, so the axis starts a quarter
    of the spread below the smallest (0.61 − 0.0765 = 0.5335) and ends 5% above the largest
    (0.916 + 0.0153 = 0.9313); the plot runs from x=190 to x=540 (350 wide)."""
    root = ET.fromstring(charts()["bars.svg"])
    rects = [r for r in root.iter(f"{SVG}rect")]
    low, high = 0.5335, 0.9313
    for rect, value in zip(rects, (0.916, 0.874, 0.61), strict=True):
        assert float(rect.get("x")) == 190.0
        assert float(rect.get("width")) == pytest.approx((value - low) / (high - low) * 350, abs=0.051)
    target = next(line for line in root.iter(f"{SVG}line") if line.findtext(f"{SVG}title") == "target 90.0%")
    assert float(target.get("x1")) == pytest.approx(190 + (0.9 - low) / (high - low) * 350, abs=0.051)
    fills = [r.get("fill") for r in rects]
    assert fills == ["#2e7d32", "#e0a800", "#c62828"]  # green, yellow, red
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "✔ 91.6%" in texts and "▲ 87.4%" in texts and "✖ 61.0%" in texts  # a symbol beside every colour


def test_a_person_chart_puts_their_own_bar_above_the_shared_frame() -> None:
    reference = (Bar("Front <line>", D("0.874"), "yellow"), Bar("Northwind", D("0.888"), "yellow"))
    frame = person_frame("CSAT: you", reference, tuple(RULES[:2]), "percent", (D("0.70"), D("0.95")))
    charts = [str(frame.around(Bar("You", D(v), "green", own=True))) for v in ("0.95", "0.70")]
    for text, value in zip(charts, ("95.0%", "70.0%"), strict=True):
        root = ET.fromstring(text)
        groups = list(root.iter(f"{SVG}g"))
        assert [g.get("class") for g in groups] == ["bar own", "bar", "bar"]
        assert groups[0].findtext(f"{SVG}title") == f"You: ✔ {value} (green)"
        assert "&lt;line&gt;" in text and "<!--own-bar-->" not in text
    # the frame (axis, the unit's and the organization's bars) is the same for both people of the unit
    assert charts[0].split("</g>", 1)[1] == charts[1].split("</g>", 1)[1]


def test_a_person_trend_draws_their_line_in_the_shared_frame() -> None:
    own, *shared = SERIES
    span = (D("0.70"), D("0.95"))
    other = own._replace(values=(D("0.95"), D("0.70"), None))
    texts = [str(person_trend("CSAT by month", PERIODS, s, shared, RULES[:2], "percent", span)) for s in (own, other)]
    for text in texts:
        root = ET.fromstring(text)
        groups = list(root.iter(f"{SVG}g"))
        assert [g.findtext(f"{SVG}title") for g in groups] == ["You", "Front line (tier 1)", "Northwind Support"]
        assert "<!--own-line-->" not in text
        legend = [t.text for t in root.iter(f"{SVG}text") if t.get("dy") == "4" and t.get("class") is None]
        assert legend == ["You", "Front line (tier 1)", "Northwind Support", "threshold 80.0%", "target 90.0%"]
    # everything but their own line is the same for both people of the unit: the axis spans the unit
    strip = [text.split('<g class="series">', 2) for text in texts]
    assert strip[0][0] == strip[1][0] and strip[0][2].split("</g>", 1)[1] == strip[1][2].split("</g>", 1)[1]
    ticks = [t.text for t in ET.fromstring(texts[0]).iter(f"{SVG}text") if t.get("class") == "tick"]
    assert (ticks[0], ticks[4]) == ("68.8%", "96.2%")  # 70%..95% padded by 5% of the spread each way
    # a value outside the span (it cannot come from gather, but may from a caller) draws the chart whole
    outside = own._replace(values=(D("0.50"), None, D("0.99")))
    alone = person_trend("CSAT by month", PERIODS, outside, shared, RULES[:2], "percent", span)
    assert alone == trend_chart("CSAT by month", PERIODS, [outside, *shared], RULES[:2], "percent")


def test_bars_from_zero_when_values_spread_widely() -> None:
    root = ET.fromstring(str(bar_chart("t", [Bar("a", D(100), None), Bar("b", D(20), None)], [], "count")))
    rects = list(root.iter(f"{SVG}rect"))
    # domain 0..105 (5% above 100): 100 → 350 × 100/105 = 333.3, 20 → 66.7
    assert [r.get("width") for r in rects] == ["333.3", "66.7"]
    assert [r.get("x") for r in rects] == ["190.0", "190.0"]


def test_trend_breaks_the_line_where_a_period_has_no_value() -> None:
    root = ET.fromstring(charts()["trend.svg"])
    first = root.find(f"{SVG}g")
    assert first is not None and first.findtext(f"{SVG}title") == "You"
    assert len(first.findall(f"{SVG}polyline")) == 2 and len(first.findall(f"{SVG}circle")) == 2


def test_untrusted_names_are_escaped() -> None:
    evil = "<script>alert(\"x\")</script> & 'q'"
    text = str(bar_chart(evil, [Bar(evil, D(1), "green")], [], None))
    assert "<script" not in text and "&lt;script&gt;" in text
    root = ET.fromstring(text)
    assert root[0].text == evil
    assert all(g.findtext(f"{SVG}title", "").startswith(evil) for g in root.iter(f"{SVG}g"))


@given(st.one_of(st.text(), st.integers(), st.decimals(allow_nan=False), st.none()))
def test_pages_escape_values_as_markupsafe_does(value: object) -> None:
    assert escape_text(value) == str(markupsafe.escape(value))
    assert environment().from_string("<td>{{ v }}</td>").render(v=value) == f"<td>{markupsafe.escape(value)}</td>"


def test_markup_passes_through_and_autoescape_blocks_still_work() -> None:
    env = environment()
    assert env.from_string("{{ m }}|{{ t }}").render(m=Markup("<b>x</b>"), t="<b>") == "<b>x</b>|&lt;b&gt;"
    off = "{% autoescape false %}{{ t }}{% endautoescape %}|{{ t }}"
    assert env.from_string(off).render(t="<i>") == "<i>|&lt;i&gt;"
    macro = "{% macro cell(v) %}<td>{{ v }}</td>{% endmacro %}{{ cell('<&>') }}"
    assert env.from_string(macro).render() == "<td>&lt;&amp;&gt;</td>"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (D("0.8125"), "percent", "81.3%"),
        (D("0.8124"), "percent", "81.2%"),
        (D("6.55"), "minutes", "6.6 min"),
        (D("1528"), "count", "1,528"),
        (D("1234567.005"), "money", "1,234,567.01"),
        (D("0.93"), None, "0.93"),
        (None, "percent", "—"),
    ],
)
def test_numbers_have_fixed_decimals_rounded_half_up(value: D | None, unit: str | None, shown: str) -> None:
    assert number(value, unit) == shown


def test_percent() -> None:
    assert percent(D("1.342")) == "134.2%" and percent(None) == "—"


@pytest.mark.parametrize(
    ("identifier", "stem"),
    [
        ("e01", "e01"),
        ("../x", "~2E~2E~2Fx"),
        ("a/b", "a~2Fb"),
        ("..", "~2E~2E"),
        ("a b~", "a~20b~7E"),
        ("Jānis", "J~C4~81nis"),
        ("CON", "~~CON"),
        ("", "~"),
    ],
)
def test_file_stems_stay_in_their_folder(identifier: str, stem: str) -> None:
    assert file_stem(identifier) == stem
    assert "/" not in stem and "\\" not in stem and not stem.startswith(".")


def test_long_ids_and_ids_differing_in_case_get_distinct_names() -> None:
    names = file_names(["E01", "e01", "x" * 300])
    assert len(set(names.values())) == 3
    assert len({n.lower() for n in names.values()}) == 3
    assert len(names["x" * 300]) <= 110
