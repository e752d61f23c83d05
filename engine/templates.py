"""Workspace templates: the library domains under kpi_definitions/library/, copied by `kpi init`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.config.build import unknown
from engine.config.loader import load_file
from engine.errors import Code, KpiError, error

LIBRARY = Path(__file__).resolve().parents[1] / "kpi_definitions" / "library"
DEFAULT = "support"


@dataclass(frozen=True)
class Template:
    name: str
    path: Path
    title: str


def templates(library: Path = LIBRARY) -> list[Template]:
    """Every library domain that is a workspace (holds an organization), sorted by name."""
    found = []
    for folder in sorted(p for p in library.iterdir() if p.is_dir()) if library.is_dir() else []:
        for path in sorted(folder.glob("*.yaml")):
            data = load_file(path).data
            organization = data.get("organization") if isinstance(data, dict) else None
            if isinstance(organization, dict):
                found.append(Template(folder.name, folder, str(organization.get("name", folder.name))))
                break
    return found


def init_workspace(target: Path, name: str = DEFAULT, library: Path = LIBRARY) -> Template:
    """Copy a template (definitions, sample data, generator) into a new or empty folder."""
    available = {t.name: t for t in templates(library)}
    if name not in available:
        message, hint = unknown("template", name, list(available))
        raise KpiError([error(Code.UNKNOWN_REFERENCE, message, None, hint)])
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise KpiError([error(Code.BAD_VALUE, f"`{target}` exists and is not an empty folder", None,
                              "choose a new folder name; kpi init never overwrites files")])
    template = available[name]
    shutil.copytree(template.path, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".kpi", "__pycache__", "*.pyc"))
    return template
