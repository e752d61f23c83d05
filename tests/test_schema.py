"""The JSON Schema of definitions files and the diagnostics check_shape derives from it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kpi_engine.config.loader import load_file
from kpi_engine.config.schema import check_shape, load_schema
from kpi_engine.errors import Code, Diagnostic

FULL_EXAMPLE = """\
organization:
  name: Acme Support
  version: "2026.1"
  effective_from: 2026-01-01
  currency: EUR
  timezone: Europe/Riga
  fiscal_year_start: "04-01"
  people:
    source: employees
    id: employee_id
    unit: unit_id
    role: role
    name: full_name
    base_salary: base_salary
    fte: fte
    hired: hire_date
    left: leave_date
  units:
    source: departments
    id: dept_id
    name: dept_name
    parent: parent_id
    tags: tags
  score_points: {threshold: 50%, target: 100%, stretch: 150%}
include: [library/support.yaml]
units:
  bank:     {name: Bank}
  central:  {name: Central office, parent: bank}
  finance:  {name: Finance, parent: central, tags: [support]}
  retail:   {name: Retail network, parent: bank, tags: [business]}
sources:
  tickets:
    path: data/tickets.csv
    key: ticket_id
    time: created_at
    columns:
      ticket_id: string
      created_at: timestamp
      priority: {type: string, values: [critical, high, normal, low]}
      agent_id: {type: string, required: true}
      csat: {type: integer, min: 1, max: 5}
    relations:
      agent: {source: employees, key: agent_id}
    csv: {delimiter: ";", decimal: ",", thousands: " ", quote: '"', encoding: cp1251, header: true,
          nulls: ["", "NULL", "-"], date_format: "%d.%m.%Y", timestamp_format: "%d.%m.%Y %H:%M"}
  employees:
    path: data/employees.xlsx
    sheet: Staff
  legacy:
    table: legacy_tickets
params:
  correction_coefficient: 0.8
  sla_hours: 4
  grace: 15min
  region: north
calendars:
  office:
    timezone: Europe/Riga
    week: {mon: "09:00-18:00", tue: "09:00-18:00", wed: "09:00-12:00, 13:00-18:00", fri: "09:00-17:00"}
    holidays: [2025-01-01, 2025-06-23, 2025-06-24, 2025-12-25]
segments:
  critical:
    source: tickets
    where: priority = 'critical' or equipment_down
    description: equipment stopped, the client's production is down
  routine:
    source: tickets
    where: not critical
goals:
  faster_support:
    name: Resolve critical incidents before they cost the client production
    owner: support_director
    horizon: {from: 2026-01-01, to: 2026-12-31}
kpis:
  first_response_minutes:
    name: Median first response time
    description: Minutes from a request to the first human answer
    goal: faster_support
    source: tickets
    by: {person: agent_id}
    formula: median(minutes(first_response_at - created_at))
    where: channel <> 'phone'
    segment: routine
    time: created_at
    unit: minutes
    direction: lower
    category: speed
    indicator: leading
    min_sample: 30
    valid_if: share(force_majeure) < 10%
    target: {threshold: 15, target: 10, stretch: 5}
    effective_from: 2026-01-01
  resolved_in_sla:
    source: tickets
    by: {person: agent_id}
    formula: share(hours(resolved_at - created_at) <= $sla_hours)
    direction: higher
    segments:
      critical: {params: {sla_hours: 4},  target: {threshold: 70%, target: 80%}}
      routine:  {params: {sla_hours: 96}, target: {threshold: 70%, target: 80%}, scoring: {method: ratio}}
  resolution_time:
    source: tickets
    by: {unit: rated_unit}
    formula: median(resolved_at - created_at)
    direction: lower
    target: {threshold: 24h, target: 8h}
    scoring: {method: bands, bands: [{to: 24h, score: 50%}, {to: 8h, score: 100%}]}
  load:
    source: tickets
    formula: count() / count_distinct(agent_id)
    direction: range
    target: {min: 15, max: 20, threshold_min: 10, threshold_max: 25}
  growth:
    formula: revenue / visits
    target: {vs: previous, threshold_change: 0%, change: +10%, stretch_change: +20%}
  halved:
    formula: incidents
    direction: lower
    target: {vs: previous, change: -50%}
  benchmarked:
    formula: resolution_time
    direction: lower
    target: {benchmark: 24h, better_by: 25%}
    scoring: {method: binary}
