"""The strict YAML loader: one file → plain data, plus a source map from data path to position.

The data is made of str, int, Decimal, bool, None, dict and list only.

Stricter than PyYAML on purpose (SPEC §2): duplicate keys, anchors, aliases, merge keys and
explicit tags are errors; only ``true``/``false``, ``null``/``~`` and plain decimal numbers are
implicit scalars; numbers are exact; size and depth are capped before anything recurses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from kpi_engine.errors import Code, Diagnostic, error
from kpi_engine.source import TEXTS, Span, display_path

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
# Numbers in definitions have at most as many digits as DECIMAL(38) holds; this also keeps
# Python's int-str conversion limit (4,300 digits) out of reach.
MAX_NUMBER_DIGITS = 38

DataPath = tuple[str | int, ...]

_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
_NOT_A_NUMBER = re.compile(r"[-+]?\.(nan|NaN|NAN|inf|Inf|INF)")
_LOOKS_NUMERIC = re.compile(r"[-+]?(0[xob][0-9a-fA-F_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|\.[0-9]+)")

_EventParser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Scalar:
    """Where a scalar value sits in its file, and how it was written."""

    span: Span
    style: str  # "" plain, "'" or '"' quoted, "|" literal, ">" folded
    raw_lines: tuple[str, ...]


@dataclass
class SourceMap:
    """Positions kept beside the data: data path → span of the value and of its key."""

    values: dict[DataPath, Span] = field(default_factory=dict)
    keys: dict[DataPath, Span] = field(default_factory=dict)
    scalars: dict[DataPath, Scalar] = field(default_factory=dict)

    def value(self, path: DataPath) -> Span | None:
        """Span of the value at ``path``, or of the nearest enclosing value that has one."""
        for i in range(len(path), -1, -1):
            span = self.values.get(path[:i])
            if span is not None:
                return span
        return None

    def key(self, path: DataPath) -> Span | None:
        """Span of the key that introduces ``path`` (falls back to the value)."""
        return self.keys.get(path) or self.value(path)

    def span_in_value(self, path: DataPath, offset: int, length: int = 1) -> Span | None:
        """The file span of characters ``offset…offset+length`` inside a scalar's value.

        Exact for plain scalars (one or more lines), quoted scalars without escapes and
        literal blocks; folded blocks map line by line as if they were literal.
        """
        scalar = self.scalars.get(path)
        if scalar is None:
            return self.value(path)
        start = scalar.span
        if scalar.style in ("|", ">"):
            return _span_in_block(scalar, offset, length)
        if scalar.style in ("'", '"'):
            if start.line == start.end_line:
                return start.shifted(0, start.col + 1 + offset, length)
            return start
        return _span_in_plain(scalar, offset, length)


def _span_in_plain(scalar: Scalar, offset: int, length: int) -> Span:
    # A multi-line plain scalar folds each line break (and the indentation around it) to one space.
    start = scalar.span
    pos = 0
    for index, raw in enumerate(scalar.raw_lines):
        content = raw.strip() if index else raw[start.col - 1 :].rstrip()  # the first line starts at the value
        lead = (len(raw) - len(raw.lstrip())) if index else 0
        if offset <= pos + len(content) or index == len(scalar.raw_lines) - 1:
            base_col = start.col if index == 0 else lead + 1
            return Span(
                start.file,
                start.line + index,
                base_col + (offset - pos),
                start.line + index,
                base_col + (offset - pos) + max(length, 1),
            )
        pos += len(content) + 1
    return start


def _span_in_block(scalar: Scalar, offset: int, length: int) -> Span:
    start = scalar.span
    lines = scalar.raw_lines[1:]  # the first raw line holds the indicator
    indent = next((len(x) - len(x.lstrip(" ")) for x in lines if x.strip()), 0)
    pos = 0
    for index, raw in enumerate(lines):
        content = raw[indent:]
        if offset <= pos + len(content):
            line = start.line + 1 + index
            col = indent + 1 + (offset - pos)
            return Span(start.file, line, col, line, col + max(length, 1))
        pos += len(content) + 1
    return start


@dataclass
class LoadedFile:
    """One YAML file: its data (None when unreadable), positions and diagnostics."""

    path: Path
    display: str
    data: Any
    source_map: SourceMap
    diagnostics: list[Diagnostic]


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def load_file(path: Path, prefix: DataPath = ()) -> LoadedFile:
    """Load one definitions file strictly; never raises for bad content."""
    shown = display_path(path)
    source_map = SourceMap()
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            diag = error(
                Code.FILE_TOO_LARGE,
                f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (5 MiB)",
                Span(shown, 1, 1),
                "split the definitions into several files",
            )
            return LoadedFile(path, shown, None, source_map, [diag])
        raw = path.read_bytes()
    except OSError as exc:
        diag = error(Code.FILE_NOT_FOUND, f"cannot read {shown}: {exc.strerror or exc}", Span(shown, 1, 1))
        return LoadedFile(path, shown, None, source_map, [diag])
    text, problem = _decode(raw, shown)
    if problem is not None:
        return LoadedFile(path, shown, None, source_map, [problem])
    TEXTS.remember(shown, text)
    too_deep = _prescan_depth(text, shown)
    if too_deep is not None:
        return LoadedFile(path, shown, None, source_map, [too_deep])
    builder = _Builder(shown, text.splitlines(), source_map, prefix)
    try:
        data = builder.build(yaml.parse(text, Loader=_EventParser))
    except _Abort as abort:  # keep what was found before the abort (an anchor before its alias)
        return LoadedFile(path, shown, None, source_map, [*builder.diagnostics, abort.diagnostic])
    except yaml.MarkedYAMLError as exc:
        return LoadedFile(path, shown, None, source_map, [_syntax_error(exc, shown, text.splitlines())])
    except yaml.YAMLError as exc:
        diag = error(Code.YAML_SYNTAX, f"cannot parse YAML: {exc}", Span(shown, 1, 1))
        return LoadedFile(path, shown, None, source_map, [diag])
    return LoadedFile(path, shown, data, source_map, builder.diagnostics)


def _decode(raw: bytes, shown: str) -> tuple[str, Diagnostic | None]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        return "", error(
            Code.NOT_UTF8,
            f"{shown} is not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded",
            Span(shown, line, col, line, col + 1),
            "save the file as UTF-8",
        )
    bad = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        col = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        return "", error(
            Code.NOT_UTF8,
            f"control character U+{ord(bad.group()):04X} in {shown}",
            Span(shown, line, col, line, col + 1),
            "remove the invisible character",
        )
    return text, None


def _prescan_depth(text: str, shown: str) -> Diagnostic | None:
    """Refuse flow nesting deeper than MAX_DEPTH before any parser can recurse on it."""
    depth = 0
    line, col = 1, 0
    quote = ""
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
            continue
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'" and depth:
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return error(
                    Code.YAML_DEPTH,
                    f"nesting deeper than {MAX_DEPTH} levels",
                    Span(shown, line, col, line, col + 1),
                    "flatten the structure",
                )
        elif ch in "]}" and depth:
            depth -= 1
    return None


def _syntax_error(exc: yaml.MarkedYAMLError, shown: str, lines: list[str]) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    span = Span(shown, line, col, line, col + 1)
    at = lines[line - 1][col - 1 : col] if 0 < line <= len(lines) else ""
    if at == "\t" or "\\t" in problem or "tab" in problem.lower():
        return error(Code.YAML_TAB, "tab character in indentation", span, "indent with spaces, not tabs")
    if "expected a single document" in problem or "but found another document" in problem:
        return error(
            Code.YAML_MULTI_DOCUMENT,
            "a definitions file holds one YAML document",
            span,
            "remove the `---` separator (a merge-conflict leftover?) or split the file",
        )
    opened = exc.context_mark
    if exc.context and exc.context.startswith("while parsing a flow") and opened and opened.line + 1 < line:
        # the parser stops where the next line begins; the mistake is the bracket left open above it
        opener, closer = ("{", "}") if "mapping" in exc.context else ("[", "]")
        return error(
            Code.YAML_SYNTAX,
            f"invalid YAML: this `{opener}` is not closed before line {line}, column {col}",
            Span(shown, opened.line + 1, opened.column + 1, opened.line + 1, opened.column + 2),
            f"close it with `{closer}`, or put the missing `,` between its items",
        )
    hint = "check the indentation and the quoting around this position"
    if exc.context:
        hint = f"{exc.context}; {hint}"
    return error(Code.YAML_SYNTAX, f"invalid YAML: {problem}", span, hint)


class _Builder:
    """Builds data from parser events, recording positions, refusing what SPEC §2 forbids."""

    def __init__(self, shown: str, lines: list[str], source_map: SourceMap, prefix: DataPath) -> None:
        self.shown = shown
        self.lines = lines
        self.map = source_map
        self.prefix = prefix
        self.diagnostics: list[Diagnostic] = []

    def span(self, event: Any) -> Span:
        s, e = event.start_mark, event.end_mark
        return Span(self.shown, s.line + 1, s.column + 1, e.line + 1, e.column + 1)

    def build(self, events: Iterator[Any]) -> Any:
        self.events = events
        data: Any = None
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _Abort(
                        error(
                            Code.YAML_MULTI_DOCUMENT,
                            "a definitions file holds one YAML document",
                            self.span(event),
                            "remove the `---` separator or split the file",
                        )
                    )
                data = self.node(next(events), self.prefix, 1)
        return data

    def node(self, event: Any, path: DataPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Abort(
                error(
                    Code.YAML_DEPTH,
                    f"nesting deeper than {MAX_DEPTH} levels",
                    self.span(event),
                    "flatten the structure",
                )
            )
        if isinstance(event, yaml.AliasEvent):
            raise _Abort(
                error(
                    Code.YAML_ALIAS,
                    f"aliases (`*{event.anchor}`) are not allowed",
                    self.span(event),
                    "write the value out: what an auditor reads must be exactly what is computed",
                )
            )
        if getattr(event, "anchor", None):
            self.diagnostics.append(
                error(
                    Code.YAML_ALIAS,
                    f"anchors (`&{event.anchor}`) are not allowed",
                    self.span(event),
                    "write each value out in full",
                )
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            self.diagnostics.append(
                error(
                    Code.YAML_TAG,
                    f"explicit tag `{_as_written(tag)}` is not allowed",
                    self.span(event),
                    "remove the tag; values are typed by the schema",
                )
            )
        span = self.span(event)
        self.map.values[path] = span
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event, path, span)
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            for event in self.events:
                if isinstance(event, yaml.SequenceEndEvent):
                    break
                items.append(self.node(event, (*path, len(items)), depth + 1))
            return items
        if isinstance(event, yaml.MappingStartEvent):
            return self.mapping(path, depth)
        raise _Abort(error(Code.YAML_SYNTAX, "unexpected YAML content", span))

    def mapping(self, path: DataPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Span] = {}
        for event in self.events:
            if isinstance(event, yaml.MappingEndEvent):
                break
            key_span = self.span(event)
            if not isinstance(event, yaml.ScalarEvent) or getattr(event, "anchor", None):
                raise _Abort(
                    error(
                        Code.YAML_KEY_TYPE,
                        "a mapping key must be a plain name",
                        key_span,
                        "write the key as a simple word",
                    )
                )
            if event.tag not in (None, "!"):
                self.diagnostics.append(
                    error(
                        Code.YAML_TAG,
                        f"explicit tag `{_as_written(event.tag)}` is not allowed",
                        key_span,
                        "remove the tag",
                    )
                )
            key = event.value
            if key == "<<" and not event.style:
                self.diagnostics.append(
                    error(
                        Code.YAML_MERGE_KEY,
                        "merge keys (`<<`) are not allowed",
                        key_span,
                        "write every key out; overrides must be visible to a reviewer",
                    )
                )
            if key == "" and not event.style:
                self.diagnostics.append(
                    error(Code.YAML_KEY_TYPE, "empty mapping key", key_span, "give the entry a name")
                )
            value_event = next(self.events)
            if key in first_seen:
                self.diagnostics.append(
                    Diagnostic(
                        Code.YAML_DUPLICATE_KEY,
                        f"duplicate key `{key}` (first at line {first_seen[key].line})",
                        key_span,
                        "remove one of them; YAML would silently keep only the last",
                        related=(("first definition", first_seen[key]),),
                    )
                )
                self.skip(value_event)
                continue
            first_seen[key] = key_span
            child = (*path, key)
            self.map.keys[child] = key_span
            result[key] = self.node(value_event, child, depth + 1)
        return result

    def skip(self, event: Any) -> None:
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            level = 1
            for inner in self.events:
                if isinstance(inner, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                    level += 1
                elif isinstance(inner, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                    level -= 1
                    if level == 0:
                        return

    def scalar(self, event: Any, path: DataPath, span: Span) -> Any:
        style = event.style or ""
        raw = tuple(self.lines[span.line - 1 : max(span.end_line, span.line)])
        self.map.scalars[path] = Scalar(span, style, raw)
        value: str = event.value
        if style:
            return value
        if value in ("true", "false"):
            return value == "true"
        if value in ("null", "~", ""):
            return None
        if _NUMBER.fullmatch(value):
            digits = sum(ch.isdigit() for ch in value)
            if digits > MAX_NUMBER_DIGITS:
                self.diagnostics.append(
                    error(
                        Code.YAML_BAD_NUMBER,
                        f"this number has {digits} digits; the limit is {MAX_NUMBER_DIGITS}",
                        span,
                        "write a number with fewer digits (numbers in definitions are DECIMAL(38) at most)",
                    )
                )
                return value
            return int(value) if "." not in value else Decimal(value)
        if _NOT_A_NUMBER.fullmatch(value):
            self.diagnostics.append(
                error(
                    Code.YAML_BAD_NUMBER,
                    f"`{value}` is not a finite number",
                    span,
                    "write a finite number such as 0 or 1.5",
                )
            )
        return value


def _as_written(tag: str) -> str:
    """A tag as the user wrote it: ``tag:yaml.org,2002:python/name`` was ``!!python/name``."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def looks_numeric(text: str) -> bool:
    """True for number spellings the loader keeps as strings (1e3, 0x1F, +12, 1_000, 0777)."""
    return bool(_LOOKS_NUMERIC.fullmatch(text))
