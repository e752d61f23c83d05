"""`kpi init`: a working workspace from each library template."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.templates import templates

runner = CliRunner()


def test_list_names_every_template() -> None:
    result = runner.invoke(app, ["init", "--list"])
    assert result.exit_code == 0
    names = {line.split()[0] for line in result.stdout.splitlines()}
    assert {"support", "field_service", "internal_service"} <= names
    assert names == {t.name for t in templates()}


def test_new_workspace_validates_and_its_tests_pass(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    created = runner.invoke(app, ["init", str(target), "--template", "field_service"])
    assert created.exit_code == 0, created.output
    assert any((target / "data").iterdir())
    assert runner.invoke(app, ["validate", str(target), "--strict"]).exit_code == 0
    tested = runner.invoke(app, ["test", str(target)])
    assert tested.exit_code == 0, tested.output


def test_refuses_to_overwrite_and_unknown_templates(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    busy = runner.invoke(app, ["init", str(tmp_path / "busy")])
    assert busy.exit_code == 1 and "not an empty folder" in busy.output
    unknown = runner.invoke(app, ["init", str(tmp_path / "x"), "--template", "suport"])
    assert unknown.exit_code == 1 and "did you mean `support`" in unknown.output
