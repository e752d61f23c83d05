"""The layers of the package, read from the source (nothing is imported): who may import what.

Stages after validation take the model and ask it questions; they do not reach into the validation
internals for helpers. The ledger (audit/) sits below the reports, which render what it stores.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"engine": "kpi_engine", "cli": "kpi_engine.cli"}

# The validation stages' own modules (load, shape, model, formulas, rules): only engine/config/ and the
# pipeline that runs the stages import them; later stages use the model and the modules beside it.
VALIDATION_INTERNALS = frozenset(
    {
        "kpi_engine.config.build",
        "kpi_engine.config.formulas",
        "kpi_engine.config.loader",
        "kpi_engine.config.rules",
        "kpi_engine.config.schema",
        "kpi_engine.config.workspace",
    }
)
STAGE_RUNNERS = frozenset({"kpi_engine.pipeline"})
# (importing module, internal module) pairs allowed for a reason.
ALLOWED = frozenset(
    {
        ("kpi_engine.cli.main", "kpi_engine.config.schema"),  # `kpi schema` prints the JSON Schema itself
    }
)
# (internal module, name) imports tolerated until the name moves to its own module. Empty since
# Formulas moved to kpi_engine.compiled and only the pipeline calls analyze.
TOLERATED: frozenset[tuple[str, str]] = frozenset()


def _modules() -> list[tuple[str, Path]]:
    """(dotted name, file) of every module under engine/ and cli/."""
    found = []
    for folder, package in PACKAGES.items():
        base = ROOT / folder
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append((".".join([package, *parts]), path))
    return found


MODULES = _modules()
MODULE_NAMES = frozenset(name for name, _ in MODULES)


def _imports(module: str, path: Path) -> Iterator[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None for the module itself, line) for every import of a
    module, also inside functions and ``if TYPE_CHECKING:``; ``from package import submodule`` is the submodule."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*package, *([base] if base else [])])
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULE_NAMES:
                    yield f"{base}.{alias.name}", None, node.lineno
                else:
                    yield base, alias.name, node.lineno


def _shown(imported: str, name: str | None) -> str:
    return f"`{name}` from {imported}" if name else imported


def test_the_tree_is_found() -> None:
    assert {
        "kpi_engine",
        "kpi_engine.pipeline",
        "kpi_engine.config.rules",
        "kpi_engine.audit.verify",
        "kpi_engine.report",
        "kpi_engine.cli.main",
    } <= MODULE_NAMES


def test_validation_internals_are_imported_only_by_the_validation_stages() -> None:
    found = []
    for module, path in MODULES:
        if module == "kpi_engine.config" or module.startswith("kpi_engine.config.") or module in STAGE_RUNNERS:
            continue
        for imported, name, line in _imports(module, path):
            if imported not in VALIDATION_INTERNALS or (module, imported) in ALLOWED:
                continue
            if name is not None and (imported, name) in TOLERATED:
                continue
            found.append(f"{module} (line {line}) imports {_shown(imported, name)}")
    assert not found, "validation internals imported outside engine/config/ and the pipeline:\n" + "\n".join(found)


def test_the_ledger_does_not_import_the_reports() -> None:
    found = [
        f"{module} (line {line}) imports {_shown(imported, name)}"
        for module, path in MODULES
        if module.startswith("kpi_engine.audit")
        for imported, name, line in _imports(module, path)
        if imported == "kpi_engine.report" or imported.startswith("kpi_engine.report.")
    ]
    assert not found, (
        "audit/ imports report/ (documents the ledger hashes live in kpi_engine.documents):\n" + "\n".join(found)
    )


def test_module_file_names_are_unique() -> None:
    names = Counter(path.name for _, path in MODULES if path.name != "__init__.py")
    shared = {
        name: [module for module, path in MODULES if path.name == name]
        for name, count in sorted(names.items())
        if count > 1
    }
    assert not shared, "modules sharing a file name: " + "; ".join(
        f"{name}: {', '.join(modules)}" for name, modules in shared.items()
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from kpi_engine.config.rules import derived_inputs", [("kpi_engine.config.rules", "derived_inputs")]),
        ("from kpi_engine.config import rules", [("kpi_engine.config.rules", None)]),
        ("import kpi_engine.config.rules as r", [("kpi_engine.config.rules", None)]),
        ("def f():\n    from kpi_engine.report.bonus import x", [("kpi_engine.report.bonus", "x")]),
        ("from kpi_engine import report", [("kpi_engine.report", None)]),
        ("from ..report import bonus", [("kpi_engine.report.bonus", None)]),
        ("from .hashing import definitions_hash", [("kpi_engine.audit.hashing", "definitions_hash")]),
    ],
)
def test_imports_are_read_in_every_form(tmp_path: Path, source: str, expected: list[tuple[str, str | None]]) -> None:
    path = tmp_path / "verify.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert [(imported, name) for imported, name, _ in _imports("kpi_engine.audit.verify", path)] == expected


TOPS = ("engine", "cli", "tests", "schemas", "kpi_definitions", "benchmarks", "scripts", "docs")


def test_the_architecture_page_names_real_modules() -> None:
    """docs/architecture.md and the README's layout table name modules and folders that exist.

    A module moved or renamed without its description following is caught here.
    """
    import re

    named: set[str] = set()
    for page in (ROOT / "docs" / "architecture.md", ROOT / "README.md"):
        text = page.read_text(encoding="utf-8")
        named |= set(re.findall(r"(?<![\w/.])((?:[a-z_]+/)*[a-z_]+\.(?:py|lark|json)|[a-z_]+/)(?![\w/])", text))
    tree = {
        p.relative_to(ROOT).as_posix() + ("/" if p.is_dir() else "") for top in TOPS for p in (ROOT / top).rglob("*")
    }
    tree |= {f"{top}/" for top in TOPS}
    # A name is real when some path of the tree ends with it (`recording.py` for engine/audit/recording.py).
    missing = sorted(n for n in named if not any(t == n or t.endswith("/" + n) or t == "engine/" + n for t in tree))
    assert not missing, f"named in docs/architecture.md or README.md but not in the tree: {missing}"
