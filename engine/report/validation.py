"""`kpi validate` output: compiler-style text, the JSON document (SPEC §7.2) and GitHub annotations.

Also the JSON form of one diagnostic, which every command's failure document uses. Imports nothing
heavy: `kpi validate` must start fast.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from kpi_engine.errors import Diagnostic, Severity
from kpi_engine.source import render


def diagnostic_json(d: Diagnostic) -> dict[str, object]:
    """The JSON form of a diagnostic (SPEC §7.2)."""
    return {
        "file": d.span.file if d.span else None,
        "line": d.span.line if d.span else None,
        "column": d.span.col if d.span else None,
        "severity": d.severity.value,
        "code": d.code.value,
        "message": d.message,
        "hint": d.hint,
    }


def github_annotation(d: Diagnostic) -> str:
    """A diagnostic as a GitHub Actions workflow command (`kpi validate --format github`)."""

    def esc(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    level = "error" if d.severity == Severity.ERROR else "warning"
    where = ""
    if d.span:
        where = f" file={esc(d.span.file)},line={d.span.line},col={d.span.col}"
        if d.span.end_line == d.span.line and d.span.end_col > d.span.col:
            where += f",endColumn={d.span.end_col}"
    sep = "," if where else " "
    message = d.message + (f" (help: {d.hint})" if d.hint else "")
    return f"::{level}{where}{sep}title={d.code.value}::{esc(message)}"


def validation_text(diagnostics: Sequence[Diagnostic], checked: int) -> str:
    """Each diagnostic like a compiler, then the verdict and the counts."""
    errors = sum(d.severity == Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    lines = [render(d) for d in diagnostics]
    what = f"{checked} workspace{'s' if checked != 1 else ''}/fragment{'s' if checked != 1 else ''}"
    verdict = "valid" if errors == 0 else "invalid"
    lines.append(
        f"{verdict}: {what} checked, {errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}"
    )
    return "\n\n".join(lines)


def validation_json(diagnostics: Sequence[Diagnostic], checked: int) -> str:
    """`{"valid": …, "diagnostics": […]}`."""
    valid = not any(d.severity == Severity.ERROR for d in diagnostics)
    return json.dumps(
        {"valid": valid, "diagnostics": [diagnostic_json(d) for d in diagnostics]}, indent=2, ensure_ascii=False
    )


def validation_github(diagnostics: Sequence[Diagnostic], checked: int) -> str:
    """One GitHub Actions workflow command per diagnostic."""
    return "\n".join(github_annotation(d) for d in diagnostics)
