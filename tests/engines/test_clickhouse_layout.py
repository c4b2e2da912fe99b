"""Katsuo's ClickHouse layout is Umami 3.1's (docs/clickhouse.md), on the embedded engine (chdb).

- A fresh database gets Umami's tables, columns, types, engines and sorting keys (times with
  microseconds: Katsuo's one documented deviation there) and Katsuo's `katsuo_*` objects.
- A database laid out by Umami (its DDL written out below, with second-precision times and its
  revenue view) is adopted as it is: Katsuo creates only `katsuo_*` objects and changes none of
  Umami's.
- Rows that Umami writes straight into website_event (session attributes on the row, '' for a
  missing text), before Katsuo starts and after, are in Katsuo's answers with the numbers this
  test computes from the rows it wrote.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import clickhouse_connect

from katsuo.config import Settings
from katsuo.services import Services
from tests.conftest import make_env
from tests.helpers import admin_with_website

# Umami 3.1's ClickHouse tables: column -> type, and (engine, sorting key, primary key).
_EVENT_COLUMNS = {
    "website_id": "UUID",
    "session_id": "UUID",
    "visit_id": "UUID",
    "event_id": "UUID",
    "hostname": "LowCardinality(String)",
    "browser": "LowCardinality(String)",
    "os": "LowCardinality(String)",
    "device": "LowCardinality(String)",
    "screen": "LowCardinality(String)",
    "language": "LowCardinality(String)",
    "country": "LowCardinality(String)",
    "region": "LowCardinality(String)",
    "city": "String",
    **dict.fromkeys(
        [
            "url_path",
            "url_query",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
            "referrer_path",
            "referrer_query",
            "referrer_domain",
            "page_title",
            "gclid",
            "fbclid",
            "msclkid",
            "ttclid",
            "li_fat_id",
            "twclid",
        ],
        "String",
    ),
    "lcp": "Nullable(Decimal(10, 1))",
    "inp": "Nullable(Decimal(10, 1))",
    "cls": "Nullable(Decimal(10, 4))",
    "fcp": "Nullable(Decimal(10, 1))",
    "ttfb": "Nullable(Decimal(10, 1))",
    "event_type": "UInt32",
    "event_name": "String",
    "tag": "String",
    "distinct_id": "String",
    "created_at": "{time}",
    "job_id": "Nullable(UUID)",
}
_DATA_VALUES = {
    "data_key": "String",
    "string_value": "Nullable(String)",
    "number_value": "Nullable(Decimal(22, 4))",
    "date_value": "Nullable({time})",
    "data_type": "UInt32",
}
_LIST = "SimpleAggregateFunction(groupArrayArray, Array(String))"
_HOURLY_COLUMNS = {
    "website_id": "UUID",
    "session_id": "UUID",
    "visit_id": "UUID",
    "hostname": _LIST,
    **{
        name: "LowCardinality(String)" for name in ["browser", "os", "device", "screen", "language"]
    },
    "country": "LowCardinality(String)",
    "region": "LowCardinality(String)",
    "city": "String",
    "entry_url": "AggregateFunction(argMin, String, DateTime('UTC'))",
    "exit_url": "AggregateFunction(argMax, String, DateTime('UTC'))",
    **dict.fromkeys(
        [
            "url_path",
            "url_query",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
            "referrer_domain",
            "page_title",
            "gclid",
            "fbclid",
            "msclkid",
            "ttclid",
            "li_fat_id",
            "twclid",
        ],
        _LIST,
    ),
    "event_type": "UInt32",
    "event_name": _LIST,
    "views": "SimpleAggregateFunction(sum, UInt64)",
    "min_time": "SimpleAggregateFunction(min, DateTime('UTC'))",
    "max_time": "SimpleAggregateFunction(max, DateTime('UTC'))",
    "tag": _LIST,
    "distinct_id": "String",
    "created_at": "DateTime('UTC')",
}
UMAMI = {
    "website_event": (
        _EVENT_COLUMNS,
        "MergeTree",
        "toStartOfHour(created_at), website_id, session_id, visit_id, created_at",
        "toStartOfHour(created_at), website_id, session_id, visit_id",
    ),
    "event_data": (
        {
            "website_id": "UUID",
            "session_id": "UUID",
            "event_id": "UUID",
            "url_path": "String",
            "event_name": "String",
            **_DATA_VALUES,
            "created_at": "{time}",
            "job_id": "Nullable(UUID)",
        },
        "MergeTree",
        "website_id, event_id, data_key, created_at",
        "website_id, event_id, data_key, created_at",
    ),
    "session_data": (
        {
            "website_id": "UUID",
            "session_id": "UUID",
            **_DATA_VALUES,
            "distinct_id": "String",
            "created_at": "{time}",
            "job_id": "Nullable(UUID)",
        },
        "ReplacingMergeTree",
        "website_id, session_id, data_key",
        "website_id, session_id, data_key",
    ),
    "website_revenue": (
        {
            "website_id": "UUID",
            "session_id": "UUID",
            "event_id": "UUID",
            "event_name": "String",
            "currency": "String",
            "revenue": "Decimal(18, 4)",
            "created_at": "{time}",
        },
        "MergeTree",
        "website_id, session_id, created_at",
        "website_id, session_id, created_at",
    ),
    "website_event_stats_hourly": (
        _HOURLY_COLUMNS,
        "AggregatingMergeTree",
        "website_id, event_type, toStartOfHour(created_at), cityHash64(visit_id), visit_id",
        "website_id, event_type, toStartOfHour(created_at), cityHash64(visit_id), visit_id",
    ),
}


def _client(url: str):
    """A client of the test's own on the chdb database that `url` names."""
    parts = urlsplit(url)
    database = dict(parse_qsl(parts.query))["database"]
    dsn = urlunsplit(parts._replace(query=""))
    clickhouse_connect.get_client(dsn=dsn).command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    return clickhouse_connect.get_client(dsn=dsn, database=database), database


