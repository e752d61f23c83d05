"""Evaluation on real files: values per person, unit and organization, periods, segments, statuses.

Expected values are computed here in plain Python from the same rows, independently of the engine.
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_engine.cli.main import app
from kpi_engine.errors import KpiError
from kpi_engine.evaluation.results import KpiResult
from kpi_engine.pipeline import compile_workspace, evaluate, load_workspace
from tests.evaluation.wskit import workspace

runner = CliRunner()

PEOPLE = [
    ["a1", "Ann", "north", "agent", "20000.00", "1", "2020-01-01", ""],
    ["a2", "Bob", "north", "agent", "20000.00", "1", "2020-01-01", ""],
    ["b1", "Cid", "south", "agent", "22000.00", "0.5", "2025-03-01", ""],
    ["n1", "Dee", "north", "lead", "30000.00", "1", "2019-01-01", ""],
]

KPIS = """\
kpis:
  volume:
    goal: g
    source: tickets
    by: {person: agent}
    formula: count()
    unit: count
  sla:
    goal: g
    source: tickets
    by: {person: agent}
    formula: share(hours(resolved - created) <= $sla)
    unit: percent
    segments:
      critical: {params: {sla: 4}, target: {threshold: 50%, target: 80%}}
      routine: {params: {sla: 48}, target: {threshold: 50%, target: 80%}}
  median_hours:
    goal: g
    source: tickets
    by: {person: agent}
    formula: median(hours(resolved - created))
    unit: hours
    direction: lower
    min_sample: 3
    target: {threshold: 24, target: 8}
  csat_avg:
    goal: g
    source: tickets
    by: {person: agent}
    formula: avg(csat)
    where: csat is not null
    valid_if: count(csat) >= 2
    target: {threshold: 3, target: 4, stretch: 5}
  reopened:
    goal: g
    source: tickets
    formula: count_if(reopened)
  by_owner_unit:
    goal: g
    source: tickets
    by: {unit: owner.unit}
    formula: count()
  reopen_rate:
    goal: g
    formula: reopened / volume
  rating_per_ticket:
    goal: g
    formula: csat_avg / volume
  double_median:
    goal: g
    formula: median_hours * 2
  handled_by_roster_agents:
    goal: g
    source: tickets
    by: {person: agent}
    formula: share(owner.role = 'agent')
