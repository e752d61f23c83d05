"""SPEC §14: `--out` problems (a folder, a missing parent, a full disk, a read-only place) are clean
coded errors, and a run whose output could not be written is not recorded as delivered; a read-only
workspace and a damaged database end in coded errors too. Real files, real mounts (tmpfs, read-only
bind mounts: these tests need root, and skip with the reason otherwise), the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
PERIOD = ["--period", "2026-03"]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    target = tmp_path / "support"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    return target


def _clean(result_text: str) -> None:
    assert "Traceback" not in result_text and "internal error" not in result_text


def _runs(ws: Path) -> int:
    result = runner.invoke(app, ["runs", "list", str(ws), "--format", "json"])
    assert result.exit_code == 0, result.output
    return len(json.loads(result.stdout)["runs"])


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount ({done.stderr.strip() or 'not root'}): a real read-only or full file system needs root"
        )


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@contextmanager
def read_only_view(source: Path, folder: Path) -> Iterator[Path]:
    """`source` seen through a read-only bind mount at `folder` (root ignores file permissions)."""
    folder.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(source), str(folder))
    try:
        _mount("-o", "remount,ro,bind", str(folder))
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("command", [["bonus"], ["evaluate", "--format", "json"], ["explain", "--person", "e01"]])
def test_out_a_folder_is_refused_before_the_work(ws: Path, tmp_path: Path, command: list[str]) -> None:
    before = _runs(ws)
    result = runner.invoke(app, [command[0], str(ws), *command[1:], *PERIOD, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    _clean(result.output)
    assert "error[E560]" in result.stderr and "is a folder" in result.stderr
    assert _runs(ws) == before


def test_out_under_a_file_is_refused(ws: Path) -> None:
    roster = ws / "data" / "employees.csv"
    result = runner.invoke(app, ["validate", str(ws), "--out", str(roster / "report.txt")])
    assert result.exit_code == 2, result.output
    _clean(result.output)
    assert "error[E561]" in result.stderr


def test_out_missing_parents_are_created(ws: Path, tmp_path: Path) -> None:
    target = tmp_path / "new" / "folders" / "payouts.json"
    result = runner.invoke(app, ["bonus", str(ws), *PERIOD, "--format", "json", "--out", str(target)])
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["run"]["id"] in result.stdout  # the real run block replaced the placeholder
    assert not list(target.parent.glob(".*partial"))


def test_out_on_a_read_only_place_is_refused_before_recording(ws: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    with read_only_view(exports, tmp_path / "ro") as ro:
        before = _runs(ws)
        for command in (["bonus", str(ws), *PERIOD], ["evaluate", str(ws), *PERIOD, "--format", "csv"]):
            result = runner.invoke(app, [*command, "--out", str(ro / "out.csv")])
            assert result.exit_code == 2, result.output
            _clean(result.output)
            assert "error[E561]" in result.stderr
        assert _runs(ws) == before


@pytest.mark.parametrize("format", ["table", "json", "csv", "xlsx"])
def test_full_disk_fails_cleanly_and_records_nothing(ws: Path, tmp_path: Path, format: str) -> None:
    with tmpfs(tmp_path / "tiny", "16k") as tiny:
        filler = os.open(tiny / "filler", os.O_WRONLY | os.O_CREAT)  # fill it up: the output finds no space
        try:
            while os.write(filler, b"\0" * 1024):
                pass
        except OSError:
            pass
        finally:
            os.close(filler)
        before = _runs(ws)
        result = runner.invoke(app, ["bonus", str(ws), *PERIOD, "--format", format, "--out", str(tiny / "payouts")])
        assert result.exit_code == 1, result.output
        _clean(result.output)
        assert "error[E562]" in result.stderr and "nothing was recorded" in result.stderr
        assert _runs(ws) == before
        assert sorted(p.name for p in tiny.iterdir()) == ["filler"]  # no partial file left


def test_full_disk_for_a_report_is_a_clean_error(ws: Path) -> None:
    result = runner.invoke(app, ["validate", str(ws), "--out", "/dev/full"])
    assert result.exit_code == 1, result.output
    _clean(result.output)
    assert "error[E562]" in result.stderr and "ledger" not in result.stderr


def test_full_device_says_the_output_was_not_delivered(ws: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    result = runner.invoke(app, ["evaluate", str(ws), *PERIOD, "--out", "/dev/full"])
    assert result.exit_code == 1, result.output
    _clean(result.output)
    assert "error[E562]" in result.stderr and "NOT delivered" in result.stderr


@pytest.mark.parametrize("imported", [False, True])
def test_read_only_workspace_is_a_coded_error(ws: Path, tmp_path: Path, imported: bool) -> None:
    if imported:
        assert runner.invoke(app, ["import", str(ws)]).exit_code == 0
    with read_only_view(ws, tmp_path / "ro_ws") as ro:
        commands = [
            ["evaluate", str(ro), *PERIOD],
            ["bonus", str(ro), *PERIOD],
            ["import", str(ro)],
            ["runs", "approve", str(ro), "20260101T000000Z-000000", "--by", "A. Auditor"],
        ]
        for command in commands:
            result = runner.invoke(app, command)
            assert result.exit_code == 1, (command, result.output)
            _clean(result.output)
            assert "error[E563]" in result.stderr and "read-only" in result.stderr
            assert "= help: " in result.stderr


def test_damaged_database_is_a_coded_error(ws: Path) -> None:
    assert runner.invoke(app, ["import", str(ws)]).exit_code == 0
    (ws / ".kpi" / "warehouse.duckdb").write_bytes(os.urandom(64 * 1024))
    for command in (["evaluate", str(ws), *PERIOD], ["bonus", str(ws), *PERIOD], ["import", str(ws)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, (command, result.output)
        _clean(result.output)
        assert "error[E506]" in result.stderr and "= help: " in result.stderr


def test_file_system_errors_at_the_boundary_are_coded(tmp_path: Path) -> None:
    source = tmp_path / "empty"
    source.mkdir()
    with read_only_view(source, tmp_path / "ro") as ro:
        result = runner.invoke(app, ["init", str(ro / "new_ws")])
    assert result.exit_code == 1, result.output
    _clean(result.output)
    assert "error[E564]" in result.stderr and "new_ws" in result.stderr
    shutil.rmtree(source)
