"""CSV import: explicit dialect, every record either loaded or rejected with its line and reason.

Each test writes a real file, imports it, and (through `load`) checks for every file that
loaded + rejected == records and that the tables agree with the report.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from datakit import col, columns, load, write

from kpi_engine.config.model import CsvOptions
from kpi_engine.data import ImportFailed
from kpi_engine.errors import Code


def test_item54_sniffer_file_loads_what_is_valid_and_rejects_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "rep,amount\na,(100.00)\nb,-0.00\nc,1e3\nd,$1,000.00\n")
    got = load(tmp_path, "s.csv", columns(rep="string", amount="decimal"))
    assert got.report.files[0].rows == 4
    assert (got.report.loaded, got.report.rejected) == (1, 3)
    assert [(r["rep"], r["amount"], r["_line"]) for r in got.rows] == [("b", Decimal("0"), 3)]
    assert got.reasons() == [
        (2, "amount", "'(100.00)' is not a valid decimal (expected -1234.5)"),
        (4, "amount", "'1e3' is not a valid decimal (expected -1234.5)"),
        (5, None, "too many fields: 3, the header has 2"),
    ]
    assert [r[4] for r in got.rejects] == ["a,(100.00)", "c,1e3", "d,$1,000.00"]


def test_item59_quoted_newlines_doubled_quotes_and_an_unterminated_quote(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.csv",
        'rep,comment,amount\na,"line1\nline2",10.00\nb,"say ""hi""",20.00\n'
        'c,"unterminated,30.00\nd,ok,40.00\ne,ok,50.00\n',
    )
    got = load(tmp_path, "s.csv", columns(rep="string", comment="string", amount="decimal"))
    file = got.report.files[0]
    assert (file.rows, file.loaded, file.rejected, file.lines, file.swallowed) == (3, 2, 1, 7, 2)
    assert [(r["rep"], r["comment"], r["amount"], r["_line"]) for r in got.rows] == [
        ("a", "line1\nline2", Decimal("10"), 2),
        ("b", 'say "hi"', Decimal("20"), 4),
    ]
    assert got.reasons() == [
        (
            5,
            None,
            "unterminated quoted field: it runs to the end of the file (the record spans lines 5-7: 3 source lines)",
        )
    ]
    assert got.rejects[0][4] == 'c,"unterminated,30.00\nd,ok,40.00\ne,ok,50.00'


def test_item55_ragged_rows_are_rejected_one_by_one(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "rep,amount,region\na,10.50,EU\nb,20.00\nc,30.00,US,extra\nd,abc,EU\ne,40.00,US")
    got = load(tmp_path, "s.csv", columns(rep="string", amount="decimal", region="string"))
    assert got.report.files[0].rows == 5
    assert got.values("rep") == ["a", "e"]
    assert got.reasons() == [
        (3, None, "too few fields: 2, the header has 3"),
        (4, None, "too many fields: 4, the header has 3"),
        (5, "amount", "'abc' is not a valid decimal (expected -1234.5)"),
    ]


def test_semicolons_decimal_commas_thousands_and_cp1251(tmp_path: Path) -> None:
    text = (
        "Сотрудник;Сумма;Дата\n"
        "Иванов;1 234,56;01.02.2024\n"
        'Петров;"12 345 678,9";2024-03-05\n'
        "Сидоров;1234,5;-\n"
        "Ким;12 34,5;01.02.2024\n"
        "Ли;1.234,56;01.02.2024\n"
        "Пак;NULL;31.02.2024\n"
        "Цой;1\u00a0234,00;02.01.2024\n"
    )
    write(tmp_path, "s.csv", text, encoding="cp1251")
    options = CsvOptions(
        delimiter=";", decimal=",", thousands=" ", encoding="cp1251", nulls=("", "NULL", "-"), date_format="%d.%m.%Y"
    )
    got = load(tmp_path, "s.csv", columns(Сотрудник="string", Сумма="decimal", Дата="date"), csv=options)
    assert got.report.files[0].rows == 7
    assert [(r["Сотрудник"], r["Сумма"], str(r["Дата"])) for r in got.rows] == [
        ("Иванов", Decimal("1234.56"), "2024-02-01"),
        ("Петров", Decimal("12345678.9"), "2024-03-05"),
        ("Сидоров", Decimal("1234.5"), "None"),
        ("Цой", Decimal("1234"), "2024-01-02"),
    ]
    assert got.reasons() == [
        (5, "Сумма", "'12 34,5' is not a valid decimal (expected -1 234,5)"),
        (6, "Сумма", "'1.234,56' is not a valid decimal (expected -1 234,5)"),
        (7, "Дата", "'31.02.2024' is not a valid date (expected YYYY-MM-DD or %d.%m.%Y)"),
    ]


