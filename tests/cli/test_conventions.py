"""Command-line conventions of SPEC §9: version, help, completion, exit codes, JSON on failure, W codes,
progress only on a terminal, and confirmations of what was written. Through the real Typer app on a
workspace made by `kpi init`, plus the installed `kpi` under a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.errors import Code, Diagnostic, Severity

runner = CliRunner()
KPI = Path(sys.executable).with_name("kpi")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The support template, imported once."""
    target = tmp_path_factory.mktemp("conventions") / "support"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    assert runner.invoke(app, ["import", str(target)]).exit_code == 0
    return target


def command_paths() -> list[tuple[str, ...]]:
    """Every command of the app as the words that call it: ("evaluate",), ("runs", "verify") …"""
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found.append(path)
            return
        for name, child in sorted(children.items()):
            walk(child, (*path, name))

    walk(get_command(app), ())
    return found


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"kpi-engine {version('kpi-engine')}\n"


@pytest.mark.parametrize("path", [(), *command_paths()], ids=lambda p: " ".join(p) or "kpi")
def test_h_is_help_and_help_is_clean(path: tuple[str, ...]) -> None:
    short, long = runner.invoke(app, [*path, "-h"]), runner.invoke(app, [*path, "--help"])
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout
    assert "<bool>" not in long.stdout and "list[" not in long.stdout and "<str>" not in long.stdout


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_command_help_shows_an_example(path: tuple[str, ...]) -> None:
    text = runner.invoke(app, [*path, "--help"]).stdout
    examples = text.split("Examples:", 1)
    assert len(examples) == 2, f"`kpi {' '.join(path)} --help` has no Examples section"
    assert f"kpi {' '.join(path)} " in examples[1]


