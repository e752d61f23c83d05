"""SPEC §14: paths stay inside the workspace. Symlinks, `..` and absolute paths that lead outside are
refused (unless `organization.allow_paths` lists their folder), a glob walks only below its fixed
prefix, and no diagnostic echoes the content of a file that is not a definition file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.config.paths import walk_glob
from kpi_engine.errors import Code, error
from kpi_engine.source import Span, render

runner = CliRunner()
SECRET = "TOP-SECRET-LINE do not print me"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    target = tmp_path / "support"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    return target


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.yaml").write_text(f"{SECRET}: [\n", encoding="utf-8")
    return folder


def _no_crash(text: str) -> None:
    assert "Traceback" not in text and "internal error" not in text


def _set_requests_path(ws: Path, path: str) -> None:
    sources = ws / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text.replace("path: data/requests.csv", f"path: {path}"), encoding="utf-8")


def _allow(ws: Path, *folders: str) -> None:
    org = ws / "organization.yaml"
    text = org.read_text(encoding="utf-8")
    org.write_text(
        text.replace("  currency: EUR\n", f"  currency: EUR\n  allow_paths: [{', '.join(folders)}]\n"), encoding="utf-8"
    )


def test_include_outside_is_refused_without_echo(ws: Path, outside: Path) -> None:
    (ws / "more.yaml").write_text(
        f"include: [{outside / 'secret.yaml'}, ../outside/secret.yaml, /etc/passwd]\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["validate", str(ws)])
    assert result.exit_code == 1
    _no_crash(result.output)
    assert result.stdout.count("error[E131]") == 3
    assert "more.yaml:1:11: error[E131]" in result.stdout
    assert SECRET not in result.output and "root:x:0" not in result.output


def test_symlinked_definitions_file_is_refused_without_echo(ws: Path, outside: Path) -> None:
    (ws / "linked.yaml").symlink_to(outside / "secret.yaml")
    (ws / "linked_dir").symlink_to(outside, target_is_directory=True)  # never entered by the scan
    result = runner.invoke(app, ["validate", str(ws)])
    assert result.exit_code == 1
    _no_crash(result.output)
    assert "linked.yaml:1:1: error[E131]" in result.stdout
    assert result.stdout.count("error[") == 1
    assert SECRET not in result.output


def test_allow_paths_lets_a_workspace_include_a_shared_library(ws: Path, outside: Path) -> None:
    (outside / "secret.yaml").unlink()
    (outside / "params.yaml").write_text("params:\n  shared_days: 3\n", encoding="utf-8")
    (ws / "more.yaml").write_text("include: [../outside/params.yaml]\n", encoding="utf-8")
    _allow(ws, "../outside")
    assert runner.invoke(app, ["validate", str(ws)]).exit_code == 0
    (ws / "more.yaml").write_text(f"include: [{outside / 'params.yaml'}]\n", encoding="utf-8")
    assert runner.invoke(app, ["validate", str(ws)]).exit_code == 0


def test_absolute_source_path_needs_allow_paths(ws: Path, outside: Path) -> None:
    moved = outside / "requests.csv"
    (ws / "data" / "requests.csv").rename(moved)
    _set_requests_path(ws, str(moved))
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-03"])
    assert result.exit_code == 1
    _no_crash(result.output)
    assert "sources.yaml:19:11: error[E131]" in result.stderr
    _allow(ws, str(outside))
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-03"])
    assert result.exit_code == 0, result.output


def test_symlinked_data_file_is_refused_at_import(ws: Path, outside: Path) -> None:
    (outside / "requests_extra.csv").write_text("request_id\nR1\n", encoding="utf-8")
    (ws / "data" / "requests_extra.csv").symlink_to(outside / "requests_extra.csv")
    _set_requests_path(ws, "data/requests*.csv")
    result = runner.invoke(app, ["import", str(ws)])
    assert result.exit_code == 1
    _no_crash(result.output)
    assert "sources.yaml:19:11: error[E131]" in result.stderr
    assert "requests_extra.csv" in result.stderr


def test_remote_uri_is_refused(ws: Path) -> None:
    _set_requests_path(ws, "s3://bucket/requests.csv")
    result = runner.invoke(app, ["evaluate", str(ws), "--period", "2026-03"])
    assert result.exit_code == 1
    _no_crash(result.output)
    assert "sources.yaml:19:11: error[E132]" in result.stderr


def test_absolute_glob_from_root_is_refused_before_walking(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No folder outside the workspace is walked (this was a 10-second wall-clock limit; tests do not
    time things, they watch os.walk instead)."""
    _set_requests_path(ws, "/**/*.csv")
    walked: list[Path] = []
    real_walk = os.walk

    def recording_walk(top: Any, *args: Any, **kwargs: Any) -> Any:
        walked.append(Path(top).resolve())
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(os, "walk", recording_walk)
    result = runner.invoke(app, ["validate", str(ws)])
    assert [p for p in walked if not p.is_relative_to(ws.resolve())] == []
    assert result.exit_code == 1
    assert "sources.yaml:19:11: error[E131]" in result.stdout


def test_glob_walks_only_below_its_prefix(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    for name in ("data/a.csv", "data/sub/b.csv", "other/c.csv", "data/.hidden.csv"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    (outside / "d.csv").write_text("x\n", encoding="utf-8")
    (tmp_path / "data" / "linked").symlink_to(outside, target_is_directory=True)
    found = lambda pattern: sorted(p.relative_to(tmp_path).as_posix() for p in walk_glob(tmp_path, pattern))  # noqa: E731
    assert found("data/*.csv") == ["data/a.csv"]
    assert found("data/**/*.csv") == ["data/a.csv", "data/sub/b.csv"]
    assert found("*/*.csv") == ["data/a.csv", "other/c.csv", "outside/d.csv"]


def test_a_diagnostic_never_quotes_a_data_file(tmp_path: Path) -> None:
    data = tmp_path / "people.csv"
    data.write_text(f"id,name\n1,{SECRET}\n", encoding="utf-8")
    text = render(error(Code.DATA_FILE, "bad row", Span(str(data), 2, 1), "fix it"))
    assert SECRET not in text
    assert text.startswith(f"{data}:2:1: error[E500]: bad row")