def test_latin1_declared_reads_umlauts_and_undeclared_is_a_reject(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "rep,amount\nM\u00fcller,10.00\nSmith,2.00\n", encoding="latin-1")
    good = load(tmp_path, "s.csv", columns(rep="string", amount="decimal"), csv=CsvOptions(encoding="latin-1"))
    assert good.values("rep") == ["Müller", "Smith"]
    wrong = load(tmp_path, "s.csv", columns(rep="string", amount="decimal"))
    assert wrong.values("rep") == ["Smith"]
    assert wrong.reasons() == [(2, None, "invalid utf-8 byte 0xfc")]
    assert wrong.rejects[0][4] == "M\\xfcller,10.00"


def test_item60_a_bad_utf8_byte_rejects_its_row_and_keeps_the_bytes_visible(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", b"rep,amount\nok,1.00\nbad\xff\xfe,2.00\nfine,3.00\n")
    got = load(tmp_path, "s.csv", columns(rep="string", amount="decimal"))
    assert got.values("rep") == ["ok", "fine"]
    assert got.reasons() == [(3, None, "invalid utf-8 bytes 0xff 0xfe")]
    assert got.rejects[0][4] == "bad\\xff\\xfe,2.00"


def test_item63_duplicate_header_names_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "rep,amount,amount,Amount,\na,1,2,3,\n")
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "s.csv", columns(rep="string", amount="decimal"))
    (diag,) = caught.value.diagnostics
    assert diag.code == Code.DATA_COLUMN
    assert diag.message == "`s.csv`: column `amount` appears 2 times in the header (columns 2 and 3)"
    assert diag.span is not None and (diag.span.line, Path(diag.span.file).name) == (1, "s.csv")


def test_a_declared_column_missing_from_the_header_lists_expected_and_found(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "rep,amt,region\na,1,EU\n")
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "s.csv", columns(rep="string", amount="decimal"))
    (diag,) = caught.value.diagnostics
    assert diag.code == Code.DATA_COLUMN
    assert diag.message == (
        "`s.csv`: declared column `amount` not in the header; expected: rep, amount; found: rep, amt, region"
    )
    assert diag.hint == "did you mean `amt`?"


