"""`kpi test`: run each test's fixture rows through the real import and evaluation, check its expectations.

Per test (sorted by id): every source of the workspace is written to a temporary NDJSON file — the
test's rows, or none — and imported into a fresh in-memory warehouse with the source's own
declaration, so fixture rows meet exactly the checks real data meets (a rejected row is reported
at its place in the YAML). The test's period is then evaluated on that warehouse and each
expectation compared: numbers within 1e-9 (absolute or relative), money exactly (SPEC §6.1).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal, NoReturn

from kpi_engine.compiled import Compiled
from kpi_engine.config import model as m
from kpi_engine.config.dependencies import kpi_levels
from kpi_engine.config.model import DataPath, kpi_reference_problem
from kpi_engine.config.scalars import SECONDS, Duration, ValueProblem, parse_percent, parse_quantity
from kpi_engine.data.report import ImportReport
from kpi_engine.documents import written as as_written
from kpi_engine.errors import Code, Diagnostic, KpiError, did_you_mean, error, unknown
from kpi_engine.evaluation import Evaluation, evaluate
from kpi_engine.evaluation.results import KpiResult
from kpi_engine.execution import CopiesTables, Engine, Target, open_session
from kpi_engine.pay import BonusRun, compute_bonus
from kpi_engine.scoring.exact import to_decimal12
from kpi_engine.scoring.score import seconds_per_unit
from kpi_engine.source import Span

__all__ = ["Check", "ExpectationResult", "TestReport", "TestResult", "run_tests"]

Outcome = Literal["passed", "failed", "error"]
TOLERANCE = Decimal("1e-9")
FIELDS = {
    "kpi": ("kpi", "subject", "at", "value", "status", "n", "score"),
    "scorecard": ("scorecard", "person", "total_score"),
    "plan": ("plan", "person", "payout", "total_score"),
}
_LEVEL_ORDER = ("person", "unit", "organization")
_UNIT_SUFFIX = {"minutes": "min", "hours": "h", "days": "d"}


@dataclass(frozen=True)
class Check:
    """One compared field of an expectation, both sides as the user would write them."""

    field: str
    expected: str
    actual: str
    ok: bool
    text: str | None = None  # the message, when "expected FIELD X, got Y" does not read well

    @property
    def message(self) -> str:
        """The check as one line: the written text, or "expected FIELD X, got Y"."""
        return self.text or f"expected {self.field} {self.expected}, got {self.actual}"


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation; `diagnostic` says why it failed or could not be checked."""

    index: int
    label: str
    outcome: Outcome
    checks: tuple[Check, ...] = ()
    diagnostic: Diagnostic | None = None


