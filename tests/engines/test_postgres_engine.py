"""The PostgreSQL engine on a throwaway cluster: sessions, table sources read in place with the
import's checks, refusals with codes and hints, sealing, and failures classified (SPEC §12)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlglot import exp

from kpi_engine.config.model import Column, Source
from kpi_engine.errors import Code, KpiError
from kpi_engine.execution import Engine, QueryFailed, open_session, without_credentials

psycopg = pytest.importorskip("psycopg")

ZONE = "Europe/Riga"


@pytest.fixture(scope="module")
def url(postgres_url: str) -> Iterator[str]:
    """The cluster with schema `shop`: table `orders` (text cells to type) and `events` (timestamps)."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop")
        conn.execute(
            "CREATE TABLE shop.orders (id TEXT, qty TEXT, amount NUMERIC(12, 4), kind TEXT, share DOUBLE PRECISION)"
        )
        conn.execute(
            """INSERT INTO shop.orders VALUES
               ('o1', '2', 10.5, 'web', 0.5), ('o2', ' 3 ', 1.25, 'shop', 1),
               ('o3', 'x', 2, 'web', 0.1),     ('o1', '4', 3, 'web', 0.2),
               (NULL, '5', 4, 'web', 0.3),     ('o4', '-1', 5, 'fax', 0.4)"""
        )
        conn.execute("CREATE TABLE public.events (id BIGINT, wall TIMESTAMP, instant TIMESTAMPTZ, day DATE)")
        conn.execute(
            """INSERT INTO public.events VALUES
               (1, '2025-03-30 02:30', '2025-03-30 00:30+00', '2025-03-30'),
               (2, '2025-03-30 03:30', '2025-03-30 01:30+00', '2025-03-31'),
               (3, '2025-10-26 03:30', '2025-10-26 00:30+00', NULL)"""
        )
        yield postgres_url


def _orders() -> Source:
    columns = {
        "id": Column("id", "string"),
        "qty": Column("qty", "integer", required=True, min=Decimal(0)),
        "amount": Column("amount", "decimal"),
        "kind": Column("kind", "string", values=("web", "shop")),
        "share": Column("share", "number"),
    }
    return Source("orders", Path("."), table="shop.orders", key="id", columns=columns)


def _events(**types: str) -> Source:
    names = {"id": "integer", "wall": "timestamp", "instant": "timestamp", "day": "date", **types}
    return Source("events", Path("."), table="events", columns={n: Column(n, t) for n, t in names.items()})


def _all(engine: Engine, table: str, order: str) -> list[tuple[object, ...]]:
    return engine.run(exp.select(exp.Star()).from_(exp.to_identifier(table)).order_by(exp.column(order)))


def test_a_session_is_an_engine_in_the_zone(url: str) -> None:
    with open_session(ZONE, "postgres", url) as engine:
        assert isinstance(engine, Engine)
        assert (engine.name, engine.dialect, engine.timezone) == ("postgres", "postgres", ZONE)
        assert engine.version.split(".")[0].isdigit()
        assert engine.connection == url
        assert engine.run(exp.select(exp.func("current_setting", exp.Literal.string("TimeZone")))) == [(ZONE,)]
        instant = exp.cast(exp.Literal.string("2025-07-01 09:00:00+00"), "TIMESTAMPTZ")
        assert engine.run(exp.select(instant)) == [("2025-07-01 12:00:00+03",)]  # ISO text in the zone
        assert engine.relations() == {"rejects"}


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("postgresql://ann:s3cret@db.example:5432/kpi", "postgresql://ann@db.example:5432/kpi"),
        ("postgresql://ann@db/kpi?password=s3cret&sslmode=require", "postgresql://ann@db/kpi?sslmode=require"),
        ("postgresql:///kpi?host=/tmp/x", "postgresql:///kpi?host=/tmp/x"),
        ("host=db user=ann password='s e' dbname=kpi", "host=db user=ann dbname=kpi"),
    ],
)
def test_the_connection_is_shown_without_its_password(given: str, shown: str) -> None:
    assert without_credentials(given) == shown


