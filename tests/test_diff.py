"""`kpi diff`: a semantic diff of two definition sets (folders or git revisions) and its price in money.

A fixture repository is made in tmp_path from the support example: commit, change a scorecard weight
and a KPI target, commit again. The payouts the diff reports are checked against `compute_bonus` run
on plain copies of each version with the same data (the engine as its own oracle).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.audit.compare import diff_definitions, dotted, same
from kpi_engine.cli.main import app
from kpi_engine.documents import written
from kpi_engine.pipeline import compile_workspace, load_workspace, pay

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parent.parent / "kpi_definitions" / "examples" / "support"
PLAN = "support_2026"
MONEY = re.compile(r"-?\d+\.\d{2}")
CHANGE_KEYS = {"kind", "path", "old", "new", "old_at", "new_at"}


@dataclass(frozen=True)
class Edit:
    """Where the fixture's second commit changed things (line numbers are 1-based)."""

    weight_path: str
    weight_line: int
    old_weight: str
    new_weight: str
    target_line: int
    old_target: str
    new_target: str


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _copy_example(to: Path) -> Path:
    shutil.copytree(EXAMPLE, to, ignore=shutil.ignore_patterns(".kpi", "*.py", "__pycache__"))
    return to


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _move_weight(ws: Path) -> Edit:
    """Move 5 points of weight from first_response_minutes to the person-level csat in support_agent."""
    cards = ws / "scorecards.yaml"
    text = cards.read_text(encoding="utf-8")
    block = text[text.index("  support_agent:") :]
    entries = re.findall(
        r"- \{kpi: ([a-z_.]+),", block[: block.index("\n  support_lead:")] if "\n  support_lead:" in block else block
    )
    index = entries.index("first_response_minutes")
    old = re.search(r"\{kpi: first_response_minutes, weight: (\d+)%\}", text)
    csat = re.search(r"\{kpi: csat, weight: (\d+)%\}", text)
    assert old and csat, "the support example's support_agent scorecard changed shape"
    new_weight = f"{int(old.group(1)) - 5}%"
    text = text.replace(old.group(0), f"{{kpi: first_response_minutes, weight: {new_weight}}}", 1)
    text = text.replace(csat.group(0), f"{{kpi: csat, weight: {int(csat.group(1)) + 5}%}}", 1)
    cards.write_text(text, encoding="utf-8")
    kpis = ws / "kpis.yaml"
    ktext = kpis.read_text(encoding="utf-8")
    start = ktext.index("\n  csat:\n")
    target = re.compile(r"(    target: \{threshold: [^,]+, target: )(\d+)%").search(ktext, start)
    assert target, "the support example's csat KPI has no target line"
    new_target = f"{int(target.group(2)) - 5}%"
    kpis.write_text(ktext[: target.start(2)] + new_target[:-1] + ktext[target.end(2) :], encoding="utf-8")
    return Edit(
        f"scorecards.support_agent.kpis[{index}].weight",
        _line_of(cards, "kpi: first_response_minutes"),
        f"{old.group(1)}%",
        new_weight,
        ktext[: target.start()].count("\n") + 1,
        f"{target.group(2)}%",
        new_target,
    )


@dataclass(frozen=True)
class Repo:
    root: Path
    ws: Path
    before: Path  # a plain copy of the first commit, with data
    edit: Edit


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    base = tmp_path_factory.mktemp("diff")
    root = base / "repo"
    ws = _copy_example(root / "ws")
    before = _copy_example(base / "before")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "support example")
    edit = _move_weight(ws)
    _git(root, "commit", "-q", "-a", "-m", "reweigh first response, tighten csat")
    return Repo(root, ws, before, edit)


