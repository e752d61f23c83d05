"""`kpi report`'s pages in a real browser: the Debian package's Chromium (/usr/bin/chromium), driven by
Playwright for Python pointed at that executable — never a browser download. The index, a unit page and
a person page of the support example are opened from file://: no console errors, no request other than
the page itself, a screenshot that is not blank, and the charts in the DOM with their titles.

Without Chromium or Playwright the tests skip and say why; with KPI_REQUIRE_ENGINES=1 (.ci/run, which
installs Chromium) a skip fails (tests/report/conftest.py)."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parent.parent.parent
PAGES = ["index.html", "units/frontline.html", "people/e03.html"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    ws = tmp / "support"
    shutil.copytree(REPO / "kpi_definitions" / "examples" / "support", ws, ignore=shutil.ignore_patterns(".kpi"))
    out = tmp / "report"
    result = CliRunner().invoke(
        app,
        ["report", str(ws), "--period", "2026", "--grain", "quarter", "--plan", "support_2026", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (it is in the `test` extra)")
    profile = tmp_path_factory.mktemp("chromium-profile")  # an empty user-data-dir
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def png_colours(data: bytes) -> int:
    """How many distinct pixel colours a PNG screenshot has (decoded here: 8-bit RGB or RGBA, no filters lost)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    seen: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        seen.update(bytes(line[i : i + 3]) for i in range(0, stride, channels * 7))  # every 7th pixel
        previous = line
        if len(seen) > 16:
            break
    return len(seen)


@pytest.mark.parametrize("name", PAGES)
def test_a_page_opens_cleanly_offline_with_its_charts(report: Path, browser: object, name: str) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    url = (report / name).resolve().as_uri()
    page.goto(url)
    page.wait_for_load_state("load")
    assert errors == []
    assert requests == [url]  # nothing but the page itself: no network, no other file
    charts = page.locator("svg.chart")
    assert charts.count() > 0
    titles = page.eval_on_selector_all(
        "svg.chart", "els => els.map(e => e.querySelector(':scope > title')?.textContent)"
    )
    assert all(titles), titles
    assert page.locator("svg.chart rect, svg.chart polyline").count() > 0
    assert png_colours(page.screenshot(full_page=True)) > 1
    page.close()


def test_a_person_page_prints_on_a4(report: Path, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto((report / "people/e03.html").resolve().as_uri())
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    boxes = {tuple(round(float(n)) for n in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)}
    assert boxes == {(0, 0, 595, 842)}  # A4 in points
    page.close()
