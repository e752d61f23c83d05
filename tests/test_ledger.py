"""The ledger's integrity (SPEC §13), tried the way an insider would: SQL on `.kpi/ledger.duckdb`.

Every tamper case edits, deletes, inserts or reorders rows with plain DuckDB, then expects
`kpi runs verify` to exit 1 naming the entry.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "kpi_definitions" / "examples" / "support"
HEAD = re.compile(r"ledger head: (\d+) entr(?:y|ies), ([0-9a-f]{64})")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    target = tmp_path / "support"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".kpi"))
    return target


def kpi(*args: str) -> object:
    return runner.invoke(app, [str(a) for a in args])


def bonus(ws: Path) -> str:
    result = kpi("bonus", ws, "--format", "json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["run"]["id"])


def approve(ws: Path, run_id: str, by: str = "HR Lead") -> None:
    result = kpi("runs", "approve", ws, run_id, "--by", by)
    assert result.exit_code == 0, result.output


def sql(ws: Path, statement: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(str(ws / ".kpi" / "ledger.duckdb")) as conn:
        return conn.execute(statement, params or []).fetchall()


def verify(ws: Path, *more: str) -> object:
    return kpi("runs", "verify", ws, *more)


def broken(ws: Path, *more: str) -> str:
    result = verify(ws, *more)
    assert result.exit_code == 1, result.output
    return str(result.stdout)


def history(ws: Path) -> tuple[str, str, str]:
    """Run A (approved), run B, run C: five entries would be A, approval of A, B, C."""
    first = bonus(ws)
    approve(ws, first)
    return first, bonus(ws), bonus(ws)


# --- where the ledger lives -------------------------------------------------------------------------


def test_the_ledger_is_its_own_file_and_outlives_the_data_database(ws: Path) -> None:
    assert kpi("import", ws).exit_code == 0
    run_id = bonus(ws)
    assert (ws / ".kpi" / "ledger.duckdb").is_file()
    (ws / ".kpi" / "warehouse.duckdb").write_bytes(b"not a database")
    damaged = kpi("evaluate", ws, "--period", "2026")
    assert damaged.exit_code == 1
    assert "E506" in damaged.stderr and "delete .kpi/warehouse.duckdb" in damaged.stderr
    assert "ledger is in .kpi/ledger.duckdb and is kept" in damaged.stderr
    assert "delete .kpi/ " not in damaged.stderr and "delete .kpi/ and" not in damaged.stderr
    (ws / ".kpi" / "warehouse.duckdb").unlink()
    assert kpi("import", ws).exit_code == 0
    listed = json.loads(kpi("runs", "list", ws, "--format", "json").stdout)["runs"]
    assert [r["id"] for r in listed] == [run_id]
    assert verify(ws).exit_code == 0


def test_a_damaged_ledger_is_a_clean_error_that_never_advises_deleting_it(ws: Path) -> None:
    bonus(ws)
    (ws / ".kpi" / "ledger.duckdb").write_bytes(b"\0" * 4096)
    for args in (("bonus", ws), ("runs", "list", ws), ("runs", "verify", ws)):
        result = kpi(*args)
        assert result.exit_code == 1 and "E520" in result.stderr, result.output
        assert "delete" not in result.stderr and "Traceback" not in result.output
        assert "keep the file" in result.stderr


def test_runs_in_an_old_warehouse_move_into_the_ledger_once(ws: Path) -> None:
    from kpi_engine.audit.hashing import document_hash

    run_id = bonus(ws)
    stored = json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)
    ((definitions,),) = sql(ws, "SELECT definitions FROM runs WHERE id = ?", [run_id])
    (ws / ".kpi" / "ledger.duckdb").unlink()
    with duckdb.connect(str(ws / ".kpi" / "warehouse.duckdb")) as old:  # the layout of earlier versions
        old.execute("""CREATE TABLE runs (id VARCHAR PRIMARY KEY, time VARCHAR, kind VARCHAR, command VARCHAR,
                       arguments VARCHAR, engine_version VARCHAR, duckdb_version VARCHAR, version VARCHAR,
                       definitions_hash VARCHAR, definitions VARCHAR, data_hashes VARCHAR, period VARCHAR,
                       options VARCHAR, plan VARCHAR, results VARCHAR, results_hash VARCHAR)""")
        old.execute(
            "CREATE TABLE approvals (run_id VARCHAR PRIMARY KEY, approved_by VARCHAR, time VARCHAR, note VARCHAR)"
        )
        row = [
            stored["id"],
            stored["time"],
            "bonus",
            "kpi bonus",
            json.dumps(stored["command"].split()[1:]),
            stored["engine_version"],
            stored["duckdb_version"],
            stored["version"],
            stored["definitions_hash"],
            definitions,
            json.dumps({"tickets": "x"}),
            stored["period"],
            json.dumps(stored["options"]),
            None,
            json.dumps(stored["results"], sort_keys=True),
            document_hash(stored["results"]),  # results were hashed as one JSON document then
        ]
        old.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(row))})", row)
        old.execute("INSERT INTO approvals VALUES (?, 'Old HR', '2026-01-01T00:00:00Z', NULL)", [run_id])
    listed = json.loads(kpi("runs", "list", ws, "--format", "json").stdout)["runs"]
    assert [(r["id"], r["approved_by"], r["user"]) for r in listed] == [(run_id, "Old HR", "unknown")]
    assert verify(ws).exit_code == 0
    bonus(ws)  # appends after the migrated entries; the migration does not run again
    assert len(json.loads(kpi("runs", "list", ws, "--format", "json").stdout)["runs"]) == 2
    assert "3 entries" in verify(ws).stdout


# --- the head ---------------------------------------------------------------------------------------


def test_every_append_prints_the_new_head_and_keeps_stdout_clean(ws: Path) -> None:
    evaluated = kpi("evaluate", ws, "--period", "2026", "--format", "json")
    assert evaluated.exit_code == 0
    json.loads(evaluated.stdout)
    found = HEAD.search(evaluated.stderr)
    assert found and found.group(1) == "1"
    csv = kpi("bonus", ws, "--format", "csv")
    assert csv.exit_code == 0 and "ledger head" not in csv.stdout
    found = HEAD.search(csv.stderr)
    assert found and found.group(1) == "2"
    run_id = json.loads(kpi("runs", "list", ws, "--format", "json").stdout)["runs"][0]["id"]
    assert json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)["hash"] == found.group(2)
    approved = kpi("runs", "approve", ws, run_id, "--by", "HR Lead")
    found = HEAD.search(approved.stdout)
    assert approved.exit_code == 0 and found and found.group(1) == "3"
    intact = verify(ws, "--head", found.group(2))
    assert intact.exit_code == 0 and "chain intact — 3 entries" in intact.stdout


def test_a_bad_head_option_is_refused(ws: Path) -> None:
    bonus(ws)
    result = verify(ws, "--head", "xyz")
    assert result.exit_code == 2 and "E001" in result.stderr and "--head" in result.stderr


# --- tampering --------------------------------------------------------------------------------------


def test_an_edited_payout_of_an_approved_run_is_caught(ws: Path) -> None:
    """A run's entry covers its result rows through `results_hash`: `verify WS` and `verify WS ID` report an edit."""
    run_id = bonus(ws)
    approve(ws, run_id)
    ((person,),) = sql(ws, 'SELECT person FROM results_payouts WHERE run_id = ? AND "row" = 0', [run_id])
    sql(ws, "UPDATE results_payouts SET payout = '999999.00' WHERE run_id = ? AND \"row\" = 0", [run_id])
    whole = broken(ws)  # the chain holds each run's results_hash; verify WS hashes every run's rows again
    assert f"run {run_id} (entry #1): the stored results do not match the run's results_hash" in whole
    assert "(entry #2)" not in whole  # the approval's entry is intact
    out = broken(ws, run_id)
    assert "stored results do not match the run's results_hash" in out
    assert f"money differs for: {person}: 999999.00 →" in out
    later = kpi("runs", "approve", ws, bonus(ws), "--by", "HR Lead")  # a later run still verifies
    assert later.exit_code == 0, later.output


