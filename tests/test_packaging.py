"""The wheel: one import package (`kpi_engine`) with its schema and templates, and a `kpi` that works
from any folder once installed (SPEC §9). `scripts/check_wheel.py` (run by .ci/run) goes further:
a fresh virtual environment, every template, every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_of_the_repository_is_in_the_wheel() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    expected = {"kpi_engine", "kpi_engine.cli", "kpi_engine.schemas", "kpi_engine.kpi_definitions"}
    expected |= {
        "kpi_engine." + ".".join(p.parent.relative_to(ROOT / "engine").parts)
        for p in (ROOT / "engine").rglob("__init__.py")
        if p.parent != ROOT / "engine"
    }
    assert set(setuptools["packages"]) == expected
    assert setuptools["package-dir"] == {
        "kpi_engine": "engine",
        "kpi_engine.cli": "cli",
        "kpi_engine.schemas": "schemas",
        "kpi_engine.kpi_definitions": "kpi_definitions",
    }
    assert [p for p in (ROOT / "engine").rglob("*.py") if not (p.parent / "__init__.py").exists()] == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    into = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(into), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=into,
    )
    (built,) = into.glob("kpi_engine-*.whl")
    return built


def test_the_wheel_installs_only_kpi_engine_with_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"kpi_engine"}
    assert {
        "kpi_engine/schemas/kpi.schema.json",
        "kpi_engine/expr/grammar.lark",
        "kpi_engine/py.typed",
        "kpi_engine/cli/main.py",
        "kpi_engine/kpi_definitions/library/templates.json",
        "kpi_engine/kpi_definitions/library/support/data/requests.csv",
    } <= set(names)
    shipped = {
        n.removeprefix("kpi_engine/kpi_definitions/")
        for n in names
        if n.startswith("kpi_engine/kpi_definitions/") and not n.endswith("__init__.py")
    }
    library = ROOT / "kpi_definitions"
    assert shipped == {
        p.relative_to(library).as_posix()
        for p in (library / "library").rglob("*")
        if p.is_file() and p.suffix in (".yaml", ".csv", ".json", ".md")
    }
    assert not any(n.endswith("generate.py") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "kpi = kpi_engine.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_kpi_works_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    """Installed with --target beside this environment's dependencies, run from a folder outside the checkout."""
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1"}

    def kpi(*words: str) -> str:
        done = subprocess.run(
            [sys.executable, str(site / "bin" / "kpi"), *words],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"kpi {' '.join(words)}\n{done.stdout}{done.stderr}"
        return done.stdout

    located = subprocess.run(
        [sys.executable, "-c", "import kpi_engine; print(kpi_engine.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert located.startswith(str(site))
    assert json.loads(kpi("schema"))["$schema"].startswith("https://json-schema.org/")
    assert "support" in kpi("init", "--list")
    kpi("init", "ws", "--template", "support")
    kpi("validate", "ws", "--strict")
    kpi("import", "ws")
    document = json.loads(kpi("evaluate", "ws", "--period", "2026-03", "--format", "json"))
    assert document["kpis"] and document["scorecards"]
    payouts = json.loads(kpi("bonus", "ws", "--plan", "support_monthly", "--period", "2026-03", "--format", "json"))
    assert payouts["payouts"]
