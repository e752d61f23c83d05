"""Paths stay inside the workspace (SPEC §14): where `include:` and a source's `path:` may lead.

A path is written relative to the file that declares it. Its real location (after `..` and
symlinks) must lie under the workspace root or under a folder listed in
`organization.allow_paths` (absolute, or relative to the root: `../library` shares a library
between workspaces); an absolute path is accepted only in such a folder. A glob walks only
below its fixed prefix (the folders before its first wildcard), never into symlinked folders.
A source's `path:` may also be a URI (`s3a://…`, `hdfs://…`, `file:///…`), which only the Spark
engine reads (SPEC §12); a `file:` URI must still lead inside the workspace. `include:` paths are
never URIs.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from urllib.parse import unquote, urlsplit

from kpi_engine.errors import Code

_REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
URI_REFUSED = "only the spark engine reads URIs, and this workspace's engine is not spark"
URI_HINT = (
    "set `organization.engine: {name: spark}` for a workspace whose data Spark reads, or copy the files "
    "into the workspace and name them with a relative path"
)
INCLUDE_URI = "definition files are read from the workspace, never from a URI"
INCLUDE_HINT = "copy the file into the workspace and include it by a relative path"
OUTSIDE_HINT = (
    "write the path relative to the declaring file, inside the workspace, or list its folder in "
    "`organization.allow_paths`"
)


@dataclass(frozen=True)
class Problem:
    """Why a written path is refused: a code, a message and a hint (the caller adds the span)."""

    code: Code
    message: str
    hint: str


@dataclass(frozen=True)
class Boundary:
    """Where paths may lead: the workspace root, then the allowed folders (all resolved)."""

    roots: tuple[Path, ...]

    @classmethod
    def of(cls, root: Path, allowed: tuple[Path, ...] = ()) -> Boundary:
        """The boundary of a workspace root and its `allow_paths` folders."""
        return cls(tuple(p.resolve() for p in (root, *allowed)))

    def holds(self, path: Path) -> bool:
        """Whether the real location of ``path`` is under one of the roots."""
        real = path.resolve()
        return any(real.is_relative_to(root) for root in self.roots)

    def check(self, written: str, base: Path, what: str, uris: bool | None = None) -> Problem | None:
        """The problem with a written path (a glob: its fixed prefix), or None when it stays inside.

        ``uris`` is None for an `include:` (never a URI), else whether a source's `path:` may be a URI
        (the workspace's engine is Spark); an accepted `file:` URI is checked as the local path it names.
        """
        if is_uri(written):
            if uris is None:
                return Problem(Code.REMOTE_PATH, f"{what} `{written}` is a URI; {INCLUDE_URI}", INCLUDE_HINT)
            if not uris:
                return Problem(Code.REMOTE_PATH, f"{what} `{written}` is a URI; {URI_REFUSED}", URI_HINT)
            local = file_uri_path(written)
            return None if local is None else self.check(local, base, what)
        prefix = fixed_prefix(written)
        target = base / prefix
        if PurePath(written).is_absolute():
            if not any(target.resolve().is_relative_to(root) for root in self.roots[1:]):
                return Problem(
                    Code.PATH_OUTSIDE, f"{what} `{written}` is an absolute path outside the workspace", OUTSIDE_HINT
                )
        elif not self.holds(target):
            return Problem(
                Code.PATH_OUTSIDE,
                f"{what} `{written}` leads outside the workspace (to {target.resolve()})",
                OUTSIDE_HINT,
            )
        return None


def is_uri(written: str) -> bool:
    """Whether a written path is a URI with a scheme (`s3a://bucket/x`, `file:///data/x`)."""
    return _REMOTE.match(written) is not None


def file_uri_path(written: str) -> str | None:
    """The local path a `file:` URI names; None for any other URI."""
    parts = urlsplit(written)
    if parts.scheme.lower() != "file":
        return None
    return unquote(parts.path) or "/"


def allowed_folders(raw: object, root: Path) -> tuple[Path, ...]:
    """The folders listed in `organization.allow_paths`: absolute, or relative to the workspace root."""
    if not isinstance(raw, list):
        return ()
    return tuple(root / item for item in raw if isinstance(item, str) and item)


def fixed_prefix(written: str) -> str:
    """The folders of a glob before its first wildcard part (the whole path when it has none)."""
    parts = PurePath(written).parts
    fixed = []
    for part in parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return str(PurePath(*fixed)) if fixed else "."


def walk_glob(base: Path, written: str) -> Iterator[Path]:
    """The files matching a glob, walking only below its fixed prefix and never into symlinked folders."""
    prefix = fixed_prefix(written)
    pattern = PurePath(written).parts[len(PurePath(prefix).parts) if prefix != "." else 0 :]
    start = base / prefix
    deep = "**" in pattern
    for folder, dirs, files in os.walk(start, followlinks=False):
        rel = PurePath(os.path.relpath(folder, start)).parts if folder != str(start) else ()
        rel = tuple(p for p in rel if p != ".")
        if not deep and len(rel) >= len(pattern) - 1:
            dirs.clear()  # no `**`: nothing deeper than the pattern can match
        dirs.sort()
        for name in sorted(files):
            if _match((*rel, name), pattern):
                yield Path(folder) / name


def _match(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(
            _match(parts[i:], rest) for i in range(len(parts) + 1) if not any(p.startswith(".") for p in parts[:i])
        )
    return (
        bool(parts)
        and (not parts[0].startswith(".") or head.startswith("."))
        and fnmatch.fnmatchcase(parts[0], head)
        and _match(parts[1:], rest)
    )