@pytest.mark.parametrize(
    "forgery",
    [
        'DELETE FROM results_payouts WHERE run_id = ? AND "row" = 1',
        'INSERT INTO results_payouts SELECT * REPLACE (99 AS "row") FROM results_payouts WHERE run_id = ? LIMIT 1',
        'UPDATE results_payouts SET "row" = 1 - "row" WHERE run_id = ? AND "row" < 2',
        "UPDATE results_payouts SET share = 'NaN'::DOUBLE WHERE run_id = ?",
        "UPDATE results_payouts SET reason = 'below_gate' WHERE run_id = ? AND reason IS NULL",
    ],
    ids=["deleted", "inserted", "reordered", "nan", "reason"],
)
def test_every_edit_of_a_runs_result_rows_is_reported(ws: Path, forgery: str) -> None:
    run_id = bonus(ws)
    sql(ws, forgery, [run_id])
    assert "stored results do not match the run's results_hash" in broken(ws, run_id)
    assert f"run {run_id} (entry #1): the stored results do not match" in broken(ws)


def test_result_rows_of_evaluations_are_covered_too(ws: Path) -> None:
    evaluated = kpi("evaluate", ws, "--period", "2026", "--grain", "quarter", "--format", "json")
    run_id = json.loads(evaluated.stdout)["run"]["id"]
    assert verify(ws, run_id).exit_code == 0
    for table, column in (("kpis", "value"), ("items", "weight"), ("scorecards", "total_score"), ("goals", "status")):
        ((before,),) = sql(ws, f'SELECT {column} FROM results_{table} WHERE run_id = ? AND "row" = 0', [run_id])
        sql(ws, f'UPDATE results_{table} SET {column} = NULL WHERE run_id = ? AND "row" = 0', [run_id])
        assert "stored results do not match the run's results_hash" in broken(ws, run_id), table
        assert f"run {run_id} (entry #1): the stored results do not match" in broken(ws), table
        sql(ws, f'UPDATE results_{table} SET {column} = ? WHERE run_id = ? AND "row" = 0', [before, run_id])
        assert verify(ws, run_id).exit_code == 0, table


