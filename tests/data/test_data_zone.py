"""Wall-clock timestamps through the zone table (engine/data/zone.py): the same instants and rejects as ICU."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from datakit import columns, load, write
from sqlglot import exp

from kpi_engine.config.model import CsvOptions
from kpi_engine.data import zone
from kpi_engine.sql.render import to_sql

# Zones with odd transitions: 30-minute DST (Lord Howe), 2-hour DST (Troll), a skipped day (Apia,
# 2011-12-30), DST at midnight (Santiago), a quarter-hour offset (Kathmandu), half-hour offsets
# with DST (St John's), DST that pauses for Ramadan (Casablanca).
ZONES = (
    "Europe/Riga",
    "Australia/Lord_Howe",
    "Antarctica/Troll",
    "Pacific/Apia",
    "America/Santiago",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Africa/Casablanca",
    "UTC",
)


@pytest.mark.parametrize("name", ZONES)
@pytest.mark.parametrize("year", [1970, 2011, 2025])
def test_the_zone_table_gives_icus_instant_for_every_reading(name: str, year: int) -> None:
    with duckdb.connect() as conn:
        conn.execute(f"SET TimeZone = '{name}'")
        conn.execute(
            f"""CREATE TABLE readings AS SELECT range AS w FROM range(TIMESTAMP '{year}-01-01',
                TIMESTAMP '{year + 1}-01-01', INTERVAL 7 MINUTE)"""
        )
        ((first, last, count),) = conn.execute(
            "SELECT epoch_us(min(w)), epoch_us(max(w)), count(*) FROM readings"
        ).fetchall()
        found = zone.zone_for(conn, [(first, last)], count)
        assert found is not None
        wall = exp.column("w")
        offset = found.offset(wall)
        differ = exp.NullSafeNEQ(
            this=zone.instant(wall, offset),
            expression=exp.TryCast(this=wall.copy(), to=exp.DataType.build("TIMESTAMPTZ")),
        )
        query = exp.select(
            exp.func("count", exp.Star()),
            exp.Filter(
                this=exp.func("count", exp.Star()),
                expression=exp.Where(this=exp.Is(this=offset.copy(), expression=exp.null())),
            ),
        ).from_("readings")
        ((_, through_icu),) = conn.execute(to_sql(query, "duckdb")).fetchall()
        ((mismatches,),) = conn.execute(
            to_sql(exp.select(exp.func("count", exp.Star())).from_("readings").where(differ), "duckdb")
        ).fetchall()
    assert mismatches == 0
    assert through_icu < 30  # only the hours holding a transition go through ICU


def test_the_zone_table_is_built_only_when_it_pays() -> None:
    hour = zone.HOUR_US
    start = 1_735_689_600_000_000  # 2025-01-01 00:00 as a wall-clock reading
    year, three_years = (start, start + 8759 * hour), (start, start + 3 * 8760 * hour)
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'Europe/Riga'")
        assert zone.zone_for(conn, [year], zone.MIN_VALUES - 1) is None  # few values: ICU for each
        assert zone.zone_for(conn, [three_years], 100_000) is None  # more hours than values / 4
        assert zone.zone_for(conn, [(None, None)], 100_000) is None
        built = zone.zone_for(conn, [year, (None, None)], 100_000)
    assert built is not None
    assert built.offsets == (7_200_000_000, None, 10_800_000_000, None, 7_200_000_000)
    assert built.end == start + 8760 * hour
    assert not zone.inside([year, (zone.WINDOW_US[1], zone.WINDOW_US[1])]) and zone.inside([year, (None, None)])


RIGA = (
    "id,at\n"
    "before-spring,2025-03-30 02:59\n"
    "gap,2025-03-30 03:30\n"
    "after-spring,2025-03-30 04:00\n"
    "offset-in-gap,2025-03-30T03:30:00+03:00\n"
    "before-autumn,2025-10-26 02:59\n"
    "repeated-hour,2025-10-26 03:30\n"
    "after-autumn,2025-10-26 04:00\n"
)
RIGA_UTC = {
    "before-spring": "2025-03-30 00:59",
    "after-spring": "2025-03-30 01:00",
    "offset-in-gap": "2025-03-30 00:30",
    "before-autumn": "2025-10-25 23:59",
    "repeated-hour": "2025-10-26 01:30",
    "after-autumn": "2025-10-26 02:00",
}
GAP = "'2025-03-30 03:30' does not exist in Europe/Riga (the clocks jump forward over it)"


@pytest.fixture
def tabled(monkeypatch: pytest.MonkeyPatch) -> list[zone.Zone | None]:
    """Make every file use the zone table, however few its values; the tables built, for checks."""
    built: list[zone.Zone | None] = []
    real = zone.zone_for

    def spy(
        conn: duckdb.DuckDBPyConnection, spans: list[tuple[int | None, int | None]], values: int
    ) -> zone.Zone | None:
        built.append(real(conn, spans, values))
        return built[-1]

    monkeypatch.setattr(zone, "MIN_VALUES", 1)
    monkeypatch.setattr(zone, "VALUES_PER_HOUR", 0.0001)
    monkeypatch.setattr(zone, "zone_for", spy)
    return built


def _utc(got: object) -> dict[str, str]:
    return dict(got.warehouse.fetch("SELECT id, strftime(timezone('UTC', \"at\"), '%Y-%m-%d %H:%M') FROM src"))  # type: ignore[attr-defined]


def test_csv_readings_through_the_table_load_and_reject_as_through_icu(tmp_path: Path, tabled: list) -> None:
    write(tmp_path, "s.csv", RIGA)
    got = load(tmp_path, "s.csv", columns(id="string", at="timestamp"))
    assert tabled and tabled[0] is not None
    assert _utc(got) == RIGA_UTC
    assert got.reasons() == [(3, "at", GAP)]


def test_parquet_readings_through_the_table_load_and_reject_as_through_icu(tmp_path: Path, tabled: list) -> None:
    rows = [line.split(",") for line in RIGA.splitlines()[1:] if "+" not in line]
    values = ", ".join(f"('{i}', TIMESTAMP '{at}')" for i, at in rows)
    with duckdb.connect() as conn:
        conn.execute(
            f"COPY (SELECT * FROM (VALUES {values}) t(id, \"at\")) TO '{tmp_path / 'p.parquet'}' (FORMAT parquet)"
        )
    got = load(tmp_path, "p.parquet", columns(id="string", at="timestamp"))
    assert tabled and tabled[0] is not None
    assert _utc(got) == {k: v for k, v in RIGA_UTC.items() if k != "offset-in-gap"}
    assert got.reasons() == [(2, "at", GAP.replace("03:30'", "03:30:00'"))]


@pytest.mark.parametrize("table", [False, True], ids=["icu", "table"])
def test_a_reading_in_the_declared_format_is_checked_for_the_dst_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: bool
) -> None:
    if table:
        monkeypatch.setattr(zone, "MIN_VALUES", 1)
        monkeypatch.setattr(zone, "VALUES_PER_HOUR", 0.0001)
    write(tmp_path, "s.csv", "id;at\ngap;30.03.2025 03:30\nafter;30.03.2025 04:30\niso;2025-03-30 03:30\n")
    options = CsvOptions(delimiter=";", timestamp_format="%d.%m.%Y %H:%M")
    got = load(tmp_path, "s.csv", columns(id="string", at="timestamp"), csv=options)
    assert _utc(got) == {"after": "2025-03-30 01:30"}
    assert got.reasons() == [
        (2, "at", "'30.03.2025 03:30' does not exist in Europe/Riga (the clocks jump forward over it)"),
        (4, "at", GAP),
    ]


def test_a_declared_format_with_an_offset_is_taken_as_written(tmp_path: Path) -> None:
    write(tmp_path, "s.csv", "id;at\na;30.03.2025 03:30 +0300\nb;nonsense\n")
    options = CsvOptions(delimiter=";", timestamp_format="%d.%m.%Y %H:%M %z")
    got = load(tmp_path, "s.csv", columns(id="string", at="timestamp"), csv=options)
    assert _utc(got) == {"a": "2025-03-30 00:30"}
    assert [reason for *_, reason in got.reasons()] == [
        "'nonsense' is not a valid timestamp (expected YYYY-MM-DD HH:MM[:SS], optionally with an offset "
        "within ±14:00, or %d.%m.%Y %H:%M %z)"
    ]


def test_a_reading_far_off_goes_through_icu_without_stretching_the_table(tmp_path: Path, tabled: list) -> None:
    write(tmp_path, "s.csv", "id,at\na,2025-03-30 02:30\nb,2999-03-30 12:00\nc,2025-03-30 04:30\nd,1850-01-01 12:00\n")
    got = load(tmp_path, "s.csv", columns(id="string", at="timestamp"))
    (built,) = tabled
    assert built is not None and built.end <= 1_743_400_000_000_000  # the table ends in 2025
    assert _utc(got) == {
        "a": "2025-03-30 00:30",
        "b": "2999-03-30 10:00",  # before that year's switch to summer time
        "c": "2025-03-30 01:30",
        "d": "1850-01-01 10:23",  # Riga's local mean time then, +1:36:34
    }