@dataclass(frozen=True)
class TestResult:
    """One test: its outcome, each expectation's outcome, and every diagnostic to show."""

    __test__ = False  # not a pytest class

    test: str
    period: str
    outcome: Outcome
    expectations: tuple[ExpectationResult, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    span: Span | None = None


@dataclass(frozen=True)
class TestReport:
    """Every test run, in id order."""

    __test__ = False

    tests: tuple[TestResult, ...]
    workspace: str = ""

    def count(self, outcome: Outcome) -> int:
        """How many tests ended with this outcome."""
        return sum(t.outcome == outcome for t in self.tests)

    @property
    def ok(self) -> bool:
        """True when every test passed."""
        return all(t.outcome == "passed" for t in self.tests)


def run_tests(compiled: Compiled, name_pattern: str | None = None, target: Target = Target()) -> TestReport:
    """Run the workspace's tests whose id matches `name_pattern` (fnmatch: `*`, `?`, `[…]`), in id order.

    Each on a fresh session of ``target`` (default: DuckDB in memory).
    """
    ws = compiled.workspace
    ids = sorted(ws.tests)
    if name_pattern is not None:
        ids = [i for i in ids if fnmatchcase(i, name_pattern)]
        if not ids:
            hint = did_you_mean(name_pattern, ws.tests) or (
                "tests: " + ", ".join(sorted(ws.tests)[:8]) if ws.tests else "this workspace defines no `tests:`"
            )
            raise KpiError([error(Code.UNKNOWN_REFERENCE, f"no test matches `{name_pattern}`", None, hint)])
    return TestReport(tuple(run_test(compiled, ws.tests[i], target) for i in ids), str(ws.root))


def run_test(compiled: Compiled, test: m.KpiTest, target: Target = Target()) -> TestResult:
    """Load one test's fixture, evaluate its period and check every expectation."""
    ws = compiled.workspace
    span = ws.source_map.key(test.path)
    try:
        return _run(compiled, test, span, target)
    except KpiError as exc:
        return TestResult(test.id, test.period, "error", (), _placed(ws, test, exc.diagnostics), span)


def _run(compiled: Compiled, test: m.KpiTest, span: Span | None, target: Target) -> TestResult:
    ws = compiled.workspace
    problems = fixture_problems(ws, test)
    if problems:
        return TestResult(test.id, test.period, "error", (), tuple(problems), span)
    with (
        tempfile.TemporaryDirectory(prefix="kpi-test-") as folder,
        fixture_session(fixture_sources(ws, test, Path(folder)), ws.organization.timezone, target) as (wh, report),
    ):
        problems = rejected_rows(ws, test, report)
        if problems:
            return TestResult(test.id, test.period, "error", (), tuple(problems), span)
        results = Results(compiled, test, wh, evaluate(compiled, test.period, wh=wh))
        checked = tuple(check_expectation(results, i, e) for i, e in enumerate(test.expect))
    outcomes = {c.outcome for c in checked}
    outcome: Outcome = "error" if "error" in outcomes else "failed" if "failed" in outcomes else "passed"
    diagnostics = tuple(c.diagnostic for c in checked if c.diagnostic is not None)
    if outcome != "passed":  # the evaluation's warnings (rows of people missing from the roster…) may say why
        diagnostics += tuple(results.evaluation.diagnostics)
    return TestResult(test.id, results.label, outcome, checked, diagnostics, span)


# --- the fixture -------------------------------------------------------------------------


@contextmanager
def fixture_session(
    sources: Mapping[str, m.Source], timezone: str, target: Target
) -> Iterator[tuple[Engine, ImportReport]]:
    """A sealed session of ``target`` holding the fixture files, and their import's report.

    An engine that reads files imports them itself (:func:`kpi_engine.execution.loaded`). One that
    reads tables only (PostgreSQL) gets the tables DuckDB's import typed and checked in memory,
    rejects included, copied in: fixture rows meet the checks real files meet.
    """
    with open_session(timezone, target.name, target.connection) as engine:
        if not isinstance(engine, CopiesTables):
            report = engine.register_sources(sources)
        else:
            with open_session(timezone) as staging:
                report = staging.register_sources(sources)
                engine.copy_from(staging, sources)
        engine.seal()
        yield engine, report


def fixture_problems(ws: m.Workspace, test: m.KpiTest) -> list[Diagnostic]:
    """Fixture data naming a source or a column that is not declared (the importer would ignore it)."""
    found = []
    for source_id, rows in test.data.items():
        path: DataPath = (*test.path, "data", source_id)
        source = ws.sources.get(source_id)
        if source is None:
            message, hint = unknown("source", source_id, list(ws.sources))
            found.append(error(Code.UNKNOWN_REFERENCE, f"fixture data for an {message}", ws.source_map.key(path), hint))
            continue
        for i, row in enumerate(rows):
            for column in row:
                if column not in source.columns:
                    hint = did_you_mean(column, source.columns) or "declared columns: " + ", ".join(source.columns)
                    found.append(
                        error(
                            Code.DATA_COLUMN,
                            f"source `{source_id}` declares no column `{column}`",
                            ws.source_map.key((*path, i, column)),
                            hint,
                        )
                    )
    return found


def fixture_sources(ws: m.Workspace, test: m.KpiTest, folder: Path) -> dict[str, m.Source]:
    """Each source redirected to an NDJSON file of the test's rows (empty when the test gives none)."""
    out = {}
    for source_id, source in ws.sources.items():
        name = f"{source_id}.ndjson"
        lines = [_ndjson(row, source) + "\n" for row in test.data.get(source_id, ())]
        (folder / name).write_text("".join(lines), encoding="utf-8")
        out[source_id] = replace(
            source, path=name, table=None, base_dir=folder, sheet=None, csv=replace(source.csv, encoding="utf-8")
        )
    return out


def _ndjson(row: Mapping[str, object], source: m.Source) -> str:
    # Every declared column is written (null when absent): a column no row mentions is then
    # simply empty, where the importer would refuse a file that lacks it altogether.
    return "{" + ", ".join(f"{json.dumps(c)}: {_json_value(row.get(c))}" for c in source.columns) + "}"


def _json_value(value: object) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | Decimal):
        return format(Decimal(value), "f")  # exact: the importer reads JSON numbers as Decimal
    return json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)


