"""Parquet, JSON, NDJSON, Excel and globs: the same checks, the same reconciliation, per file."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from datakit import columns, load, write

from kpi_engine.config.model import CsvOptions
from kpi_engine.data import ImportFailed
from kpi_engine.errors import Code


def parquet(path: Path, select: str) -> None:
    """Write a Parquet file from a SELECT (the tests' own DuckDB, not the engine's)."""
    with duckdb.connect() as conn:
        conn.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")


def test_parquet_typed_columns_and_text_columns(tmp_path: Path) -> None:
    parquet(
        tmp_path / "p.parquet",
        """
        SELECT * FROM (VALUES
            ('a', 12.50::DECIMAL(18,2), 7::BIGINT, '2025-01-15', TIMESTAMP '2025-01-15 10:00', 1.5::DOUBLE, 'x'),
            ('b', 0.01::DECIMAL(18,2), 8::BIGINT, '15.01.2025', TIMESTAMP '2025-03-30 03:30', 'NaN'::DOUBLE, 'y'),
            ('c', NULL, 9::BIGINT, NULL, NULL, NULL, 'z')
        ) t(rep, amount, emp, day, "at", score, extra)""",
    )
    got = load(
        tmp_path,
        "p.parquet",
        columns(rep="string", amount="decimal", emp="string", day="date", at="timestamp", score="number"),
    )
    file = got.report.files[0]
    assert (file.format, file.rows, file.loaded, file.rejected) == ("parquet", 3, 2, 1)
    assert [(r["rep"], r["amount"], r["emp"], r["day"], r["at"], r["score"], r["_line"]) for r in got.rows] == [
        ("a", Decimal("12.5"), "7", date(2025, 1, 15), "2025-01-15 10:00:00+02", 1.5, 1),
        ("c", None, "9", None, None, None, 3),
    ]
    assert got.reasons() == [
        (2, "day", "'15.01.2025' is not a valid date (expected YYYY-MM-DD)"),
        (2, "at", "'2025-03-30 03:30:00' does not exist in Europe/Riga (the clocks jump forward over it)"),
        (2, "score", "'nan' is not a valid number"),
    ]
    assert got.rejects[0][4] == (
        '{"rep":"b","amount":0.01,"emp":8,"day":"15.01.2025","at":"2025-03-30 03:30:00","score":NaN}'
    )


def test_item74_parquet_schema_drift_money_as_double_is_refused(tmp_path: Path) -> None:
    parquet(tmp_path / "p1.parquet", "SELECT 'a' AS rep, 10.50::DECIMAL(18,2) AS amount")
    parquet(tmp_path / "p2.parquet", "SELECT 'b' AS rep, 20.5::DOUBLE AS amount, 'EU' AS region")
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "p*.parquet", columns(rep="string", amount="decimal"))
    (diag,) = caught.value.diagnostics
    assert diag.code == Code.DATA_COLUMN
    assert diag.message == (
        "`p2.parquet`: column types do not match the declaration: `amount` is DOUBLE (declared decimal)"
    )


def test_parquet_missing_declared_column(tmp_path: Path) -> None:
    parquet(tmp_path / "p.parquet", "SELECT 'a' AS rep")
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "p.parquet", columns(rep="string", amount="decimal"))
    assert caught.value.diagnostics[0].message == (
        "`p.parquet`: declared column `amount` not in the file's schema; expected: rep, amount; found: rep"
    )


def test_json_array_exact_numbers_duplicates_nan_and_shapes(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.json",
        """[
  {"rep": "a", "amount": "10.50", "id": 12345678901234567890123},
  {"rep": "b", "amount": 12345678901234567.89, "id": "x"},
  {"rep": "c", "amount": 1e3},
  {"rep": "d", "amount": NaN},
  {"rep": "e", "amount": 1, "amount": 2},
  {"rep": "f", "amount": {"value": 1}},
  [1, 2],
  {"rep": "g"},
  {"rep": "h", "amount": 0.1, "extra": [1, 2, 3]},
  {"rep": "i", "amount": "1e3"}
]
""",
    )
    got = load(tmp_path, "s.json", columns(rep="string", amount="decimal", id="string"))
    assert got.report.files[0].rows == 10
    assert [(r["rep"], r["amount"], r["id"], r["_line"]) for r in got.rows] == [
        ("a", Decimal("10.5"), "12345678901234567890123", 2),
        ("b", Decimal("12345678901234567.89"), "x", 3),
        ("c", Decimal("1000"), None, 4),
        ("g", None, None, 9),
        ("h", Decimal("0.1"), None, 10),
    ]
    assert got.reasons() == [
        (5, "amount", "NaN is not a valid value"),
        (6, None, "duplicate key `amount` in the object"),
        (7, "amount", "holds an object, expected a single value"),
        (8, None, "the element is an array, expected an object"),
        (11, "amount", "'1e3' is not a valid decimal (expected -1234.5)"),
    ]
    assert got.rejects[1][4] == '{"rep": "e", "amount": 1, "amount": 2}'


def test_json_numbers_follow_the_declared_decimal_separator(tmp_path: Path) -> None:
    write(tmp_path, "s.json", '[{"rep": "a", "amount": 1.5}, {"rep": "b", "amount": "2,5"}]')
    got = load(tmp_path, "s.json", columns(rep="string", amount="decimal"), csv=CsvOptions(decimal=","))
    assert got.values("amount") == [Decimal("1.5"), Decimal("2.5")]


def test_json_syntax_error_makes_the_file_unreadable_with_its_position(tmp_path: Path) -> None:
    write(tmp_path, "s.json", '[\n  {"rep": "a"},\n  {"rep": "b",}\n]\n')
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "s.json", columns(rep="string"))
    (diag,) = caught.value.diagnostics
    assert diag.code == Code.DATA_FILE
    assert diag.message == "`s.json` is not valid JSON: Expecting property name enclosed in double quotes"
    assert diag.span is not None and (diag.span.line, diag.span.col) == (3, 15)


def test_json_declared_column_in_no_object_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "s.json", '[{"rep": "a", "amt": 1}]')
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "s.json", columns(rep="string", amount="decimal"))
    assert caught.value.diagnostics[0].message == (
        "`s.json`: declared column `amount` in no object of the file; expected: rep, amount"
    )


def test_ndjson_each_line_is_a_record_and_a_bad_line_is_a_reject(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.ndjson",
        '{"rep": "a", "amount": 1.25}\n\n{"rep": "b", "amount": }\n'
        '{"rep": "c", "amount": -Infinity}\n"just a string"\n{"rep": "d", "amount": "7"}\n',
    )
    got = load(tmp_path, "s.ndjson", columns(rep="string", amount="decimal"))
    file = got.report.files[0]
    assert (file.rows, file.loaded, file.rejected, file.lines) == (5, 2, 3, 6)
    assert [(r["rep"], r["amount"], r["_line"]) for r in got.rows] == [
        ("a", Decimal("1.25"), 1),
        ("d", Decimal("7"), 6),
    ]
    assert got.reasons() == [
        (3, None, "not valid JSON: Expecting value (column 24)"),
        (4, "amount", "-Infinity is not a valid value"),
        (5, None, "the element is a string, expected an object"),
    ]


def test_xlsx_sheet_values_dates_serials_and_error_cells(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    sheet = workbook.create_sheet("Tickets")
    sheet.append(["ticket_id", "amount", "opened", "closed_at", "done", "ignored"])
    sheet.append(["T1", 12.5, datetime(2025, 1, 2), datetime(2025, 1, 3, 14, 30), True, "x"])
    sheet.append(["T2", "20,50", datetime(2025, 1, 2, 9, 0), None, False, None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["T3", 3, 45322, "2025-01-04 10:00", "yes", None])
    sheet.append(["T4", "#DIV/0!", date(2025, 1, 5), None, None, None])
    sheet.append(["T7", 0.1, "2025-01-06", None, 0, None])
    sheet.append([12345678901234567890, 1, None, None, None, None])
    workbook.save(tmp_path / "s.xlsx")
    got = load(
        tmp_path,
        "s.xlsx",
        columns(ticket_id="string", amount="decimal", opened="date", closed_at="timestamp", done="boolean"),
        sheet="Tickets",
    )
    file = got.report.files[0]
    assert (file.format, file.rows, file.loaded, file.rejected) == ("xlsx", 6, 2, 4)
    assert [(r["ticket_id"], r["amount"], r["opened"], r["closed_at"], r["done"], r["_line"]) for r in got.rows] == [
        ("T1", Decimal("12.5"), date(2025, 1, 2), "2025-01-03 14:30:00+02", True, 2),
        ("T7", Decimal("0.1"), date(2025, 1, 6), None, False, 7),
    ]
    assert got.reasons() == [
        (3, "amount", "'20,50' is not a valid decimal (expected -1234.5)"),
        (3, "opened", "'2025-01-02 09:00:00' is not a valid date (expected YYYY-MM-DD)"),
        (
            5,
            "opened",
            "a number (45322) in a date column: write the date as text or format the cell as a date "
            "(serial numbers are not read as dates)",
        ),
        (6, "amount", "cell B6 holds the Excel error #DIV/0!"),
        (
            8,
            "ticket_id",
            "the number 1.234567890123457e+19 has more digits than Excel keeps exactly (15); store identifiers as text",
        ),
    ]


def test_xlsx_formula_without_a_cached_value_is_an_error(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["rep", "amount"])
    sheet.append(["a", 1])
    sheet.append(["b", "=B2*2"])
    workbook.save(tmp_path / "s.xlsx")
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "s.xlsx", columns(rep="string", amount="decimal"))
    (diag,) = caught.value.diagnostics
    assert diag.code == Code.DATA_FILE
    assert diag.message == "`s.xlsx`: formula cell B3 has no saved value"


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Data"
    workbook.save(tmp_path / "s.xlsx")
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "s.xlsx", columns(rep="string"), sheet="Tickets")
    assert caught.value.diagnostics[0].message == "`s.xlsx` has no sheet `Tickets`; sheets: Data"


def test_glob_reads_files_in_sorted_order_each_reconciled_on_its_own(tmp_path: Path) -> None:
    write(tmp_path, "data/tickets_2025-02.csv", "id,n\nT3,3\nT1,9\nbad\n")
    write(tmp_path, "data/tickets_2025-01.csv", "id,n\nT1,1\nT2,x\n")
    write(tmp_path, "data/other.csv", "id,n\nZ,0\n")
    got = load(tmp_path, "data/tickets_2025-*.csv", columns(id="string", n="integer"), key="id")
    assert [(f.file, f.rows, f.loaded, f.rejected) for f in got.report.files] == [
        ("data/tickets_2025-01.csv", 2, 1, 1),
        ("data/tickets_2025-02.csv", 3, 1, 2),
    ]
    assert [(r["id"], r["_file"], r["_line"]) for r in got.rows] == [
        ("T1", "data/tickets_2025-01.csv", 2),
        ("T3", "data/tickets_2025-02.csv", 2),
    ]
    assert [(r[0], r[1], r[3]) for r in got.rejects] == [
        ("data/tickets_2025-01.csv", 3, "'x' is not a valid integer (expected -1234)"),
        ("data/tickets_2025-02.csv", 3, "duplicate key 'T1' (first at data/tickets_2025-01.csv:2)"),
        ("data/tickets_2025-02.csv", 4, "too few fields: 1, the header has 2"),
    ]


def test_a_glob_matching_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "data/*.csv", columns(id="string"))
    assert caught.value.diagnostics[0].message == "source `src`: no file matches `data/*.csv`"


def test_a_glob_may_mix_formats(tmp_path: Path) -> None:
    write(tmp_path, "in/a.csv", "id,n\nA,1\n")
    write(tmp_path, "in/b.ndjson", '{"id": "B", "n": 2}\n')
    parquet(tmp_path / "in" / "c.parquet", "SELECT 'C' AS id, 3::INTEGER AS n")
    got = load(tmp_path, "in/*", columns(id="string", n="integer"), key="id")
    assert [(r["id"], r["n"], r["_file"]) for r in got.rows] == [
        ("A", 1, "in/a.csv"),
        ("B", 2, "in/b.ndjson"),
        ("C", 3, "in/c.parquet"),
    ]


def test_minified_json_records_share_a_line_but_are_counted_one_by_one(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.json",
        '[{"a": 1e400}, {"a": 1e-400}, {"a": 12345678901234567.89}, {"a": "\\ud800"}, {"a": true}, {"a": 2}, {"a": 2}]',
    )
    got = load(tmp_path, "s.json", columns(a="decimal"), key="a")
    file = got.report.files[0]
    assert (file.rows, file.loaded, file.rejected) == (7, 2, 5)
    assert got.values("a") == [Decimal("12345678901234567.89"), Decimal("2")]
    records = got.warehouse.fetch("SELECT record, line, reason FROM rejects ORDER BY record")
    assert records == [
        (1, 1, "1E+400 is out of range"),
        (2, 1, "1E-400 is out of range"),
        (4, 1, "the value contains a NUL character, an invalid byte or an unpaired surrogate"),
        (5, 1, "'true' is not a valid decimal (expected -1234.5)"),
        (7, 1, "duplicate key '2.0000000000' (first at s.json:1)"),
    ]


def test_parquet_duplicate_key_rejects_carry_their_row_as_json(tmp_path: Path) -> None:
    # Staging keeps no JSON copy of the rows; a rejected row's text is read back from the file.
    parquet(
        tmp_path / "d.parquet",
        """
        SELECT * FROM (VALUES ('t1', 5::BIGINT), ('t2', 6::BIGINT), ('t1', 7::BIGINT), ('t3', NULL::BIGINT))
        t(id, score)""",
    )
    got = load(tmp_path, "d.parquet", columns(id="string", score="integer"), key="id")
    file = got.report.files[0]
    assert (file.rows, file.loaded, file.rejected) == (4, 3, 1)
    assert [(line, column) for line, column, _ in got.reasons()] == [(3, "id")]
    assert got.rejects[0][4] == '{"id":"t1","score":7}'


def test_parquet_integer_column_declared_as_the_string_key(tmp_path: Path) -> None:
    parquet(tmp_path / "k.parquet", "SELECT * FROM (VALUES (7::BIGINT, 1), (8::BIGINT, 2), (7::BIGINT, 3)) t(id, v)")
    got = load(tmp_path, "k.parquet", columns(id="string", v="integer"), key="id")
    assert [(r["id"], r["v"]) for r in got.rows] == [("7", 1), ("8", 2)]
    assert got.reasons() == [(3, "id", "duplicate key '7' (first at k.parquet:1)")]


@pytest.mark.parametrize("kind", ["TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP"])
def test_parquet_timestamp_in_a_dst_gap_is_rejected_like_csv(tmp_path: Path, kind: str) -> None:
    parquet(
        tmp_path / "t.parquet",
        f"""SELECT * FROM (VALUES ('a', '2025-03-30 03:30:00'::{kind}),
                                        ('b', '2025-03-30 04:30:00'::{kind})) t(id, "at")""",
    )
    write(tmp_path, "t.csv", "id,at\na,2025-03-30 03:30:00\nb,2025-03-30 04:30:00\n")
    gap = "'2025-03-30 03:30:00' does not exist in Europe/Riga (the clocks jump forward over it)"
    for name in ("t.parquet", "t.csv"):
        got = load(tmp_path, name, columns(id="string", at="timestamp"))
        assert [(r["id"], r["at"]) for r in got.rows] == [("b", "2025-03-30 04:30:00+03")], name
        assert got.reasons() == [(1 if name.endswith("parquet") else 2, "at", gap)], name


def test_timestamp_offsets_beyond_14_hours_are_rejected(tmp_path: Path) -> None:
    write(
        tmp_path,
        "o.csv",
        "id,at\na,2025-01-01 10:00+99:00\nb,2025-01-01 10:00+14:00\nc,2025-01-01 10:00-14:30\n"
        "d,2025-01-01T10:00:00-12:00\ne,2025-01-01 10:00+05:75\nf,2025-01-01 10:00+0530\n",
    )
    got = load(tmp_path, "o.csv", columns(id="string", at="timestamp"))
    assert [(r["id"], r["at"]) for r in got.rows] == [
        ("b", "2024-12-31 22:00:00+02"),
        ("d", "2025-01-02 00:00:00+02"),
        ("f", "2025-01-01 06:30:00+02"),
    ]
    expected = "(expected YYYY-MM-DD HH:MM[:SS], optionally with an offset within ±14:00)"
    assert got.reasons() == [
        (2, "at", f"'2025-01-01 10:00+99:00' is not a valid timestamp {expected}"),
        (4, "at", f"'2025-01-01 10:00-14:30' is not a valid timestamp {expected}"),
        (6, "at", f"'2025-01-01 10:00+05:75' is not a valid timestamp {expected}"),
    ]


def test_excel_merged_cells_reject_the_rows_they_cover(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["id", "v", "w", "note"], ["a", 1, 2, "x"], ["b", 3, 4, None], ["c", 5, 6, None], ["d", 7, 8, None]):
        sheet.append(row)
    sheet.merge_cells("B2:B3")  # v of row 3 shows 1 in Excel, but the file has nothing there
    sheet.merge_cells("C4:D5")  # w of rows 4-5, and the undeclared column D
    book.save(tmp_path / "m.xlsx")
    got = load(tmp_path, "m.xlsx", columns(id="string", v="integer", w="integer"))
    assert [(r["id"], r["v"], r["w"]) for r in got.rows] == [("a", 1, 2), ("c", 5, 6)]
    assert got.reasons() == [
        (
            3,
            "v",
            "cell B3 is inside the merged range B2:B3, whose value is only in B2; unmerge the cells and fill every row",
        ),
        (
            5,
            "w",
            "cell C5 is inside the merged range C4:D5, whose value is only in C4; unmerge the cells and fill every row",
        ),
    ]
