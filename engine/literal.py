r"""User-written text printed literally: no terminal control codes, no Rich markup (SPEC §13).

Names, ids, titles, notes and file names come from definitions, data files and the ledger.
Printed as they are, an ESC sequence could recolour or rewrite the terminal and `[/bold]` would
break a Rich table. Every text that reaches a terminal goes through :func:`printable`; every cell
of a Rich table through :func:`cell`; a single value that must stay on one line (an approver's
name, a note, a run id) through :func:`literal`. Escapes are JSON's own (``\u001b``), so JSON
output stays valid and means the same.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides and isolates
# that reorder what a reader sees ("Trojan source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(char: str) -> str:
    point = ord(char)
    return f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


def printable(text: str) -> str:
    r"""The text with each control character shown as a ``\uXXXX`` escape (tab and newline kept)."""
    return _CONTROL.sub(lambda match: _escape(match[0]), text)


def literal(text: object) -> str:
    """One value on one line: every control, format or unassigned character (tab and newline too) escaped."""
    value = str(text)
    if all(unicodedata.category(c)[0] != "C" for c in value):
        return value
    return "".join(c if unicodedata.category(c)[0] != "C" else _escape(c) for c in value)


def unprintable(text: str) -> list[str]:
    """The escapes of the control, format or unassigned characters in `text` (empty when it prints as written)."""
    return [_escape(c) for c in text if unicodedata.category(c)[0] == "C"]


def cell(value: object) -> str:
    """A value for a Rich table or title: printable, with Rich markup escaped so it prints as written."""
    from rich.markup import escape

    return escape(printable("" if value is None else str(value)))


def cells(*values: object) -> list[str]:
    """A table row of :func:`cell` values (None as an empty cell)."""
    return [cell(v) for v in values]
