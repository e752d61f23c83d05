"""The bundled definitions stay valid and their own tests keep passing (SPEC §6.1, run in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1] / "kpi_definitions"
WORKSPACES = sorted(p for kind in ("library", "examples") for p in (ROOT / kind).iterdir() if p.is_dir())


def test_everything_validates_strictly() -> None:
    result = runner.invoke(app, ["validate", "--strict", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert ", 0 errors, 0 warnings" in result.output


@pytest.mark.parametrize("workspace", WORKSPACES, ids=[f"{p.parent.name}/{p.name}" for p in WORKSPACES])
def test_workspace_tests_pass(workspace: Path) -> None:
    result = runner.invoke(app, ["test", str(workspace)])
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output