"""


def _ticket_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    spec = [
        # id, created (Riga wall clock), hours to resolve, priority, agent, csat, reopened
        ("T1", "2025-03-03 09:00", 2, "critical", "a1", 5, False),
        ("T2", "2025-03-04 10:00", 6, "critical", "a1", 4, True),
        ("T3", "2025-03-05 11:00", 30, "normal", "a1", None, False),
        ("T4", "2025-03-06 12:00", 3, "critical", "a2", 2, False),
        ("T5", "2025-03-07 13:00", 60, "normal", "a2", 3, False),
        ("T6", "2025-03-10 08:00", None, "normal", "a2", None, True),
        ("T7", "2025-03-11 09:00", 1, "critical", "b1", 5, False),
        ("T8", "2025-03-31 23:30", 10, "normal", "b1", None, False),  # still March in Riga (20:30 UTC)
        ("T9", "2025-04-01 00:30", 5, "normal", "b1", 4, False),  # April in Riga, March 31 in UTC
        ("T10", "2025-03-12 10:00", 2, "normal", "zz", 1, False),  # not on the roster
        ("T11", "2025-03-29 23:00", 26, "normal", "a1", 5, False),  # resolution crosses the DST change
        ("T12", "2025-02-27 10:00", 1, "critical", "a1", 5, False),  # February
    ]
    for tid, created, hours, priority, agent, csat, reopened in spec:
        start = datetime.fromisoformat(created)
        # wall-clock resolution time; T11 crosses the spring-forward night, so 26 elapsed hours end at 02:00+1d+1h
        resolved = None
        if hours is not None:
            resolved = start + timedelta(hours=hours)
            if tid == "T11":
                resolved = start + timedelta(hours=hours + 1)  # wall clock jumps an hour on 2025-03-30
        rows.append(
            {
                "id": tid,
                "created": start,
                "resolved": resolved,
                "priority": priority,
                "agent": agent,
                "csat": csat,
                "reopened": reopened,
            }
        )
    return rows


ROWS = _ticket_rows()
UNIT_OF = {"a1": "north", "a2": "north", "b1": "south", "n1": "north"}


def _march(row: dict[str, object]) -> bool:
    created = row["created"]
    assert isinstance(created, datetime)
    return created.year == 2025 and created.month == 3


def _hours(row: dict[str, object]) -> float | None:
    if row["resolved"] is None:
        return None
    elapsed = row["resolved"] - row["created"]  # type: ignore[operator]
    return elapsed.total_seconds() / 3600 - (1 if row["id"] == "T11" else 0)


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ws")
    tickets = [
        [
            r["id"],
            r["created"].strftime("%Y-%m-%d %H:%M"),  # type: ignore[union-attr]
            r["resolved"].strftime("%Y-%m-%d %H:%M") if r["resolved"] else None,  # type: ignore[union-attr]
            r["priority"],
            r["agent"],
            r["csat"],
            "true" if r["reopened"] else "false",
        ]
        for r in ROWS
    ]
    return workspace(root, KPIS, PEOPLE, tickets)


@pytest.fixture(scope="module")
def march(ws_path: Path) -> dict[tuple[str, str, str | None], KpiResult]:
    ws = load_workspace(ws_path)
    result = evaluate(compile_workspace(ws), "2025-03")
    return {(r.kpi, r.subject_type, r.subject): r for r in result.kpis}


def _subjects(level: str, subject: str | None) -> list[dict[str, object]]:
    rows = [r for r in ROWS if _march(r)]
    if level == "person":
        return [r for r in rows if r["agent"] == subject]
    if level == "unit":
        return [
            r
            for r in rows
            if UNIT_OF.get(str(r["agent"])) == subject or (subject == "org" and str(r["agent"]) in UNIT_OF)
        ]
    return rows


@pytest.mark.parametrize(
    ("level", "subject"),
    [
        ("person", "a1"),
        ("person", "a2"),
        ("person", "b1"),
        ("unit", "north"),
        ("unit", "south"),
        ("unit", "org"),
        ("organization", None),
    ],
)
def test_counts_and_medians_roll_up_from_raw_rows(march: dict, level: str, subject: str | None) -> None:
    rows = _subjects(level, subject)
    assert march[("volume", level, subject)].value == len(rows)
    hours = [h for r in rows if (h := _hours(r)) is not None]
    expected = statistics.median(hours)
    got = march[("median_hours", level, subject)]
    assert got.value is not None and abs(float(got.value) - expected) < 1e-9
    assert got.n == len(rows)


def test_time_zone_places_rows_in_the_organizations_month(march: dict) -> None:
    # T8 (23:30 on 31 March in Riga) is March; T9 (00:30 on 1 April in Riga) is not.
    assert march[("volume", "person", "b1")].value == 2


def test_dst_night_is_counted_as_elapsed_time(march: dict) -> None:
    a1 = [h for r in ROWS if _march(r) and r["agent"] == "a1" and (h := _hours(r)) is not None]
    assert 26 in a1
    assert float(march[("median_hours", "person", "a1")].value) == statistics.median(a1)


def test_segment_variants_use_their_params(march: dict) -> None:
    for level, subject in (("person", "a1"), ("organization", None)):
        rows = _subjects(level, subject)
        crit = [r for r in rows if r["priority"] == "critical"]
        rout = [r for r in rows if r["priority"] != "critical"]
        exp_c = sum(1 for r in crit if (h := _hours(r)) is not None and h <= 4) / len(crit)
        exp_r = sum(1 for r in rout if (h := _hours(r)) is not None and h <= 48) / len(rout)
        assert float(march[("sla.critical", level, subject)].value) == pytest.approx(exp_c, abs=1e-12)
        assert float(march[("sla.routine", level, subject)].value) == pytest.approx(exp_r, abs=1e-12)
        assert march[("sla.critical", level, subject)].n == len(crit)


def test_statuses(march: dict) -> None:
    # a1's critical SLA: T1 in 2h (yes), T2 in 6h (no) → 50% = threshold → yellow
    assert march[("sla.critical", "person", "a1")].value == Decimal("0.5")
    assert march[("sla.critical", "person", "a1")].status == "yellow"
    # b1 has 2 tickets in March (< min_sample 3)
    assert march[("median_hours", "person", "b1")].status == "insufficient"
    assert march[("median_hours", "person", "b1")].score is None
    # b1 has one csat answer in March: valid_if count(csat) >= 2 is false
    assert march[("csat_avg", "person", "b1")].status == "invalid"
    # a1: csat 5, 4, 5 → avg 4.667 ≥ target 4 → green
    assert march[("csat_avg", "person", "a1")].status == "green"
    assert march[("volume", "person", "a1")].status is None


def test_unknown_roster_person_counts_for_the_organization_only(march: dict) -> None:
    assert ("volume", "person", "zz") not in march
    march_rows = [r for r in ROWS if _march(r)]
    assert march[("volume", "organization", None)].value == len(march_rows)
    assert march[("volume", "unit", "org")].value == len([r for r in march_rows if r["agent"] != "zz"])


def test_rows_of_people_missing_from_the_roster_are_reported_per_period(ws_path: Path) -> None:
    ws = load_workspace(ws_path)
    result = evaluate(compile_workspace(ws), "2025-Q1", grain="month")
    warned = [d.message for d in result.diagnostics if "missing from the roster" in d.message]
    expected = {
        f"2025-{m:02d}": sum(
            1
            for r in ROWS
            if r["agent"] == "zz"
            and r["created"].month == m  # type: ignore[union-attr]
            and r["created"].year == 2025
        )
        for m in (1, 2, 3)
    }  # type: ignore[union-attr]
    assert warned == [
        f"{n} row(s) of `tickets` in {label} are attributed to people missing from the roster; "
        "they count for the organization only"
        for label, n in expected.items()
        if n
    ]
    assert warned


def test_unit_attribution_through_a_relation(march: dict) -> None:
    north = [r for r in ROWS if _march(r) and UNIT_OF.get(str(r["agent"])) == "north"]
    assert march[("by_owner_unit", "unit", "north")].value == len(north)
    assert ("by_owner_unit", "person", "a1") not in march


def test_derived_kpi_inherits_invalid_and_insufficient_inputs(march: dict) -> None:
    assert march[("rating_per_ticket", "person", "b1")].status == "invalid"  # csat_avg of b1 is invalid
    assert march[("rating_per_ticket", "person", "b1")].score is None
    assert march[("rating_per_ticket", "person", "a1")].status is None  # valid inputs, no target
    assert march[("double_median", "person", "b1")].status == "insufficient"
    assert march[("double_median", "person", "a1")].value == 2 * march[("median_hours", "person", "a1")].value


def test_relation_path_inside_a_formula(march: dict) -> None:
    rows = [r for r in ROWS if _march(r)]
    expected = sum(1 for r in rows if r["agent"] in ("a1", "a2", "b1")) / len(rows)  # zz is not on the roster
    assert float(march[("handled_by_roster_agents", "organization", None)].value) == pytest.approx(expected)
    assert march[("handled_by_roster_agents", "person", "a1")].value == 1


def test_derived_kpi_at_the_levels_of_its_inputs(march: dict) -> None:
    rows = [r for r in ROWS if _march(r)]
    expected = sum(1 for r in rows if r["reopened"]) / len(rows)
    got = march[("reopen_rate", "organization", None)]
    assert float(got.value) == pytest.approx(expected, abs=1e-12)
    assert got.n == len(rows)
    assert ("reopen_rate", "person", "a1") not in march


def test_ranks_are_competition_ranks(march: dict) -> None:
    ranks = {s: march[("volume", "person", s)].rank for s in ("a1", "a2", "b1")}
    # a1: 4 tickets (T1, T2, T3, T11), a2: 3, b1: 2 → higher is better
    assert ranks == {"a1": 1, "a2": 2, "b1": 3}


def test_period_kinds_and_grain(ws_path: Path) -> None:
    ws = load_workspace(ws_path)
    q1 = {
        (r.kpi, r.subject_type, r.subject, r.period): r
        for r in evaluate(compile_workspace(ws), "2025-Q1", grain="month").kpis
    }
    assert q1[("volume", "organization", None, "2025-02")].value == 1
    assert q1[("volume", "organization", None, "2025-03")].value == len([r for r in ROWS if _march(r)])
    assert q1[("volume", "organization", None, "2025-01")].value == 0
    assert q1[("volume", "organization", None, "2025-01")].status == "no_data"  # no rows, even without a target
    days = evaluate(compile_workspace(ws, ["volume"]), "2025-03-31..2025-04-01", at="organization").kpis
    assert [r.value for r in days] == [2]
    week = evaluate(compile_workspace(ws, ["volume"]), "2025-W10", at="organization").kpis  # 3–9 March
    assert week[0].value == len([r for r in ROWS if _march(r) and r["created"].day <= 9])  # type: ignore[union-attr]


def test_no_rows_gives_no_data(ws_path: Path) -> None:
    ws = load_workspace(ws_path)
    rows = {r.kpi: r for r in evaluate(compile_workspace(ws), "2024", at="organization").kpis}
    assert rows["volume"].value == 0 and rows["volume"].n == 0
    assert rows["median_hours"].value is None and rows["median_hours"].status == "no_data"
    # A derived KPI none of whose inputs has a row still reports the organization, as no_data.
    assert (rows["reopen_rate"].value, rows["reopen_rate"].n, rows["reopen_rate"].status) == (None, 0, "no_data")


def test_by_breaks_down_by_a_column(ws_path: Path) -> None:
    ws = load_workspace(ws_path)
    result = evaluate(compile_workspace(ws, ["volume"]), "2025-03", by=["priority"], at="organization")
    got = {dict(r.by)["priority"]: r.value for r in result.kpis}
    march_rows = [r for r in ROWS if _march(r)]
    assert got == {p: sum(1 for r in march_rows if r["priority"] == p) for p in ("critical", "normal")}
    assert result.scorecards == []


def test_by_a_column_some_kpis_lack_is_refused_naming_them() -> None:
    ws = load_workspace(EXAMPLES / "field_service")  # requests have a priority, timesheets do not
    with pytest.raises(KpiError) as refused:
        evaluate(compile_workspace(ws), "2026-03", by=["priority"])
    (problem,) = refused.value.diagnostics
    assert problem.code == "E401"
    assert problem.message == (
        "--by `priority`: source `timesheets` has no column `priority`, so KPI(s) "
        "`available_hours`, `productive_hours` cannot be broken down by it"
    )
    assert problem.hint is not None and "--kpi first_time_fix" in problem.hint
    assert "--kpi available_hours" not in problem.hint
    narrowed = evaluate(compile_workspace(ws, ["first_time_fix"]), "2026-03", by=["priority"], at="organization").kpis
    assert {(r.kpi, r.subject_type) for r in narrowed} == {("first_time_fix", "organization")}
    assert sorted(r.by for r in narrowed) == [(("priority", p),) for p in ("critical", "high", "low", "normal")]


@pytest.mark.parametrize(
    ("by", "message", "hint"),
    [
        ("priorty", "source `requests` has no column `priorty`", "did you mean `priority`?"),
        ("engineer.unti", "source `employees` has no column `unti`", "did you mean `unit`?"),
        ("enginer.unit", "source `requests` has no relation `enginer`", "did you mean `engineer`?"),
    ],
)
def test_by_a_misspelt_column_or_relation_gets_a_did_you_mean(by: str, message: str, hint: str) -> None:
    ws = load_workspace(EXAMPLES / "field_service")
    with pytest.raises(KpiError) as refused:
        evaluate(compile_workspace(ws, ["first_time_fix"]), "2026-03", by=[by])
    (problem,) = refused.value.diagnostics
    assert problem.message.startswith(f"--by `{by}`: {message}, so KPI(s) `first_time_fix`")
    assert problem.hint == hint


def test_json_output_is_deterministic_and_sorted(ws_path: Path) -> None:
    first = runner.invoke(app, ["evaluate", str(ws_path), "--period", "2025-03", "--format", "json"])
    second = runner.invoke(app, ["evaluate", str(ws_path), "--period", "2025-03", "--format", "json"])
    assert first.exit_code == 0, first.output
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a.pop("run")["id"] != b.pop("run")["id"]
    assert a == b
    keys = [(r["kpi"], r["subject_type"], r["subject"] or "", r["period"]) for r in a["kpis"]]
    assert keys == sorted(keys)
    assert set(a["kpis"][0]) == {"kpi", "subject_type", "subject", "period", "value", "n", "status", "score", "rank"}


def test_csv_output(ws_path: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(ws_path), "--period", "2025-03", "--format", "csv", "--kpi", "volume"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "kpi,subject_type,subject,period,value,n,status,score,rank"
    count = len([r for r in ROWS if _march(r)])
    assert f"volume,organization,,2025-03,{count},{count},,," in lines
    out = tmp_path / "out"
    folder = runner.invoke(
        app, ["evaluate", str(ws_path), "--period", "2025-03", "--format", "csv", "--out", str(out) + "/"]
    )
    assert folder.exit_code == 0, folder.output
    assert (out / "kpis.csv").is_file() and (out / "scorecards.csv").is_file()


def test_bad_period_is_a_usage_error_with_its_code(ws_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(ws_path), "--period", "2025-13"])
    assert result.exit_code == 2  # SPEC §9: a value that cannot be parsed is a usage error
    assert "error[E417]: Invalid value for '--period': `2025-13`: month 13 does not exist" in result.output


def test_subjects_without_rows_appear_only_where_a_scorecard_needs_them(tmp_path: Path) -> None:
    tickets = [
        [
            r["id"],
            r["created"].strftime("%Y-%m-%d %H:%M"),  # type: ignore[union-attr]
            r["resolved"].strftime("%Y-%m-%d %H:%M") if r["resolved"] else None,  # type: ignore[union-attr]
            r["priority"],
            r["agent"],
            r["csat"],
            "true" if r["reopened"] else "false",
        ]
        for r in ROWS
    ]
    card = """\