def test_item66_mixed_crlf_lf_and_cr_line_ends(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", b'rep,amount\r\na,1.00\r\nb,2.00\nc,3.00\r\nd,4.00\re,"5\r\n.00"\nf,6.00\r\n')
    got = load(tmp_path, "s.csv", columns(rep="string", amount="string"))
    file = got.report.files[0]
    assert (file.rows, file.loaded, file.lines) == (6, 6, 8)
    assert [(r["rep"], r["amount"], r["_line"]) for r in got.rows] == [
        ("a", "1.00", 2),
        ("b", "2.00", 3),
        ("c", "3.00", 4),
        ("d", "4.00", 5),
        ("e", "5\r\n.00", 6),
        ("f", "6.00", 8),
    ]


def test_item61_thirty_thousand_integers_then_12_5_is_a_reject_not_13(tmp_path: Path) -> None:
    lines = ["rep,n", *(f"r{i},{i}" for i in range(30_000)), "late,12.5", "late2,-2.5", "last,7"]
    write(tmp_path, "s.csv", "\n".join(lines) + "\n")
    got = load(tmp_path, "s.csv", columns(rep="string", n="integer"))
    assert (got.report.rows, got.report.loaded, got.report.rejected) == (30_003, 30_001, 2)
    assert sum(got.values("n")) == sum(range(30_000)) + 7
    assert got.reasons() == [
        (30_002, "n", "'12.5' is not a valid integer (expected -1234)"),
        (30_003, "n", "'-2.5' is not a valid integer (expected -1234)"),
    ]


def test_item62_huge_ids_stay_strings_and_overflow_integers_is_a_reject(tmp_path: Path) -> None:
    write(
        tmp_path, "s.csv", "emp_id,n\n12345678901234567890123,1\n00123,99999999999999999999\n007,9223372036854775807\n"
    )
    got = load(tmp_path, "s.csv", columns(emp_id="string", n="integer"))
    assert [(r["emp_id"], r["n"]) for r in got.rows] == [("12345678901234567890123", 1), ("007", 9223372036854775807)]
    assert got.reasons() == [(3, "n", "'99999999999999999999' is out of range for an integer")]


def test_item64_header_only_and_empty_files_load_nothing_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "empty.csv", b"")
    write(tmp_path, "header.csv", "rep,amount\n")
    for name in ("empty.csv", "header.csv"):
        got = load(tmp_path, name, columns(rep="string", amount="decimal"))
        assert (got.report.rows, got.report.loaded, got.rows) == (0, 0, [])
        (note,) = got.report.diagnostics
        assert note.code == Code.DATA_EMPTY and note.severity == "warning"
        assert note.message == f"source `src`: `{name}` has no data rows"


def test_item71_declared_null_tokens_are_null_whatever_the_type(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "rep,amount,note\na,,x\nb,NULL,NULL\nc,null,null\nd,NA,NA\ne,1.5,\n")
    plain = load(tmp_path, "s.csv", columns(rep="string", amount="decimal", note="string"))
    assert [(r["rep"], r["amount"], r["note"]) for r in plain.rows] == [("a", None, "x"), ("e", Decimal("1.5"), None)]
    assert [line for line, _, _ in plain.reasons()] == [3, 4, 5]
    declared = load(
        tmp_path,
        "s.csv",
        columns(rep="string", amount="decimal", note="string"),
        csv=CsvOptions(nulls=("NULL", "null", "NA")),
    )
    assert [(r["amount"], r["note"]) for r in declared.rows] == [
        (None, "x"),
        (None, None),
        (None, None),
        (None, None),
        (Decimal("1.5"), None),
    ]


def test_item70_whitespace_around_numbers_is_trimmed_but_units_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "rep,amount\n a ,  1.00  \nb,1.00 USD\nc,\t2\n")
    got = load(tmp_path, "s.csv", columns(rep="string", amount="decimal"))
    assert [(r["rep"], r["amount"]) for r in got.rows] == [(" a ", Decimal("1")), ("c", Decimal("2"))]
    assert got.reasons() == [(3, "amount", "'1.00 USD' is not a valid decimal (expected -1234.5)")]


def test_a_nul_character_rejects_the_record(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "rep,amount\na\x00b,1\nc,2\n")
    got = load(tmp_path, "s.csv", columns(rep="string", amount="integer"))
    assert got.values("rep") == ["c"]
    assert got.reasons() == [(2, None, "the record contains a NUL character")]
    assert got.rejects[0][4] == "a\\x00b,1"


def test_a_quote_followed_by_text_is_malformed_and_reading_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", 'rep,amount\n"x"y,8\nz,9\n')
    got = load(tmp_path, "s.csv", columns(rep="string", amount="integer"))
    assert got.values("rep") == ["z"]
    assert got.reasons() == [(2, None, "malformed quoting: ',' expected after '\"'")]


