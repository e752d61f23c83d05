"""Drift tests for the reference docs (STYLE.md: docs are checked against the sources of truth).

- every key of ``schemas/kpi.schema.json`` is documented in ``docs/reference/yaml.md``;
- every function of ``engine/expr/functions.py`` is documented, with its signature and an
  example, in ``docs/reference/formulas.md``;
- every command, long option and option choice of the ``kpi`` app is in ``docs/reference/cli.md``;
- every YAML example loads with the strict loader (and, when it is a complete definitions file,
  passes the schema), unless it is marked ``<!-- invalid -->``;
- every ``formula`` example parses, and calls only functions of the table;
- the tutorial's excerpts of the support example match the example's files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from kpi_engine.cli.main import app
from kpi_engine.config.loader import load_file
from kpi_engine.config.schema import check_shape, load_schema
from kpi_engine.errors import KpiError
from kpi_engine.expr import ast
from kpi_engine.expr.functions import FUNCTIONS
from kpi_engine.expr.parser import parse

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
YAML_MD = DOCS / "reference" / "yaml.md"
FORMULAS_MD = DOCS / "reference" / "formulas.md"
CLI_MD = DOCS / "reference" / "cli.md"
TUTORIAL_MD = DOCS / "tutorial.md"
README_MD = DOCS / "README.md"

INVALID_MARK = "<!-- invalid -->"
EXAMPLE_MARK = re.compile(r"<!--\s*example:\s*(?P<path>\S+)\s*-->")
SCHEMA_WALK = (
    "properties",
    "patternProperties",
    "additionalProperties",
    "$defs",
    "items",
    "prefixItems",
    "oneOf",
    "anyOf",
    "allOf",
    "if",
    "then",
    "else",
    "not",
    "dependentSchemas",
    "contains",
)


# --- reading the docs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    file: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marks: tuple[str, ...]  # HTML comments on the lines right above the fence

    @property
    def invalid(self) -> bool:
        return INVALID_MARK in self.marks

    @property
    def id(self) -> str:
        return f"{self.file.name}:{self.line}"


def blocks(path: Path, lang: str) -> list[Block]:
    """The fenced blocks of ``path`` whose info string is ``lang``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = re.match(r"^(`{3,})\s*(\S*)", lines[i])
        if not opening:
            i += 1
            continue
        fence, info = opening.group(1), opening.group(2)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(fence)), len(lines))
        if info == lang:
            marks: list[str] = []
            k = i - 1
            while k >= 0 and lines[k].strip().startswith("<!--"):
                marks.append(lines[k].strip())
                k -= 1
            found.append(Block(path, i + 1, info, "\n".join(lines[i + 1 : end]) + "\n", tuple(marks)))
        i = end + 1
    return found


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def sections(text: str) -> dict[str, str]:
    """Markdown text split at headings: heading line → the text up to the next heading."""
    parts: dict[str, str] = {}
    heading, fenced = "", False
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("#") and not fenced:
            parts[heading] = "\n".join(body)
            heading, body = line, []
        else:
            body.append(line)
    parts[heading] = "\n".join(body)
    return parts


# --- the sources of truth ---------------------------------------------------------------------


def schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every subschema reachable through the JSON Schema keywords that hold subschemas."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(current)
            continue
        if not isinstance(current, dict):
            continue
        yield current
        for keyword in SCHEMA_WALK:
            child = current.get(keyword)
            if child is None or isinstance(child, bool):
                continue
            if keyword in ("properties", "patternProperties", "$defs", "dependentSchemas"):
                stack.extend(child.values())
            else:
                stack.append(child)


def schema_keys() -> set[str]:
    return {name for node in schema_nodes(load_schema()) for name in node.get("properties", {})}


def schema_enum_values() -> set[str]:
    return {value for node in schema_nodes(load_schema()) for value in node.get("enum", []) if isinstance(value, str)}


def top_level_sections() -> list[str]:
    return list(load_schema()["properties"])


def commands() -> list[tuple[str, Any]]:
    """(``kpi runs list``, command) for the app and every command and sub-command below it."""
    found: list[tuple[str, Any]] = []

    def walk(command: Any, path: str) -> None:
        found.append((path, command))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, f"{path} {name}")

    walk(get_command(app), "kpi")
    return found