scorecards:
  support_director:
    tags: [support]
    applies_to: {roles: [director], unit_tags: [support]}
    period: year
    kpis:
      - {kpi: internal_service_quality, weight: 25%, at: unit}
      - {kpi: resolved_in_sla.critical, weight: 35%, at: unit, target: {threshold: 70%, target: 80%}}
      - {kpi: csat, weight: 15%}
      - {kpi: csat, weight: 10%, at: unit}
      - {kpi: company_profit, weight: 15%, at: organization, effective_from: 2026-07-01}
    on_insufficient: renormalize
  engineer:
    applies_to: {roles: [engineer], units: [north, 17]}
    kpis:
      - {kpi: csat, weight: 1, scoring: {method: linear}}
policies:
  internal_service_support:
    description: internal service quality weighs 20-25% for support directors
    scorecards: {tags: [support]}
    kpi: internal_service_quality
    weight: {min: 20%, max: 25%}
  internal_service_business:
    scorecards: {ids: [support_director]}
    kpi: internal_service_quality
    weight: {min: 0.1, max: 0.15}
  focus:
    scorecards: all
    kpi_count: {min: 3, max: 10}
bonus_plans:
  directors_2026:
    scorecards: [support_director, business_director]
    period: 2026
    target_bonus: 20% of base_salary
    payout: {gate: 60%, cap: 150%}
    pool: {amount: 250000}
    proration: [fte, employment]
    rounding: {to: 0.01, mode: half_up}
  fixed:
    scorecards: [engineer]
    target_bonus: 5000
    proration: []
    rounding: {to: 1, mode: half_even}
  from_column:
    scorecards: [engineer]
    period: 2026-Q1
    target_bonus: column target_bonus
tests:
  unresolved_critical_request_misses_sla:
    period: 2025-03
    data:
      employees:
        - {employee_id: e1, full_name: Test Engineer, unit_id: north, role: engineer}
      requests:
        - {request_id: R1, created_at: 2025-03-01 10:00, resolved_at: 2025-03-01 12:00, priority: critical}
        - {request_id: R2, created_at: 2025-03-02 10:00, resolved_at: null, priority: critical}
    expect:
      - {kpi: resolved_in_sla.critical, subject: e1, value: 50%, status: red}
      - {kpi: resolved_in_sla.critical, at: organization, n: 2}
      - {scorecard: engineer, person: e1, total_score: 0%}
      - {plan: engineers_2025, person: e1, payout: "0.00"}
