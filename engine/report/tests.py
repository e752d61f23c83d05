"""`kpi test` output: a text report with compiler-style diagnostics, and JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from kpi_engine.source import render
from kpi_engine.testing import TestReport, TestResult

_WORD = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}


def tests_text(report: TestReport) -> str:
    """One line per test, the diagnostics under each test that did not pass, and a summary."""
    if not report.tests:
        return "no tests: the workspace defines no `tests:`\n"
    lines = []
    for test in report.tests:
        lines.append(f"{_WORD[test.outcome]} {test.test} ({_detail(test)})")
        if test.outcome != "passed":
            lines += [render(d) + "\n" for d in test.diagnostics]
    return "\n".join(lines).rstrip("\n") + "\n\n" + summary(report) + "\n"


def summary(report: TestReport) -> str:
    """`N passed, M failed` (and `, K errors` when some tests could not run)."""
    text = f"{report.count('passed')} passed, {report.count('failed')} failed"
    errors = report.count("error")
    return text + (f", {errors} error{'s' if errors != 1 else ''}" if errors else "")


def _detail(test: TestResult) -> str:
    total = len(test.expectations)
    noun = f"expectation{'s' if total != 1 else ''}"
    if test.outcome == "passed":
        return f"{total} {noun}"
    if not test.expectations:
        return "the test could not run"
    failed = sum(e.outcome == "failed" for e in test.expectations)
    unresolved = sum(e.outcome == "error" for e in test.expectations)
    parts = [f"{failed} failed"] if failed else []
    parts += [f"{unresolved} could not be checked"] if unresolved else []
    return f"{total} {noun}: " + ", ".join(parts)


def tests_junit(report: TestReport, name: str = "kpi test") -> str:
    """JUnit XML: one testsuite, a testcase per test with a `failure` (or `error`) per broken expectation."""
    suites = ET.Element(
        "testsuites",
        name=name,
        tests=str(len(report.tests)),
        failures=str(report.count("failed")),
        errors=str(report.count("error")),
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=report.workspace or name,
        tests=str(len(report.tests)),
        failures=str(report.count("failed")),
        errors=str(report.count("error")),
        skipped="0",
    )
    classname = Path(report.workspace).stem or "kpi"
    for test in report.tests:
        case = ET.SubElement(suite, "testcase", name=test.test, classname=classname)
        if test.span is not None:
            case.set("file", test.span.file)
            case.set("line", str(test.span.line))
        if test.outcome == "passed":
            continue
        tag = "failure" if test.outcome == "failed" else "error"
        first = test.diagnostics[0] if test.diagnostics else None
        element = ET.SubElement(
            case, tag, message=first.message if first else test.outcome, type=first.code.value if first else tag
        )
        element.text = "\n\n".join(render(d) for d in test.diagnostics)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