def rejected_rows(ws: m.Workspace, test: m.KpiTest, report: ImportReport) -> list[Diagnostic]:
    """A diagnostic at each fixture value (or row) the importer rejected."""
    found = []
    for source in report.sources:
        rows = test.data.get(source.source, ())
        path: DataPath = (*test.path, "data", source.source)
        for reject in source.sample:
            index = reject.record - 1
            at: DataPath = (*path, index)
            if reject.column is not None and index < len(rows) and reject.column in rows[index]:
                at = (*at, reject.column)
            reason = re.sub(rf"\b{re.escape(reject.file)}:(\d+)", r"row \1", reject.reason)
            if reject.column is not None and len(at) == len(path) + 1:
                reason += f" (column `{reject.column}`)"
            found.append(
                error(
                    Code.DATA_REJECTS,
                    f"fixture row {index + 1} of `{source.source}` is rejected: {reason}",
                    ws.source_map.value(at),
                    "fixture rows pass the same type checks as imported data; fix the value "
                    "(or the column's declaration under `sources:`)",
                )
            )
        shown = len({r.record for r in source.sample})
        if source.rejected > shown:
            found.append(
                error(
                    Code.DATA_REJECTS,
                    f"… and {source.rejected - shown} more rejected rows of `{source.source}`",
                    ws.source_map.key(path),
                )
            )
    return found


def _placed(ws: m.Workspace, test: m.KpiTest, diagnostics: tuple[Diagnostic, ...]) -> tuple[Diagnostic, ...]:
    """Diagnostics without a position placed at the test (at its period, for a bad period)."""
    here = ws.source_map.key(test.path)
    period = ws.source_map.value((*test.path, "period"))
    return tuple(
        d if d.span is not None else replace(d, span=period if d.code == Code.BAD_PERIOD else here) for d in diagnostics
    )


# --- expectations ------------------------------------------------------------------------


@dataclass
class Results:
    """What a test's expectations are checked against: the evaluation, and bonus runs on demand."""

    compiled: Compiled
    test: m.KpiTest
    wh: Engine
    evaluation: Evaluation
    runs: dict[str, BonusRun] = field(default_factory=dict)

    @property
    def ws(self) -> m.Workspace:
        return self.compiled.workspace

    @property
    def label(self) -> str:
        return self.evaluation.period.label

    def bonus(self, plan: str) -> BonusRun:
        if plan not in self.runs:
            self.runs[plan] = compute_bonus(self.compiled, plan, self.test.period, wh=self.wh, any_period=True)
        return self.runs[plan]

    def path(self, index: int, *rest: str) -> DataPath:
        return (*self.test.path, "expect", index, *rest)