def _invoke(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["diff", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def _change(document: dict[str, object], path: str) -> dict[str, str | None]:
    changes = document["changes"]
    assert isinstance(changes, list)
    found = [c for c in changes if c["path"] == path]
    assert len(found) == 1, (path, [c["path"] for c in changes])
    return found[0]  # type: ignore[no-any-return]


def test_git_revisions_show_the_changed_weight_with_both_positions(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.ws)
    document = _invoke("git:HEAD~1", "git:HEAD")
    edit = repo.edit
    assert _change(document, edit.weight_path) == {
        "kind": "changed",
        "path": edit.weight_path,
        "old": edit.old_weight,
        "new": edit.new_weight,
        "old_at": f"scorecards.yaml:{edit.weight_line}",
        "new_at": f"scorecards.yaml:{edit.weight_line}",
    }
    target = _change(document, "kpis.csat.target.target")
    assert (target["old"], target["new"]) == (edit.old_target, edit.new_target)
    assert target["old_at"] == target["new_at"] == f"kpis.yaml:{edit.target_line}"
    assert set(document) == {"changes"}
    assert len(document["changes"]) == 3  # type: ignore[arg-type]  # two weights and one target


def test_text_report_names_change_and_places(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.ws)
    result = runner.invoke(app, ["diff", "git:HEAD~1", "git:HEAD"])
    assert result.exit_code == 0, result.output
    edit = repo.edit
    assert result.output.startswith("git:HEAD~1 → git:HEAD: 3 changes in the definitions\n")
    assert (
        f"  ~ {edit.weight_path}: {edit.old_weight} → {edit.new_weight}  (scorecards.yaml:{edit.weight_line})"
        in result.output
    )


def test_git_path_from_the_repository_root_names_files_relative_to_the_workspace(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.root)
    document = _invoke("git:HEAD~1:ws", "git:HEAD:ws")
    change = _change(document, repo.edit.weight_path)
    assert change["old_at"] == f"scorecards.yaml:{repo.edit.weight_line}"
    # A git revision against the working tree: the same changes, the same positions.
    assert _invoke("git:HEAD~1:ws", "ws") == document


def test_payouts_on_the_same_data_match_bonus_runs_of_each_version(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.ws)
    document = _invoke("git:HEAD~1", "git:HEAD", "--data", ".", "--plan", PLAN)
    assert set(document) == {"changes", "payouts", "total"}
    payouts = document["payouts"]
    total = document["total"]
    assert isinstance(payouts, list) and isinstance(total, dict)
    old_run = pay(compile_workspace(repo.before), PLAN, None)
    new_run = pay(compile_workspace(repo.ws), PLAN, None)
    assert [p["person"] for p in payouts] == [p.person for p in new_run.result.payouts]
    assert {p["person"]: Decimal(p["old"]) for p in payouts} == {p.person: p.payout for p in old_run.result.payouts}
    assert {p["person"]: Decimal(p["new"]) for p in payouts} == {p.person: p.payout for p in new_run.result.payouts}
    for p in payouts:
        assert set(p) == {"person", "old", "new", "delta"}
        assert all(MONEY.fullmatch(p[k]) for k in ("old", "new", "delta"))
        assert Decimal(p["delta"]) == Decimal(p["new"]) - Decimal(p["old"])
    assert any(Decimal(p["delta"]) != 0 for p in payouts), "moving 5% of weight changed nobody's payout"
    assert Decimal(total["old"]) == sum(Decimal(p["old"]) for p in payouts) == old_run.result.total
    assert Decimal(total["new"]) == sum(Decimal(p["new"]) for p in payouts) == new_run.result.total
    assert Decimal(total["delta"]) == sum(Decimal(p["delta"]) for p in payouts)
    # The plan is the only one, so --plan may be left out; --period given explicitly gives the same.
    assert _invoke("git:HEAD~1", "git:HEAD", "--data", ".", "--period", "2026") == document


def test_markdown_report_has_change_and_payout_tables(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.ws)
    result = runner.invoke(app, ["diff", "git:HEAD~1", ".", "--data", ".", "--format", "md"])
    assert result.exit_code == 0, result.output
    text = result.output
    edit = repo.edit
    assert "| change | path | old | new | where |" in text
    assert (
        f"| changed | `{edit.weight_path}` | `{edit.old_weight}` | `{edit.new_weight}` | "
        f"scorecards.yaml:{edit.weight_line} |"
    ) in text
    assert "| person | name | old | new | delta |" in text
    assert re.search(
        r"^\| \*\*total\*\* \| \| \*\*\d+\.\d\d\*\* \| \*\*\d+\.\d\d\*\* \| \*\*[-+]?\d+\.\d\d\*\* \|$", text, re.M
    )


def test_path_against_path_with_an_added_and_a_removed_kpi(tmp_path: Path) -> None:
    old = _copy_example(tmp_path / "old")
    new = _copy_example(tmp_path / "new")
    kpis = new / "kpis.yaml"
    text = kpis.read_text(encoding="utf-8")
    removed = re.search(r"\n  tickets_handled:\n(?:    .*\n|\n)*?(?=  \S|\Z)", text)
    assert removed, "the example lost its tickets_handled KPI"
    text = text[: removed.start()] + "\n" + text[removed.end() :]
    text = (
        text.rstrip("\n") + "\n\n  reopen_rate:\n    name: Reopened requests\n    source: tickets\n"
        "    by: {person: agent_id}\n    formula: share(reopened, resolved_at is not null)\n"
        "    direction: lower\n    goal: solved_for_good\n"
    )
    kpis.write_text(text, encoding="utf-8")
    document = _invoke(str(old), str(new))
    added = _change(document, "kpis.reopen_rate")
    assert added["kind"] == "added" and added["old"] is None and added["old_at"] is None
    assert added["new_at"] == f"kpis.yaml:{_line_of(kpis, '  reopen_rate:')}"
    assert added["new"] is not None and 'formula: "share(reopened, resolved_at is not null)"' in added["new"]
    gone = _change(document, "kpis.tickets_handled")
    assert gone["kind"] == "removed" and gone["new"] is None and gone["new_at"] is None
    assert gone["old_at"] == f"kpis.yaml:{_line_of(old / 'kpis.yaml', '  tickets_handled:')}"
    assert {c["kind"] for c in document["changes"]} == {"added", "removed"}  # type: ignore[union-attr]


def test_scorecard_entries_are_matched_by_kpi_and_level(tmp_path: Path) -> None:
    old = _copy_example(tmp_path / "old")
    new = _copy_example(tmp_path / "new")
    cards = new / "scorecards.yaml"
    lines = cards.read_text(encoding="utf-8").splitlines(keepends=True)
    lead = next(i for i, line in enumerate(lines) if line.startswith("  support_lead:"))
    first = next(i for i in range(lead, len(lines)) if "- {kpi:" in lines[i])
    lines[first], lines[first + 1] = lines[first + 1], lines[first]  # reorder only: no semantic change
    cards.write_text("".join(lines), encoding="utf-8")
    assert diff_definitions(load_workspace(old), load_workspace(new)) == []
    # Dropping an entry removes it by identity; the entries after it are not reported as changed.
    text = cards.read_text(encoding="utf-8")
    org = re.search(r"      - \{kpi: csat, weight: (\d+)%, at: organization\}\n", text)
    unit = re.search(r"\{kpi: csat, weight: (\d+)%, at: unit\}", text)
    assert org and unit
    text = text.replace(unit.group(0), f"{{kpi: csat, weight: {int(unit.group(1)) + int(org.group(1))}%, at: unit}}")
    cards.write_text(text.replace(org.group(0), ""), encoding="utf-8")
    changes = diff_definitions(load_workspace(old), load_workspace(new))
    kinds = sorted((c.kind, c.path, c.old, c.new) for c in changes)
    assert [k[0] for k in kinds] == ["changed", "removed"]
    assert kinds[1][2] == f"{{kpi: csat, weight: {org.group(1)}%, at: organization}}"
    assert kinds[0][1].startswith("scorecards.support_lead.kpis[") and kinds[0][1].endswith("].weight")


def test_identical_definitions_have_no_changes(tmp_path: Path) -> None:
    result = runner.invoke(app, ["diff", str(EXAMPLE), str(_copy_example(tmp_path / "copy"))])
    assert result.exit_code == 0, result.output
    assert ": 0 changes in the definitions" in result.output


def test_bad_revision_is_a_clean_error(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.ws)
    result = runner.invoke(app, ["diff", "git:no-such-branch", "git:HEAD"])
    assert result.exit_code == 1
    assert "error[E100]: `no-such-branch` is not a revision" in result.output
    assert "help:" in result.output and "Traceback" not in result.output
    missing = runner.invoke(app, ["diff", "git:HEAD:nowhere", "."])
    assert missing.exit_code == 1 and "no definitions at `HEAD:ws/nowhere`" in missing.output


def test_git_outside_a_repository_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = runner.invoke(app, ["diff", "git:HEAD", str(EXAMPLE)])
    assert result.exit_code == 1
    assert "is not inside a git repository" in result.output


def test_plan_without_data_is_a_usage_error() -> None:
    result = runner.invoke(app, ["diff", str(EXAMPLE), str(EXAMPLE), "--plan", PLAN])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("25%", "25%"),
        (Decimal("0.250"), "0.250"),
        (3, "3"),
        (True, "true"),
        (None, "null"),
        ({"kpi": "csat", "weight": "20%", "at": "unit"}, "{kpi: csat, weight: 20%, at: unit}"),
        (["fte", "employment"], "[fte, employment]"),
        ({"where": "a <> 'b'"}, "{where: \"a <> 'b'\"}"),
    ],
    ids=["percent", "decimal", "int", "bool", "null", "entry", "list", "quoted"],
)
def test_values_are_shown_as_written(value: object, text: str) -> None:
    assert written(value) == text


def test_value_equality_is_by_value_not_spelling() -> None:
    assert same(Decimal("0.25"), Decimal("0.250")) and same(1, Decimal("1.0"))
    assert not same(True, 1) and not same("1", 1) and not same("25%", Decimal("0.25"))
    assert dotted(("scorecards", "lead", "kpis", 0, "weight")) == "scorecards.lead.kpis[0].weight"
    assert dotted(("tests", "t", "data", "odd key")) == 'tests.t.data["odd key"]'