def test_replaced_definitions_and_results_with_their_hashes_are_caught(ws: Path) -> None:
    """An insider rewrites the definitions, the payout rows and both hashes: the chain names the entry."""
    from kpi_engine.audit.hashing import results_hash
    from kpi_engine.audit.recording import stored_results
    from kpi_engine.data.ledger import get_run

    run_id = bonus(ws)
    ((definitions,),) = sql(ws, "SELECT definitions FROM runs WHERE id = ?", [run_id])
    forged = json.loads(definitions)
    forged["definitions"]["organization"]["version"] = "forged"
    inner = json.dumps(forged["definitions"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sql(ws, "UPDATE results_payouts SET payout = '1.00' WHERE run_id = ?", [run_id])
    paid = stored_results(ws, get_run(ws, "UTC", run_id))
    sql(
        ws,
        "UPDATE runs SET definitions = ?, definitions_hash = ?, results_hash = ? WHERE id = ?",
        [
            json.dumps(forged, sort_keys=True),
            hashlib.sha256(inner.encode()).hexdigest(),
            results_hash(paid),  # type: ignore[arg-type]
            run_id,
        ],
    )
    assert f"run {run_id} (entry #1): its content does not match its hash" in broken(ws)
    out = broken(ws, run_id)
    assert "stored results do not match" not in out  # the forged hashes hold: what differs is the money
    assert "DIFFERS" in out and "money differs for" in out


# --- results stored before the result tables ---------------------------------------------------------


def as_recorded_before(ws: Path, run_id: str) -> dict[str, object]:
    """Turn a run into an entry of the earlier layout: its whole results document in `results`, hashed as JSON.

    That is how kpi-engine stored results before the result tables; the chain is re-hashed from the
    entry on, as the version that wrote it would have.
    """
    from kpi_engine.audit.hashing import document_hash
    from kpi_engine.audit.recording import stored_results
    from kpi_engine.data.ledger import GENESIS, RUN_COLUMNS, entry_hash, get_run
    from kpi_engine.documents import results_document

    document = results_document(stored_results(ws, get_run(ws, "UTC", run_id)), sort_keys=True)  # type: ignore[arg-type]
    ((count,),) = sql(ws, "SELECT count(*) FROM runs")
    assert count == 1
    for table in ("payouts", "kpis", "scorecards", "items", "goals"):
        if sql(ws, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [f"results_{table}"])[0][0]:
            sql(ws, f"DELETE FROM results_{table}")
    columns = ", ".join(f'"{c}"' for c in RUN_COLUMNS)
    (values,) = sql(ws, f"SELECT {columns} FROM runs")
    row = dict(zip(RUN_COLUMNS, values, strict=True))
    row |= {"results": json.dumps(document, sort_keys=True), "results_hash": document_hash(document)}
    row |= {"prev_hash": GENESIS}
    row["hash"] = entry_hash("runs", row)
    sql(
        ws,
        "UPDATE runs SET results = ?, results_hash = ?, hash = ?",
        [row["results"], row["results_hash"], row["hash"]],
    )
    return document


def test_a_run_stored_as_one_document_still_reads_and_verifies(ws: Path) -> None:
    run_id = bonus(ws)
    shown = kpi("runs", "show", ws, run_id, "--format", "json").stdout
    document = as_recorded_before(ws, run_id)
    again = kpi("runs", "show", ws, run_id, "--format", "json").stdout
    assert json.loads(again)["results"] == document
    assert again.split('"results": ')[1] == shown.split('"results": ')[1]  # byte for byte, as before
    assert verify(ws).exit_code == 0
    assert verify(ws, run_id).exit_code == 0, verify(ws, run_id).output
    approve(ws, run_id)
    later = kpi("bonus", ws, "--format", "json")  # the approved run's payouts come from its document
    assert later.exit_code == 0 and "differs from run" not in later.stderr


def test_an_edited_payout_in_a_stored_document_is_caught(ws: Path) -> None:
    run_id = bonus(ws)
    as_recorded_before(ws, run_id)
    approve(ws, run_id)
    ((text,),) = sql(ws, "SELECT results FROM runs WHERE id = ?", [run_id])
    results = json.loads(text)
    person = results["payouts"][0]["person"]
    results["payouts"][0]["payout"] = "999999.00"
    sql(ws, "UPDATE runs SET results = ? WHERE id = ?", [json.dumps(results, sort_keys=True), run_id])
    assert f"run {run_id} (entry #1): its content does not match its hash" in broken(ws)
    out = broken(ws, run_id)
    assert "stored results do not match the run's results_hash" in out
    assert f"money differs for: {person}: 999999.00 →" in out


def test_a_changed_approver_is_caught(ws: Path) -> None:
    run_id = bonus(ws)
    approve(ws, run_id)
    sql(ws, "UPDATE approvals SET approved_by = 'The CEO'")
    out = broken(ws)
    assert f"approval {run_id}-approval (entry #2): its content does not match its hash" in out
    assert "approved by The CEO" in broken(ws, run_id)


def test_a_deleted_approval_is_caught(ws: Path) -> None:
    first, second, _ = history(ws)
    sql(ws, "DELETE FROM approvals")
    out = broken(ws)
    assert f"entry #2 is missing before run {second} (entry #3); deleted" in out
    assert f"run {second} (entry #3): its prev_hash is not the hash of the entry before it" in out


def test_a_deleted_run_is_caught(ws: Path) -> None:
    first, second, third = history(ws)
    sql(ws, "DELETE FROM runs WHERE id = ?", [second])
    assert f"entry #3 is missing before run {third} (entry #4); deleted" in broken(ws)


def test_a_deleted_first_run_leaves_its_approval_orphaned(ws: Path) -> None:
    first, _, _ = history(ws)
    sql(ws, "DELETE FROM runs WHERE id = ?", [first])
    out = broken(ws)
    assert f"approves run {first}, which is not in the ledger" in out
    assert "entry #1 is missing" in out


def test_an_inserted_entry_is_caught(ws: Path) -> None:
    first, second, third = history(ws)
    sql(ws, "INSERT INTO runs SELECT * REPLACE ('forged-run' AS id, 3 AS seq) FROM runs WHERE id = ?", [second])
    out = broken(ws)
    assert "run forged-run (entry #3)" in out and "inserted or reordered" in out


def test_an_entry_appended_without_the_chain_is_caught(ws: Path) -> None:
    first, _, third = history(ws)
    sql(
        ws,
        "INSERT INTO runs SELECT * REPLACE ('late-run' AS id, 5 AS seq, hash AS prev_hash) FROM runs WHERE id = ?",
        [third],
    )
    assert "run late-run (entry #5): its content does not match its hash" in broken(ws)


def test_reordered_entries_are_caught(ws: Path) -> None:
    _, second, third = history(ws)
    sql(ws, "UPDATE runs SET seq = CASE WHEN id = ? THEN 4 ELSE 3 END WHERE id IN (?, ?)", [second, second, third])
    out = broken(ws)
    assert f"run {third} (entry #3): its prev_hash is not the hash of the entry before it" in out
    assert f"run {second} (entry #4)" in out


def test_a_deleted_last_entry_is_caught_only_against_a_kept_head(ws: Path) -> None:
    bonus(ws)
    last = kpi("bonus", ws, "--format", "json")
    found = HEAD.search(last.stderr)
    assert found
    last_id = json.loads(last.stdout)["run"]["id"]
    sql(ws, "DELETE FROM runs WHERE id = ?", [last_id])
    assert verify(ws).exit_code == 0  # a truncated tail still forms a chain
    out = broken(ws, "--head", found.group(2))
    assert f"the head {found.group(2)} is not in the ledger" in out


# --- data -------------------------------------------------------------------------------------------


def test_a_changed_data_file_fails_verify_even_when_the_results_do_not_move(ws: Path) -> None:
    run_id = bonus(ws)
    tickets = ws / "data" / "tickets.csv"
    before = hashlib.sha256(tickets.read_bytes()).hexdigest()  # what `sha256sum` prints
    tickets.write_text(tickets.read_text().replace("C0378", "C9999", 1))  # a column no KPI reads
    out = broken(ws, run_id)
    assert "identical when recomputed" in out
    assert f"source `tickets`: file `data/tickets.csv` changed since the run (sha256 {before} then" in out
    shown = json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)
    assert {"source": "tickets", "file": "data/tickets.csv", "sha256": before, "table_hash": None} in shown["data"]


def test_an_imported_table_changed_behind_the_ledgers_back_fails_verify(ws: Path) -> None:
    assert kpi("import", ws).exit_code == 0
    run_id = bonus(ws)
    shown = json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)
    assert all(d["table_hash"] for d in shown["data"])
    assert verify(ws, run_id).exit_code == 0
    with duckdb.connect(str(ws / ".kpi" / "warehouse.duckdb")) as wh:
        wh.execute("UPDATE tickets SET customer_id = 'C0000' WHERE ticket_id = 'T00644'")
    out = broken(ws, run_id)
    assert "source `tickets`: the imported table no longer matches what the run read" in out


