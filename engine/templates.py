"""Workspace templates: the library domains shipped as package data, copied by `kpi init`.

The library lives in the repository at ``kpi_definitions/library/`` and in the wheel as
``kpi_engine/kpi_definitions/library/``; both are read through :mod:`importlib.resources`.
``library/templates.json`` names, per template, the period its sample data covers and the bonus
plan and period to pay, so `kpi init` can print commands that work on what it copied.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from kpi_engine.errors import Code, KpiError, error, unknown
from kpi_engine.names import YAML_SUFFIXES

DEFAULT = "support"
MANIFEST = "templates.json"
# What a new workspace receives: its definitions, and sample data under data/. Generator scripts,
# lint samples and notes stay in the library.
DATA_FOLDER = "data"
DATA_SUFFIXES = (".csv", ".parquet", ".json", ".ndjson", ".jsonl", ".xlsx")
# Editors find the schema through each file's first line; a new workspace gets its own copy of it.
SCHEMA_FILE = "kpi.schema.json"
MODELINE = b"# yaml-language-server: $schema="


@dataclass(frozen=True)
class Template:
    """A starter workspace that `kpi init` copies: its sample data's period and the bonus plan to try."""

    name: str
    title: str
    period: str  # a period the sample data covers
    plan: str | None  # the bonus plan to pay, and the period to pay it for
    pay_period: str | None
    folder: Traversable

    def next_steps(self, target: Path) -> list[str]:
        """Commands that work on a fresh copy of this template in `target`."""
        ws = shlex.quote(str(target))
        steps = [
            f"kpi validate {ws}",
            f"kpi import {ws}",
            f"kpi test {ws}",
            f"kpi evaluate {ws} --period {self.period}",
        ]
        if self.plan is not None:
            steps.append(f"kpi bonus {ws} --plan {self.plan} --period {self.pay_period}")
        return steps


def library() -> Traversable:
    """The template library inside the installed package."""
    return resources.files("kpi_engine.kpi_definitions").joinpath("library")


def templates(root: Traversable | None = None) -> list[Template]:
    """Every template named in the library's manifest, sorted by name."""
    root = library() if root is None else root
    manifest = root.joinpath(MANIFEST)
    if not manifest.is_file():
        return []
    found = []
    for name, entry in sorted(json.loads(manifest.read_text(encoding="utf-8")).items()):
        folder = root.joinpath(name)
        found.append(
            Template(name, _title(folder, name), entry["period"], entry.get("plan"), entry.get("pay_period"), folder)
        )
    return found


def _title(folder: Traversable, default: str) -> str:
    """The organization's name in the template's organization.yaml (trusted package data)."""
    data = yaml.safe_load(folder.joinpath("organization.yaml").read_text(encoding="utf-8"))
    organization = data.get("organization") if isinstance(data, dict) else None
    return str(organization.get("name", default)) if isinstance(organization, dict) else default


def init_workspace(target: Path, name: str = DEFAULT, root: Traversable | None = None) -> Template:
    """Copy a template's definitions and sample data into a new or empty folder, with the JSON Schema."""
    available = {t.name: t for t in templates(root)}
    if name not in available:
        message, hint = unknown("template", name, list(available))
        raise KpiError([error(Code.UNKNOWN_REFERENCE, message, None, hint)])
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise KpiError(
            [
                error(
                    Code.BAD_VALUE,
                    f"`{target}` exists and is not an empty folder",
                    None,
                    "choose a new folder name; kpi init never overwrites files",
                )
            ]
        )
    template = available[name]
    for relative, item in _payload(template.folder):
        destination = target.joinpath(*relative)
        destination.parent.mkdir(parents=True, exist_ok=True)
        content = item.read_bytes()
        if item.name.endswith(YAML_SUFFIXES):
            content = _point_at_schema(content, len(relative) - 1)
        destination.write_bytes(content)
    target.mkdir(parents=True, exist_ok=True)
    schema = resources.files("kpi_engine.schemas").joinpath(SCHEMA_FILE)
    (target / SCHEMA_FILE).write_bytes(schema.read_bytes())
    return template


def _point_at_schema(content: bytes, depth: int) -> bytes:
    """Repoint a file's editor modeline (`# yaml-language-server: $schema=…`) at the workspace's copy."""
    first, newline, rest = content.partition(b"\n")
    if not first.startswith(MODELINE):
        return content
    return MODELINE + ("../" * depth + SCHEMA_FILE).encode() + newline + rest


def _payload(folder: Traversable, at: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Traversable]]:
    """The files a new workspace gets, in sorted order: definitions anywhere, data under data/."""
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        if item.name.startswith((".", "__")):
            continue
        path = (*at, item.name)
        if item.is_dir():
            yield from _payload(item, path)
        elif item.name.endswith(YAML_SUFFIXES) or (path[0] == DATA_FOLDER and item.name.endswith(DATA_SUFFIXES)):
            yield path, item
