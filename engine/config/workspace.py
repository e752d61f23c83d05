"""Finding workspaces and merging their files (with ``include:``) into one definitions tree."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpi_engine.config.loader import LoadedFile, SourceMap, load_file
from kpi_engine.config.paths import Boundary, allowed_folders
from kpi_engine.errors import Code, Diagnostic, error
from kpi_engine.names import SECTIONS, YAML_SUFFIXES
from kpi_engine.source import Span, display_path

# Files including files: a chain of at most this many (E430); following it recurses.
MAX_INCLUDE_DEPTH = 64


@dataclass
class Definitions:
    """The merged data of a workspace (or of a fragment), its positions and what went wrong."""

    root: Path
    files: list[Path]
    data: dict[str, Any]
    source_map: SourceMap
    diagnostics: list[Diagnostic]
    origins: dict[tuple[str, ...], Path] = field(default_factory=dict)
    fragment: bool = False


@dataclass(frozen=True)
class Unit:
    """One thing to validate: a workspace (root + files) or a fragment file."""

    root: Path
    files: tuple[Path, ...]
    fragment: bool


class _FileCache:
    def __init__(self) -> None:
        self._files: dict[Path, LoadedFile] = {}

    def get(self, path: Path) -> LoadedFile:
        key = path.resolve()
        if key not in self._files:
            self._files[key] = load_file(path)
        return self._files[key]


def scan_yaml(folder: Path) -> list[Path]:
    """Every YAML file below ``folder`` in sorted path order, skipping hidden folders and .kpi/.

    Symlinked folders are not entered; a symlinked file is listed (and refused when loaded if it leads
    outside its workspace).
    """
    found = []
    for current, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(current) / name
            if not name.startswith(".") and path.suffix in YAML_SUFFIXES and path.is_file():
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def discover(path: Path, cache: _FileCache | None = None) -> list[Unit]:
    """The workspaces and fragments at ``path`` (a folder, or one file)."""
    cache = cache or _FileCache()
    if path.is_file():
        if _holds_organization(cache.get(path)):
            return [Unit(path.parent, (path,), fragment=False)]
        root = _enclosing_root(path, cache)
        member = [u for u in discover(root, cache) if path.resolve() in {f.resolve() for f in u.files}] if root else []
        return member or [Unit(path.parent, (path,), fragment=True)]
    files = scan_yaml(path)
    inside = Boundary.of(path)  # a linked file outside the scanned folder is never read to find workspaces
    roots = sorted(
        {f.parent for f in files if inside.holds(f) and _holds_organization(cache.get(f))}, key=lambda p: p.as_posix()
    )
    members: dict[Path, list[Path]] = {root: [] for root in roots}
    fragments: list[Path] = []
    for f in files:
        owner = _deepest_root(f, roots)
        if owner is None:
            fragments.append(f)
        else:
            members[owner].append(f)
    units = [Unit(root, tuple(members[root]), fragment=False) for root in roots]
    units += [Unit(f.parent, (f,), fragment=True) for f in fragments]
    return units


def _enclosing_root(path: Path, cache: _FileCache) -> Path | None:
    """The workspace a definitions file belongs to: the deepest folder above it whose YAML holds `organization`.

    A file named on the command line (`kpi validate kpis.yaml`, as pre-commit does) is checked with its
    whole workspace, so references to other files resolve. The search stays below the current folder
    when the file is there, and in the file's own folder otherwise: no folder outside is read.
    """
    here = Path.cwd()
    top = here if path.absolute().is_relative_to(here) else path.absolute().parent
    folder = path.parent
    while folder.absolute().is_relative_to(top):
        yamls = sorted(
            p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file() and not p.name.startswith(".")
        )
        if any(_holds_organization(cache.get(y)) for y in yamls):
            return folder
        if folder.absolute() == top or folder == folder.parent:
            return None
        folder = folder.parent if folder != Path(".") else Path("..")
    return None


def _deepest_root(path: Path, roots: list[Path]) -> Path | None:
    best = None
    for root in roots:
        if path.is_relative_to(root) and (best is None or len(root.parts) > len(best.parts)):
            best = root
    return best


def _holds_organization(loaded: LoadedFile) -> bool:
    return isinstance(loaded.data, dict) and "organization" in loaded.data


def load_definitions(unit: Unit, cache: _FileCache | None = None) -> Definitions:
    """Load and merge a workspace's files in order, following ``include:`` once per file."""
    cache = cache or _FileCache()
    merged = Definitions(unit.root, [], {}, SourceMap(), [], fragment=unit.fragment)
    seen: set[Path] = set()
    boundary = _boundary(unit, cache)
    for path in unit.files:
        if not boundary.holds(path):  # a symlink found by the scan: named, never read
            merged.diagnostics.append(
                error(
                    Code.PATH_OUTSIDE,
                    f"`{display_path(path)}` is a link that leads outside the workspace (to {path.resolve()})",
                    Span(display_path(path), 1, 1),
                    "put the file itself in the workspace instead of a link, or list its "
                    "folder in `organization.allow_paths`",
                )
            )
            continue
        _load_into(path, merged, cache, seen, stack=(), boundary=boundary)
    return merged


