"""The files behind a source: glob expansion in sorted order, formats, and content hashes."""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from kpi_engine.config.model import Source
from kpi_engine.config.paths import OUTSIDE_HINT, Boundary, is_uri, walk_glob
from kpi_engine.data.records import DataFile
from kpi_engine.errors import Code, KpiError, error

FORMATS: Mapping[str, str] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".xlsx": "xlsx",
}
_CHUNK = 1 << 20


def source_files(source: Source) -> list[DataFile]:
    """The files of a path source, sorted by path; a glob matching nothing is an error.

    A confined source (every source of a workspace) reads only files whose real location is inside
    the workspace or an allowed folder; its glob walks only below the glob's fixed prefix.
    """
    if source.path is None:
        return []
    _refuse_uri(source)
    boundary = _boundary(source)
    if boundary is not None:
        problem = boundary.check(source.path, source.base_dir, f"source `{source.id}`: path")
        if problem is not None:
            raise KpiError([error(problem.code, problem.message, source.span, problem.hint)])
    pattern = source.base_dir / source.path
    if glob.has_magic(source.path):
        paths = [p for p in walk_glob(source.base_dir, source.path) if p.is_file()]
        if not paths:
            raise KpiError(
                [
                    error(
                        Code.DATA_FILE,
                        f"source `{source.id}`: no file matches `{source.path}`",
                        source.span,
                        f"patterns are relative to {source.base_dir}",
                    )
                ]
            )
    elif pattern.is_file():
        paths = [pattern]
    else:
        raise KpiError(
            [
                error(
                    Code.DATA_FILE,
                    f"source `{source.id}`: file `{source.path}` not found",
                    source.span,
                    f"paths are relative to the file that declares the source ({source.base_dir})",
                )
            ]
        )
    if boundary is not None:
        for path in paths:
            if not boundary.holds(path):
                raise KpiError(
                    [
                        error(
                            Code.PATH_OUTSIDE,
                            f"source `{source.id}`: `{path}` is a link that leads "
                            f"outside the workspace (to {path.resolve()})",
                            source.span,
                            OUTSIDE_HINT,
                        )
                    ]
                )
    labelled = sorted((Path(os.path.relpath(p, source.base_dir)).as_posix(), p) for p in paths)
    files = []
    for number, (label, path) in enumerate(labelled, start=1):
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise KpiError(
                [
                    error(
                        Code.DATA_FILE,
                        f"source `{source.id}`: `{label}` is not a supported file type",
                        source.span,
                        "use .csv, .parquet, .json, .ndjson or .xlsx",
                    )
                ]
            )
        files.append(DataFile(path, label, number, fmt))
    return files


def _refuse_uri(source: Source) -> None:
    """A URI source is read by Spark alone: this module lists local files (DuckDB, the roster, hashes)."""
    if source.path is not None and is_uri(source.path):
        raise KpiError(
            [
                error(
                    Code.REMOTE_PATH,
                    f"source `{source.id}`: `{source.path}` is a URI, which only the spark engine reads",
                    source.span,
                    "run on Spark (`--engine spark`), or copy the files into the workspace and name them "
                    "with a relative path",
                )
            ]
        )


def _boundary(source: Source) -> Boundary | None:
    if source.root_from_base is None:
        return None
    return Boundary.of(source.base_dir / source.root_from_base, source.allow_paths)


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 (hex) and size in bytes of a file's content."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise KpiError([error(Code.DATA_FILE, f"cannot read `{path}`: {exc.strerror or exc}")]) from exc
    return digest.hexdigest(), size


def combined_sha256(entries: list[tuple[str, str]]) -> str:
    """One hash over (label, content hash) pairs in sorted order: a source's data fingerprint."""
    digest = hashlib.sha256()
    for label, sha in sorted(entries):
        digest.update(f"{label}\0{sha}\n".encode())
    return digest.hexdigest()


def source_hashes(sources: Mapping[str, Source]) -> dict[str, str]:
    """sha256 over each source's files (names and contents, sorted), for the audit ledger.

    A source that reads a workspace table hashes as `table:<name>`: its content lives in the
    database, not in files.
    """
    out: dict[str, str] = {}
    for source_id in sorted(sources):
        source = sources[source_id]
        if source.path is None:
            out[source_id] = f"table:{source.table}"
            continue
        out[source_id] = combined_sha256([(f.label, file_sha256(f.path)[0]) for f in source_files(source)])
    return out