def _layout(client, database: str) -> dict:
    tables = client.query(
        "SELECT name, engine, sorting_key, primary_key, create_table_query FROM system.tables "
        "WHERE database = %(db)s",
        {"db": database},
    ).result_rows
    columns = client.query(
        "SELECT table, name, type FROM system.columns WHERE database = %(db)s ORDER BY position",
        {"db": database},
    ).result_rows
    found = {
        name: {"engine": e, "sorting": s, "primary": p, "ddl": q, "columns": {}}
        for name, e, s, p, q in tables
    }
    for table, name, kind in columns:
        found[table]["columns"][name] = kind
    return found


def _start(request, tmp_path_factory, url: str) -> Services:
    env = make_env("duckdb", request, tmp_path_factory, CLICKHOUSE_URL=url)
    return Services.start(Settings.from_env(env))


def _expect_umami(found: dict, time: str) -> None:
    for table, (columns, engine, sorting, primary) in UMAMI.items():
        expected = {name: kind.format(time=time) for name, kind in columns.items()}
        assert found[table]["columns"] == expected, table
        assert (found[table]["engine"], found[table]["sorting"], found[table]["primary"]) == (
            engine,
            sorting,
            primary,
        ), table


def test_a_fresh_database_gets_umamis_layout(chdb_databases, request, tmp_path_factory):
    url = chdb_databases.create()
    client, database = _client(url)
    services = _start(request, tmp_path_factory, url)
    try:
        found = _layout(client, database)
    finally:
        services.close()
    _expect_umami(found, "DateTime64(6, 'UTC')")
    assert found["website_event_stats_hourly_mv"]["engine"] == "MaterializedView"
    # Katsuo's revenue rows come from its writer (docs/clickhouse.md): no Umami revenue view.
    assert "website_revenue_mv" not in found
    own = set(found) - set(UMAMI) - {"website_event_stats_hourly_mv"}
    assert own and all(name.startswith("katsuo_") for name in own)
    assert found["katsuo_session"]["engine"] == "AggregatingMergeTree"
    assert found["katsuo_session_mv"]["engine"] == "MaterializedView"


# --- an Umami database, laid out by Umami's DDL (written here for the test) ---------------------

_T = "DateTime('UTC')"


def _umami_ddl() -> list[str]:
    def table(name, engine, keys, extra=""):
        columns, *_ = UMAMI[name]
        body = ",\n".join(f"{c} {kind.format(time=_T)}" for c, kind in columns.items())
        return f"CREATE TABLE {name} (\n{body}\n) ENGINE = {engine}\n{keys}{extra}"

    return [
        table(
            "website_event",
            "MergeTree",
            "PARTITION BY toYYYYMM(created_at) ORDER BY (toStartOfHour(created_at), website_id, "
            "session_id, visit_id, created_at) PRIMARY KEY (toStartOfHour(created_at), website_id, "
            "session_id, visit_id)",
        ),
        # Umami's projections of the events, by path and by referrer.
        *(
            f"ALTER TABLE website_event ADD PROJECTION website_event_{key}_projection "
            f"(SELECT * ORDER BY toStartOfDay(created_at), website_id, {key}, created_at)"
            for key in ("url_path", "referrer_domain")
        ),
        table("event_data", "MergeTree", "ORDER BY (website_id, event_id, data_key, created_at)"),
        table("session_data", "ReplacingMergeTree", "ORDER BY (website_id, session_id, data_key)"),
        table(
            "website_revenue",
            "MergeTree",
            "PARTITION BY toYYYYMM(created_at) ORDER BY (website_id, session_id, created_at)",
        ),
        table(
            "website_event_stats_hourly",
            "AggregatingMergeTree",
            "PARTITION BY toYYYYMM(created_at) ORDER BY (website_id, event_type, "
            "toStartOfHour(created_at), cityHash64(visit_id), visit_id) "
            "SAMPLE BY cityHash64(visit_id)",
            "\nSETTINGS allow_dimensions_outside_sorting_key = 1",
        ),
        # Umami's revenue view: revenue and currency properties of one event make a row.
        (
            "CREATE MATERIALIZED VIEW website_revenue_mv TO website_revenue AS "
            "SELECT DISTINCT d.website_id, d.session_id, d.event_id, d.event_name, c.currency, "
            "coalesce(toDecimal64(d.number_value, 2), toDecimal64(d.string_value, 2)) AS revenue, "
            "d.created_at FROM event_data AS d "
            "JOIN (SELECT event_id, string_value AS currency FROM event_data "
            "WHERE positionCaseInsensitive(data_key, 'currency') > 0) AS c ON c.event_id = d.event_id "
            "WHERE positionCaseInsensitive(d.data_key, 'revenue') > 0"
        ),
    ]


