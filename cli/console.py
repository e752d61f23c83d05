"""What the `kpi` command prints: outputs, diagnostics, failure documents and progress bars.

Output goes to stdout or `--out`; diagnostics and progress go to stderr. Nothing here imports
DuckDB, sqlglot or the engine's stages: `kpi --help` must start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi_engine.errors import Diagnostic
from kpi_engine.literal import printable
from kpi_engine.report.validation import diagnostic_json
from kpi_engine.source import render

if TYPE_CHECKING:
    from kpi_engine.data.report import Progress


def emit(text: str, out: Path | None) -> None:
    """Write a command's output to --out or stdout."""
    text = text if text.endswith("\n") else text + "\n"
    if out is None:
        sys.stdout.write(printable(text))
    else:
        from kpi_engine.cli.output import staged, write_text

        with staged(out) as path:
            write_text(path, text)


def wrote(paths: Sequence[Path], run_id: str | None = None) -> None:
    """Confirm on stdout what a command wrote (and the ledger run it recorded)."""
    names = ", ".join(str(p) for p in paths)
    sys.stdout.write(printable(f"wrote {names}" + (f" (run {run_id})" if run_id else "")) + "\n")


def say(text: str) -> None:
    """A message for the person at the terminal (stderr), printed literally."""
    sys.stderr.write(printable(text if text.endswith("\n") else text + "\n"))


def report(diagnostics: Sequence[Diagnostic]) -> None:
    """Print diagnostics (a stage's errors, or data notes) to stderr, like a compiler."""
    for d in diagnostics:
        sys.stderr.write(printable(render(d)) + "\n")


def report_usage(ctx: Any, diagnostic: Diagnostic) -> None:
    """A usage error on stderr: the command's usage line, where to get help, and the coded diagnostic."""
    if ctx is not None:
        say(f"{ctx.get_usage()}\nTry '{ctx.command_path} -h' for help.\n")
    say(render(diagnostic))


def failure_json(diagnostics: Sequence[Diagnostic], verdict: str = "ok", **extra: object) -> str:
    """`--format json` output of a command that failed (SPEC §9); `validate` says `valid`."""
    document: dict[str, object] = {verdict: False, "diagnostics": [diagnostic_json(d) for d in diagnostics]}
    document.update(extra)
    return json.dumps(document, indent=2, ensure_ascii=False)


def interactive() -> bool:
    """Progress bars only for a person at a terminal: never when stdout or stderr is redirected."""
    return sys.stderr.isatty() and sys.stdout.isatty()


@contextmanager
def import_progress(enabled: bool) -> Iterator[Callable[[Progress], None] | None]:
    """A bar of bytes imported, with a percentage and the time left, on a terminal; else nothing."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    from kpi_engine.literal import cell

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Bar(*columns, transient=True, console=_stderr_console(), refresh_per_second=4) as bar:
        task = bar.add_task("importing", total=None)

        def update(event: Progress) -> None:
            label = cell(f"{event.source}" + (f" · {event.file}" if event.file else "") + f" · {event.step}")
            bar.update(task, description=label, completed=event.done, total=event.total or None, refresh=True)

        yield update


def _stderr_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False)