def test_runs_show_json_carries_the_audit_fields(ws: Path) -> None:
    run_id = bonus(ws)
    shown = json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)
    assert set(shown) >= {
        "id",
        "time",
        "engine",
        "user",
        "host",
        "definitions_hash",
        "results_hash",
        "prev_hash",
        "hash",
        "data",
    }
    assert shown["user"] and shown["host"] and shown["prev_hash"] == "0" * 64
    assert {d["source"] for d in shown["data"]} == {"tickets", "employees"}
    assert all(set(d) == {"source", "file", "sha256", "table_hash"} for d in shown["data"])


# --- approvals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", "   ", "\t", "HR\x1b[31mLead", "HR\nLead", "\u202eHR"],
    ids=["empty", "spaces", "tab", "escape", "newline", "bidi"],
)
def test_an_approver_must_be_printable_text(ws: Path, name: str) -> None:
    run_id = bonus(ws)
    result = kpi("runs", "approve", ws, run_id, "--by", name)
    assert result.exit_code == 1 and "E522" in result.stderr
    assert "\x1b" not in result.output and "help:" in result.stderr
    assert json.loads(kpi("runs", "list", ws, "--format", "json").stdout)["runs"][0]["approved_by"] is None


def test_the_runner_may_not_approve_when_the_organization_says_so(ws: Path) -> None:
    org = ws / "organization.yaml"
    org.write_text(
        org.read_text().replace("  currency: EUR\n", "  currency: EUR\n  approvals: {distinct_from_runner: true}\n")
    )
    run_id = bonus(ws)
    result = kpi("runs", "approve", ws, run_id, "--by", "HR Lead")
    assert result.exit_code == 1 and "E523" in result.stderr and getpass.getuser() in result.stderr