class _Unresolved(Exception):
    """An expectation that names something that does not exist (or cannot be checked)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def check_expectation(results: Results, index: int, expect: Mapping[str, object]) -> ExpectationResult:
    """Compare one expectation with the results; E600 at the expectation when a field differs."""
    kind = next((k for k in FIELDS if k in expect), "kpi")
    label = " ".join(str(expect[k]) for k in (kind, "subject", "person", "at") if expect.get(k) is not None)
    try:
        _check_fields(results, index, expect, kind)
        checks, context = {"kpi": _kpi_checks, "scorecard": _scorecard_checks, "plan": _plan_checks}[kind](
            results, index, expect
        )
    except _Unresolved as exc:
        return ExpectationResult(index, label, "error", (), exc.diagnostic)
    failed = [c for c in checks if not c.ok]
    if not failed:
        return ExpectationResult(index, label, "passed", tuple(checks))
    span = results.ws.source_map.value(results.path(index))
    diagnostic = error(Code.TEST_FAILED, "; ".join(c.message for c in failed), span, context)
    return ExpectationResult(index, label, "failed", tuple(checks), diagnostic)


def _check_fields(results: Results, index: int, expect: Mapping[str, object], kind: str) -> None:
    for name in expect:
        if name not in FIELDS[kind]:
            hint = (
                "use `subject` for the person or unit of a KPI"
                if (kind, name) == ("kpi", "person")
                else f"a {kind} expectation checks: " + ", ".join(FIELDS[kind])
            )
            _fail(
                results,
                results.path(index, name),
                f"`{name}` does not apply to a {kind} expectation",
                hint,
                key=True,
                code=Code.UNKNOWN_KEY,
            )


def _fail(
    results: Results,
    path: DataPath,
    message: str,
    hint: str | None,
    *,
    key: bool = False,
    code: Code = Code.UNKNOWN_REFERENCE,
) -> NoReturn:
    source_map = results.ws.source_map
    raise _Unresolved(error(code, message, source_map.key(path) if key else source_map.value(path), hint))


def _kpi_checks(results: Results, index: int, expect: Mapping[str, object]) -> tuple[list[Check], str]:
    ws, org = results.ws, results.evaluation.org
    kpi_id = str(expect["kpi"])
    problem = kpi_reference_problem(ws, kpi_id)
    if problem is not None:
        _fail(results, results.path(index, "kpi"), *problem)
    kpi = ws.kpis[kpi_id]
    levels = kpi_levels(ws, kpi)
    at = str(expect.get("at") or next((level for level in _LEVEL_ORDER if level in levels), "organization"))
    if at not in levels:
        _fail(
            results,
            results.path(index, "at"),
            f"KPI `{kpi_id}` is not computed at {at} level",
            "it is computed for: " + ", ".join(level for level in _LEVEL_ORDER if level in levels),
        )
    subject = None if expect.get("subject") is None else str(expect["subject"])
    if at == "organization" and subject is not None:
        _fail(
            results,
            results.path(index, "subject"),
            f"KPI `{kpi_id}` is checked for the organization, which has no subject",
            "leave out `subject`, or set `at: person` or `at: unit`",
        )
    if at != "organization":
        if subject is None:
            _fail(
                results,
                results.path(index),
                f"name the {at} whose `{kpi_id}` is checked with `subject`",
                f"e.g. subject: {next(iter(sorted(org.people if at == 'person' else org.units)), 'e1')}",
            )
        pool, other = (org.people, org.units) if at == "person" else (org.units, org.people)
        if subject not in pool:
            message, hint = _unknown_subject(at, str(subject), pool)
            if subject in other:
                level = "unit" if at == "person" else "person"
                hint = f"`{subject}` is a {level}: add `at: {level}`"
            _fail(results, results.path(index, "subject"), message, hint)
    row = _kpi_row(results, kpi_id, at, subject)
    value, n, status, score = (None, 0, "no_data", None) if row is None else (row.value, row.n, row.status, row.score)
    checks = []
    if "value" in expect:
        checks.append(_value_check(results, index, kpi, expect["value"], value))
    if "status" in expect:
        checks.append(Check("status", as_written(expect["status"]), as_written(status), expect["status"] == status))
    if "n" in expect:
        checks.append(Check("n", as_written(expect["n"]), str(n), _int(expect["n"]) == n))
    if "score" in expect:
        checks.append(_fraction_check(results, index, "score", expect["score"], score))
    who = "the organization" if subject is None else f"{at} {subject}"
    shown_value = _shown(value, "percent" if kpi.unit == "percent" else "number", kpi.unit)
    context = (
        f"actual `{kpi_id}` for {who} in {results.label}: value {shown_value}, n {n}, "
        f"status {as_written(status)}, score {_shown(score, 'percent')}"
        + ("" if row is not None else " (no rows for this subject)")
    )
    return checks, context


def _unknown_subject(level: str, name: str, pool: Mapping[str, object]) -> tuple[str, str]:
    """Message and hint for a person or unit missing from the fixture's roster and unit tree."""
    where = "people in the fixture's roster" if level == "person" else "units"
    listed = ", ".join(sorted(pool)[:8]) + (", …" if len(pool) > 8 else "") if pool else "none"
    return f"unknown {level} `{name}`", did_you_mean(name, pool) or f"{where}: {listed}"


