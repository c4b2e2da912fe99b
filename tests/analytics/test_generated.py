"""The visit slices against the independent model on the benchmark's traffic shape: a small
generated dataset (gen_dataset's DuckDB generator), loaded into each engine, queried over many
ranges with odd ends, zones, units and filters, with part of it still pending."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
import sqlalchemy as sa

from bench.dashboard.gen_dataset import generate_duckdb
from katsuo.analytics import events as E
from katsuo.analytics import filters as F
from katsuo.analytics import metrics as M
from katsuo.analytics import sessions as S
from katsuo.analytics import slices
from katsuo.analytics import timeframe as T
from katsuo.analytics import totals as W
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.store import migrations, schema
from tests.analytics.model import Hit, Model, Visitor
from tests.analytics.test_website_stats import ranked
from tests.conftest import empty_database

WEBSITE = "7a1b0000-0000-4000-8000-0000000000aa"
END = datetime(2026, 4, 11, tzinfo=UTC)
COLUMNS = (
    "event_id",
    "website_id",
    "session_id",
    "visit_id",
    "created_at",
    "url_path",
    "url_query",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referrer_path",
    "referrer_query",
    "referrer_domain",
    "page_title",
    "event_type",
    "event_name",
    "hostname",
)
SESSION_COLUMNS = (
    "session_id",
    "website_id",
    "browser",
    "os",
    "device",
    "screen",
    "language",
    "country",
    "region",
    "city",
    "distinct_id",
    "created_at",
)


@dataclass
class StoredHit(Hit):
    """A generated row: its session and visit ids are given, not derived."""

    session_id: str = ""
    visit_id: str = ""
    row: tuple = ()

    @property
    def session(self):
        return self.session_id

    @property
    def visit(self):
        return (self.session_id, self.visit_id)

    @property
    def path(self):
        return self.url

    @property
    def query(self):
        return self.row[COLUMNS.index("url_query")] or ""

    @property
    def referrer_domain(self):
        return self.row[COLUMNS.index("referrer_domain")]

    @property
    def event_type(self):
        return self.row[COLUMNS.index("event_type")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Events and sessions of ~8000 generated events over ten days."""
    from katsuo.config import Settings
    from katsuo.store.database import Database

    folder = tmp_path_factory.mktemp("generated")
    db = Database(
        Settings.from_env({"APP_SECRET": "x", "KATSUO_DATA_DIR": str(folder)}, load_dotenv=False)
    )
    migrations.migrate(db)
    db.close()
    con = duckdb.connect(str(folder / "katsuo.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "create temp table gen_events as select "
        + ", ".join(COLUMNS)
        + " from website_event limit 0"
    )
    generate_duckdb(con, WEBSITE, "generated", 8000, 10, END.strftime("%Y-%m-%d %H:%M:%S+00"), 7)
    events = con.execute(
        "select " + ", ".join(COLUMNS) + " from gen_events order by created_at"
    ).fetchall()
    sessions = con.execute("select " + ", ".join(SESSION_COLUMNS) + " from session").fetchall()
    con.close()
    return events, sessions


def _hits(events, sessions) -> list[StoredHit]:
    attrs = {row[0]: row for row in sessions}
    hits = []
    for row in events:
        s = attrs[row[2]]
        visitor = Visitor(str(row[2]), "", s[2], s[3], s[4], s[5], s[6], s[7], None, s[9])
        hits.append(
            StoredHit(
                visitor,
                row[4].astimezone(UTC),
                row[5],
                title=row[13],
                name=row[15],
                hostname=row[16],
                session_id=str(row[2]),
                visit_id=str(row[3]),
                row=row,
            )
        )
    return hits


@pytest.fixture(scope="module")
def loaded(services, generated):
    """The generated rows in the engine under test: three quarters settled, the rest pending."""
    events, sessions = generated
    empty_database(services)

    def stringify(rows):
        return [tuple(str(v) if isinstance(v, uuid.UUID) else v for v in r) for r in rows]

    if services.db.separate_events:  # ClickHouse: no slices, everything is read from the events
        with services.db.events.connect() as conn:
            insert = services.db.events.engines.insert_rows
            insert(conn, "session", SESSION_COLUMNS, stringify(sessions))
            insert(conn, "website_event", COLUMNS, stringify(events))
        return Model(_hits(events, sessions), {"main": WEBSITE})
    insert = services.db.engines.insert_rows
    cut = len(events) * 3 // 4
    with services.db.begin() as conn:
        insert(conn, "session", SESSION_COLUMNS, stringify(sessions))
        insert(conn, "website_event", COLUMNS, stringify(events[:cut]))
    slices.rebuild(services.db)
    later = stringify(events[cut:])
    with services.db.begin() as conn:
        insert(conn, "website_event", COLUMNS, later)
        pending = [dict(zip(COLUMNS, row)) for row in later]
        conn.execute(
            schema.slice_pending.insert(),
            [
                {
                    **{
                        k: r[k]
                        for k in (
                            "event_id",
                            "website_id",
                            "session_id",
                            "visit_id",
                            "event_type",
                            "url_path",
                            "referrer_domain",
                            "hostname",
                            "event_name",
                        )
                    },
                    "created_us": T.to_us(r["created_at"]),
                }
                for r in pending
            ],
        )
    return Model(_hits(events, sessions), {"main": WEBSITE})


def _queries(seed: int, count: int):
    rng = random.Random(seed)
    zones = [None, "UTC", "America/New_York", "Asia/Kolkata", "Australia/Adelaide", "Europe/London"]
    for _ in range(count):
        span = timedelta(seconds=rng.randint(1800, 12 * 86400))
        end = END - timedelta(seconds=rng.randint(0, 3 * 86400), milliseconds=rng.randint(0, 999))
        start = end - span
        yield (
            start,
            end,
            rng.choice(zones),
            rng.choice(["hour", "day", "month"]),
            rng.choice(
                [
                    {},
                    {"country": ("eq", "US")},
                    {"browser": ("neq", "chrome")},
                    {"path": ("eq", "/pricing")},
                    {"device": ("c", "o")},
                ]
            ),
        )


def _query(start, end, zone, unit, filters) -> Query:
    parsed = tuple(
        F.parse_value(name, name, f"{op}.{value}") for name, (op, value) in filters.items()
    )
    us = T.to_us
    return Query(
        uuid.UUID(WEBSITE),
        us(start),
        us(end),
        unit=T.choose_unit(us(start), us(end), unit),
        timezone=zone,
        filters=F.Filters(parsed),
    )


@pytest.mark.parametrize("seed", range(6))
def test_overview_over_random_ranges(services, loaded, seed):
    _check_overview(services, loaded, seed)


@pytest.mark.slices
def test_long_pending_backlog_uses_subqueries(services, loaded, monkeypatch):
    """More pending sessions than a bound list may hold: the plan falls back to subqueries."""
    from katsuo.analytics import runner

    monkeypatch.setattr(runner, "MAX_BOUND_SESSIONS", 3)
    _check_overview(services, loaded, 99)


def _check_overview(services, loaded, seed):
    model = loaded
    with services.db.connect() as conn, Reader.of(services.db, conn) as reader:
        assert reader.slices_ready != services.db.separate_events
        for start, end, zone, unit, filters in _queries(seed, 6):
            query = _query(start, end, zone, unit, filters)
            views = model.select(start, end, filters, website="main")
            totals = W.stats(reader, query)
            assert {k: totals[k] for k in totals if k != "comparison"} == model.totals(views), (
                start,
                end,
                filters,
            )
            series = W.pageviews(reader, query)
            expected = model.series(views, query.unit, zone)
            assert series == {"pageviews": expected[0], "sessions": expected[1]}, (
                start,
                end,
                zone,
                query.unit,
            )
            for metric, key in (
                ("path", lambda h: h.path),
                ("browser", lambda h: h.visitor.browser),
                ("country", lambda h: h.visitor.country),
            ):
                found = M.metrics(reader, query, metric, 500, 0)
                assert sorted(found, key=lambda r: (-r["y"], r["x"])) == ranked(
                    model.distinct_per(views, key)
                )
            weekly = S.weekly(reader, query)
            cells: dict = {}
            for hit in views:
                local = (
                    hit.at
                    if zone is None
                    else hit.at.astimezone(__import__("zoneinfo").ZoneInfo(zone))
                )
                cells.setdefault(((local.weekday() + 1) % 7, local.hour), set()).add(hit.session)
            assert weekly == [[len(cells.get((d, h), ())) for h in range(24)] for d in range(7)]
            if "path" not in filters:
                customs = model.select(start, end, filters, types="custom", website="main")
                names: dict = {}
                for hit in customs:
                    key = (hit.name, model.bucket(hit.at, query.unit, zone))
                    names[key] = names.get(key, 0) + 1
                found = E.series(reader, query, None)
                assert {(r["x"], r["t"]): r["y"] for r in found} == names


@pytest.mark.slices
def test_settle_keeps_the_answers(services, loaded, monkeypatch):
    """Settled in several rounds (a small batch of sessions each), the answers do not change."""
    query = _query(END - timedelta(days=6, seconds=7), END - timedelta(hours=3), "UTC", "day", {})
    with services.db.connect() as conn:
        before = W.stats(Reader.open(conn, services.db.kind), query)
    monkeypatch.setattr(slices, "SETTLE_SESSIONS", 40)
    assert slices.settle(services.db) > 0
    with services.db.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(schema.slice_pending)).scalar_one()
            == 0
        )
        assert W.stats(Reader.open(conn, services.db.kind), query) == before