scorecards:
  lead:
    applies_to: {roles: [lead]}
    kpis:
      - {kpi: median_hours, weight: 50%}
      - {kpi: sla.critical, weight: 25%, at: unit}
      - {kpi: csat_avg, weight: 25%, at: unit}
"""
    ws = load_workspace(workspace(tmp_path / "ws", KPIS, PEOPLE, tickets, extra=card))
    result = evaluate(compile_workspace(ws), "2025-03")
    rows = {(r.kpi, r.subject_type, r.subject): r for r in result.kpis}
    assert rows[("median_hours", "person", "n1")].status == "no_data"  # the lead has no tickets of his own
    assert rows[("median_hours", "person", "n1")].n == 0
    assert ("volume", "person", "n1") not in rows  # no scorecard needs it
    (card_result,) = result.scorecards
    assert card_result.person == "n1"
    assert [i.status for i in card_result.items][0] == "no_data"


def _values(root: Path, period: str, grain: str | None, root_set: str) -> dict[tuple[object, ...], tuple[object, ...]]:
    from kpi_engine.evaluation import open_data, period_of, slices_of
    from kpi_engine.evaluation.org import load_org
    from kpi_engine.evaluation.values import evaluate_values
    from kpi_engine.periods import split

    compiled = compile_workspace(root)
    ws, formulas = compiled.workspace, compiled.formulas
    whole = period_of(ws, period)
    periods = split(whole, grain, ws.organization.fiscal_year_start) if grain else [whole]  # type: ignore[arg-type]
    with open_data(ws) as (wh, _, _):
        org = load_org(ws, wh)
        values = evaluate_values(
            ws, formulas, wh, compiled.plan, slices_of(ws, periods), org.paths, org.people, root_set=root_set
        )  # type: ignore[arg-type]
    return {(v.kpi, v.level, v.subject, v.period, v.by): (v.value, v.n, v.valid) for v in values.records()}


EXAMPLES = Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples"


@pytest.mark.parametrize(
    ("which", "period", "grain"),
    [
        ("tiny", "2025-03", None),  # a row of someone not on the roster: the root is queried on its own
        ("tiny", "2025-02", None),  # every row belongs to a unit: the root's values are the organization's
        ("tiny", "2025", "month"),
        ("support", "2026", "month"),
        ("field_service", "2026", "quarter"),
        ("bank_internal_service", "2026", None),
    ],
)
def test_root_unit_shortcut_gives_the_values_of_its_own_grouping_set(
    ws_path: Path, which: str, period: str, grain: str | None
) -> None:
    root = ws_path if which == "tiny" else EXAMPLES / which
    skipped = _values(root, period, grain, "skip")
    kept = _values(root, period, grain, "keep")
    assert skipped == kept
    assert any(k[1] == "unit" for k in kept)