"""


def shape(tmp_path: Path, text: str) -> list[Diagnostic]:
    """Write ``text`` to a file, load it strictly and check its shape."""
    path = tmp_path / "defs.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    loaded = load_file(path)
    assert loaded.diagnostics == []
    return check_shape(loaded.data, loaded.source_map)


def where(diagnostics: list[Diagnostic]) -> list[tuple[Code, int, int]]:
    out = []
    for d in diagnostics:
        assert d.span is not None
        out.append((d.code, d.span.line, d.span.col))
    return out


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(load_schema())
    repository_copy = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "kpi.schema.json").read_text())
    assert load_schema() == repository_copy  # the package data is the repository's schemas/ file


def test_every_property_has_a_description() -> None:
    missing: list[str] = []

    def walk(node: Any, at: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    missing.append(f"{at}.{name}")
            for key, value in node.items():
                walk(value, f"{at}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{at}[{index}]")

    walk(load_schema(), "#")
    assert missing == []


def test_full_example_is_valid(tmp_path: Path) -> None:
    assert shape(tmp_path, FULL_EXAMPLE) == []


def test_empty_file_has_nothing_to_check(tmp_path: Path) -> None:
    assert shape(tmp_path, "# nothing yet\n") == []


def test_unknown_top_level_key_suggests_the_section(tmp_path: Path) -> None:
    [d] = shape(tmp_path, "params: {a: 1}\nkpi:\n  csat: {formula: avg(csat)}\n")
    assert where([d]) == [(Code.UNKNOWN_KEY, 2, 1)]
    assert d.message == "unknown key `kpi` at the top level"
    assert d.hint == "did you mean `kpis`?"


def test_misspelled_nested_key_is_reported_once_at_the_key(tmp_path: Path) -> None:
    diagnostics = shape(
        tmp_path,
        """\
        scorecards:
          agent:
            kpis:
              - {kpi: csat, weigth: 25%}
        """,
    )
    assert where(diagnostics) == [(Code.UNKNOWN_KEY, 4, 21)]  # no "missing weight" on top of it
    assert diagnostics[0].hint == "did you mean `weight`?"
    assert "scorecards.agent.kpis[0]" in diagnostics[0].message


def test_missing_required_keys_name_the_key(tmp_path: Path) -> None:
    diagnostics = shape(tmp_path, "units: {}\norganization:\n  currency: EUR\n")
    assert where(diagnostics) == [(Code.MISSING_KEY, 2, 1), (Code.MISSING_KEY, 2, 1)]
    assert sorted(d.message for d in diagnostics) == [
        "`organization` needs the key `name`",
        "`organization` needs the key `version`",
    ]


@pytest.mark.parametrize(
    ("text", "line", "col", "message", "hint"),
    [
        pytest.param(
            "bonus_plans:\n  p:\n    scorecards: [a]\n    target_bonus: 5000\n    pool: {amount: 1e3}\n",
            5,
            20,
            "expected a number, found the string `1e3`",
            "write numbers as digits with an optional decimal point, e.g. 1000",
            id="1e3",
        ),
        pytest.param(
            "sources:\n  t:\n    path: t.csv\n    csv:\n      header: yes\n",
            5,
            15,
            "expected true or false, found the string `yes`",
            "write true or false",
            id="yes",
        ),
        pytest.param(
            "sources:\n  t:\n    path: t.csv\n    columns: {id: {type: string, required: True}}\n",
            4,
            44,
            "expected true or false, found the string `True`",
            "write true or false",
            id="True",
        ),
        pytest.param(
            "kpis:\n  csat:\n    formula: avg(csat)\n    by:\n      - agent_id\n",
            5,
            7,
            "expected a mapping, found a list",
            "write `key: value` pairs here, not a list of `- ` items",
            id="list-for-mapping",
        ),
        pytest.param(
            "kpis:\n  csat:\n    formula: avg(csat)\n    min_sample: true\n",
            4,
            17,
            "expected a whole number, found `true`",
            None,
            id="bool-is-not-a-number",
        ),
        pytest.param(
            "organization:\n  name: Acme\n  version: 1.10\n",
            3,
            12,
            "expected text, found the number `1.10`",
            'quote it: version: "1.10"',
            id="version",
        ),
    ],
)
def test_wrong_types(tmp_path: Path, text: str, line: int, col: int, message: str, hint: str | None) -> None:
    [d] = shape(tmp_path, text)
    assert where([d]) == [(Code.WRONG_TYPE, line, col)]
    assert (d.message, d.hint) == (message, hint)


def test_bad_id_points_at_the_key(tmp_path: Path) -> None:
    [d] = shape(tmp_path, "kpis:\n  Bad-Id:\n    formula: count()\n")
    assert where([d]) == [(Code.BAD_ID, 2, 3)]
    assert d.message == "`Bad-Id` is not a valid id"
    assert d.hint is not None and "`bad_id`" in d.hint


def test_enum_suggests_the_closest_value(tmp_path: Path) -> None:
    [d] = shape(tmp_path, "kpis:\n  csat:\n    formula: avg(csat)\n    direction: upper\n")
    assert where([d]) == [(Code.BAD_VALUE, 4, 16)]
    assert d.message == "`upper` is not a valid `direction`: expected one of `higher`, `lower`, `range`"
    assert d.hint == "did you mean `higher`?"


def test_bare_weight_above_one_is_a_bad_percent(tmp_path: Path) -> None:
    [d] = shape(tmp_path, "scorecards:\n  agent:\n    kpis:\n      - {kpi: csat, weight: 25}\n")
    assert where([d]) == [(Code.BAD_PERCENT, 4, 29)]
    assert d.hint is not None and d.hint.startswith("write 25% or 0.25")


@pytest.mark.parametrize(
    ("text", "line", "col", "code"),
    [
        pytest.param(
            "bonus_plans:\n  p: {scorecards: [a], target_bonus: 5000, payout: {cap: 1.5}}\n",
            2,
            58,
            Code.BAD_PERCENT,
            id="cap-as-bare-number",
        ),
        pytest.param(
            "bonus_plans:\n  p: {scorecards: [a], target_bonus: 20 of base_salary}\n",
            2,
            38,
            Code.BAD_PERCENT,
            id="target-bonus-bare-number",
        ),
        pytest.param(
            "organization:\n  name: A\n  version: '1'\n  score_points: {stretch: 150}\n",
            4,
            27,
            Code.BAD_PERCENT,
            id="score-points",
        ),
        pytest.param(
            "kpis:\n  k: {formula: x, target: {vs: previous, change: 10}}\n",
            2,
            50,
            Code.BAD_PERCENT,
            id="signed-change",
        ),
        pytest.param(
            "policies:\n  p: {scorecards: all, kpi: k, weight: {min: '-5%'}}\n",
            2,
            46,
            Code.BAD_PERCENT,
            id="negative-weight-bound",
        ),
    ],
)
def test_fractions(tmp_path: Path, text: str, line: int, col: int, code: Code) -> None:
    assert where(shape(tmp_path, text)) == [(code, line, col)]


def test_impossible_date(tmp_path: Path) -> None:
    [d] = shape(tmp_path, "kpis:\n  csat:\n    formula: avg(csat)\n    effective_from: 2024-02-30\n")
    assert where([d]) == [(Code.BAD_DATE, 4, 21)]
    assert d.message == "`2024-02-30` is not a valid date (day is out of range for month)"


def test_holiday_dates_are_checked(tmp_path: Path) -> None:
    text = "calendars:\n  office:\n    week: {mon: '09:00-18:00'}\n    holidays: [2025-01-01, 2025-13-01]\n"
    assert where(shape(tmp_path, text)) == [(Code.BAD_DATE, 4, 28)]


def test_duration_with_m_is_ambiguous(tmp_path: Path) -> None:
    [d] = shape(tmp_path, "kpis:\n  frt:\n    formula: x\n    target: {threshold: 4m, target: 30min}\n")
    assert where([d]) == [(Code.BAD_DURATION, 4, 25)]
    assert d.hint is not None and d.hint.startswith("`m` is ambiguous: write 4min")


def test_param_duration(tmp_path: Path) -> None:
    assert where(shape(tmp_path, "params:\n  sla: 4m\n  ok: 4h\n")) == [(Code.BAD_DURATION, 2, 8)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("sources:\n  t: {path: a.csv, table: a}\n", [(Code.BAD_VALUE, 2, 20)], id="path-and-table"),
        pytest.param("sources:\n  t: {key: id}\n", [(Code.MISSING_KEY, 2, 3)], id="neither-path-nor-table"),
        pytest.param("kpis:\n  k: {formula: x, by: {person: a, unit: b}}\n", [(Code.BAD_VALUE, 2, 35)], id="by-both"),
        pytest.param(
            "kpis:\n  k: {formula: x, target: {target: 10, min: 5, max: 20}}\n",
            [(Code.BAD_VALUE, 2, 40), (Code.BAD_VALUE, 2, 48)],
            id="target-forms-mixed",
        ),
        pytest.param(
            "kpis:\n  k: {formula: x, target: {vs: previous}}\n",
            [(Code.MISSING_KEY, 2, 28)],
            id="relative-target-without-change",
        ),
        pytest.param(
            "kpis:\n  k: {formula: x, scoring: {method: bands}}\n",
            [(Code.MISSING_KEY, 2, 19)],
            id="bands-without-bands",
        ),
        pytest.param(
            "kpis:\n  k: {formula: x, scoring: {method: bands, bands: [{from: 1, to: 2, score: 50%}]}}\n",
            [(Code.BAD_VALUE, 2, 62)],
            id="band-from-and-to",
        ),
        pytest.param("calendars:\n  c:\n    week: {mon: '9-18'}\n", [(Code.BAD_VALUE, 3, 17)], id="window"),
        pytest.param(
            "tests:\n  t: {period: 2025-13, expect: [{kpi: k, n: 1}]}\n", [(Code.BAD_VALUE, 2, 15)], id="period"
        ),
        pytest.param(
            "policies:\n  p: {scorecards: al, kpi_count: {min: 3}}\n", [(Code.BAD_VALUE, 2, 19)], id="policy-selector"
        ),
        pytest.param(
            "bonus_plans:\n  p: {scorecards: [a], target_bonus: 1, proration: [fte, fte]}\n",
            [(Code.BAD_VALUE, 2, 58)],
            id="unique-items",
        ),
        pytest.param(
            "organization: {name: A, version: '1', currency: eur}\n", [(Code.BAD_VALUE, 1, 49)], id="currency"
        ),
    ],
)
def test_constraints(tmp_path: Path, text: str, expected: list[tuple[Code, int, int]]) -> None:
    assert where(shape(tmp_path, text)) == expected


def test_diagnostics_are_sorted_and_never_raw_jsonschema(tmp_path: Path) -> None:
    diagnostics = shape(
        tmp_path,
        """\
        kpis:
          k:
            formula: x
            direction: sideways
            target: {threshold: abc}
        organization: {name: A}
        """,
    )
    assert [d.span.line for d in diagnostics if d.span] == sorted(d.span.line for d in diagnostics if d.span)
    for d in diagnostics:
        assert "is not valid under any of the given schemas" not in d.message
        assert "'" not in d.message


def test_fifty_files_of_ten_kpis_are_clean(tmp_path: Path) -> None:
    """Fifty generated files shape-check without a diagnostic; how long it takes is
    benchmarks/bench_shape.py's business (tests do not time things)."""
    kpi = textwrap.dedent("""\
          k{f}_{k}:
            source: tickets
            by: {{person: agent_id}}
            formula: share(hours(resolved_at - created_at) <= $sla_hours)
            target: {{threshold: 70%, target: 80%, stretch: 90%}}
            segments:
              critical: {{params: {{sla_hours: 4}}, target: {{threshold: 24h, target: 8h}}}}
        """)
    paths = []
    for f in range(50):
        path = tmp_path / f"f{f:02}.yaml"
        entries = "".join(textwrap.indent(kpi.format(f=f, k=k), "  ") for k in range(10))
        path.write_text("kpis:\n" + entries, encoding="utf-8")
        paths.append(path)
    for path in paths:
        loaded = load_file(path)
        assert check_shape(loaded.data, loaded.source_map) == []
        assert len(loaded.data["kpis"]) == 10


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    [d] = shape(tmp_path, "- kpis\n- sources\n")
    assert where([d]) == [(Code.WRONG_TYPE, 1, 1)]
    assert d.message == "expected a mapping, found a list"


def test_prefix_of_an_included_file_is_kept_in_spans(tmp_path: Path) -> None:
    path = tmp_path / "fragment.yaml"
    path.write_text("kpis:\n  csat: {formula: avg(csat), direction: upper}\n", encoding="utf-8")
    loaded = load_file(path, prefix=("fragment",))
    assert where(check_shape(loaded.data, loaded.source_map, prefix=("fragment",))) == [(Code.BAD_VALUE, 2, 41)]