def _kpi_row(results: Results, kpi_id: str, at: str, subject: str | None) -> KpiResult | None:
    for row in results.evaluation.kpis:
        if (row.kpi, row.subject_type, row.subject, row.period, row.by) == (kpi_id, at, subject, results.label, ()):
            return row
    return None


def _person(results: Results, index: int, expect: Mapping[str, object]) -> str:
    person = str(expect.get("person"))
    people = results.evaluation.org.people
    if person not in people:
        message, hint = _unknown_subject("person", person, people)
        _fail(results, results.path(index, "person"), message, hint)
    return person


def _scorecard_checks(results: Results, index: int, expect: Mapping[str, object]) -> tuple[list[Check], str]:
    ws = results.ws
    card_id = str(expect["scorecard"])
    if card_id not in ws.scorecards:
        _fail(results, results.path(index, "scorecard"), *unknown("scorecard", card_id, list(ws.scorecards)))
    person = _person(results, index, expect)
    card = next((s for s in results.evaluation.scorecards if s.person == person and s.period == results.label), None)
    actual = "no scorecard" if card is None else f"`{card.scorecard}`"
    checks = [Check(f"{person} on scorecard", f"`{card_id}`", actual, card is not None and card.scorecard == card_id)]
    if card is not None and card.scorecard == card_id and "total_score" in expect:
        checks.append(_fraction_check(results, index, "total_score", expect["total_score"], card.total_score))
    if card is None:
        context = f"no scorecard applies to {person}: check `applies_to` and the person's role and unit in the fixture"
    else:
        parts = ", ".join(f"{i.kpi}@{i.at} {_shown(i.score, 'percent')}" for i in card.items)
        context = (
            f"actual `{card.scorecard}` for {person} in {results.label}: total score "
            f"{_shown(card.total_score, 'percent')} ({parts})"
        )
    return checks, context