def test_a_run_that_no_longer_verifies_is_not_approved(ws: Path) -> None:
    run_id = bonus(ws)
    tickets = ws / "data" / "tickets.csv"
    tickets.write_text(tickets.read_text().replace("C0378", "C9999", 1))
    result = kpi("runs", "approve", ws, run_id, "--by", "HR Lead")
    assert result.exit_code == 1 and "E524" in result.stderr and "data/tickets.csv" in result.stderr


def test_an_approval_records_who_and_where(ws: Path) -> None:
    run_id = bonus(ws)
    approve(ws, run_id)
    (approval,) = json.loads(kpi("runs", "show", ws, run_id, "--format", "json").stdout)["approvals"]
    assert approval["approved_by"] == "HR Lead" and approval["user"] == getpass.getuser() and approval["host"]


# --- printing -------------------------------------------------------------------------------------


def test_user_text_is_printed_literally(ws: Path) -> None:
    run_id = bonus(ws)
    approve(ws, run_id, "[bold red]Boss[/bold red] [/]")
    listed = kpi("runs", "list", ws)
    assert listed.exit_code == 0, listed.output
    assert "[bold red]Boss[/bold red] [/]" in listed.stdout
    shown = kpi("runs", "show", ws, run_id)
    assert "by [bold red]Boss[/bold red] [/] at" in shown.stdout
    sql(ws, "UPDATE approvals SET note = ?", ["\x1b]0;pwned\x07"])  # even a forged note reaches no terminal raw
    for args in (("runs", "show", ws, run_id), ("runs", "verify", ws, run_id), ("runs", "list", ws)):
        result = kpi(*args)
        assert "\x1b" not in result.output and "\x07" not in result.output
    unknown = kpi("runs", "show", ws, "\x1b[2J")
    assert unknown.exit_code == 1 and "\x1b" not in unknown.output and "\\u001b[2J" in unknown.stderr


