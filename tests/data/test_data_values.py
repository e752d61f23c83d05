"""Text → typed value, one table per type: what loads (and as what), what is rejected (and why).

DuckDB's own casts are lenient ('12.5'::BIGINT is 13, '1e3'::DECIMAL is 1000); every case here
goes through the real import of a one-row CSV file.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from datakit import col, columns, load, write

from kpi_engine.config.model import CsvOptions

OK = "ok"
EUROPEAN = CsvOptions(delimiter=";", decimal=",", thousands=".")
SPACED = CsvOptions(delimiter=";", decimal=",", thousands=" ")
DATES = CsvOptions(delimiter=";", date_format="%d.%m.%Y", timestamp_format="%d.%m.%Y %H:%M")

CASES: list[tuple[str, str, str, CsvOptions | None, Any]] = [
    # id, type, cell, options, expected value or reject reason
    ("int", "integer", "42", None, 42),
    ("int-negative", "integer", "-7", None, -7),
    ("int-leading-zeros", "integer", "007", None, 7),
    ("int-fraction", "integer", "12.5", None, "'12.5' is not a valid integer (expected -1234)"),
    ("int-exponent", "integer", "1e3", None, "'1e3' is not a valid integer (expected -1234)"),
    ("int-plus", "integer", "+5", None, "'+5' is not a valid integer (expected -1234)"),
    ("int-thousands", "integer", "1.000.000", EUROPEAN, 1_000_000),
    ("int-bad-grouping", "integer", "10.00", EUROPEAN, "'10.00' is not a valid integer (expected -1.234)"),
    ("int-max", "integer", "9223372036854775807", None, 9223372036854775807),
    ("int-overflow", "integer", "9223372036854775808", None, "'9223372036854775808' is out of range for an integer"),
    ("number", "number", "3.25", None, 3.25),
    ("number-comma", "number", "-3,25", EUROPEAN, -3.25),
    ("number-no-int-part", "number", ".5", None, "'.5' is not a valid number (expected -1234.5)"),
    ("number-no-fraction", "number", "5.", None, "'5.' is not a valid number (expected -1234.5)"),
    ("number-nan", "number", "NaN", None, "'NaN' is not a valid number (expected -1234.5)"),
    ("number-inf", "number", "inf", None, "'inf' is not a valid number (expected -1234.5)"),
    ("number-huge", "number", "9" * 400, None, "'" + "9" * 80 + "…' is out of range for a number"),
    ("decimal-exact", "decimal", "0.1", None, Decimal("0.1")),
    (
        "decimal-28-digits",
        "decimal",
        "1234567890123456789012345678.0123456789",
        None,
        Decimal("1234567890123456789012345678.0123456789"),
    ),
    (
        "decimal-29-digits",
        "decimal",
        "12345678901234567890123456789",
        None,
        "'12345678901234567890123456789' is out of range for a decimal (at most 28 digits before the decimal "
        "separator)",
    ),
    (
        "decimal-too-fine",
        "decimal",
        "0.12345678901",
        None,
        "'0.12345678901' has more than 10 digits after the decimal separator",
    ),
    ("decimal-trailing-zeros", "decimal", "0.100000000000000", None, Decimal("0.1")),
    ("decimal-negative-zero", "decimal", "-0.00", None, Decimal("0")),
    ("decimal-parentheses", "decimal", "(100.00)", None, "'(100.00)' is not a valid decimal (expected -1234.5)"),
    ("decimal-currency", "decimal", "$100", None, "'$100' is not a valid decimal (expected -1234.5)"),
    ("decimal-spaced-thousands", "decimal", "1 234 567,89", SPACED, Decimal("1234567.89")),
    ("decimal-nbsp-thousands", "decimal", "1\u00a0234,5", SPACED, Decimal("1234.5")),
    ("decimal-dot-when-comma", "decimal", "1234.5", SPACED, "'1234.5' is not a valid decimal (expected -1 234,5)"),
    ("bool-true", "boolean", "TRUE", None, True),
    ("bool-yes", "boolean", "Yes", None, True),
    ("bool-1", "boolean", "1", None, True),
    ("bool-no", "boolean", "no", None, False),
    ("bool-0", "boolean", "0", None, False),
    ("bool-y", "boolean", "y", None, "'y' is not a valid boolean (expected true/false, 1/0 or yes/no)"),
    ("bool-2", "boolean", "2", None, "'2' is not a valid boolean (expected true/false, 1/0 or yes/no)"),
    ("date-iso", "date", "2024-02-29", None, date(2024, 2, 29)),
    ("date-no-such-day", "date", "2023-02-29", None, "'2023-02-29' is not a valid date (no such day)"),
    ("date-slashes", "date", "2024/01/05", None, "'2024/01/05' is not a valid date (expected YYYY-MM-DD)"),
    ("date-declared", "date", "01.02.2024", DATES, date(2024, 2, 1)),
    ("date-iso-with-declared", "date", "2024-02-01", DATES, date(2024, 2, 1)),
    (
        "date-with-time",
        "date",
        "2024-02-01 10:00",
        None,
        "'2024-02-01 10:00' is not a valid date (expected YYYY-MM-DD)",
    ),
    ("ts-naive", "timestamp", "2025-01-15 10:00", None, "2025-01-15 10:00:00+02"),
    ("ts-t-seconds", "timestamp", "2025-07-15T10:00:30", None, "2025-07-15 10:00:30+03"),
    ("ts-fraction", "timestamp", "2025-07-15 10:00:30.250", None, "2025-07-15 10:00:30.25+03"),
    ("ts-zulu", "timestamp", "2025-01-15T10:00:00Z", None, "2025-01-15 12:00:00+02"),
    ("ts-offset", "timestamp", "2025-01-15 10:00+05:30", None, "2025-01-15 06:30:00+02"),
    ("ts-offset-compact", "timestamp", "2025-01-15 10:00:00-0100", None, "2025-01-15 13:00:00+02"),
    ("ts-declared", "timestamp", "15.01.2025 10:00", DATES, "2025-01-15 10:00:00+02"),
    (
        "ts-date-only",
        "timestamp",
        "2025-01-15",
        None,
        "'2025-01-15' is not a valid timestamp "
        "(expected YYYY-MM-DD HH:MM[:SS], optionally with an offset within ±14:00)",
    ),
    ("ts-no-such-time", "timestamp", "2025-01-15 25:00", None, "'2025-01-15 25:00' is not a valid timestamp"),
    ("string-kept-verbatim", "string", " 12.50 ", None, " 12.50 "),
]


@pytest.mark.parametrize(("kind", "cell", "options", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_cell(tmp_path: Path, kind: str, cell: str, options: CsvOptions | None, expected: Any) -> None:
    delimiter = options.delimiter if options else ","
    write(tmp_path, "s.csv", f'id{delimiter}x\nr1{delimiter}"{cell}"\n')
    got = load(tmp_path, "s.csv", columns(id="string", x=kind), csv=options)
    assert got.report.rows == 1
    if isinstance(expected, str) and expected.startswith("'") and kind != "string":
        assert got.reasons() == [(2, "x", expected)]
        assert got.rows == []
    else:
        assert got.reasons() == []
        assert got.values("x") == [expected]


def test_riga_timestamps_across_the_dst_changes(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.csv",
        "id,at\n"
        "before-spring,2025-03-30 02:59\n"
        "gap,2025-03-30 03:30\n"
        "after-spring,2025-03-30 04:00\n"
        "offset-in-gap,2025-03-30T03:30:00+03:00\n"
        "before-autumn,2025-10-26 02:59\n"
        "repeated-hour,2025-10-26 03:30\n"
        "after-autumn,2025-10-26 04:00\n",
    )
    got = load(tmp_path, "s.csv", columns(id="string", at="timestamp"))
    epochs = dict(got.warehouse.fetch('SELECT id, epoch("at")::BIGINT FROM src'))
    utc = dict(got.warehouse.fetch("SELECT id, strftime(timezone('UTC', \"at\"), '%Y-%m-%d %H:%M') FROM src"))
    assert utc == {
        "before-spring": "2025-03-30 00:59",  # +02
        "after-spring": "2025-03-30 01:00",  # +03: one real hour after 02:59 is 04:00 on the wall
        "offset-in-gap": "2025-03-30 00:30",  # an explicit offset is taken as written
        "before-autumn": "2025-10-25 23:59",  # +03
        "repeated-hour": "2025-10-26 01:30",  # 03:30 happens twice; ICU takes the later (+02) one
        "after-autumn": "2025-10-26 02:00",  # +02
    }
    assert epochs["after-spring"] - epochs["before-spring"] == 60
    assert got.reasons() == [
        (3, "at", "'2025-03-30 03:30' does not exist in Europe/Riga (the clocks jump forward over it)")
    ]


def test_the_time_zone_decides_what_a_naive_timestamp_means(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "id,at\na,2025-01-15 10:00\n")
    riga = load(tmp_path, "s.csv", columns(id="string", at="timestamp"))
    utc = load(tmp_path, "s.csv", columns(id="string", at="timestamp"), timezone="UTC")
    (r,) = riga.warehouse.fetch('SELECT epoch("at")::BIGINT FROM src')[0]
    (u,) = utc.warehouse.fetch('SELECT epoch("at")::BIGINT FROM src')[0]
    assert u - r == 2 * 3600


def test_numeric_allowed_values_compare_as_numbers(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "id,level\na,01\nb,2\nc,3\n")
    got = load(tmp_path, "s.csv", columns(id="string", level=col("integer", values=("1", "2"))))
    assert got.values("level") == [1, 2]
    assert got.reasons() == [(4, "level", "'3' is not one of: 1, 2")]


def test_decimal_bounds_are_exact(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "id,rate\na,0.1\nb,0.10000000001\nc,0\nd,-0.0000000001\n")
    got = load(tmp_path, "s.csv", columns(id="string", rate=col("decimal", min=0, max="0.1")))
    assert got.values("id") == ["a", "c"]
    assert got.reasons() == [
        (3, "rate", "'0.10000000001' has more than 10 digits after the decimal separator"),
        (5, "rate", "'-0.0000000001' is below the minimum 0"),
    ]


def test_duplicate_keys_keep_the_first_and_reject_the_later_ones(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "id,n\nT1,1\nT2,2\nT1,3\nT3,x\nT3,4\nT1,5\n,6\n")
    got = load(tmp_path, "s.csv", columns(id="string", n="integer"), key="id")
    assert [(r["id"], r["n"]) for r in got.rows] == [("T1", 1), ("T2", 2), ("T3", 4)]
    assert got.reasons() == [
        (4, "id", "duplicate key 'T1' (first at s.csv:2)"),
        (5, "n", "'x' is not a valid integer (expected -1234)"),
        (7, "id", "duplicate key 'T1' (first at s.csv:2)"),
        (8, "id", "missing key value"),
    ]
    assert got.rejects[0][4] == "T1,3"


def test_a_key_with_a_control_character_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", 'id,n\n"a\tb",1\nc,2\n')
    got = load(tmp_path, "s.csv", columns(id="string", n="integer"), key="id")
    assert got.values("id") == ["c"]
    assert got.reasons() == [(2, "id", "the key contains a control character")]