def _boundary(unit: Unit, cache: _FileCache) -> Boundary:
    """Where this workspace's includes may lead: its root and the organization's `allow_paths`."""
    allowed: tuple[Path, ...] = ()
    inside = Boundary.of(unit.root)
    for path in unit.files:
        if inside.holds(path):
            data = cache.get(path).data
            if isinstance(data, dict) and isinstance(data.get("organization"), dict):
                allowed += allowed_folders(data["organization"].get("allow_paths"), unit.root)
    return Boundary.of(unit.root, allowed)


def _load_into(
    path: Path, merged: Definitions, cache: _FileCache, seen: set[Path], stack: tuple[Path, ...], boundary: Boundary
) -> None:
    key = path.resolve()
    if key in seen:
        return
    seen.add(key)
    loaded = cache.get(path)
    merged.files.append(path)
    merged.diagnostics.extend(loaded.diagnostics)
    if loaded.data is None and loaded.diagnostics:
        return
    from kpi_engine.config.schema import check_shape  # the schema module is heavy; import on first use

    data = loaded.data
    if not isinstance(data, dict):
        span = loaded.source_map.value(()) or Span(loaded.display, 1, 1)
        merged.diagnostics.append(
            error(
                Code.SCHEMA,
                "a definitions file must be a mapping of sections",
                span,
                "start with a section such as `kpis:` or `organization:`",
            )
        )
        return
    # a value the loader already refused (`.nan`, a tagged node) is not explained a second time
    refused = {d.span for d in loaded.diagnostics}
    merged.diagnostics.extend(d for d in check_shape(data, loaded.source_map) if d.span not in refused)
    _follow_includes(path, data, loaded, merged, cache, seen, (*stack, key), boundary)
    _merge(data, loaded, merged)


def _follow_includes(
    path: Path,
    data: dict[str, Any],
    loaded: LoadedFile,
    merged: Definitions,
    cache: _FileCache,
    seen: set[Path],
    stack: tuple[Path, ...],
    boundary: Boundary,
) -> None:
    includes = data.get("include")
    if not isinstance(includes, list):
        return
    for index, item in enumerate(includes):
        if not isinstance(item, str):
            continue
        span = loaded.source_map.value(("include", index))
        problem = boundary.check(item, path.parent, "included file")
        if problem is not None:  # refused before it is read: its content never reaches a diagnostic
            merged.diagnostics.append(error(problem.code, problem.message, span, problem.hint))
            continue
        target = path.parent / item
        if target.resolve() in stack:
            chain = " → ".join(p.name for p in (*stack, target.resolve()))
            merged.diagnostics.append(
                error(
                    Code.INCLUDE_CYCLE,
                    f"include cycle: {chain}",
                    span,
                    "remove one of the includes that close the loop",
                )
            )
            continue
        if len(stack) >= MAX_INCLUDE_DEPTH:
            merged.diagnostics.append(
                error(
                    Code.INCLUDE_TOO_DEEP,
                    f"including `{item}` makes a chain of more than {MAX_INCLUDE_DEPTH} "
                    "files, each included by the one before; that is the limit",
                    span,
                    "include the files from one place (a list under `include:`) instead of each from the one before",
                )
            )
            continue
        if not target.is_file():
            merged.diagnostics.append(
                error(
                    Code.INCLUDE_MISSING,
                    f"included file `{item}` does not exist",
                    span,
                    f"paths are relative to {loaded.display}",
                )
            )
            continue
        if target.resolve() in seen:
            continue
        _load_into(target, merged, cache, seen, stack, boundary)


def _merge(data: dict[str, Any], loaded: LoadedFile, merged: Definitions) -> None:
    smap = loaded.source_map
    accepted: set[tuple[str, ...]] = set()
    for section, value in data.items():
        if section == "organization":
            if "organization" in merged.data:
                first = merged.source_map.key(("organization",))
                merged.diagnostics.append(
                    Diagnostic(
                        Code.TWO_ORGANIZATIONS,
                        "`organization` is defined twice in this workspace",
                        smap.key(("organization",)),
                        "keep one organization per workspace",
                        related=(("first definition", first),) if first else (),
                    )
                )
                continue
            merged.data["organization"] = value
            merged.origins[("organization",)] = loaded.path
            accepted.add(("organization",))
        elif section in SECTIONS and isinstance(value, dict):
            target = merged.data.setdefault(section, {})
            for ident, definition in value.items():
                if ident in target:
                    first = merged.source_map.key((section, ident))
                    merged.diagnostics.append(
                        Diagnostic(
                            Code.DUPLICATE_ID,
                            f"{section} id `{ident}` is defined twice",
                            smap.key((section, ident)),
                            "rename one of them or remove the copy",
                            related=(("first definition", first),) if first else (),
                        )
                    )
                    continue
                target[ident] = definition
                merged.origins[(section, ident)] = loaded.path
                accepted.add((section, ident))
    _copy_positions(smap, merged.source_map, accepted)


def _copy_positions(source: SourceMap, target: SourceMap, accepted: set[tuple[str, ...]]) -> None:
    """Take over the positions of the definitions this file contributed (first definition wins)."""
    for table_name in ("values", "keys", "scalars"):
        src = getattr(source, table_name)
        dst = getattr(target, table_name)
        for path, item in src.items():
            if len(path) == 1 or path[:1] in accepted or path[:2] in accepted:
                dst.setdefault(path, item)
