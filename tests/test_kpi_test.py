"""`kpi test`: fixture workspaces through the real Typer app, and the engine's `run_tests`."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.pipeline import compile_workspace
from kpi_engine.source import display_path
from kpi_engine.testing import close, run_tests

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "kpi_test"
PASSING = FIXTURES / "passing"
BROKEN = FIXTURES / "broken"
SUPPORT = REPO / "kpi_definitions" / "examples" / "support"
BROKEN_TESTS = BROKEN / "tests.yaml"


def kpi_test(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["test", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def workspace_with(tmp_path: Path, tests_yaml: str) -> Path:
    """The passing fixture's definitions with other tests."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(PASSING / "definitions.yaml", ws / "definitions.yaml")
    (ws / "tests.yaml").write_text(tests_yaml, encoding="utf-8")
    return ws


def test_passing_workspace() -> None:
    code, out = kpi_test(PASSING)
    assert code == 0, out
    assert out.splitlines() == [
        "PASS only_requests_of_the_period_count (2 expectations)",
        "PASS target_met_pays_the_bonus (11 expectations)",
        "PASS unresolved_critical_request_misses_sla (7 expectations)",
        "",
        "3 passed, 0 failed",
    ]
    assert not (PASSING / ".kpi").exists(), "tests must not create a workspace database"


def test_failing_expectation_shows_both_sides_at_its_position() -> None:
    code, out = kpi_test(BROKEN, "--name", "wrong_share")
    assert code == 1
    assert out.startswith("FAIL wrong_share (4 expectations: 3 failed)\n")
    where = display_path(BROKEN_TESTS)
    assert f"{where}:13:9: error[E600]: expected value 60%, got 50%\n" in out
    assert "13 |       - {kpi: resolved_in_sla.critical, subject: e1, value: 60%, status: red}\n   |         ^\n" in out
    assert (
        "  = help: actual `resolved_in_sla.critical` for person e1 in 2025-03: value 50%, n 2, status red, score 0%"
    ) in out
    # outside the 1e-9 tolerance; written as a fraction, shown as one
    assert f"{where}:14:9: error[E600]: expected value 0.500000002, got 0.5\n" in out
    # money compares exactly
    assert f"{where}:15:9: error[E600]: expected payout 0.01, got 0.00\n" in out
    assert out.endswith("\n0 passed, 1 failed\n")


def test_unknown_names_in_expectations() -> None:
    code, out = kpi_test(BROKEN, "--name", "unknown_names")
    assert code == 1
    where = display_path(BROKEN_TESTS)
    assert out.startswith("ERROR unknown_names (3 expectations: 3 could not be checked)\n")
    assert f"{where}:23:15: error[E401]: unknown KPI `resolved_in_sla.critcal`\n" in out
    assert "  = help: did you mean `resolved_in_sla.critical`?" in out
    assert f"{where}:24:42: error[E401]: unknown person `e9`\n" in out
    assert "  = help: people in the fixture's roster: e1" in out
    assert f"{where}:25:21: error[E401]: unknown scorecard `enginer`\n" in out
    assert "  = help: did you mean `engineer`?" in out
    assert out.endswith("\n0 passed, 0 failed, 1 error\n")


def test_fixture_row_with_a_bad_type_is_rejected_where_it_is_written() -> None:
    code, out = kpi_test(BROKEN, "--name", "bad_fixture_row")
    assert code == 1
    assert out.startswith("ERROR bad_fixture_row (the test could not run)\n")
    assert (
        f"{display_path(BROKEN_TESTS)}:34:40: error[E501]: fixture row 2 of `requests` is rejected: "
        "'2025-03-32 10:00' is not a valid timestamp\n"
    ) in out
    assert "   |                                        ^^^^^^^^^^^^^^^^\n" in out


def test_misspelt_fixture_column() -> None:
    code, out = kpi_test(BROKEN, "--name", "misspelt_column")
    assert code == 1
    where = display_path(BROKEN_TESTS)
    assert f"{where}:42:78: error[E504]: source `requests` declares no column `enginer_id`\n" in out
    assert "  = help: did you mean `engineer_id`?" in out


def test_junit_output_parses(tmp_path: Path) -> None:
    report = tmp_path / "out" / "junit.xml"
    code, out = kpi_test(BROKEN, "--format", "junit", "--out", report)
    assert code == 1
    assert out == ""
    suites = ET.fromstring(report.read_text(encoding="utf-8"))
    assert suites.tag == "testsuites"
    (suite,) = suites.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "3")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert sorted(cases) == ["bad_fixture_row", "misspelt_column", "unknown_names", "wrong_share"]
    failure = cases["wrong_share"].find("failure")
    assert failure is not None
    assert (failure.get("type"), failure.get("message")) == ("E600", "expected value 60%, got 50%")
    assert "expected payout 0.01, got 0.00" in (failure.text or "")
    error = cases["bad_fixture_row"].find("error")
    assert error is not None and error.get("type") == "E501"
    assert cases["wrong_share"].get("file") == display_path(BROKEN_TESTS)
    assert cases["wrong_share"].get("line") == "3"


def test_junit_of_a_passing_workspace() -> None:
    code, out = kpi_test(PASSING, "--format", "junit")
    assert code == 0
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "0", "0")
    assert all(not list(case) for case in suite.iter("testcase"))


