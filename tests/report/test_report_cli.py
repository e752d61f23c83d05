"""`kpi report --format html` through the real Typer app on copies of the three example organizations:
pages for everyone, every number of `kpi explain` on the person page, privacy, safe file names, escaped
names, determinism, the ledger, and the --out rules."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = {
    "support": "support_2026",
    "field_service": "field_2026",
    "bank_internal_service": "directors_2026",
}
FOOTER_RUNS = re.compile(r"evaluation run \S+, (?:evaluation by \w+ run \S+, )?(?:bonus run \S+, )?recorded \S+Z")


def kpi(*args: object) -> object:
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def copy_example(tmp: Path, name: str) -> Path:
    target = tmp / name
    shutil.copytree(REPO / "kpi_definitions" / "examples" / name, target, ignore=shutil.ignore_patterns(".kpi"))
    return target


def roster(ws: Path) -> dict[str, str]:
    """Person id → name, read from the example's roster file here (not through the engine)."""
    lines = (ws / "data" / "employees.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:] if line]
    return {r["employee_id"]: r["full_name"] for r in rows}


def visible(page: str) -> str:
    """A page's text as a reader sees it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Each example reported once with its plan and quarterly trends: (workspace, report folder)."""
    found = {}
    for name, plan in EXAMPLES.items():
        tmp = tmp_path_factory.mktemp(name)
        ws = copy_example(tmp, name)
        out = tmp / "report"
        result = kpi("report", ws, "--period", "2026", "--grain", "quarter", "--plan", plan, "--out", out)
        assert result.exit_code == 0, result.output
        found[name] = (ws, out)
    return found


@pytest.mark.parametrize("name", EXAMPLES)
def test_pages_for_the_organization_every_unit_and_every_person(
    reports: dict[str, tuple[Path, Path]], name: str
) -> None:
    ws, out = reports[name]
    assert (out / "index.html").is_file()
    people = roster(ws)
    assert sorted(p.stem for p in (out / "people").iterdir()) == sorted(people)
    units = json.loads(kpi("evaluate", ws, "--period", "2026", "--at", "unit", "--format", "json").stdout)["kpis"]
    assert {p.stem for p in (out / "units").iterdir()} == {r["subject"] for r in units}
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<svg") >= len({r["kpi"] for r in units})  # a ranking chart per KPI (and sparklines)
    assert "<script" not in index.lower()


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_person_page_holds_every_number_explain_gives(reports: dict[str, tuple[Path, Path]], name: str) -> None:
    ws, out = reports[name]
    plan = EXAMPLES[name]
    checked = 0
    for person in sorted(roster(ws)):
        explained = kpi("explain", ws, "--person", person, "--plan", plan, "--period", "2026")
        if explained.exit_code != 0:  # no scorecard applies: the page says so
            page = visible((out / "people" / f"{person}.html").read_text(encoding="utf-8"))
            assert "No scorecard applies" in page
            continue
        raw = (out / "people" / f"{person}.html").read_text(encoding="utf-8")
        charts = raw.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart bars"')
        assert raw.count('<g class="bar own">') == charts, f"{person}: a chart lacks their own bar"
        page = visible(raw)
        for number in re.findall(r"\d[\d.,]*%?", explained.stdout):
            assert number in page, f"{person}: `{number}` of kpi explain is not on the page"
        checked += 1
    assert checked


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_person_page_names_no_other_person_and_no_other_money(
    reports: dict[str, tuple[Path, Path]], name: str
) -> None:
    ws, out = reports[name]
    people = roster(ws)
    paid = json.loads(kpi("bonus", ws, "--plan", EXAMPLES[name], "--format", "json").stdout)["payouts"]
    money = {p["person"]: {p["payout"], p["computed"]} - {"0.00"} for p in paid}
    for person in people:
        page = (out / "people" / f"{person}.html").read_text(encoding="utf-8")
        text = visible(page)
        for other, other_name in people.items():
            if other == person:
                continue
            assert not re.search(rf"(?<![\w-]){re.escape(other)}(?![\w-])", page), f"{person}'s page names {other}"
            assert other_name not in text, f"{person}'s page names {other_name}"
            own = money.get(person, set())
            for amount in money.get(other, set()) - own:
                assert amount not in text, f"{person}'s page shows {other}'s money {amount}"


def test_person_writes_only_those_pages(tmp_path: Path) -> None:
    ws = copy_example(tmp_path, "support")
    out = tmp_path / "statements"
    result = kpi("report", ws, "--period", "2026", "--plan", "support_2026", "--person", "e03", "--person", "e05",
                 "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == [".kpi-report", "people/e03.html", "people/e05.html"]
    page = (out / "people" / "e03.html").read_text(encoding="utf-8")
    assert "index.html" not in page  # a statement to hand out links nowhere
    assert "795.02 EUR" in visible(page)  # e03's payout, as `kpi explain` gives it


def test_an_unknown_person_is_named_with_a_did_you_mean(tmp_path: Path) -> None:
    ws = copy_example(tmp_path, "support")
    result = kpi("report", ws, "--period", "2026", "--person", "e3", "--out", tmp_path / "r")
    assert result.exit_code == 1
    assert "E401" in result.output and "e3" in result.output
    assert not (tmp_path / "r").exists()


def test_two_runs_give_the_same_bytes_apart_from_the_footer(tmp_path: Path) -> None:
    ws = copy_example(tmp_path, "field_service")
    folders = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert (
            kpi("report", ws, "--period", "2026", "--grain", "month", "--plan", "field_2026", "--out", out).exit_code
            == 0
        )
        folders.append(out)
    files = sorted(p.relative_to(folders[0]) for p in folders[0].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(folders[1]) for p in folders[1].rglob("*") if p.is_file())
    differing = 0
    for rel in files:
        first, second = ((f / rel).read_text(encoding="utf-8") for f in folders)
        differing += first != second
        assert FOOTER_RUNS.sub("RUNS", first) == FOOTER_RUNS.sub("RUNS", second), rel
        if rel.suffix == ".html":
            assert len(FOOTER_RUNS.findall(first)) == 1, rel
    assert differing == len(files) - 1  # every page's footer names its own runs; the marker file does not


def test_the_runs_are_recorded_and_verify(reports: dict[str, tuple[Path, Path]]) -> None:
    ws, out = reports["support"]
    runs = json.loads(kpi("runs", "list", ws, "--format", "json").stdout)["runs"]
    footer = FOOTER_RUNS.search((out / "index.html").read_text(encoding="utf-8"))
    assert footer is not None
    ids = re.findall(r"run (\S+?),", footer.group(0))
    assert len(ids) == 3  # the evaluation, the evaluation by quarter, the bonus run
    assert {r["id"] for r in runs} >= set(ids)
    for run_id in ids:
        verified = kpi("runs", "verify", ws, run_id)
        assert verified.exit_code == 0, verified.output


def test_hostile_names_and_ids_are_escaped_and_stay_in_the_folder(tmp_path: Path) -> None:
    ws = copy_example(tmp_path, "support")
    evil_name = '<script>alert("x")</script> O\'Neil & co'
    people = ws / "data" / "employees.csv"
    text = people.read_text(encoding="utf-8").replace("Anna Ozola", f'"{evil_name.replace(chr(34), chr(34) * 2)}"')
    text = text.replace("\ne02,", "\n../e02,")
    people.write_text(text, encoding="utf-8")
    tickets = ws / "data" / "tickets.csv"
    tickets.write_text(tickets.read_text(encoding="utf-8").replace(",e02,", ",../e02,"), encoding="utf-8")
    org = ws / "organization.yaml"
    org.write_text(
        org.read_text(encoding="utf-8").replace("Front line (tier 1)", 'Front <b>line</b> \\"1\\"'), encoding="utf-8"
    )
    out = tmp_path / "report"
    result = kpi("report", ws, "--period", "2026", "--plan", "support_2026", "--out", out)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "e02.html").exists() and not (out / "e02.html").exists()
    assert (out / "people" / "~2E~2E~2Fe02.html").is_file()
    for page in out.rglob("*.html"):
        body = page.read_text(encoding="utf-8")
        assert "<script" not in body and "<b>line" not in body, page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Front &lt;b&gt;line&lt;/b&gt;" in index
    anna = (out / "people" / "e01.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Neil &amp; co" in anna
    unit = (out / "units" / "frontline.html").read_text(encoding="utf-8")
    assert 'href="../people/~2E~2E~2Fe02.html"' in unit


def test_out_must_be_a_new_or_empty_folder_or_an_earlier_report(tmp_path: Path) -> None:
    ws = copy_example(tmp_path, "support")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    result = kpi("report", ws, "--period", "2026", "--out", busy)
    assert result.exit_code == 2 and "E565" in result.output
    assert (busy / "notes.txt").read_text(encoding="utf-8") == "mine"
    a_file = tmp_path / "file.html"
    a_file.write_text("x", encoding="utf-8")
    assert kpi("report", ws, "--period", "2026", "--out", a_file).exit_code == 2
    out = tmp_path / "again"
    assert kpi("report", ws, "--period", "2026", "--out", out).exit_code == 0
    (out / "people" / "stale.html").write_text("old", encoding="utf-8")
    again = kpi("report", ws, "--period", "2026", "--out", out)
    assert again.exit_code == 0, again.output
    assert not (out / "people" / "stale.html").exists()  # an earlier report's folder is replaced whole
    assert not list(tmp_path.glob(".again.kpi-*"))


@pytest.mark.parametrize(
    "words",
    [["--format", "pdf"], ["--grain", "fortnight"], ["--period", "2026-13"]],
    ids=["bad-format", "bad-grain", "bad-period"],
)
def test_usage_errors_exit_2(tmp_path: Path, words: list[str]) -> None:
    ws = copy_example(tmp_path, "support")
    args = ["report", ws, "--period", "2026", "--out", tmp_path / "r", *words]
    assert kpi(*args).exit_code == 2