_ATTRIBUTES = ("browser", "os", "device", "screen", "language", "country", "region", "city")


def _visit(website_id, at: datetime, browser: str, paths: list[str], events: list[str] = ()):
    """One visit's rows as Umami writes them: the session's attributes on every row, '' where
    Umami has nothing, whole seconds."""
    session, visit = uuid.uuid4(), uuid.uuid4()
    attributes = dict(
        zip(
            _ATTRIBUTES,
            (browser, "Linux", "desktop", "1920x1080", "en-US", "DE", "DE-BE", "Berlin"),
            strict=True,
        )
    )
    rows = []
    for n, (kind, name) in enumerate([*((1, p) for p in paths), *((2, e) for e in events)]):
        rows.append(
            {
                "website_id": website_id,
                "session_id": session,
                "visit_id": visit,
                "event_id": uuid.uuid4(),
                "hostname": "example.com",
                **attributes,
                "url_path": paths[min(n, len(paths) - 1)],
                "url_query": "",
                "referrer_domain": "",
                "page_title": "",
                "event_type": kind,
                "event_name": name if kind == 2 else "",
                "tag": "",
                "distinct_id": "",
                "created_at": at + timedelta(seconds=10 * n),
            }
        )
    return rows


def _insert(client, rows: list[dict]) -> None:
    names = list(rows[0])
    client.insert("website_event", [[row[n] for n in names] for row in rows], column_names=names)


def test_an_umami_database_is_adopted_as_it_is(chdb_databases, request, tmp_path_factory):
    from fastapi.testclient import TestClient

    from katsuo.app import create_app

    url = chdb_databases.create()
    client, database = _client(url)
    for statement in _umami_ddl():
        client.command(statement)
    before = _layout(client, database)
    start = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) - timedelta(hours=3)
    # Umami wrote these before Katsuo was ever started, for a website of its own.
    earlier = uuid.uuid4()
    _insert(client, _visit(earlier, start, "chrome", ["/", "/a"]))
    _insert(client, _visit(earlier, start, "firefox", ["/"]))

    services = _start(request, tmp_path_factory, url)
    try:
        after = _layout(client, database)
        # Nothing of Umami's was created, altered or dropped; Katsuo added only its own.
        for name, table in before.items():
            assert after[name] == table, name
        added = set(after) - set(before)
        assert added and all(name.startswith("katsuo_") for name in added), added
        sessions = client.query(
            "SELECT count() FROM katsuo_v_session WHERE website_id = %(w)s", {"w": earlier}
        ).result_rows[0][0]
        assert sessions == 2  # the events already stored gave their sessions

        with TestClient(create_app(services.settings, services)) as api:
            token, website = admin_with_website(api, "Adopted")
            headers = {"Authorization": f"Bearer {token}"}
            wid = uuid.UUID(website)
            rows = []
            for n, (browser, paths, events) in enumerate(
                [
                    ("chrome", ["/", "/pricing", "/"], []),
                    ("chrome", ["/pricing"], ["signup"]),
                    ("firefox", ["/"], []),
                    ("safari", ["/docs", "/"], ["signup", "play"]),
                ]
            ):
                rows += _visit(wid, start + timedelta(minutes=5 * n), browser, paths, events)
            _insert(client, rows)  # Umami writing beside Katsuo

            window = {
                "startAt": int((start - timedelta(hours=1)).timestamp() * 1000),
                "endAt": int((start + timedelta(hours=2)).timestamp() * 1000),
            }

            def get(path: str, **params):
                response = api.get(
                    f"/api/websites/{website}/{path}", params={**window, **params}, headers=headers
                )
                assert response.status_code == 200, response.text
                return response.json()

            views = [r for r in rows if r["event_type"] == 1]
            stats = get("stats")
            assert (stats["pageviews"], stats["visitors"], stats["visits"]) == (
                len(views),
                len({r["session_id"] for r in rows}),
                len({r["visit_id"] for r in rows}),
            )
            visitors_per_browser = Counter(
                browser for browser, _ in {(r["browser"], r["session_id"]) for r in rows}
            )
            assert {m["x"]: m["y"] for m in get("metrics", type="browser")} == dict(
                visitors_per_browser
            )
            # Umami 3 counts the visitors who saw a path.
            assert {m["x"]: m["y"] for m in get("metrics", type="path")} == dict(
                Counter(path for path, _ in {(r["url_path"], r["session_id"]) for r in views})
            )
            assert {m["x"]: m["y"] for m in get("metrics", type="event")} == dict(
                Counter(r["event_name"] for r in rows if r["event_type"] == 2)
            )
            # Umami's rows carry no referrer: '' is no value, not a referrer named ''.
            assert get("metrics", type="referrer") == []

            # A reset deletes the website's rows, projections notwithstanding, and only its own.
            reset = api.post(f"/api/websites/{website}/reset", headers=headers)
            assert reset.status_code == 200, reset.text
            left = {
                table: client.query(
                    f"SELECT count() FROM {table} WHERE website_id = %(w)s", {"w": wid}
                ).result_rows[0][0]
                for table in ("website_event", "katsuo_v_session")
            }
            assert left == {"website_event": 0, "katsuo_v_session": 0}
            assert get("stats")["pageviews"] == 0
            kept = client.query(
                "SELECT count() FROM website_event WHERE website_id = %(w)s", {"w": earlier}
            ).result_rows[0][0]
            assert kept == 3
    finally:
        services.close()


