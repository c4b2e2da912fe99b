"""A ClickHouse database laid out by Katsuo before it took Umami's layout (the tables of
store/schema.py, with a `session` table) is moved at start: the old tables are kept under
`katsuo_r1_*`, every row is copied into Umami's layout, and the answers are the test's own counts
of the rows it wrote (docs/clickhouse.md#upgrading-from-katsuos-first-layout)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import metrics as M
from katsuo.analytics import timeframe as T
from katsuo.analytics import totals as W
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.store import schema
from tests.engines.test_clickhouse_layout import _client, _start


def _type(column: sa.Column) -> str:
    """The first layout's column types (written here, as that Katsuo created them)."""
    kind = column.type
    if isinstance(kind, sa.Uuid):
        name = "UUID"
    elif isinstance(kind, sa.DateTime):
        name = "DateTime64(6, 'UTC')"
    elif isinstance(kind, sa.Numeric):
        name = f"Decimal({kind.precision}, {kind.scale})"
    elif isinstance(kind, sa.SmallInteger):
        name = "Int16"
    elif isinstance(kind, sa.BigInteger):
        name = "Int64"
    elif isinstance(kind, sa.Integer):
        name = "Int32"
    else:
        name = "String"
    return f"Nullable({name})" if column.nullable and not column.primary_key else name


def _old_layout(client) -> None:
    for name in ("session", "website_event", "event_data", "session_data", "revenue"):
        table = schema.metadata.tables[name]
        columns = ", ".join(f"`{c.name}` {_type(c)}" for c in table.columns)
        key = next(c.name for c in table.columns if c.primary_key)
        client.command(f"CREATE TABLE `{name}` ({columns}) ENGINE = MergeTree ORDER BY `{key}`")


def test_the_first_layout_is_moved_into_umamis(chdb_databases, request, tmp_path_factory):
    url = chdb_databases.create()
    client, _ = _client(url)
    _old_layout(client)
    website = uuid.uuid4()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    sessions = {uuid.uuid4(): b for b in ("chrome", "chrome", "firefox")}
    client.insert(
        "session",
        [[s, website, b, "Linux", "desktop", "DE", start] for s, b in sessions.items()],
        column_names=[
            "session_id",
            "website_id",
            "browser",
            "os",
            "device",
            "country",
            "created_at",
        ],
    )
    events = []
    for n, session in enumerate(sessions):
        visit = uuid.uuid4()
        for k, path in enumerate(["/", "/pricing", "/"][: n + 1]):
            events.append(
                [
                    uuid.uuid4(),
                    website,
                    session,
                    visit,
                    start + timedelta(minutes=10 * n + k),
                    path,
                    1,
                    None,
                ]
            )
        events.append(
            [
                uuid.uuid4(),
                website,
                session,
                visit,
                start + timedelta(minutes=10 * n + 5),
                "/pricing",
                2,
                "signup",
            ]
        )
    client.insert(
        "website_event",
        events,
        column_names=[
            "event_id",
            "website_id",
            "session_id",
            "visit_id",
            "created_at",
            "url_path",
            "event_type",
            "event_name",
        ],
    )
    signup = events[-1]
    client.insert(
        "event_data",
        [[uuid.uuid4(), website, signup[0], "plan", "pro", None, None, 1, signup[4]]],
        column_names=[
            "event_data_id",
            "website_id",
            "website_event_id",
            "data_key",
            "string_value",
            "number_value",
            "date_value",
            "data_type",
            "created_at",
        ],
    )

    services = _start(request, tmp_path_factory, url)
    try:
        tables = {row[0] for row in client.query("SHOW TABLES").result_rows}
        assert {"katsuo_r1_session", "katsuo_r1_website_event", "katsuo_r1_event_data"} <= tables
        rows = client.query(
            "SELECT browser, os, country, url_path, event_type FROM website_event "
            "WHERE website_id = %(w)s ORDER BY created_at",
            {"w": website},
        ).result_rows
        assert rows == [
            (sessions[e[2]], "Linux", "DE", e[5], e[6]) for e in sorted(events, key=lambda e: e[4])
        ]
        data = client.query(
            "SELECT session_id, url_path, event_name, data_key, string_value FROM event_data"
        ).result_rows
        assert data == [(signup[2], "/pricing", "signup", "plan", "pro")]

        views = [e for e in events if e[6] == 1]
        query = Query(
            website,
            T.to_us(start - timedelta(minutes=30)),
            T.to_us(start + timedelta(hours=2)),
            unit="day",
            timezone="UTC",
            filters=F.Filters(()),
        )
        with services.db.events.connect() as conn:
            reader = Reader.open(conn, services.db.events.kind)
            stats = W.stats(reader, query)
            browsers = M.metrics(reader, query, "browser", 10, 0)
        assert (stats["pageviews"], stats["visitors"], stats["visits"]) == (len(views), 3, 3)
        assert {m["x"]: m["y"] for m in browsers} == dict(Counter(sessions.values()))

        # A second start finds Umami's layout and moves nothing again.
        services.close()
        services = _start(request, tmp_path_factory, url)
        assert client.query("SELECT count() FROM website_event").result_rows[0][0] == len(events)
    finally:
        services.close()