def test_header_false_reads_columns_by_position(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "a,1\nb,2,extra\n")
    got = load(tmp_path, "s.csv", columns(rep="string", n="integer"), csv=CsvOptions(header=False))
    assert [(r["rep"], r["n"], r["_line"]) for r in got.rows] == [("a", 1, 1)]
    assert got.reasons() == [(2, None, "too many fields: 3, the header has 2")]


def test_utf8_bom_blank_lines_and_undeclared_columns(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "\ufeffrep,skip,amount\n\na,zzz,1\n\n\nb,,2\n")
    got = load(tmp_path, "s.csv", columns(rep="string", amount="integer"))
    file = got.report.files[0]
    assert (file.rows, file.loaded, file.lines) == (2, 2, 6)
    assert [(r["rep"], r["amount"], r["_line"]) for r in got.rows] == [("a", 1, 3), ("b", 2, 6)]
    assert list(got.rows[0]) == ["rep", "amount", "_file", "_line"]


def test_required_values_and_bounds_are_checked_per_row(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.csv",
        "id,agent,priority,csat\n1,a1,high,5\n2,,low,3\n3,a2,urgent,4\n4,a3,normal,0\n"
        "5,a4,low,6\n6,a5,,\n7,,urgent,9\n",
    )
    cols = columns(
        id="string",
        agent=col("string", required=True),
        priority=col("string", values=("critical", "high", "normal", "low")),
        csat=col("integer", min=1, max=5),
    )
    got = load(tmp_path, "s.csv", cols)
    assert got.values("id") == ["1", "6"]
    assert got.reasons() == [
        (3, "agent", "missing required value"),
        (4, "priority", "'urgent' is not one of: critical, high, normal, low"),
        (5, "csat", "'0' is below the minimum 1"),
        (6, "csat", "'6' is above the maximum 5"),
        (8, "agent", "missing required value"),
        (8, "priority", "'urgent' is not one of: critical, high, normal, low"),
        (8, "csat", "'9' is above the maximum 5"),
    ]
    assert got.report.rejected == 5


def test_no_quote_character_and_a_tab_delimiter(tmp_path: Path) -> None:
    write(tmp_path, "s.tsv.csv", 'rep\tnote\na\t"quoted" stays\nb\tx\ty\n')
    got = load(tmp_path, "s.tsv.csv", columns(rep="string", note="string"), csv=CsvOptions(delimiter="\t", quote=""))
    assert [(r["rep"], r["note"]) for r in got.rows] == [("a", '"quoted" stays')]
    assert got.reasons() == [(3, None, "too many fields: 3, the header has 2")]


@pytest.mark.parametrize(
    ("options", "cols", "key", "message"),
    [
        (
            CsvOptions(decimal=".", thousands="."),
            columns(n="decimal"),
            None,
            "source `src`: the thousands and decimal separators are both `.`",
        ),
        (CsvOptions(), columns(n="decimal"), "id", "source `src`: key `id` is not a declared column"),
        (
            CsvOptions(),
            columns(_line="integer"),
            None,
            "source `src`: column name `_line` is reserved for the importer",
        ),
        (CsvOptions(encoding="klingon"), columns(n="decimal"), None, "`s.csv`: unknown encoding `klingon`"),
        (
            CsvOptions(delimiter=";;"),
            columns(n="decimal"),
            None,
            "`s.csv`: the delimiter and quote must be single characters",
        ),
    ],
    ids=["ambiguous-separators", "undeclared-key", "reserved-column", "unknown-encoding", "long-delimiter"],
)
def test_declarations_the_importer_cannot_honour(
    tmp_path: Path, options: CsvOptions, cols: dict[str, object], key: str | None, message: str
) -> None:
    write(tmp_path, "s.csv", "n\n1\n")
    with pytest.raises(ImportFailed) as caught:
        load(tmp_path, "s.csv", cols, csv=options, key=key)  # type: ignore[arg-type]
    assert [d.message for d in caught.value.diagnostics] == [message]


