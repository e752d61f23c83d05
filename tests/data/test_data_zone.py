"""Wall-clock timestamps through the zone table (engine/data/zone.py): the same instants and rejects as ICU."""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

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
        found = zone.zone_for(conn, [(first, last, count)])
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
        assert zone.zone_for(conn, [(*year, zone.MIN_VALUES - 1)]) is None  # few values: ICU for each
        assert zone.zone_for(conn, [(*three_years, 100_000)]) is None  # more hours than values / 4
        assert zone.zone_for(conn, [(None, None, 0)]) is None
        built = zone.zone_for(conn, [(*year, 100_000), (None, None, 0)])
    assert built is not None
    assert built.offsets == (7_200_000_000, None, 10_800_000_000, None, 7_200_000_000)
    assert built.end == start + 8760 * hour
