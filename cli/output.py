"""Where a command's output goes (SPEC §14), checked early and written before the run is recorded.

`--out` problems are clean errors, found early when they can be, and a run is recorded only once
its output file holds the results.

`check_out` refuses what can be known before the work starts (a folder where a file is expected, a
parent that is a file, a place that cannot be written). `staged` writes next to the target and moves
the file into place, so a full disk never leaves half a payouts file. `deliver` writes the output
before the run is recorded: first with a placeholder run block of the same shape (reserving the
space), then, after recording, with the real one. A workbook goes the same way, as bytes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from kpi_engine.errors import Code, Diagnostic, KpiError, error

H = TypeVar("H")
WRITE_HINT = "free some space, or choose another --out in a writable place"


def out_problem(out: Path, folder: bool = False) -> Diagnostic | None:
    """Why `--out` cannot be written, judged before any work; None when it looks writable.

    A missing parent folder is created when the output is written, as long as the nearest existing
    folder above it is writable.
    """
    if out.is_dir() and not folder:
        return error(
            Code.OUT_IS_FOLDER,
            f"`{out}` is a folder; this output is one file",
            None,
            f"name a file, e.g. --out {out / 'output.txt'}",
        )
    if out.exists() and not out.is_dir() and not os.access(out, os.W_OK):
        return error(
            Code.OUT_NOT_WRITABLE,
            f"`{out}` cannot be written (read-only)",
            None,
            "choose another --out, or make the file writable",
        )
    parent = out if folder and out.is_dir() else out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return error(
            Code.OUT_NOT_WRITABLE,
            f"`{out}`: `{parent}` is a file, not a folder",
            None,
            "choose a path whose folders are folders",
        )
    if not out.exists() and not os.access(parent, os.W_OK | os.X_OK):
        return error(
            Code.OUT_NOT_WRITABLE,
            f"`{out}`: the folder `{parent}` cannot be written (read-only or no permission)",
            None,
            "choose another --out in a writable folder",
        )
    return None


def _failed(out: Path, exc: OSError, recorded: str | None = None, run: bool = False) -> KpiError:
    reason = exc.strerror or str(exc)
    if recorded is None:
        return KpiError(
            [
                error(
                    Code.OUT_WRITE_FAILED,
                    f"cannot write --out `{out}`: {reason}",
                    None,
                    WRITE_HINT + ("; nothing was recorded in the ledger" if run else ""),
                )
            ]
        )
    return KpiError(
        [
            error(
                Code.OUT_WRITE_FAILED,
                f"cannot write --out `{out}`: {reason}; run {recorded} is "
                "recorded in the ledger, but its output was NOT delivered",
                None,
                WRITE_HINT + ", then run the command again",
            )
        ]
    )


def _regular(out: Path) -> bool:
    """Whether `out` is (or will be) a plain file; a device or a pipe is written in place."""
    return not out.exists() or out.is_file()


@contextmanager
def staged(out: Path, run: bool = False) -> Iterator[Path]:
    """A path to write `out`'s content to: a temporary file beside it, moved over `out` on success.

    `run`: the output of a run not yet recorded (a failure says nothing was recorded).
    """
    if not _regular(out):
        try:
            yield out
        except OSError as exc:
            raise _failed(out, exc, run=run) from None
        return
    temporary = out.with_name(f".{out.name}.kpi-partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        yield temporary
        os.replace(temporary, out)
    except OSError as exc:
        raise _failed(out, exc, run=run) from None
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write text to a file (UTF-8), flushed to the disk: a full disk fails here, not later."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write bytes to a file, flushed to the disk; a device such as /dev/full is written as it is."""
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        if path.is_file():
            os.fsync(handle.fileno())


def write_output(path: Path, content: str | bytes) -> None:
    """Write text (UTF-8) or bytes (a workbook) to a file, flushed to the disk."""
    write_bytes(path, content if isinstance(content, bytes) else content.encode("utf-8"))


def deliver(out: Path, render: Callable[[H | None], str | bytes], record: Callable[[], H]) -> H:
    """Write a run's output to `out`, then record the run; a write that fails records nothing.

    `render(None)` is the output with a placeholder run block: written first, it claims the space the
    real output needs. A device or a pipe (no place to stage) is written once, after recording; if that
    fails, the error says the run is recorded but its output was not delivered.
    """
    if not _regular(out):
        return _record_then_write(out, out, render, record)
    with staged(out, run=True) as path:
        write_output(path, render(None))
        header = _record_then_write(path, out, render, record)
    return header


def _record_then_write(path: Path, out: Path, render: Callable[[H | None], str | bytes], record: Callable[[], H]) -> H:
    """Record the run, then write its output with the real run block; a failure says the run is recorded."""
    header = record()
    try:
        write_output(path, render(header))
    except OSError as exc:
        raise _failed(out, exc, recorded=_run_id(header)) from None
    return header


def _run_id(header: object) -> str:
    if isinstance(header, list | tuple):
        return ", ".join(_run_id(h) for h in header)
    if isinstance(header, dict):
        return str(header.get("id"))
    return str(getattr(header, "id", header))