def _plan_checks(results: Results, index: int, expect: Mapping[str, object]) -> tuple[list[Check], str]:
    ws = results.ws
    plan_id = str(expect["plan"])
    if plan_id not in ws.bonus_plans:
        _fail(results, results.path(index, "plan"), *unknown("bonus plan", plan_id, list(ws.bonus_plans)))
    person = _person(results, index, expect)
    try:
        run = results.bonus(plan_id)
    except KpiError as exc:
        first = exc.diagnostics[0]
        _fail(
            results,
            results.path(index),
            f"plan `{plan_id}` cannot be computed: {first.message}",
            first.hint,
            code=first.code,
        )
    paid = run.payout(person)
    checks = [
        Check(
            "plan",
            f"`{plan_id}`",
            "not in it" if paid is None else "in it",
            paid is not None,
            f"expected plan `{plan_id}` to pay {person}, but {person} is not in it",
        )
    ]
    if paid is None:
        scorecards = ", ".join(f"`{s}`" for s in run.plan.scorecards)
        return checks, f"plan `{plan_id}` pays the people of scorecards {scorecards}; {person} is not on one of them"
    if "payout" in expect:
        expected = _money(results, index, expect["payout"])
        checks.append(Check("payout", as_written(expect["payout"]), format(paid.payout, "f"), expected == paid.payout))
    if "total_score" in expect:
        checks.append(_fraction_check(results, index, "total_score", expect["total_score"], paid.total_score))
    context = (
        f"actual `{plan_id}` for {person} in {run.period.label}: payout {format(paid.payout, 'f')} "
        f"(computed {format(paid.computed, 'f')}, total score {_shown(paid.total_score, 'percent')}, "
        f"factor {_shown(paid.factor, 'percent')}, proration {_shown(paid.proration, 'percent')})"
    )
    return checks, context


# --- values in the user's terms ----------------------------------------------------------


def _value_check(results: Results, index: int, kpi: m.Kpi, written: object, actual: Decimal | None) -> Check:
    if written is None:
        style = "percent" if kpi.unit == "percent" else "number"
        return Check("value", "null", _shown(actual, style, kpi.unit), actual is None)
    try:
        quantity = parse_quantity(written)
    except ValueProblem as exc:
        _fail(results, results.path(index, "value"), str(exc), exc.hint, code=Code.BAD_VALUE)
    if isinstance(quantity, Duration):
        suffix = str(re.sub(r"^[0-9.\s]+", "", str(written)))
        expected = to_decimal12(quantity.seconds / seconds_per_unit(kpi.unit))
        shown = _duration(actual, kpi.unit, suffix)
    else:
        expected = quantity
        percent = isinstance(written, str) and written.strip().endswith("%")
        shown = _shown(actual, "percent" if percent else "number")
    return Check("value", as_written(written), shown, actual is not None and close(expected, actual))


def _fraction_check(results: Results, index: int, name: str, written: object, actual: Decimal | None) -> Check:
    try:
        expected = parse_percent(written, allow_above_one=True, signed=True)
    except ValueProblem as exc:
        _fail(results, results.path(index, name), str(exc), exc.hint, code=Code.BAD_PERCENT)
    style = "percent" if isinstance(written, str) else "number"
    return Check(
        name.replace("_", " "),
        as_written(written),
        _shown(actual, style),
        actual is not None and close(expected, actual),
    )


def _money(results: Results, index: int, written: object) -> Decimal:
    try:
        if isinstance(written, bool):
            raise ArithmeticError
        return Decimal(str(written).strip())
    except ArithmeticError:
        _fail(
            results,
            results.path(index, "payout"),
            f"`{written}` is not an amount of money",
            'write it like "1234.50"',
            code=Code.BAD_VALUE,
        )


def close(expected: Decimal, actual: Decimal) -> bool:
    """Equal within 1e-9, absolute or relative to the larger side (values carry 12 significant digits)."""
    return abs(expected - actual) <= max(TOLERANCE, TOLERANCE * max(abs(expected), abs(actual)))


def _shown(value: Decimal | None, style: str, unit: str | None = None) -> str:
    if value is None:
        return "null"
    if style == "percent":
        return _plain(value * 100) + "%"
    return _plain(value) + (f" {unit}" if unit in _UNIT_SUFFIX else "")


def _duration(value: Decimal | None, unit: str | None, suffix: str) -> str:
    """A duration KPI's value (in its unit) in the unit the expectation was written in."""
    if value is None:
        return "null"
    seconds = value * seconds_per_unit(unit)
    return _plain(to_decimal12(seconds / SECONDS.get(suffix, Decimal(1)))) + suffix


def _plain(value: Decimal) -> str:
    text = format(to_decimal12(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else None
