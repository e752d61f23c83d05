"""`kpi init`: a working workspace from each library template, and next steps that work on it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.config.schema import load_schema
from kpi_engine.templates import library, templates

runner = CliRunner()
NAMES = [t.name for t in templates()]


def test_list_names_every_template() -> None:
    result = runner.invoke(app, ["init", "--list"])
    assert result.exit_code == 0
    names = {line.split()[0] for line in result.stdout.splitlines()}
    assert {"support", "field_service", "internal_service"} <= names
    assert names == set(NAMES)
    folders = {p.name for p in Path(str(library())).iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert folders == names, "every library folder is a template named in templates.json"


def test_a_library_without_templates_lists_none(tmp_path: Path) -> None:
    assert templates(tmp_path) == []


@pytest.mark.parametrize("name", NAMES)
def test_init_copies_definitions_and_sample_data_only(tmp_path: Path, name: str) -> None:
    target = tmp_path / "mine"
    assert runner.invoke(app, ["init", str(target), "--template", name]).exit_code == 0
    copied = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    source = Path(str(library())) / name
    expected = sorted(
        p.relative_to(source).as_posix()
        for p in source.rglob("*")
        if p.is_file() and (p.suffix == ".yaml" or p.parent.name == "data")
    )
    assert copied == sorted([*expected, "kpi.schema.json"])  # the schema, for the editor
    assert not any(p.endswith((".py", ".txt")) for p in copied)
    for definitions in target.glob("*.yaml"):  # each file's modeline points at the workspace's copy
        assert (
            definitions.read_text(encoding="utf-8").splitlines()[0] == "# yaml-language-server: $schema=kpi.schema.json"
        )
    assert json.loads((target / "kpi.schema.json").read_text(encoding="utf-8")) == load_schema()


@pytest.mark.parametrize("name", NAMES)
def test_next_steps_work_on_the_new_workspace(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    created = runner.invoke(app, ["init", "my ws", "--template", name])
    assert created.exit_code == 0, created.output
    head, steps = created.stdout.split("next:\n")
    assert head == f"created my ws from template `{name}`\n"
    commands = [shlex.split(line) for line in steps.splitlines()]
    assert [c[:2] for c in commands][:4] == [
        ["kpi", "validate"],
        ["kpi", "import"],
        ["kpi", "test"],
        ["kpi", "evaluate"],
    ]
    assert ["kpi", "bonus"] == commands[4][:2] and "--plan" in commands[4] and "--period" in commands[4]
    for words in commands:
        assert words[2] == "my ws"
        result = runner.invoke(app, words[1:])
        assert result.exit_code == 0, f"{shlex.join(words)}\n{result.output}"


def test_refuses_to_overwrite_and_unknown_templates(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    busy = runner.invoke(app, ["init", str(tmp_path / "busy")])
    assert busy.exit_code == 1 and "not an empty folder" in busy.output
    unknown = runner.invoke(app, ["init", str(tmp_path / "x"), "--template", "suport"])
    assert unknown.exit_code == 1 and "did you mean `support`" in unknown.output