def workspace_problem(root: Path) -> Diagnostic | None:
    """Why the workspace's `.kpi/` (database and ledger) cannot be written; None when it can."""
    root = root.parent if root.is_file() else root
    folder = root / ".kpi"
    targets = [folder, *(p for p in folder.iterdir() if p.is_file())] if folder.is_dir() else [root]
    blocked = next((p for p in targets if not os.access(p, os.W_OK)), None)
    if blocked is None:
        return None
    return error(
        Code.WORKSPACE_READ_ONLY,
        f"the workspace is read-only: `{blocked}` cannot be written",
        None,
        "this command keeps its database and the run ledger in .kpi/; run it where the workspace is "
        "writable (a writable copy, or fix the permissions or the mount)",
    )


#: The file `kpi report` leaves in the folders it writes: a later report may replace such a folder whole.
REPORT_MARK = ".kpi-report"
_MARK_TEXT = "This folder was written by `kpi report`; a later `kpi report --out` to it replaces it whole.\n"


def report_folder_problem(out: Path) -> Diagnostic | None:
    """Why `kpi report --out` cannot be that folder: a file, or a folder with other things in it.

    A report replaces its folder whole, so it writes only to a new folder, an empty one, or one an
    earlier report wrote (it holds :data:`REPORT_MARK`): never over someone's files.
    """
    if out.exists() and not out.is_dir():
        return error(
            Code.OUT_NOT_A_REPORT,
            f"`{out}` is a file; `kpi report --format html` writes a folder of pages",
            None,
            f"name a new folder, e.g. --out {out.with_suffix('')}_report",
        )
    if out.is_dir() and not (out / REPORT_MARK).is_file() and any(out.iterdir()):
        return error(
            Code.OUT_NOT_A_REPORT,
            f"`{out}` already holds files that `kpi report` did not write",
            None,
            "name a new or empty folder; a report replaces its folder whole, so it never writes into other files",
        )
    return out_problem(out, folder=True)


def deliver_folder(
    out: Path,
    pages: Callable[[Callable[[str, bytes], None]], Iterable[tuple[str, bytes, int]]],
    record: Callable[[], H],
    footer: Callable[[H], bytes],
) -> H:
    """Write a report's pages to the folder `out`, then record its run and fill in each page's footer.

    `pages(write)` gives each page as (path inside the folder, bytes, where its footer starts), in
    order, as it is rendered; a page whose bytes come back empty was written through `write` by the
    process that rendered it (`write` only opens, writes and closes a file, so a forked worker may
    call it). Pages go first beside `out` (in `.NAME.kpi-partial/`) with a placeholder footer as long
    as the real one, then are flushed to the disk, so a full disk fails before anything is recorded.
    After recording, `footer` gives the footer's bytes, written in place into every page; then the
    folder replaces `out` whole.
    """
    staging = out.with_name(f".{out.name}.kpi-partial")
    old = out.with_name(f".{out.name}.kpi-old")
    try:
        written = _write_pages(staging, old, pages)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _failed(out, exc, run=True) from None
        raise
    header = record()
    try:
        text = footer(header)
        for path, offset in written:
            handle = os.open(path, os.O_WRONLY)
            try:
                os.pwrite(handle, text, offset)
            finally:
                os.close(handle)
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
    except OSError as exc:
        raise _failed(out, exc, recorded=_run_id(header)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_tree(old)
    return header


#: A page's file: created or emptied, written as bytes (O_BINARY: no newline translation on Windows).
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def _write_pages(
    staging: Path, old: Path, pages: Callable[[Callable[[str, bytes], None]], Iterable[tuple[str, bytes, int]]]
) -> list[tuple[Path, int]]:
    """The pages written into a fresh `staging` folder and flushed to the disk: each file and its footer's offset."""
    for leftover in (staging, old):  # our own names, left by a run that was stopped
        if leftover.exists():
            shutil.rmtree(leftover)
    staging.mkdir(parents=True)
    (staging / REPORT_MARK).write_text(_MARK_TEXT, encoding="utf-8")

    folders: set[str] = set()  # made by this process (a forked worker has its own copy, and makes them again)

    def write(name: str, data: bytes) -> None:
        """One page: its folder made once, the file written without Python's buffered file object."""
        path = os.path.join(staging, name)
        folder = os.path.dirname(path)
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        handle = os.open(path, _NEW_FILE, 0o644)
        try:
            view = memoryview(data)
            while view:  # os.write may take less than it is given (a signal): the rest follows
                view = view[os.write(handle, view) :]
        finally:
            os.close(handle)

    written = []
    for name, data, offset in pages(write):
        if data:
            write(name, data)
        written.append((staging / name, offset))
    os.sync()  # flushed once for all pages (an fsync per page costs seconds for thousands of them)
    return written


def _remove_tree(folder: Path) -> None:
    """Remove a folder of thousands of files (the report it replaced): its files by a few threads, then the rest.

    A file system spends most of a removal in the kernel, outside the interpreter's lock, so a few
    threads at once take about half as long as one after the other (2,023 pages: 0.20 s by rmtree,
    0.13 s by 4 threads, 0.10 s by 8, on two CPUs).
    """
    files = [os.path.join(where, name) for where, _, names in os.walk(folder) for name in names]
    if len(files) > 64:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(_unlink, files, chunksize=64))
    shutil.rmtree(folder, ignore_errors=True)


def _unlink(path: str) -> None:
    with suppress(OSError):  # what cannot be removed is left, as rmtree(ignore_errors=True) would
        os.unlink(path)