def test_table_sources_are_typed_and_checked_like_an_import(url: str) -> None:
    with open_session(ZONE, "postgres", url) as engine:
        report = engine.register_sources({"orders": _orders()})
        (source,) = report.sources
        assert (source.status, source.rows, source.loaded, source.rejected) == ("table", 6, 2, 4)
        rows = _all(engine, "orders", "id")
        assert rows == [("o1", 2, Decimal("10.5"), "web", 0.5), ("o2", 3, Decimal("1.25"), "shop", 1.0)]
        reasons = sorted((str(r.column), r.reason) for r in source.sample)
        assert reasons == [
            ("id", "duplicate key 'o1'"),
            ("id", "missing key value"),
            ("kind", "'fax' is not one of: web, shop"),
            ("qty", "'-1' is below the minimum 0"),
            ("qty", "'x' is not a valid integer (expected digits)"),
        ]
        counted = engine.run(exp.select(exp.func("count", exp.Star())).from_("rejects"))
        assert counted == [(5,)]  # one row per failing cell; `rejected` counts rows


def test_wall_clock_timestamps_are_read_in_the_organizations_zone(url: str) -> None:
    with open_session(ZONE, "postgres", url) as engine:
        (source,) = engine.register_sources({"events": _events()}).sources
        # 03:30 on 2025-03-30 does not exist in Riga (02:59:59 → 04:00)
        assert [r.reason for r in source.sample] == [
            "'2025-03-30 03:30:00' does not exist in Europe/Riga (the clocks jump forward over it)"
        ]
        rows = _all(engine, "events", "id")
        assert rows == [
            (1, "2025-03-30 02:30:00+02", "2025-03-30 02:30:00+02", datetime.date(2025, 3, 30)),
            # the repeated autumn hour: the later, standard-time instant (as the import takes it)
            (3, "2025-10-26 03:30:00+02", "2025-10-26 03:30:00+03", None),
        ]


@pytest.mark.parametrize(
    ("source", "code", "needle"),
    [
        (
            Source("orders", Path("."), path="orders.csv", columns={"id": Column("id", "string")}),
            Code.SOURCE_NOT_ON_ENGINE,
            "table: schema.name",
        ),
        (
            Source("orders", Path("."), table="shop.missing", columns={"id": Column("id", "string")}),
            Code.DATA_FILE,
            "schema-qualified",
        ),
        (
            Source("orders", Path("."), table="shop.orders", columns={"nope": Column("nope", "string")}),
            Code.DATA_COLUMN,
            "columns:",
        ),
        (_events(day="integer"), Code.DATA_COLUMN, "string always can"),
    ],
    ids=["path", "missing_table", "missing_column", "wrong_type"],
)
def test_what_the_engine_cannot_read_is_a_coded_error(url: str, source: Source, code: Code, needle: str) -> None:
    with open_session(ZONE, "postgres", url) as engine, pytest.raises(KpiError) as caught:
        engine.register_sources({source.id: source})
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code is code
    assert needle in str(diagnostic.hint)


def test_sealed_sessions_read_only_their_own_relations(url: str) -> None:
    with open_session(ZONE, "postgres", url) as engine:
        engine.register_sources({"orders": _orders()})
        engine.seal()
        assert engine.relations(views=True) == {"orders", "rejects"}
        assert engine.run(exp.select(exp.func("count", exp.Star())).from_("orders")) == [(2,)]
        with pytest.raises(QueryFailed):  # the events table is in public, off the search path
            engine.run(exp.select(exp.func("count", exp.Star())).from_("events"))
        with pytest.raises(QueryFailed):  # read-only: nothing can be written
            engine.run(exp.insert(exp.select(exp.null(), exp.null(), exp.null(), exp.null()), "events"))


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        (exp.cast(exp.Literal.number(2**40), "INT"), "out_of_range"),
        (exp.cast(exp.Literal.string("x"), "INT"), "conversion"),
        (exp.cast(exp.Literal.string("2025-13-45"), "DATE"), "conversion"),
        (exp.func("no_such_function"), "other"),
    ],
)
def test_failures_are_classified(url: str, sql: exp.Expression, kind: str) -> None:
    with open_session(ZONE, "postgres", url) as engine, pytest.raises(QueryFailed) as caught:
        engine.run(exp.select(sql))
    assert caught.value.kind == kind


@pytest.mark.parametrize(
    ("zone", "connection", "code"),
    [
        (ZONE, "postgresql://nobody@/none?host=/nonexistent-kpi-folder", Code.ENGINE_UNREACHABLE),
        ("Europe/Rigga", None, Code.BAD_VALUE),
    ],
)
def test_opening_fails_with_a_code_and_a_hint(url: str, zone: str, connection: str | None, code: Code) -> None:
    with pytest.raises(KpiError) as caught:
        open_session(zone, "postgres", connection or url)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code is code and diagnostic.hint
