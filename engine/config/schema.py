"""Check the shape of one definitions file against ``schemas/kpi.schema.json`` (JSON Schema 2020-12).

Every violation is explained as a Diagnostic at the offending key or value, in the user's words.

The schema marks its reusable pieces with ``$anchor`` (``fraction``, ``duration``, ``date``, ``id`` …);
a violation inside such a piece is explained by a handler for that kind of value, everything else
by a handler for the JSON Schema keyword that failed. jsonschema's own messages never reach users.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from kpi_engine.config.loader import DataPath, SourceMap, looks_numeric
from kpi_engine.errors import Code, Diagnostic, did_you_mean, error
from kpi_engine.names import GRAINS
from kpi_engine.source import Span

# Package data of the wheel (schemas/ in the repository): importlib.resources finds it installed or editable.
SCHEMA_FILE = "kpi.schema.json"

_DIGITS_HINT = "write numbers as digits with an optional decimal point, e.g. 1000"
_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n", "true", "false"}
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}
_KIND_NAMES = {
    "id": "an id",
    "kpi_ref": "a KPI id",
    "column": "a column name",
    "tag": "a tag",
    "data_id": "an id",
    "percent": "a percentage (25%)",
    "signed_percent": "a percentage (+10%)",
    "fraction": "a percentage (25%) or a fraction (0.25)",
    "signed_fraction": "a signed percentage (+10%) or a fraction (0.1)",
    "duration": "a duration (4h)",
    "date": "a date (YYYY-MM-DD)",
    "target_point": "a number, a percentage (80%) or a duration (4h)",
    "param_value": "a number, a percentage, a duration, a date, true/false or text",
    "period": "a period (2025, 2025-Q1, 2025-03)",
    "period_or_grain": "a period (year, 2025, 2025-Q1)",
    "formula": "a formula (text)",
    "money": "an amount",
    "window": "working hours (09:00-18:00)",
    "target_bonus": "a target bonus (20% of base_salary, 5000 or column target_bonus)",
}
_NOUNS = {"column_type": "column type"}
_SYNONYMS = {
    "upper": "higher",
    "up": "higher",
    "increase": "higher",
    "more": "higher",
    "down": "lower",
    "decrease": "lower",
    "less": "lower",
    "between": "range",
    "within": "range",
}
_PERIOD_HINT = "write 2025, 2025-Q1, 2025-03, 2025-W05 or 2025-01-01..2025-03-31"
_GRAINS = GRAINS
_TARGET_FAMILIES = (
    ("from",),
    ("threshold", "target", "stretch"),
    ("min", "max", "threshold_min", "threshold_max"),
    ("vs", "change", "threshold_change", "stretch_change"),
    ("benchmark", "better_by"),
)
_TARGET_FORMS_HINT = (
    "a target is one of: {threshold, target, stretch}; {min, max, threshold_min, threshold_max}; "
    "{vs: previous, change, threshold_change, stretch_change}; {benchmark, better_by}; "
    "{from: {source, subject, period, value}, threshold, stretch}"
)
_NEEDS_HINTS = {
    ("vs", "change"): "a relative target reads {vs: previous, change: +10%}",
    ("change", "vs"): "a relative target reads {vs: previous, change: +10%}",
    ("threshold_change", "vs"): "a relative target reads {vs: previous, threshold_change: 0%, change: +10%}",
    ("stretch_change", "vs"): "a relative target reads {vs: previous, change: +10%, stretch_change: +20%}",
    ("threshold", "target"): "give the target point too, e.g. {threshold: 70%, target: 80%}",
    ("stretch", "target"): "give the target point too, e.g. {target: 80%, stretch: 90%}",
    ("better_by", "benchmark"): "e.g. {benchmark: 24h, better_by: 25%}",
    ("weight", "kpi"): "name the KPI whose total weight is bounded, e.g. kpi: csat",
}
_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_DURATION_LIKE = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?\s*([A-Za-z]+)")
_DATE_LIKE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_CLOCK = re.compile(r"([0-9]+):([0-5][0-9])")


def _numeric(value: object) -> bool:
    """The loader's numbers are int or Decimal; a bool is never a number."""
    return isinstance(value, (int, Decimal, float)) and not isinstance(value, bool)


