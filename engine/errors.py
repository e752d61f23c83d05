"""Diagnostic codes, severities and the exception that carries diagnostics to the CLI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from kpi_engine.source import Span


class Severity(StrEnum):
    """Whether a diagnostic fails the command (an error) or is only reported (a warning)."""

    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """Stable diagnostic codes, one per kind of problem, that tests and users can rely on.

    E0xx the command line, E1xx YAML/schema, E2xx syntax, E3xx types, E4xx model/policy, E5xx data,
    E6xx scoring. Every warning has a W code (SPEC §9): W0xx notes about the output, W4xx lints (errors
    under --strict), W5xx notes about the data.
    """

    # E0xx: the command line and the engine itself
    USAGE = "E001"
    INTERNAL = "E002"
    TABLE_SHORTENED = "W010"

    # E1xx: files, YAML, schema
    FILE_NOT_FOUND = "E100"
    FILE_TOO_LARGE = "E101"
    NOT_UTF8 = "E102"
    YAML_SYNTAX = "E103"
    YAML_TAB = "E104"
    YAML_DEPTH = "E105"
    YAML_DUPLICATE_KEY = "E106"
    YAML_ALIAS = "E107"
    YAML_TAG = "E108"
    YAML_MERGE_KEY = "E109"
    YAML_KEY_TYPE = "E110"
    YAML_BAD_NUMBER = "E111"
    YAML_MULTI_DOCUMENT = "E112"
    INCLUDE_CYCLE = "E113"
    INCLUDE_MISSING = "E114"
    UNKNOWN_KEY = "E120"
    SCHEMA = "E121"
    MISSING_KEY = "E122"
    WRONG_TYPE = "E123"
    BAD_ID = "E124"
    BAD_VALUE = "E125"
    BAD_PERCENT = "E126"
    BAD_DATE = "E127"
    BAD_DURATION = "E128"
    NO_WORKSPACE = "E130"
    PATH_OUTSIDE = "E131"
    REMOTE_PATH = "E132"
    # E2xx: formula syntax
    FORMULA_SYNTAX = "E200"
    FORMULA_TOO_LONG = "E201"
    FORMULA_TOO_DEEP = "E202"
    NUMBER_TOO_LONG = "E203"
    # E3xx: formula names and types
    UNKNOWN_NAME = "E300"
    UNKNOWN_FUNCTION = "E301"
    WRONG_ARITY = "E302"
    WRONG_TYPE_ARG = "E303"
    TYPE_MISMATCH = "E304"
    COLUMN_OUTSIDE_AGGREGATE = "E305"
    NESTED_AGGREGATE = "E306"
    AGGREGATE_IN_ROW_FILTER = "E307"
    NOT_BOOLEAN = "E308"
    NOT_AGGREGATE = "E309"
    MIXED_KPI_AND_ROWS = "E310"
    UNKNOWN_PARAM = "E311"
    DIALECT_UNSUPPORTED = "E312"
    FORMULA_RESULT_TYPE = "E313"
    # E4xx: model and policy
    DUPLICATE_ID = "E400"
    UNKNOWN_REFERENCE = "E401"
    WEIGHTS_NOT_100 = "E402"
    DUPLICATE_ENTRY = "E403"
    TARGET_INCONSISTENT = "E404"
    RANGE_TARGET = "E405"
    KPI_CYCLE = "E406"
    UNIT_CYCLE = "E407"
    POLICY_WEIGHT = "E408"
    POLICY_KPI_COUNT = "E409"
    NO_ORGANIZATION = "E410"
    TWO_ORGANIZATIONS = "E411"
    ENTRY_LEVEL = "E412"
    ENTRY_NO_TARGET = "E413"
    PERSON_TWO_SCORECARDS = "E414"
    UNKNOWN_UNIT = "E415"
    SEGMENT_SOURCE = "E416"
    BAD_PERIOD = "E417"
    BANDS = "E418"
    INCLUDE_TOO_DEEP = "E430"
    DERIVED_TOO_DEEP = "E431"
    SEGMENT_TOO_DEEP = "E432"
    UNIT_TREE_TOO_DEEP = "E433"
    GATE_NOT_BELOW_CAP = "E420"
    PLAN_PERIOD_KIND = "E421"
    SCORECARD_MATCHES_NOBODY = "W420"
    # E5xx: data
    DATA_FILE = "E500"
    DATA_REJECTS = "E501"
    WORKSPACE_LOCKED = "E502"
    RELATION_NOT_UNIQUE = "E503"
    DATA_COLUMN = "E504"
    DATA_RECONCILE = "E505"
    DATABASE = "E506"
    LEDGER_UNREADABLE = "E520"
    APPROVER_NAME = "E522"
    APPROVER_IS_RUNNER = "E523"
    APPROVE_UNVERIFIED = "E524"
    APPROVE_TWICE = "E525"
    ENGINE_MISSING = "E530"  # an engine's driver (psycopg, PySpark, Java) is not installed
    ENGINE_UNREACHABLE = "E531"  # an engine's session could not be opened with --connection
    SOURCE_NOT_ON_ENGINE = "E532"  # a source an engine cannot read as declared (files on postgres, Excel on Spark)
    VALUE_OUT_OF_RANGE = "E570"
    OUT_IS_FOLDER = "E560"
    OUT_NOT_WRITABLE = "E561"
    OUT_WRITE_FAILED = "E562"
    WORKSPACE_READ_ONLY = "E563"
    FILE_SYSTEM = "E564"
    OUT_NOT_A_REPORT = "E565"  # kpi report --out names a file, or a folder holding other things
    SHEET_TOO_LONG = "E566"  # an XLSX sheet would need more rows than Excel holds
    DATA_EMPTY = "W500"
    DATA_CHANGED = "W501"
    UNKNOWN_PERSON_ROWS = "W504"
    UNKNOWN_PARENT = "W415"
    ROWS_REJECTED = "W540"
    ROSTER_ROW_REJECTED = "W541"
    ROWS_WITHOUT_TIME = "W542"
    NO_TARGET_BONUS = "W543"
    TARGET_MISSING = "W544"  # a subject and period without a target from data (SPEC §10)
    # E6xx: scoring, tests
    TEST_FAILED = "E600"
    # lints
    LINT_NO_GOAL = "W401"
    LINT_KPI_COUNT = "W402"
    LINT_SPEED_WITHOUT_QUALITY = "W403"
    LINT_ACTIVITY_WEIGHTED = "W404"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about the user's files: where, what, and how to fix it."""

    code: Code
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR
    related: tuple[tuple[str, Span], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.severity == Severity.WARNING and not self.code.value.startswith("W"):
            raise ValueError(f"a warning needs a W code, not {self.code.value}")

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order diagnostics by file, line, column, then code for deterministic output."""
        if self.span is None:
            return ("", 0, 0, self.code.value, self.message)
        return (self.span.file, self.span.line, self.span.col, self.code.value, self.message)

    def as_error(self) -> Diagnostic:
        """The same diagnostic promoted to an error (``--strict``)."""
        return Diagnostic(self.code, self.message, self.span, self.hint, Severity.ERROR, self.related)


class KpiError(Exception):
    """Raised by a stage that found user mistakes; carries every diagnostic it collected."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        first = self.diagnostics[0].message if self.diagnostics else "error"
        super().__init__(first)


def error(code: Code, message: str, span: Span | None = None, hint: str | None = None) -> Diagnostic:
    """Shorthand for an error diagnostic."""
    return Diagnostic(code, message, span, hint, Severity.ERROR)


def warning(code: Code, message: str, span: Span | None = None, hint: str | None = None) -> Diagnostic:
    """Shorthand for a warning diagnostic."""
    return Diagnostic(code, message, span, hint, Severity.WARNING)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint from close matches, or None."""
    import difflib

    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    if not matches:
        return None
    return "did you mean " + " or ".join(f"`{m}`" for m in matches) + "?"


def unknown(kind: str, name: str, candidates: Mapping[str, object] | list[str]) -> tuple[str, str | None]:
    """Message and hint for a reference to something that does not exist."""
    pool = list(candidates)
    hint = did_you_mean(name, pool)
    if hint is None:
        hint = f"defined {kind}s: {', '.join(sorted(pool)[:8])}" if pool else f"no {kind} is defined"
    return f"unknown {kind} `{name}`", hint
