"""Fixture workspaces: each broken one must produce exactly the diagnostics in its expected.txt.

expected.txt lists one diagnostic a line: ``CODE file:line:col`` (file relative to the fixture).
Every error of the workspace must be listed; listed warnings must be present.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_engine.errors import Severity
from kpi_engine.pipeline import validate

FIXTURES = Path(__file__).parent / "fixtures"
INVALID = sorted(p for p in (FIXTURES / "invalid").iterdir() if p.is_dir())
VALID = sorted(p for p in (FIXTURES / "valid").iterdir() if p.is_dir())


def _actual(folder: Path) -> tuple[set[str], set[str]]:
    errors, warnings = set(), set()
    for result in validate([folder]):
        for d in result.diagnostics:
            assert d.span is not None, f"diagnostic without position: {d}"
            rel = Path(d.span.file).resolve().relative_to(folder.resolve()).as_posix()
            line = f"{d.code.value} {rel}:{d.span.line}:{d.span.col}"
            (errors if d.severity == Severity.ERROR else warnings).add(line)
            assert d.hint, f"diagnostic without hint: {line} {d.message}"
    return errors, warnings


@pytest.mark.parametrize("folder", INVALID, ids=[p.name for p in INVALID])
def test_invalid_fixture(folder: Path) -> None:
    expected = {
        line.strip()
        for line in (folder / "expected.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    errors, warnings = _actual(folder)
    expected_errors = {e for e in expected if e.startswith("E")}
    expected_warnings = {e for e in expected if e.startswith("W")}
    assert errors == expected_errors
    assert expected_warnings <= warnings


@pytest.mark.parametrize("folder", VALID, ids=[p.name for p in VALID])
def test_valid_fixture(folder: Path) -> None:
    errors, warnings = _actual(folder)
    assert errors == set()
    assert warnings == set()


def test_there_are_enough_fixtures() -> None:
    assert len(INVALID) >= 40