_ValidatorClass = extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "number": lambda _checker, value: _numeric(value),
            "integer": lambda _checker, value: isinstance(value, int) and not isinstance(value, bool),
        }
    ),
)


@cache
def load_schema() -> dict[str, Any]:
    """The JSON Schema of a definitions file (read once)."""
    text = resources.files("kpi_engine.schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Validator:
    validator: Validator = _ValidatorClass(load_schema(), format_checker=FormatChecker(formats=("date",)))
    return validator


def check_shape(data: object, source_map: SourceMap, prefix: DataPath = ()) -> list[Diagnostic]:
    """Validate one file's data against the schema; every violation becomes a positioned Diagnostic.

    ``prefix`` is the data path the file was loaded under (``load_file(path, prefix)``). An empty
    file (``None``) has nothing to check.
    """
    if data is None:
        return []
    ctx = _Context(source_map, prefix, data)
    found: dict[tuple[object, ...], Diagnostic] = {}
    for err in _validator().iter_errors(data):
        for diag in _explain(ctx, err):
            found.setdefault((diag.code, diag.span, diag.message), diag)
    return sorted(found.values(), key=Diagnostic.sort_key)


@dataclass(frozen=True)
class _Context:
    source_map: SourceMap
    prefix: DataPath
    data: object

    def path(self, err: ValidationError) -> DataPath:
        return (*self.prefix, *err.absolute_path)

    def value(self, err: ValidationError) -> Span | None:
        return self.source_map.value(self.path(err))

    def key(self, path: DataPath) -> Span | None:
        return self.source_map.key(path)

    def instance(self, relative: Iterable[str | int]) -> Any:
        found: Any = self.data
        for part in relative:
            found = found[part]
        return found


_Handler = Callable[[_Context, ValidationError], Iterable[Diagnostic]]


def _explain(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    if "propertyNames" in err.absolute_schema_path:
        yield _bad_key_name(ctx, err)
        return
    kind = _anchor(err.schema)
    if kind in _KINDS:
        diag = _KINDS[kind](ctx, err)
        if diag is not None:
            yield diag
            return
    yield from _RULES.get(str(err.validator), _fallback)(ctx, err)


# ---- what a value is and how to talk about it ----------------------------------------------------


def _anchor(schema: object) -> str | None:
    return schema.get("$anchor") if isinstance(schema, dict) else None


def _resolve(schema: object) -> object:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = load_schema()["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _types(schema: object) -> set[str] | None:
    """JSON types a subschema accepts; None when it does not restrict the type."""
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return None
    if "type" in schema:
        declared = schema["type"]
        return {declared} if isinstance(declared, str) else set(declared)
    if "enum" in schema or "const" in schema:
        return {_json_type(v) for v in schema.get("enum", [schema.get("const")])}
    union: set[str] = set()
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        inner = _types(branch)
        if inner is None:
            return None
        union |= inner
    return union or None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (Decimal, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _fits(schema: object, value: object) -> bool:
    types = _types(schema)
    return types is None or any(_validator().is_type(value, t) for t in types)


def _found(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (int, Decimal, float)):
        return f"the number `{value}`"
    if isinstance(value, str):
        return f"the string `{value if len(value) <= 40 else value[:37] + '...'}`"
    return "a list" if isinstance(value, list) else "a mapping"


def _expected(schema: object) -> str:
    kind = _anchor(_resolve(schema))
    if kind in _KIND_NAMES:
        return _KIND_NAMES[kind]
    types = _types(schema) or {"object"}
    if "number" in types:
        types.discard("integer")
    names = [_TYPE_NAMES[t] for t in sorted(types, key=list(_TYPE_NAMES).index)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _dotted(path: DataPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _field(path: DataPath) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "value"


def _noun(ctx: _Context, err: ValidationError) -> str:
    """What the failing value is called: its property name, the kind of value, or its key."""
    schema_path = list(err.absolute_schema_path)
    for i in range(len(schema_path) - 1, 0, -1):
        if schema_path[i - 1] == "properties" and isinstance(schema_path[i], str):
            return f"`{schema_path[i]}`"
        if schema_path[i] in ("additionalProperties", "items"):
            break
    return _NOUNS.get(_anchor(err.schema) or "", _field(ctx.path(err)))


def _as_fraction_text(value: Decimal | int | float) -> str:
    return f"{(Decimal(str(value)) / 100).normalize():f}"


def _percent_fix(value: Decimal) -> str:
    fix = f"write {value}% or {_as_fraction_text(value)}"
    if abs(value) < 10:  # 1.5 is more likely a factor (150%) than 1.5%
        scaled = f"{(value * 100).normalize():f}%"
        fix += f" (or {scaled} if you meant {scaled})"
    return fix


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".")


def _hint_from(schema: object) -> str | None:
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return None
    if "patternErrorMessage" in schema:
        return str(schema["patternErrorMessage"])
    examples = schema.get("examples")
    if examples:
        return "e.g. " + " or ".join(f"`{_flow(e)}`" for e in examples[:2])
    return None


def _flow(value: object) -> str:
    """A value as the user would write it in YAML flow style."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return "null" if value is None else str(value).lower()
    return str(value)


def _either(options: list[str]) -> str:
    quoted = [f"`{o}`" for o in options]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _wrong_type(ctx: _Context, err: ValidationError, schema: object) -> Diagnostic:
    value, path = err.instance, ctx.path(err)
    return error(
        Code.WRONG_TYPE,
        f"expected {_expected(schema)}, found {_found(value)}",
        ctx.value(err),
        _type_hint(_types(schema) or set(), value, path),
    )


def _type_hint(expected: set[str], value: object, path: DataPath) -> str | None:
    if expected & {"number", "integer"} and isinstance(value, str) and looks_numeric(value):
        return _DIGITS_HINT
    if "string" in expected and isinstance(value, (int, Decimal, float, bool)):
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        key = path[-1] if path and isinstance(path[-1], str) else None
        return f'quote it: {key}: "{shown}"' if key else f'quote it: "{shown}"'
    if expected & {"number", "integer"} and isinstance(value, str) and value.lower() in _BOOL_WORDS:
        return f"`{value}` is text here, not a number: write a number such as 30, or remove the key"
    if "integer" in expected and isinstance(value, (Decimal, float)):
        return "write a whole number, e.g. 30"
    if "boolean" in expected and isinstance(value, str) and value.lower() in _BOOL_WORDS:
        return "write true or false"
    if value is None:
        return "give it a value, or remove the key"
    if "object" in expected and isinstance(value, list):
        return "write `key: value` pairs here, not a list of `- ` items"
    if "array" in expected and not isinstance(value, list):
        return "write a list: [a, b], or one `- item` per line"
    return None


# ---- kinds of values (schema $anchors) --------------------------------------------------------------


def _fraction(ctx: _Context, err: ValidationError) -> Diagnostic | None:
    value, span = err.instance, ctx.value(err)
    signed = _anchor(err.schema) == "signed_fraction"
    if _numeric(value):
        low = -1 if signed else 0
        if value < 0 and not signed:
            return error(
                Code.BAD_PERCENT,
                f"`{value}` is negative where a percentage is expected",
                span,
                "write a percentage from 0% up, e.g. 25% or 0.25",
            )
        if value > 1 or value < low:
            return error(
                Code.BAD_PERCENT,
                f"bare number `{value}` where a percentage is expected",
                span,
                _percent_fix(Decimal(str(value))),
            )
        return None
    if not isinstance(value, str):
        return _wrong_type(ctx, err, err.schema)
    if not signed and value.startswith(("-", "+")) and value.endswith("%"):
        return error(
            Code.BAD_PERCENT,
            f"`{value}` is signed where a percentage from 0% up is expected",
            span,
            f"write {value.lstrip('+-')}" if value.startswith("+") else "write a percentage such as 25%",
        )
    if _NUMBER_TEXT.fullmatch(value):
        number = Decimal(value)
        fix = (
            _percent_fix(number)
            if abs(number) > 1
            else f"write {value} without quotes, or {_as_fraction_text(number * 100)}%"
        )
        return error(Code.BAD_PERCENT, f"expected a percentage or a fraction, found {_found(value)}", span, fix)
    return error(
        Code.BAD_PERCENT,
        f"`{value}` is not a percentage",
        span,
        "write digits followed by %, e.g. 25%, or a fraction such as 0.25",
    )


def _duration_problem(value: str, span: Span | None) -> Diagnostic | None:
    match = _DURATION_LIKE.fullmatch(value)
    if match is None:
        return None
    hint = "write a number and a unit: 30s, 15min, 4h, 3d or 2w"
    if match.group(2) == "m":
        hint = f"`m` is ambiguous: write {value[:-1].strip()}min for minutes ({hint})"
    return error(Code.BAD_DURATION, f"`{value}` is not a duration", span, hint)


def _loose_string(value: str, span: Span | None, expected: str) -> Diagnostic:
    """A string that fits none of a number/percentage/duration/date slot: say which one it resembles."""
    if looks_numeric(value):
        return error(Code.WRONG_TYPE, f"expected a number, found {_found(value)}", span, _DIGITS_HINT)
    if value.endswith("%"):
        return error(
            Code.BAD_PERCENT, f"`{value}` is not a percentage", span, "write digits followed by %, e.g. 80% or -5%"
        )
    if _DATE_LIKE.fullmatch(value) and not _is_date(value):
        return _bad_date(value, span)
    duration = _duration_problem(value, span)
    if duration is not None:
        return duration
    clock = _CLOCK.fullmatch(value)
    if clock:  # YAML 1.1 would read 1:30 as the base-60 number 90
        minutes = int(clock[1]) * 60 + int(clock[2])
        hours = f"{round(Decimal(minutes) / 60, 2).normalize():f}"
        return error(
            Code.BAD_VALUE,
            f"expected {expected}, found {_found(value)}",
            span,
            f"hours:minutes is not read as a time: write {hours} (a number) or {minutes}min (a duration)",
        )
    return error(
        Code.BAD_VALUE,
        f"expected {expected}, found {_found(value)}",
        span,
        "write a number (8), a percentage (80%) or a duration (4h)",
    )


def _target_point(ctx: _Context, err: ValidationError) -> Diagnostic | None:
    if isinstance(err.instance, str):
        return _loose_string(err.instance, ctx.value(err), _KIND_NAMES["target_point"])
    return _wrong_type(ctx, err, err.schema)


def _param_value(ctx: _Context, err: ValidationError) -> Diagnostic | None:
    if isinstance(err.instance, str):
        diag = _loose_string(err.instance, ctx.value(err), _KIND_NAMES["param_value"])
        if diag.code is Code.BAD_VALUE:
            return error(
                Code.BAD_VALUE,
                f"`{err.instance}` is not a parameter value",
                diag.span,
                "text values start with a letter; numbers, percentages (10%) and durations (4h) "
                "are written without spaces",
            )
        return diag
    return _wrong_type(ctx, err, err.schema)


def _duration(ctx: _Context, err: ValidationError) -> Diagnostic | None:
    value, span = err.instance, ctx.value(err)
    if isinstance(value, str):
        return _duration_problem(value, span) or error(
            Code.BAD_DURATION,
            f"`{value}` is not a duration",
            span,
            "write a number and a unit: 30s, 15min, 4h, 3d or 2w",
        )
    if _numeric(value):
        return error(
            Code.BAD_DURATION,
            f"expected a duration, found {_found(value)}",
            span,
            f"add a unit: {value}min, {value}h or {value}d",
        )
    return _wrong_type(ctx, err, err.schema)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _bad_date(value: str, span: Span | None) -> Diagnostic:
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        reason = str(exc)
    else:
        reason = "write it as YYYY-MM-DD"
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return error(
            Code.BAD_DATE,
            f"`{value}` is not a valid date ({reason})",
            span,
            "check the day and month: dates are YYYY-MM-DD",
        )
    return error(Code.BAD_DATE, f"`{value}` is not a date", span, "write dates as YYYY-MM-DD, e.g. 2026-01-31")


def _date(ctx: _Context, err: ValidationError) -> Diagnostic | None:
    value, span = err.instance, ctx.value(err)
    if isinstance(value, str):
        return _bad_date(value, span)
    if _numeric(value):
        return error(
            Code.BAD_DATE, f"expected a date, found {_found(value)}", span, "write dates as YYYY-MM-DD, e.g. 2026-01-31"
        )
    return _wrong_type(ctx, err, err.schema)


def _period(ctx: _Context, err: ValidationError) -> Diagnostic | None:
    value, span = err.instance, ctx.value(err)
    grains = _anchor(err.schema) == "period_or_grain"
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return _wrong_type(ctx, err, err.schema)
    hint = _PERIOD_HINT + (", or one of year, quarter, month, week, day" if grains else "")
    close = did_you_mean(value, _GRAINS) if grains and isinstance(value, str) else None
    return error(Code.BAD_VALUE, f"`{value}` is not a period", span, close or hint)


def _id_like(ctx: _Context, err: ValidationError) -> Diagnostic | None:
    if err.validator != "pattern":
        return None
    return _bad_id(err.instance, ctx.value(err), _anchor(err.schema) == "kpi_ref")


def _bad_id(value: str, span: Span | None, dotted: bool = False) -> Diagnostic:
    parts = value.split(".", 1) if dotted else [value]
    fixed = ".".join(_id_from(part) for part in parts)
    hint = "ids start with a lowercase letter and use only a-z, 0-9 and _ (at most 64 characters)"
    if fixed and fixed != value:
        hint += f", e.g. `{fixed}`"
    what = "KPI id" if dotted else "id"
    return error(Code.BAD_ID, f"`{value}` is not a valid {what}{_invisible(value)}", span, hint)


def _invisible(text: str) -> str:
    """Names a no-break or zero-width space that makes a name differ from the one it looks like."""
    hidden = [ch for ch in text if ch != " " and unicodedata.category(ch)[0] in "ZC"]
    return f" (it contains the invisible character U+{ord(hidden[0]):04X})" if hidden else ""


def _id_from(text: str) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    if name and not name[0].isalpha():
        name = "x_" + name
    return name[:64]


def _by_pattern(code: Code, what: str) -> Callable[[_Context, ValidationError], Diagnostic | None]:
    def handler(ctx: _Context, err: ValidationError) -> Diagnostic | None:
        if not isinstance(err.instance, str):
            return _wrong_type(ctx, err, err.schema)
        return error(code, f"`{err.instance}` is not {what}", ctx.value(err), _hint_from(err.schema))

    return handler


def _target_bonus(ctx: _Context, err: ValidationError) -> Diagnostic | None:
    value, span = err.instance, ctx.value(err)
    hint = 'write "20% of base_salary", an amount such as 5000, or "column target_bonus"'
    if _numeric(value):
        return error(Code.BAD_VALUE, f"the target bonus `{value}` is negative", span, hint)
    if not isinstance(value, str):
        return _wrong_type(ctx, err, err.schema)
    share = re.fullmatch(r"(\S+)\s+of\s+(\S+)", value)
    if share and _NUMBER_TEXT.fullmatch(share[1]) and Decimal(share[1]) > 1:
        return error(
            Code.BAD_PERCENT,
            f"bare number `{share[1]}` where a percentage is expected",
            span,
            f"write {share[1]}% of {share[2]} or {_as_fraction_text(Decimal(share[1]))} of {share[2]}",
        )
    if share and share[1].endswith("%"):
        return error(Code.BAD_PERCENT, f"`{share[1]}` is not a percentage", span, hint)
    return error(Code.BAD_VALUE, f"`{value}` is not a target bonus", span, hint)


_KindHandler = Callable[[_Context, ValidationError], Diagnostic | None]
_KINDS: dict[str | None, _KindHandler] = {
    "fraction": _fraction,
    "signed_fraction": _fraction,
    "percent": _fraction,
    "target_point": _target_point,
    "param_value": _param_value,
    "duration": _duration,
    "date": _date,
    "period": _period,
    "period_or_grain": _period,
    "id": _id_like,
    "kpi_ref": _id_like,
    "window": _by_pattern(Code.BAD_VALUE, "a working-hours window"),
    "money": _by_pattern(Code.BAD_VALUE, "an amount"),
    "target_bonus": _target_bonus,
}


# ---- JSON Schema keywords ----------------------------------------------------------------------------


def _bad_key_name(ctx: _Context, err: ValidationError) -> Diagnostic:
    key = str(err.instance)
    span = ctx.key((*ctx.path(err), key))
    if _anchor(err.schema) == "id":
        return _bad_id(key, span)
    return error(Code.BAD_VALUE, "empty name" if not key else f"`{key}` is not a valid name", span)


def _unknown_keys(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    allowed = list(err.schema.get("properties", {}))
    path = ctx.path(err)
    for key in err.instance:
        if key in allowed:
            continue
        where = f"in `{_dotted(path)}`" if path else "at the top level"
        hint = did_you_mean(key, allowed) or "allowed keys: " + ", ".join(allowed)
        yield error(Code.UNKNOWN_KEY, f"unknown key `{key}` {where}{_invisible(key)}", ctx.key((*path, key)), hint)


def _misspelled(instance: dict[str, Any], schema: object, key: str) -> bool:
    """True when an unknown key of ``instance`` looks like ``key``: the unknown-key error says it all."""
    known = schema.get("properties", {}) if isinstance(schema, dict) else {}
    strangers = [k for k in instance if k not in known]
    return bool(strangers) and did_you_mean(key, strangers) is not None


def _missing(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    path = ctx.path(err)
    properties = err.schema.get("properties", {})
    for key in err.validator_value:
        if key in err.instance or _misspelled(err.instance, err.schema, key):
            continue
        where = f"`{_dotted(path)}`" if path else "the file"
        if key in properties:
            described = properties[key].get("description")
            hint = f"add `{key}:` ({_first_sentence(described)})" if described else f"add `{key}:`"
        else:  # a conditional requirement (if/then) explains itself
            hint = err.schema.get("description", f"add `{key}:`")
        yield error(Code.MISSING_KEY, f"{where} needs the key `{key}`", ctx.key(path), hint)


def _target_family(instance: dict[str, Any], key: str) -> tuple[int, int]:
    """The family of a target key, and the first family present in the target."""
    families = [i for i, family in enumerate(_TARGET_FAMILIES) for k in family if k in instance]
    own = next((i for i, family in enumerate(_TARGET_FAMILIES) if key in family), -1)
    return own, min(families, default=-1)


def _dependent_required(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    path = ctx.path(err)
    said: set[str] = set()  # `threshold` and `stretch` both need `target`: say it once
    for key, needs in err.validator_value.items():
        own, first = _target_family(err.instance, key)
        if own > first >= 0 and _anchor(err.schema) == "target":
            continue  # the key cannot be there at all; that error says it
        for other in needs:
            if key in err.instance and other not in err.instance and other not in said:
                said.add(other)
                yield error(
                    Code.MISSING_KEY,
                    f"`{key}` needs `{other}` beside it",
                    ctx.key((*path, key)),
                    _NEEDS_HINTS.get((key, other), f"add `{other}:`"),
                )


def _forbidden(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    schema_path = list(err.absolute_schema_path)
    if "dependentSchemas" not in schema_path:
        yield from _fallback(ctx, err)
        return
    path = ctx.path(err)
    key = str(path[-1])
    parent = ctx.instance(list(err.absolute_path)[:-1])
    # Report each clash once, against the first key (in family order) that rules this one out.
    first = next(k for family in _TARGET_FAMILIES for k in family if k in parent)
    if schema_path[schema_path.index("dependentSchemas") + 1] == first:
        yield error(Code.BAD_VALUE, f"`{key}` cannot be combined with `{first}`", ctx.key(path), _TARGET_FORMS_HINT)


def _one_of_keys(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    if not isinstance(err.instance, dict):
        return  # the type error says it
    options = [b["required"][0] for b in err.validator_value]
    path = ctx.path(err)
    present = [k for k in err.instance if k in options]
    listed = _either(options)
    if not present:
        if not any(_misspelled(err.instance, err.schema, o) for o in options):
            where = f"`{_dotted(path)}`" if path else "the file"
            yield error(Code.MISSING_KEY, f"{where} needs {listed}", ctx.key(path), f"add one of {listed}")
    elif err.validator == "oneOf":
        yield error(
            Code.BAD_VALUE,
            f"use only one of {listed}",
            ctx.key((*path, present[1])),
            f"remove `{present[1]}` or `{present[0]}`",
        )


def _alternatives(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    branches = err.validator_value
    if all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
        yield from _one_of_keys(ctx, err)
        return
    fitting = [i for i, branch in enumerate(branches) if _fits(branch, err.instance)]
    if not fitting:
        yield _wrong_type(ctx, err, err.schema)
        return
    errors = [e for e in err.context or [] if e.relative_schema_path[0] in fitting]
    if not errors:
        yield from _fallback(ctx, err)
    elif len(fitting) == 1:
        for inner in errors:
            yield from _explain(ctx, inner)
    else:
        yield from _explain(ctx, best_match(errors))


def _type(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    yield _wrong_type(ctx, err, err.schema)


def _enum(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    choices = ["null" if c is None else str(c) for c in err.validator_value]
    listed = ", ".join(f"`{c}`" for c in choices)
    if not isinstance(err.instance, str):
        yield error(Code.WRONG_TYPE, f"expected one of {listed}, found {_found(err.instance)}", ctx.value(err))
        return
    synonym = _SYNONYMS.get(err.instance.lower())
    hint = (f"did you mean `{synonym}`?" if synonym in choices else did_you_mean(err.instance, choices)) or (
        f"use one of {listed}"
    )
    yield error(
        Code.BAD_VALUE,
        f"`{err.instance}` is not a valid {_noun(ctx, err)}: expected one of {listed}",
        ctx.value(err),
        hint,
    )


def _bounds(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    limit, what = err.validator_value, _dotted(ctx.path(err)) or "the file"
    messages = {
        "minimum": f"`{err.instance}` is below the minimum {limit}",
        "maximum": f"`{err.instance}` is above the maximum {limit}",
        "exclusiveMinimum": f"`{err.instance}` must be greater than {limit}",
        "exclusiveMaximum": f"`{err.instance}` must be less than {limit}",
        "minLength": f"`{what}` must not be empty" if limit == 1 else f"`{what}` needs at least {limit} characters",
        "maxLength": f"`{what}` may have at most {limit} characters",
        "minItems": f"`{what}` must not be empty" if limit == 1 else f"`{what}` needs at least {limit} items",
        "maxItems": f"`{what}` may have at most {limit} items",
        "minProperties": f"`{what}` must not be empty" if limit == 1 else f"`{what}` needs at least {limit} keys",
        "maxProperties": f"`{what}` may have at most {limit} keys",
    }
    yield error(Code.BAD_VALUE, messages[str(err.validator)], ctx.value(err), _hint_from(err.schema))


def _pattern(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    yield error(
        Code.BAD_VALUE, f"`{err.instance}` is not a valid {_noun(ctx, err)}", ctx.value(err), _hint_from(err.schema)
    )


def _const(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    yield error(Code.BAD_VALUE, f"expected `{err.validator_value}`, found {_found(err.instance)}", ctx.value(err))


def _format(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    if err.validator_value == "date" and isinstance(err.instance, str):
        yield _bad_date(err.instance, ctx.value(err))
    else:
        yield from _fallback(ctx, err)


def _unique(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    path = ctx.path(err)
    for index, item in enumerate(err.instance):
        if item in err.instance[:index]:
            shown = f"`{item}`" if isinstance(item, (str, int, Decimal)) else "this item"
            yield error(
                Code.BAD_VALUE,
                f"{shown} is listed twice",
                ctx.source_map.value((*path, index)),
                "remove the repeated item",
            )
            return


def _fallback(ctx: _Context, err: ValidationError) -> Iterator[Diagnostic]:
    yield error(
        Code.SCHEMA, f"{_found(err.instance)} does not fit here; expected {_expected(err.schema)}", ctx.value(err)
    )


_RULES: dict[str, _Handler] = {
    "additionalProperties": _unknown_keys,
    "required": _missing,
    "dependentRequired": _dependent_required,
    "not": _forbidden,
    "anyOf": _alternatives,
    "oneOf": _alternatives,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "format": _format,
    "uniqueItems": _unique,
    **{
        keyword: _bounds
        for keyword in (
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "minProperties",
            "maxProperties",
        )
    },
}
