"""Property: whatever garbage a CSV holds, no row is lost (RELIABILITY test family 6).

Random files mix valid rows with the corruptions of catalog items 54–72: extra and missing
fields, stray and unterminated quotes, invalid bytes, NULs, CRLF/CR/LF mixes, blank lines and
quoted newlines. The record count is computed here independently (Python's csv, strict, with
its own recovery loop) and must equal loaded + rejected.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

from datakit import columns, load, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GOOD = st.builds(
    lambda i, a: f"r{i},{a}",
    st.integers(0, 10**6),
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
)
BROKEN = st.sampled_from(
    [
        "x,1.00,extra",
        "lonely",
        "q,(100.00)",
        "e,1e3",
        'a,"say ""hi""",1',
        '"x"y,2',
        'u,"unterminated,3',
        "m,1.234,56",
        "n,\x00",
        'w,"multi\nline"',
        'c,"cr\rinside"',
        " ,  7.50  ",
        "",
        "z,-0.00",
    ]
)
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


def independent_count(text: str) -> tuple[int, int]:
    """(data records, physical lines) by a separate reading: header and blank lines excluded."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = 0
    while True:
        try:
            for fields in reader:
                records += bool(fields)
            break
        except csv.Error:
            records += 1
    ends = len(re.findall(r"\r\n|\r|\n", text))
    lines = ends + (1 if text and text[-1] not in "\r\n" else 0)
    return max(records - 1, 0), lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.one_of(GOOD, BROKEN), ENDINGS), max_size=25),
    st.lists(st.binary(min_size=1, max_size=3).filter(lambda b: b[0] >= 0x80), max_size=3),
    st.booleans(),
)
def test_no_row_is_ever_lost(rows: list[tuple[str, str]], junk: list[bytes], final_newline: bool) -> None:
    body = "".join(text + end for text, end in rows)
    if not final_newline:
        body = body.rstrip("\r\n")
    data = ("id,amount\n" + body).encode("utf-8")
    for position, chunk in enumerate(junk):
        cut = len(data) * (position + 1) // (len(junk) + 1)
        data = data[:cut] + chunk + data[cut:]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root, "s.csv", data)
        try:
            got = load(root, "s.csv", columns(id="string", amount="decimal"))
        except Exception as exc:  # a header destroyed by junk bytes is a clean file error, nothing else
            assert type(exc).__name__ == "ImportFailed", exc
            assert "header" in str(exc)
            return
    records, lines = independent_count(data.decode("utf-8", errors="surrogateescape"))
    (file,) = got.report.files
    assert (file.rows, file.lines) == (records, lines)
    assert file.loaded + file.rejected == records
    assert len(got.rows) == file.loaded
    assert len({line for _, line, _, _, _ in got.rejects}) == file.rejected