# --- the results hash, recomputed as the documentation gives it ---------------------------------------


def documented_results_hash(ws: Path, run_id: str) -> str:
    """results_hash from the ledger with DuckDB and the text engine/audit/hashing.py documents (no kpi_engine code)."""
    ((kind, manifest),) = sql(ws, "SELECT kind, results FROM runs WHERE id = ?", [run_id])
    tables = {"evaluate": ("kpis", "scorecards", "items", "goals"), "bonus": ("payouts",)}[str(kind)]
    fields = json.dumps(json.loads(str(manifest))["fields"], sort_keys=True, separators=(",", ":"))
    text = f"kpi-engine results columns/1 {kind}\nfields {fields}\n"
    for table in tables:
        columns = sql(
            ws,
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
            [f"results_{table}"],
        )[2:]
        names = ", ".join(f'"{c}"' for c, _ in columns)
        rows = sql(ws, f'SELECT {names} FROM results_{table} WHERE run_id = ? ORDER BY "row"', [run_id])
        text += f"table {table} {len(rows)}\n"
        for i, (name, sql_type) in enumerate(columns):
            values = [r[i] for r in rows]
            if sql_type == "DOUBLE":  # a number the JSON prints as an int when it is integral (below 10^15)
                values = [int(v) if v is not None and v.is_integer() and abs(v) < 1e15 else v for v in values]
            kind_name = {"VARCHAR": "text", "DOUBLE": "number", "BIGINT": "integer", "VARCHAR[]": "texts"}[sql_type]
            text += f"column {name} {kind_name} {json.dumps(values, separators=(',', ':'))}\n"
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_results_hash_is_what_the_documentation_says(ws: Path) -> None:
    runs = [bonus(ws)]
    for more in ((), ("--by", "channel")):  # scorecards and goals; then `by` values (scorecards left out)
        evaluated = kpi("evaluate", ws, "--period", "2026", "--grain", "quarter", *more, "--format", "json")
        runs.append(json.loads(evaluated.stdout)["run"]["id"])
    for run_id in runs:
        ((stored,),) = sql(ws, "SELECT results_hash FROM runs WHERE id = ?", [run_id])
        assert documented_results_hash(ws, run_id) == stored