def test_name_filter() -> None:
    code, out = kpi_test(PASSING, "--name", "target_*")
    assert code == 0
    assert out.splitlines() == ["PASS target_met_pays_the_bonus (11 expectations)", "", "1 passed, 0 failed"]
    code, out = kpi_test(BROKEN, "--name", "*_row")
    assert code == 1 and "bad_fixture_row" in out and "wrong_share" not in out


def test_name_filter_matching_nothing() -> None:
    code, out = kpi_test(PASSING, "--name", "target_met_pays_the_bonuss")
    assert code == 1
    assert "error[E401]: no test matches `target_met_pays_the_bonuss`" in out
    assert "did you mean `target_met_pays_the_bonus`?" in out


def test_support_example_tests_pass() -> None:
    code, out = kpi_test(SUPPORT)
    assert code == 0, out
    assert out.endswith("\n4 passed, 0 failed\n")


def test_definition_errors_exit_1(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path, "tests:\n  t:\n    period: 2025\n    expect:\n      - {kpi: csat, valu: 1}\n")
    code, out = kpi_test(ws)
    assert code == 1
    assert "error[E120]" in out or "error[E121]" in out


def test_sources_not_given_are_empty(tmp_path: Path) -> None:
    ws = workspace_with(
        tmp_path,
        """\
tests:
  nothing_happened:
    period: 2025-Q1
    expect:
      # no rows: count() is 0, and the status is no_data even without a target
      - {kpi: requests_handled, at: organization, value: 0, n: 0, status: no_data}
      - {kpi: resolved_in_sla.critical, at: organization, value: null, n: 0, status: no_data}
""",
    )
    code, out = kpi_test(ws)
    assert code == 0, out


def test_a_person_without_rows_has_no_data(tmp_path: Path) -> None:
    ws = workspace_with(
        tmp_path,
        """\
tests:
  quiet_person:
    period: 2025-03
    data:
      employees:
        - {employee_id: e1, full_name: Ann, unit_id: north, role: engineer, base_salary: 1000}
    expect:
      - {kpi: resolved_in_sla.critical, subject: e1, n: 0, status: no_data, value: null}
      - {kpi: requests_handled, subject: north, at: unit, n: 0}
      - {scorecard: engineer, person: e1, total_score: 0%}
""",
    )
    code, out = kpi_test(ws)
    assert code == 1
    # no KPI has a score, so the total is null rather than 0%
    assert "error[E600]: expected total score 0%, got null" in out


def test_expectation_mistakes_are_reported(tmp_path: Path) -> None:
    ws = workspace_with(
        tmp_path,
        """\
tests:
  mistakes:
    period: 2025-03
    data:
      employees:
        - {employee_id: e1, full_name: Ann, unit_id: north, role: engineer}
    expect:
      - {kpi: requests_handled, subject: north, n: 0}
      - {kpi: requests_handled, at: organization, subject: e1, n: 0}
      - {kpi: requests_handled, at: person, n: 0}
      - {kpi: resolved_in_sla, subject: e1, n: 0}
      - {scorecard: engineer, person: e1, value: 1}
      - {plan: engineers_2025, person: e7, payout: 0}
""",
    )
    code, out = kpi_test(ws)
    assert code == 1
    for message in (
        "unknown person `north`",
        "help: `north` is a unit: add `at: unit`",
        "KPI `requests_handled` is checked for the organization, which has no subject",
        "name the person whose `requests_handled` is checked with `subject`",
        "KPI `resolved_in_sla` is defined per segment; name one of its variants",
        "`value` does not apply to a scorecard expectation",
        "unknown person `e7`",
    ):
        assert message in out, message


def test_run_tests_reports_each_expectation() -> None:
    report = run_tests(compile_workspace(BROKEN), "wrong_share")
    (test,) = report.tests
    assert test.outcome == "failed"
    assert [e.outcome for e in test.expectations] == ["passed", "failed", "failed", "failed"]
    value, status = test.expectations[1].checks
    assert (value.expected, value.actual, value.ok) == ("60%", "50%", False)
    assert (status.expected, status.actual, status.ok) == ("red", "red", True)
    assert [d.code.value for d in test.diagnostics] == ["E600"] * 3
    assert not report.ok and report.count("failed") == 1


def test_tolerance() -> None:
    from decimal import Decimal

    assert close(Decimal("0.5"), Decimal("0.5000000009"))
    assert not close(Decimal("0.5"), Decimal("0.500000002"))
    assert close(Decimal("123456789.123"), Decimal("123456789.1230001"))  # relative for large values


def test_segment_column_null_on_every_row(tmp_path: Path) -> None:
    ws = workspace_with(
        tmp_path,
        """\
tests:
  no_priority:
    period: 2025-03
    data:
      employees:
        - {employee_id: e1, full_name: Ann, unit_id: north, role: engineer}
      requests:
        - {request_id: R1, created_at: 2025-03-03 09:00, engineer_id: e1}
    expect:
      - {kpi: resolved_in_sla.critical, subject: e1, n: 0}
""",
    )
    report = run_tests(compile_workspace(ws))
    assert report.ok


def test_a_workspace_without_tests(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path, "# no tests yet\n")
    (ws / "tests.yaml").unlink()
    code, out = kpi_test(ws)
    assert (code, out) == (0, "no tests: the workspace defines no `tests:`\n")