def test_completion_scripts_and_completions() -> None:
    shown = runner.invoke(app, ["--show-completion", "bash"])
    assert shown.exit_code == 0 and "_kpi_completion" in shown.stdout, (shown.output, shown.exception)
    help_text = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in help_text and "--show-completion" in help_text
    completed = subprocess.run(
        [str(KPI)],
        env={**os.environ, "_KPI_COMPLETE": "complete_bash", "COMP_WORDS": "kpi eva", "COMP_CWORD": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.stdout.split() == ["evaluate"]


USAGE_ERRORS = [
    (["evaluate", "{ws}", "--period", "2026-13"], "E417"),
    (["evaluate", "{ws}", "--period", "2026-Q5", "--format", "json"], "E417"),
    (["evaluate", "{ws}"], "E001"),  # --period is required
    (["evaluate", "{ws}", "--period", "2026", "--grain", "fortnight"], "E001"),
    (["evaluate", "{ws}", "--period", "2026", "--bogus"], "E001"),
    (["bonus", "{ws}", "--period", "March"], "E417"),
    (["bonus", "{ws}", "--format", "xlsx"], "E001"),  # xlsx needs --out
    (["explain", "{ws}", "--person", "e01", "--period", "2026-00"], "E417"),
    (["compile", "{ws}", "--period", "2026-W60"], "E417"),
    (["import", "{ws}", "--max-rejects", "-1"], "E001"),
    (["diff", "{ws}", "{ws}", "--plan", "support_monthly"], "E001"),  # --plan prices on --data
    (["init"], "E001"),
    (["validate", "--format", "yaml"], "E001"),
]


@pytest.mark.parametrize(("words", "code"), USAGE_ERRORS, ids=lambda w: " ".join(w) if isinstance(w, list) else w)
def test_usage_errors_exit_2_with_a_code_and_a_hint(ws: Path, words: list[str], code: str) -> None:
    result = runner.invoke(app, [w.format(ws=ws) for w in words])
    assert result.exit_code == 2, result.output
    assert f"error[{code}]: " in result.stderr
    assert "= help: " in result.stderr
    assert "Traceback" not in result.output


def test_json_stays_json_on_usage_errors(ws: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-13", "--format", "json"])
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert [(d["code"], d["severity"]) for d in document["diagnostics"]] == [("E417", "error")]
    assert document["diagnostics"][0]["hint"].startswith("write 2025")
    validate = runner.invoke(app, ["validate", str(ws), "--format", "json", "--bogus"])
    assert validate.exit_code == 2 and json.loads(validate.stdout)["valid"] is False


def test_json_stays_json_when_the_definitions_are_wrong(ws: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    assert runner.invoke(app, ["init", str(broken)]).exit_code == 0
    kpis = broken / "kpis.yaml"
    kpis.write_text(
        kpis.read_text(encoding="utf-8").replace("direction: lower", "direction: lowr", 1), encoding="utf-8"
    )
    for words in (
        ["evaluate", str(broken), "--period", "2026-03"],
        ["bonus", str(broken)],
        ["runs", "list", str(broken)],
        ["import", str(broken)],
    ):
        result = runner.invoke(app, [*words, "--format", "json"])
        assert result.exit_code == 1, result.output
        document = json.loads(result.stdout)
        assert document["ok"] is False
        (diagnostic,) = document["diagnostics"]
        assert diagnostic["file"].endswith("kpis.yaml") and diagnostic["line"] > 0 and diagnostic["code"] == "E125"


def test_json_of_a_failed_import_carries_the_report(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    shifts = target / "data" / "shifts.csv"
    shifts.write_text("not,the,header\n1,2,3\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(target), "--format", "json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["diagnostics"][0]["code"] == "E504"
    assert {f["source"] for f in document["import"]["files"]} >= {"employees", "requests"}  # imported before shifts


def test_warnings_carry_w_codes() -> None:
    assert all(c.value[0] in "EW" for c in Code)
    with pytest.raises(ValueError, match="W code"):
        Diagnostic(Code.DATA_FILE, "a warning with an E code", severity=Severity.WARNING)
    assert Diagnostic(Code.UNKNOWN_PERSON_ROWS, "ok", severity=Severity.WARNING).code.value == "W504"


def test_evaluate_out_confirms_the_file_and_the_run(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "kpis.json"
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-03", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    run_id = json.loads(out.read_text(encoding="utf-8"))["run"]["id"]
    assert result.stdout == f"wrote {out} (run {run_id})\n"
    folder = runner.invoke(
        app, ["evaluate", str(ws), "--period", "2026-03", "--format", "csv", "--out", str(tmp_path / "csv")]
    )
    csv = tmp_path / "csv"
    assert folder.stdout.startswith(f"wrote {csv / 'kpis.csv'}, {csv / 'scorecards.csv'} (run ")
    newest = json.loads(runner.invoke(app, ["runs", "list", str(ws), "--format", "json"]).stdout)["runs"][0]["id"]
    assert folder.stdout.endswith(f"(run {newest})\n")


def test_no_progress_bar_when_output_is_captured(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    result = runner.invoke(app, ["import", str(target)])
    assert result.exit_code == 0
    assert "kB" not in result.output and "%" not in result.output and "\x1b" not in result.output


def on_a_terminal(argv: list[str], cwd: Path) -> str:
    """Run the installed `kpi` with stdout and stderr on a pseudo-terminal; everything it showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        argv,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=60) == 0, shown.decode(errors="replace")
    os.close(leader)
    return shown.decode(errors="replace")


def test_import_shows_bytes_a_percentage_and_time_left_on_a_terminal(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    size = sum(f.stat().st_size for f in (target / "data").iterdir()) / 1000
    shown = on_a_terminal([str(KPI), "import", str(target)], tmp_path)
    assert "requests · data/requests.csv · reading" in shown
    assert re.search(r" \d+%", shown) and f"/{size:.1f} kB" in shown
    assert re.search(r"-:--:--|\d:\d\d:\d\d", shown)  # the time left
    assert "loaded" in shown  # the table printed after the bar


def test_no_progress_bar_in_json_even_on_a_terminal(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    shown = on_a_terminal([str(KPI), "import", str(target), "--format", "json"], tmp_path)
    assert json.loads(shown.replace("\r\n", "\n"))["ok"] is True


def test_option_choices_are_the_engines_names() -> None:
    """--at, --grain and --dialect offer exactly the engine's levels, grains and dialects (kpi_engine.names)."""
    import typer

    from kpi_engine.names import DIALECTS, GRAINS, LEVELS

    group = typer.main.get_command(app)
    ctx = typer.Context(group)

    def choices(command: str, option: str) -> list[str]:
        cmd = group.get_command(ctx, command)  # type: ignore[attr-defined]
        (param,) = [p for p in cmd.params if option in p.opts]
        return list(param.type.choices)

    assert choices("evaluate", "--at") == list(LEVELS)
    assert choices("evaluate", "--grain") == list(GRAINS)
    assert choices("compile", "--dialect") == list(DIALECTS)
