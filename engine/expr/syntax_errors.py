"""Syntax errors in the user's words: what was found, what was expected, and a hint.

The hints cover the usual slips: a name with spaces, ``4m``, double quotes, an unclosed string or
parenthesis.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from kpi_engine.errors import Code, Diagnostic, error
from kpi_engine.source import Span

Locate = Callable[[int, int], Span]

_BAD_UNIT = re.compile(r"[0-9]+(?:\.[0-9]+)?([A-Za-z_][A-Za-z0-9_]*)")

_OPERAND_START = frozenset(
    {"NUMBER", "PERCENT", "DURATION", "STRING", "TRUE", "FALSE", "NULL", "NAME", "QUOTED_NAME", "PARAM", "LPAR"}
)
_OPERATORS = frozenset({"PLUS", "MINUS", "STAR", "SLASH", "COMPARE", "AND", "OR", "IS", "IN", "NOT", "BETWEEN"})
_TOKEN_WORDS = {
    "NUMBER": "the number",
    "PERCENT": "the percentage",
    "DURATION": "the duration",
    "STRING": "the string",
    "NAME": "the name",
    "QUOTED_NAME": "the name",
    "PARAM": "the param",
}


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "the end of the formula"
    prefix = _TOKEN_WORDS.get(token.type)
    return f"{prefix} `{token}`" if prefix else f"`{token}`"


def _describe_expected(expected: set[str]) -> str:
    phrases: list[str] = []
    if expected & {"PLUS", "STAR", "COMPARE", "AND", "OR"}:
        expected = expected - {"LPAR", "STRING"}  # a call or a typed literal after a name: noise
    if {"NUMBER", "NAME"} <= expected:
        phrases.append("a number, a name or `(`")
    else:
        for terminal in sorted(expected & _OPERAND_START):
            phrase = _EXPECTED_WORDS[terminal]
            if phrase not in phrases:
                phrases.append(phrase)
    if expected <= {"NULL", "NOT"} and "NULL" in expected:
        phrases = ["`null` or `not null`"]
    elif expected & {"PLUS", "STAR", "COMPARE", "AND", "OR"}:
        phrases.append("an operator")
    elif expected & {"AND"}:
        phrases.append("`and`")
    for terminal, text in (("RPAR", "`)`"), ("COMMA", "`,`"), ("$END", "the end of the formula")):
        if terminal in expected:
            phrases.append(text)
    if not phrases:
        phrases = sorted(expected)
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


_EXPECTED_WORDS = {
    "NUMBER": "a number",
    "PERCENT": "a number",
    "DURATION": "a number",
    "STRING": "a string",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "NULL": "`null`",
    "NAME": "a name",
    "QUOTED_NAME": "a name",
    "PARAM": "a $param",
    "LPAR": "`(`",
}


def syntax_diagnostic(text: str, exc: Exception, where: Locate) -> Diagnostic:
    """The diagnostic for a Lark parse failure at some position of ``text``."""
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(text, exc.pos_in_stream or 0, exc.allowed or set(), where)
    assert isinstance(exc, UnexpectedToken | UnexpectedEOF)
    token: Token = exc.token if isinstance(exc, UnexpectedToken) else Token("$END", "")
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.accepts or exc.expected)
    else:
        expected = set(exc.expected or ())
    start = token.start_pos if token.start_pos is not None and token.type != "$END" else len(text)
    found = _describe_token(token)
    hint = None
    if token.type in ("NAME", "QUOTED_NAME"):
        words = _previous_words(text, start)
        if words:
            joined = " ".join([*words, str(token)])
            hint = f"a name with spaces goes in backticks: `{joined}`"
    if token.type == "$END" and "RPAR" in expected:
        hint = "a `(` is not closed"
    message = f"found {found}, expected {_describe_expected(expected)}"
    return error(Code.FORMULA_SYNTAX, message, where(start, max(1, len(str(token)))), hint)


def _previous_words(text: str, start: int) -> list[str]:
    """Plain words right before ``start`` (``First`` in ``First Response``)."""
    before = text[:start].rstrip()
    m = re.search(r"((?:[A-Za-z_][A-Za-z0-9_]*\s+)*[A-Za-z_][A-Za-z0-9_]*)$", before)
    if not m or before.endswith(tuple(")'`")):
        return []
    words = m.group(1).split()
    keywords = {"and", "or", "not", "is", "in", "between", "true", "false", "null"}
    while words and words[0].lower() in keywords:
        words.pop(0)
    return words if words and all(w.lower() not in keywords for w in words) else []


def _bad_character(text: str, pos: int, allowed: set[str], where: Locate) -> Diagnostic:
    rest = text[pos:]
    ch = rest[:1]
    m = _BAD_UNIT.match(rest)
    if m:
        unit = m.group(1)
        hint = "durations are written 30s, 15min, 4h, 3d or 2w"
        if unit == "m":
            hint = "`m` is ambiguous: write 15min for minutes (months are not a duration)"
        return error(
            Code.FORMULA_SYNTAX, f"`{m.group(0)}` is not a number or a duration", where(pos, len(m.group(0))), hint
        )
    if ch == "'":
        return error(
            Code.FORMULA_SYNTAX,
            "a string is not closed",
            where(pos, 1),
            "end it with `'`; write a quote inside a string as ''",
        )
    if ch == "`":
        return error(Code.FORMULA_SYNTAX, "a backtick name is not closed", where(pos, 1), "end it with a backtick")
    if ch == '"':
        return error(
            Code.FORMULA_SYNTAX,
            'found `"`',
            where(pos, 1),
            "strings use single quotes: 'critical'; odd names use backticks",
        )
    if ch == "$":
        return error(Code.FORMULA_SYNTAX, "found `$` without a param name", where(pos, 1), "write a param as $name")
    if ch and not ch.isascii():
        return error(
            Code.FORMULA_SYNTAX,
            f"found the character `{ch}` (U+{ord(ch):04X})",
            where(pos, 1),
            "names are ASCII letters, digits and _; put other names in backticks",
        )
    expected = _describe_expected(set(allowed)) if allowed else "an operator"
    shown = ch if ch.isprintable() else repr(ch)
    return error(Code.FORMULA_SYNTAX, f"found `{shown}`, expected {expected}", where(pos, 1))
