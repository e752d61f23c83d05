"""What CI users are promised: the `kpi-validate` pre-commit hook and the commands of docs/ci.md."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import yaml
from typer.main import get_command
from typer.testing import CliRunner

from kpi_engine.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_SUPPORT = ROOT / "kpi_definitions" / "library" / "support"
runner = CliRunner()


def hook() -> dict[str, object]:
    (only,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return only


def test_the_hook_runs_kpi_validate_strict_on_definition_files() -> None:
    kpi_validate = hook()
    assert kpi_validate["id"] == "kpi-validate" and kpi_validate["language"] == "python"
    assert kpi_validate["entry"] == "kpi validate --strict"
    files = re.compile(str(kpi_validate["files"]))
    assert files.search("kpi_definitions/examples/support/kpis.yaml")
    assert files.search("kpi_definitions/library/sales/scorecards.yml")
    assert not files.search(".github/workflows/ci.yml") and not files.search("kpi_definitions/x/data/a.csv")


def test_the_hook_checks_changed_files_with_their_workspace(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """pre-commit runs the entry from the repository root with the changed files' relative paths."""
    ws = tmp_path / "kpi_definitions" / "support"
    shutil.copytree(LIBRARY_SUPPORT, ws, ignore=shutil.ignore_patterns("*.py"))
    monkeypatch.chdir(tmp_path)
    entry = shlex.split(str(hook()["entry"]))[1:]
    clean = runner.invoke(app, [*entry, "kpi_definitions/support/kpis.yaml", "kpi_definitions/support/tests.yaml"])
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.strip().endswith("1 workspace/fragment checked, 0 errors, 0 warnings")
    scorecards = ws / "scorecards.yaml"
    text = scorecards.read_text(encoding="utf-8")
    assert "{kpi: first_response_time," in text
    scorecards.write_text(text.replace("{kpi: first_response_time,", "{kpi: first_respons_time,", 1), encoding="utf-8")
    # Only scorecards.yaml changed; the reference to kpis.yaml is checked because its workspace is loaded.
    broken = runner.invoke(app, [*entry, "kpi_definitions/support/scorecards.yaml"])
    assert broken.exit_code == 1
    assert "kpi_definitions/support/scorecards.yaml:" in broken.stdout and "error[E401]" in broken.stdout


def documented_commands() -> list[list[str]]:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    found = []
    for line in text.splitlines():
        match = re.search(r"(?:run: |^\s+|^)(kpi (?:validate|test|schema|init|import|evaluate|bonus)\b.*)", line)
        if match:
            found.append(shlex.split(match.group(1).split(";")[0], comments=True))
    return found


def test_every_documented_ci_command_uses_real_options() -> None:
    commands = documented_commands()
    assert {c[1] for c in commands} >= {"validate", "test"}
    group = get_command(app)
    for words in commands:
        command = group.commands[words[1]]  # type: ignore[attr-defined]
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        for i, word in enumerate(words):
            if word.startswith("--"):
                assert word in options, f"`{shlex.join(words)}`: {word} is not an option of kpi {words[1]}"
                if word == "--format":
                    choices = next(p for p in command.params if "--format" in p.opts).type.choices
                    assert words[i + 1] in choices
