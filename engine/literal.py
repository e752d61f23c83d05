"""User-written text as it may reach a terminal: literally, with control characters escaped (SPEC §13)."""

from __future__ import annotations

import unicodedata


def literal(text: object) -> str:
    """`text` with every control, format or unassigned character written as a visible escape (`\\x1b`)."""
    value = str(text)
    if all(unicodedata.category(c)[0] != "C" for c in value):
        return value
    return "".join(c if unicodedata.category(c)[0] != "C" else _escape(c) for c in value)


def _escape(char: str) -> str:
    point = ord(char)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


def unprintable(text: str) -> list[str]:
    """The escapes of the control, format or unassigned characters in `text` (empty when it prints as written)."""
    return [_escape(c) for c in text if unicodedata.category(c)[0] == "C"]
