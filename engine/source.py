"""Source positions and compiler-style rendering of diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpi_engine.errors import Diagnostic


@dataclass(frozen=True, order=True)
class Span:
    """A range in a file: 1-based line and column of the start, and of the end (exclusive)."""

    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, line_delta: int, col: int, length: int) -> Span:
        """A span inside this one: ``line_delta`` lines down, at absolute column ``col``."""
        line = self.line + line_delta
        return Span(self.file, line, col, line, col + max(length, 1))


def display_path(path: Path) -> str:
    """How a file is named in diagnostics: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class SourceTexts:
    """Caches file texts so diagnostics can quote the offending line."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def remember(self, file: str, text: str) -> None:
        """Record the decoded text of a file that was loaded."""
        self._lines[file] = text.splitlines()

    def line(self, file: str, line: int) -> str | None:
        """The text of a 1-based line of a definitions file that was loaded, or None.

        Only remembered texts are quoted: a diagnostic about a data file, or a file outside the
        workspace, never echoes its content (SPEC §14).
        """
        lines = self._lines.get(file)
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]


TEXTS = SourceTexts()


def render(diagnostic: Diagnostic, texts: SourceTexts = TEXTS) -> str:
    """Render a diagnostic like a compiler: location, message, the source line, carets, help."""
    d = diagnostic
    head = f"{d.severity.value}[{d.code.value}]: {d.message}"
    if d.span is None:
        out = [head]
    else:
        out = [f"{d.span}: {head}"]
        source_line = texts.line(d.span.file, d.span.line)
        if source_line is not None:
            gutter = str(d.span.line)
            pad = " " * len(gutter)
            shown = source_line.replace("\t", " ")
            width = 1
            if d.span.end_line == d.span.line and d.span.end_col > d.span.col:
                width = d.span.end_col - d.span.col
            width = max(1, min(width, max(1, len(shown) - d.span.col + 1)))
            out.append(f"{pad} |")
            out.append(f"{gutter} | {shown}")
            out.append(f"{pad} | {' ' * (d.span.col - 1)}{'^' * width}")
    for label, span in d.related:
        out.append(f"  = note: {label} at {span}")
    if d.hint:
        out.append(f"  = help: {d.hint}")
    return "\n".join(out)
