"""User-written text printed literally: no terminal control codes, no Rich markup (SPEC §13).

Names, ids, titles and file names come from definitions and data files. Printed as they are, an
ESC sequence could recolour or rewrite the terminal and `[/bold]` would break a Rich table. Every
text that reaches a terminal goes through :func:`printable`; every cell of a Rich table through
:func:`cell`.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides and isolates
# that reorder what a reader sees ("Trojan source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def printable(text: str) -> str:
    """The text with each control character shown as a ``\\uXXXX`` escape (tab and newline kept).

    The escape is JSON's own, so a JSON document stays valid and means the same after it.
    """
    return _CONTROL.sub(_visible, text)


def cell(value: object) -> str:
    """A value for a Rich table or title: printable, with Rich markup escaped so it prints as written."""
    from rich.markup import escape

    return escape(printable("" if value is None else str(value)))


def cells(*values: object) -> list[str]:
    """A table row of :func:`cell` values (None as an empty cell)."""
    return [cell(v) for v in values]