def test_a_restart_adds_nothing(chdb_databases, request, tmp_path_factory):
    url = chdb_databases.create()
    client, database = _client(url)
    _start(request, tmp_path_factory, url).close()
    first = _layout(client, database)
    _start(request, tmp_path_factory, url).close()
    assert _layout(client, database) == first


def test_katsuo_writes_umamis_rows_into_an_adopted_database(
    chdb_databases, request, tmp_path_factory
):
    from fastapi.testclient import TestClient

    from katsuo.app import create_app

    url = chdb_databases.create()
    client, _ = _client(url)
    for statement in _umami_ddl():
        client.command(statement)
    services = _start(request, tmp_path_factory, url)
    try:
        with TestClient(create_app(services.settings, services)) as api:
            token, website = admin_with_website(api, "Beside Umami")
            # Ten minutes into the last hour: the three hits' visit (which changes with the
            # hour) is the same whenever the test runs.
            hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            start = hour - timedelta(minutes=50)
            hits = [("/", None), ("/pricing", None), ("/pricing", "signup")]
            for n, (path, name) in enumerate(hits):
                payload = {
                    "website": website,
                    "url": path,
                    "hostname": "example.com",
                    "language": "en-US",
                    "screen": "1920x1080",
                    "timestamp": int((start + timedelta(minutes=n)).timestamp()),
                }
                if name:
                    payload.update({"name": name, "data": {"plan": "pro"}})
                response = api.post(
                    "/api/send",
                    json={"type": "event", "payload": payload},
                    headers={
                        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0",
                        "X-Forwarded-For": "203.0.113.9",
                    },
                )
                assert response.status_code == 200, response.text
            # Acknowledged hits are in Katsuo's journal; ClickHouse has them once applied,
            # which a read through Katsuo waits for and this direct read asks for.
            services.writer.sync()
            rows = client.query(
                "SELECT browser, os, screen, language, url_query, referrer_domain "
                "FROM website_event WHERE website_id = %(w)s",
                {"w": uuid.UUID(website)},
            ).result_rows
            # Umami's shape: the session's attributes on each row, '' for what the hit lacks.
            assert rows == [("firefox", "Linux", "1920x1080", "en-US", "", "")] * 3
            # Event data carries its event's session, path and name, as Umami writes it.
            data = client.query(
                "SELECT d.url_path, d.event_name, d.data_key, d.string_value, "
                "d.session_id = e.session_id FROM event_data AS d "
                "JOIN website_event AS e ON e.event_id = d.event_id WHERE d.website_id = %(w)s",
                {"w": uuid.UUID(website)},
            ).result_rows
            assert data == [("/pricing", "signup", "plan", "pro", True)]
            window = {
                "startAt": int((start - timedelta(hours=1)).timestamp() * 1000),
                "endAt": int((start + timedelta(hours=1)).timestamp() * 1000),
            }
            stats = api.get(
                f"/api/websites/{website}/stats",
                params=window,
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            assert (stats["pageviews"], stats["visitors"], stats["visits"]) == (2, 1, 1)
    finally:
        services.close()
