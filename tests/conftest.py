from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent

# The roster check's cache (engine/evaluation/roster.py) goes to a folder of this test session, never
# to the user's ~/.cache: tests see their own results only. The folder goes when the session ends.
_CACHE = tempfile.mkdtemp(prefix="kpi-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", default=False, help="rewrite golden files from the current output"
    )


@pytest.fixture(scope="session")
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """Rewrite golden files instead of comparing (`pytest --update-goldens`, or UPDATE_GOLDENS=1)."""
    flag = bool(request.config.getoption("--update-goldens", default=False))
    return flag or any(os.environ.get(v, "") not in ("", "0") for v in ("UPDATE_GOLDENS", "KPI_UPDATE_GOLDENS"))


@pytest.fixture
def repo() -> Path:
    return REPO