def test_progress_reports_each_file_and_the_outcome(tmp_path: Path) -> None:
    from kpi_engine.config.model import Source
    from kpi_engine.data import Progress, import_sources, open_memory

    write(tmp_path, "a.csv", "n\n1\n")
    write(tmp_path, "b.csv", "n\n2\nx\n")
    events: list[Progress] = []
    source = Source("src", tmp_path, "*.csv", columns=columns(n="integer"))
    report = import_sources(open_memory("UTC"), {"src": source}, progress=events.append)
    # Bytes of both files (4 + 6), done counted across the import: 70% of a file once read, all once typed.
    assert [(e.step, e.file, e.rows, e.done, e.total) for e in events] == [
        ("reading", "a.csv", 0, 0, 10),
        ("reading", "a.csv", 1, 2, 10),
        ("typing", "a.csv", 1, 2, 10),
        ("reading", "b.csv", 0, 4, 10),
        ("reading", "b.csv", 2, 8, 10),
        ("typing", "b.csv", 2, 8, 10),
        ("loaded", None, 2, 10, 10),
    ]
    assert {e.source for e in events} == {"src"} and all(isinstance(e, Progress) for e in events)
    assert (report.source("src").written, report.source("src").rejected) == (2, 1)


def test_progress_counts_every_selected_source_and_unchanged_ones(tmp_path: Path) -> None:
    from kpi_engine.config.model import Source
    from kpi_engine.data import import_sources, open_memory

    write(tmp_path, "a.csv", "n\n1\n")
    write(tmp_path, "b.csv", "n\n22\n")
    sources = {
        "a": Source("a", tmp_path, "a.csv", columns=columns(n="integer")),
        "b": Source("b", tmp_path, "b.csv", columns=columns(n="integer")),
    }
    wh = open_memory("UTC")
    import_sources(wh, sources)
    events: list = []
    import_sources(wh, sources, progress=events.append)
    assert [(e.source, e.step, e.done, e.total) for e in events] == [("a", "unchanged", 4, 9), ("b", "unchanged", 9, 9)]


def test_item67_a_3_mb_cell_loads_and_one_above_the_limit_is_a_reject(tmp_path: Path) -> None:
    from kpi_engine.data.csvfile import MAX_FIELD_CHARS

    big, huge = "x" * 3_000_000, "y" * (MAX_FIELD_CHARS + 1)
    write(tmp_path, "s.csv", f'rep,note\na,{big}\nb,{huge}\nc,"{big}"\nd,ok\n')
    got = load(tmp_path, "s.csv", columns(rep="string", note="string"))
    assert [(r["rep"], len(r["note"])) for r in got.rows] == [("a", 3_000_000), ("c", 3_000_000), ("d", 2)]
    assert got.reasons() == [(3, None, "a field is longer than 16 MiB")]


def test_any_column_name_is_a_quoted_identifier_never_sql(tmp_path: Path) -> None:
    names = ['a "b" c', "select", "First Response (min)", 'x"); DROP TABLE rejects; --']
    header = ",".join('"' + n.replace('"', '""') + '"' for n in names)
    write(tmp_path, "s.csv", f"{header}\n1,2,3.5,4\n")
    got = load(
        tmp_path,
        "s.csv",
        columns(**dict(zip(names, ("string", "integer", "number", "string"), strict=True))),
        key='a "b" c',
    )
    assert got.rows == [
        {
            'a "b" c': "1",
            "select": 2,
            "First Response (min)": 3.5,
            'x"); DROP TABLE rejects; --': "4",
            "_file": "s.csv",
            "_line": 2,
        }
    ]
    assert got.warehouse.fetch("SELECT count(*) FROM rejects") == [(0,)]
