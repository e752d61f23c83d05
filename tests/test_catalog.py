"""`kpi catalog`: every KPI and formula in Markdown, a well-formed escaped HTML page, byte-identical reruns."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.pipeline import load_workspace
from kpi_engine.report.catalog import anchor, catalog

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parent.parent / "kpi_definitions" / "examples" / "support"
VOID = {"meta", "br", "hr", "img", "link", "input", "col", "wbr", "area", "base", "source", "track", "embed"}


class _Checker(HTMLParser):
    """Fails on unbalanced tags; collects ids, links and the decoded text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at {self.getpos()}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture
def tricky(tmp_path: Path) -> Path:
    """The example with markup-like text in a description and a formula holding `<`."""
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns(".kpi"))
    kpis = ws / "kpis.yaml"
    text = kpis.read_text(encoding="utf-8")
    marked = re.sub(
        r"(\n  csat:\n(?:    .*\n)*?    description: ).*\n",
        r"\1'<script>alert(1)</script> & friends: a | b, *not* bold'\n",
        text,
        count=1,
    )
    assert marked != text, "the example's csat KPI has no description line any more"
    kpis.write_text(marked, encoding="utf-8")
    return ws


def test_markdown_lists_every_kpi_id_and_formula() -> None:
    ws = load_workspace(EXAMPLE)
    text = catalog(ws, "md")
    assert text.startswith(f"# {ws.organization.name} — KPI catalog\n")
    for kpi in ws.kpis.values():
        assert f"`{kpi.id}`" in text
        assert f'<a id="{anchor("kpi", kpi.id)}"></a>' in text
        assert f"`{kpi.formula}`" in text
    for section in ("## Goals", "## KPIs", "## Scorecards", "## Policies", "## Bonus plans"):
        assert section in text
    assert ws.organization.version in text and ws.organization.currency in text


def test_markdown_shows_weights_and_levels_of_each_kpi() -> None:
    text = catalog(load_workspace(EXAMPLE), "md")
    csat = text[text.index('<a id="kpi-csat">') : text.index('<a id="kpi-first_contact_resolution">')]
    assert "#### Weighed in" in csat
    assert re.search(r"\| \[support_lead\]\(#scorecard-support_lead\) \| `csat` \| organization \| \d+% \|", csat)
    assert "| total |  | 100% |" in text


def test_html_is_a_well_formed_standalone_page(tmp_path: Path) -> None:
    out = tmp_path / "catalog.html"
    result = runner.invoke(app, ["catalog", str(EXAMPLE), "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.doctype.lower() == "doctype html"
    assert not checker.problems and not checker.stack, (checker.problems, checker.stack)
    assert len(checker.ids) == len(set(checker.ids)), "duplicate ids"
    missing = [link for link in checker.links if link.startswith("#") and link[1:] not in checker.ids]
    assert not missing, missing
    assert "<style>" in page and '<meta charset="utf-8">' in page
    ws = load_workspace(EXAMPLE)
    assert {anchor("kpi", k) for k in ws.kpis} <= set(checker.ids)
    decoded = "".join(checker.text)
    assert all(k.formula in decoded for k in ws.kpis.values())


def test_html_escapes_formulas_and_descriptions(tricky: Path) -> None:
    page = catalog(load_workspace(tricky), "html")
    assert "&lt;= $sla_hours" in page and "<= $sla_hours" not in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in page
    checker = _Checker()
    checker.feed(page)
    assert not checker.problems and not checker.stack


def test_markdown_escapes_markup_in_text(tricky: Path) -> None:
    text = catalog(load_workspace(tricky), "md")
    assert "<script>" not in text
    assert r"\<script\>alert(1)\</script\> & friends: a \| b, \*not\* bold" in text


def test_output_is_deterministic(tmp_path: Path) -> None:
    first = runner.invoke(app, ["catalog", str(EXAMPLE)])
    second = runner.invoke(app, ["catalog", str(EXAMPLE), "--format", "md"])
    assert first.exit_code == second.exit_code == 0
    assert first.output == second.output
    # The same definitions in another folder, files in another order of loading, give the same bytes.
    copy = tmp_path / "copy"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".kpi", "data"))
    assert catalog(load_workspace(copy), "html") == catalog(load_workspace(EXAMPLE), "html")


def test_invalid_workspace_exits_1_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "defs.yaml").write_text("organization: {name: X}\nkpis: {a: {formula: count(}}\n", encoding="utf-8")
    result = runner.invoke(app, ["catalog", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