def long_options(command: Any) -> list[str]:
    return [opt for param in command.params for opt in (*param.opts, *param.secondary_opts) if opt.startswith("--")]


def choices(param: Any) -> list[str]:
    """The values an option accepts when it is an enumeration (Typer/click, either way)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return [str(c) for c in getattr(getattr(param, "type", None), "choices", None) or []]


# --- (a) every YAML key -----------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(schema_keys()))
def test_every_schema_key_is_documented(key: str) -> None:
    assert f"`{key}`" in read(YAML_MD), f"the schema key `{key}` is not documented in {YAML_MD.name}"


@pytest.mark.parametrize("section", top_level_sections())
def test_every_top_level_section_has_a_heading(section: str) -> None:
    heading = re.compile(rf"^#{{2,3}} .*`{re.escape(section)}`", re.MULTILINE)
    assert heading.search(read(YAML_MD)), f"no heading for the section `{section}` in {YAML_MD.name}"


@pytest.mark.parametrize("value", sorted(schema_enum_values()))
def test_every_enumerated_value_is_documented(value: str) -> None:
    assert f"`{value}`" in read(YAML_MD), f"the allowed value `{value}` is not documented in {YAML_MD.name}"


# --- (b) every function -----------------------------------------------------------------------


def formula_lines() -> list[tuple[Block, str]]:
    return [
        (block, line.strip())
        for block in blocks(FORMULAS_MD, "formula")
        for line in block.text.splitlines()
        if line.strip()
    ]


@cache
def called_functions() -> frozenset[str]:
    names: set[str] = set()
    for block, text in formula_lines():
        if not block.invalid:
            names |= {node.name for node in ast.walk(parse(text)) if isinstance(node, ast.Call)}
    return frozenset(names)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_is_documented_with_its_signature(name: str) -> None:
    signature = FUNCTIONS[name].signature()
    assert f"`{signature}`" in read(FORMULAS_MD), f"`{signature}` is not documented in {FORMULAS_MD.name}"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_has_a_formula_example(name: str) -> None:
    assert name in called_functions(), f"no ```formula example in {FORMULAS_MD.name} calls `{name}(`"


def test_formula_examples_call_only_functions_of_the_table() -> None:
    unknown = called_functions() - set(FUNCTIONS)
    assert not unknown, f"{FORMULAS_MD.name} calls functions that do not exist: {sorted(unknown)}"


# --- (c) every command and option -------------------------------------------------------------


def command_section(path: str) -> str | None:
    """The text under the heading `` `kpi runs list` `` (the heading's code span is the path)."""
    for heading, body in sections(read(CLI_MD)).items():
        if re.match(rf"^#+ `{re.escape(path)}`\s*$", heading):
            return body
    return None


@pytest.mark.parametrize("path", [p for p, _ in commands() if p != "kpi"])
def test_every_command_has_a_section(path: str) -> None:
    assert command_section(path) is not None, f"no heading `{path}` in {CLI_MD.name}"


@pytest.mark.parametrize(
    ("path", "option"),
    [(p, o) for p, c in commands() if p != "kpi" for o in long_options(c)],
)
def test_every_option_is_documented_under_its_command(path: str, option: str) -> None:
    body = command_section(path) or ""
    assert re.search(rf"`{re.escape(option)}`", body), f"`{option}` is not documented under `{path}`"


@pytest.mark.parametrize(
    ("path", "option", "value"),
    [
        (p, param.opts[0], v)
        for p, c in commands()
        if p != "kpi"
        for param in c.params
        if param.opts and param.opts[0].startswith("--")
        for v in choices(param)
    ],
)
def test_every_option_choice_is_documented(path: str, option: str, value: str) -> None:
    body = command_section(path) or ""
    assert f"`{value}`" in body, f"`{option} {value}` is not documented under `{path}`"


# --- (d) YAML examples ------------------------------------------------------------------------


YAML_BLOCKS = [b for path in (YAML_MD, TUTORIAL_MD) for b in blocks(path, "yaml")]


@pytest.mark.parametrize("block", [b for b in YAML_BLOCKS if not b.invalid], ids=lambda b: b.id)
def test_yaml_examples_load_strictly(block: Block, tmp_path: Path) -> None:
    file = tmp_path / "example.yaml"
    file.write_text(block.text, encoding="utf-8")
    loaded = load_file(file)
    problems = [f"{d.code.value} {d.message}" for d in loaded.diagnostics]
    assert not problems, f"{block.id}: the strict loader refuses this example: {problems}"
    data = loaded.data
    excerpt = any(EXAMPLE_MARK.match(mark) for mark in block.marks)  # checked against its file below
    if not excerpt and isinstance(data, dict) and data and set(data) <= set(top_level_sections()):
        shape = [
            f"{d.span.line if d.span else '?'}: {d.code.value} {d.message}"
            for d in check_shape(data, loaded.source_map)
        ]
        assert not shape, f"{block.id}: this example breaks the schema: {shape}"


@pytest.mark.parametrize("block", [b for b in blocks(YAML_MD, "yaml") if b.invalid], ids=lambda b: b.id)
def test_reference_examples_marked_invalid_are_refused(block: Block, tmp_path: Path) -> None:
    """On the reference page, `<!-- invalid -->` shows a YAML or schema error; it must really be one."""
    file = tmp_path / "example.yaml"
    file.write_text(block.text, encoding="utf-8")
    loaded = load_file(file)
    refused = bool(loaded.diagnostics) or bool(check_shape(loaded.data, loaded.source_map))
    assert refused, f"{block.id} is marked invalid, but the loader and the schema accept it"


# --- (e) formula examples ---------------------------------------------------------------------


FORMULA_EXAMPLES = [(b, t) for b, t in formula_lines() if not b.invalid]


@pytest.mark.parametrize(("block", "text"), FORMULA_EXAMPLES, ids=[f"{b.id}:{t}" for b, t in FORMULA_EXAMPLES])
def test_formula_examples_parse(block: Block, text: str) -> None:
    try:
        parse(text)
    except KpiError as exc:
        pytest.fail(f"{block.id}: `{text}` does not parse: {[d.message for d in exc.diagnostics]}")


@pytest.mark.parametrize("block", [b for b in YAML_BLOCKS if not b.invalid], ids=lambda b: b.id)
def test_formulas_in_yaml_examples_parse(block: Block, tmp_path: Path) -> None:
    """Formulas inside the YAML examples (`formula`, `where`, `valid_if`) parse too."""
    file = tmp_path / "example.yaml"
    file.write_text(block.text, encoding="utf-8")
    for key, value in _walk_items(load_file(file).data):
        if key in ("formula", "where", "valid_if") and isinstance(value, str):
            try:
                parse(value)
            except KpiError as exc:
                pytest.fail(f"{block.id}: {key} `{value}` does not parse: {exc.diagnostics[0].message}")


def _walk_items(data: Any) -> Iterator[tuple[str, Any]]:
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                yield str(key), value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


# --- the tutorial follows the example ---------------------------------------------------------


def _is_excerpt(part: Any, whole: Any) -> bool:
    """``part`` is ``whole`` with some mapping keys left out (lists must match item by item)."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(k in whole and _is_excerpt(v, whole[k]) for k, v in part.items())
    if isinstance(part, list):
        return isinstance(whole, list) and len(part) == len(whole) and all(map(_is_excerpt, part, whole))
    return bool(part == whole)


@pytest.mark.parametrize(
    "block", [b for b in YAML_BLOCKS if any(EXAMPLE_MARK.match(m) for m in b.marks)], ids=lambda b: b.id
)
def test_tutorial_excerpts_match_the_example(block: Block, tmp_path: Path) -> None:
    match = next(m for m in map(EXAMPLE_MARK.match, block.marks) if m)
    source = REPO / match.group("path")
    assert source.is_file(), f"{block.id} quotes {source}, which does not exist"
    file = tmp_path / "excerpt.yaml"
    file.write_text(block.text, encoding="utf-8")
    quoted = load_file(source)
    assert not quoted.diagnostics and not check_shape(quoted.data, quoted.source_map), f"{source} is not valid"
    assert _is_excerpt(load_file(file).data, quoted.data), f"{block.id} no longer matches {match.group('path')}"


# --- the index --------------------------------------------------------------------------------


def test_the_index_links_every_page() -> None:
    index = read(README_MD)
    for page in (YAML_MD, FORMULAS_MD, CLI_MD, TUTORIAL_MD, DOCS / "schema.md"):
        assert page.relative_to(DOCS).as_posix() in index, f"{README_MD.name} does not link {page.name}"
