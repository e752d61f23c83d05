"""Expression-test fixtures: a DuckDB connection with the test tables, and golden files
regenerated with ``pytest --update-goldens`` (or ``UPDATE_GOLDENS=1``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from exprkit import ROWS, connect, load

GOLDENS = Path(__file__).parent / "goldens"


def pytest_addoption(parser: pytest.Parser) -> None:
    try:
        parser.addoption(
            "--update-goldens", action="store_true", default=False, help="rewrite golden files from the current output"
        )
    except ValueError:  # another conftest already defines it
        pass


class Golden:
    """One JSON golden file: key → value; compares, or records in update mode."""

    def __init__(self, path: Path, update: bool) -> None:
        self.path, self.update = path, update
        self.data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        self.seen: dict[str, Any] = {}

    def check(self, key: str, value: Any) -> None:
        self.seen[key] = value
        if self.update:
            return
        assert key in self.data, f"no golden for {key!r}: run pytest tests/expr --update-goldens"
        assert value == self.data[key], f"golden {key!r} differs; rerun with --update-goldens and review the diff"

    def write(self) -> None:
        if self.update and self.seen:
            merged = {**self.data, **self.seen}
            text = json.dumps(dict(sorted(merged.items())), indent=2, ensure_ascii=False) + "\n"
            self.path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="session")
def golden(update_goldens: bool) -> Iterator[Any]:
    files: dict[str, Golden] = {}

    def get(name: str) -> Golden:
        if name not in files:
            files[name] = Golden(GOLDENS / name, update_goldens)
        return files[name]

    yield get
    for g in files.values():
        g.write()


@pytest.fixture(scope="session")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect()
    yield con
    con.close()


@pytest.fixture
def table(duck: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The session connection with table t holding exprkit.ROWS (other tests load their own rows)."""
    load(duck, ROWS)
    return duck
