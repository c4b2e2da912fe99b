"""Katsuo's ClickHouse rollups (docs/clickhouse.md#rollups) give the raw events' exact numbers, on
the embedded engine (chdb).

The rows are written straight into website_event as another writer (Umami) would, in visits that
cross hour boundaries, and read over windows that start and end inside an hour: the whole hours
come from the rollups, the partial ones from the events. Every expected number is computed here
from the rows the test wrote. The decider is asked too, so that a rollup answer is what is
checked and not a fallback to the raw events.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from katsuo.analytics import filters as F
from katsuo.analytics import registry as R
from katsuo.analytics import timeframe as T
from katsuo.analytics.decider import Source, decide, decide_attributes
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.app import create_app
from katsuo.store import schema
from katsuo.store.engines import clickhouse_layout as layout
from katsuo.store.repositories import collected
from tests.engines.test_clickhouse_layout import _client, _insert, _start, _visit
from tests.helpers import admin_with_website, report_body


def _traffic(website_id, start: datetime) -> list[dict]:
    """Visits over six hours, several of them crossing an hour, with custom events and a
    referrer; each row's attributes as Umami writes them."""
    rows = []
    plan = [
        (0, "chrome", ["/", "/pricing", "/"], []),
        (55, "chrome", ["/pricing", "/docs", "/docs"], ["signup"]),  # crosses into hour 1
        (70, "firefox", ["/"], []),
        (118, "safari", ["/docs", "/"], ["signup", "play"]),  # crosses into hour 2
        (200, "firefox", ["/", "/a", "/b", "/c"], []),
        (299, "chrome", ["/pricing"], ["play"]),
        (330, "edge", ["/", "/pricing"], []),
    ]
    for minute, browser, paths, events in plan:
        visit = _visit(website_id, start + timedelta(minutes=minute), browser, paths, events)
        for n, row in enumerate(visit):
            row["created_at"] = start + timedelta(minutes=minute + 3 * n, seconds=7)
            if n == 0 and browser == "firefox":
                row["referrer_domain"] = "news.example.org"
            if minute == 200 and n == 2:
                row["browser"] = "opera"  # another writer's row: counts with its own attributes
            if minute >= 299:
                row["os"], row["country"] = "Mac OS", "FR"
        rows += visit
    return rows


def _metrics(views: list[dict], fields: tuple[str, ...] = ()) -> dict:
    """Every metric of the views per combination of `fields`, each view with its own row's
    values: a visit counts once per combination its views have."""
    per_visit: dict = {}
    for r in views:
        key = tuple(r[f] for f in fields)
        per_visit.setdefault(key, {}).setdefault(r["visit_id"], []).append(
            (r["created_at"], r["session_id"])
        )
    found = {}
    for key, visits in per_visit.items():
        found[key] = {
            "pageviews": sum(len(v) for v in visits.values()),
            "visitors": len({session for v in visits.values() for _, session in v}),
            "visits": len(visits),
            "bounces": sum(1 for v in visits.values() if len(v) == 1),
            "totaltime": sum(int((max(v)[0] - min(v)[0]).total_seconds()) for v in visits.values()),
        }
    return found


def _expected(rows: list[dict], since: datetime, until: datetime, keep=None) -> dict:
    """What the window's rows give, counted here: over views, as Umami's queries count them;
    `keep`: the rows a filter keeps, each by its own attributes."""
    inside = [r for r in rows if since <= r["created_at"] <= until and (keep is None or keep(r))]
    views = [r for r in inside if r["event_type"] not in (2, 5)]
    return {
        "stats": _metrics(views)[()],
        "expanded browser": {key[0]: m for key, m in _metrics(views, ("browser",)).items()},
        "breakdown os, country": _metrics(views, ("os", "country")),
        "browser": dict(Counter(b for b, _ in {(r["browser"], r["session_id"]) for r in views})),
        "path": dict(Counter(p for p, _ in {(r["url_path"], r["session_id"]) for r in views})),
        "referrer": dict(
            Counter(
                d
                for d, _ in {(r["referrer_domain"], r["session_id"]) for r in views}
                if d not in ("", "example.com")
            )
        ),
        "event": dict(Counter(r["event_name"] for r in inside if r["event_type"] == 2)),
        "days": sorted(Counter(r["created_at"].strftime("%Y-%m-%d") for r in views).items()),
        "event_days": Counter(
            (r["event_name"], r["created_at"].strftime("%Y-%m-%d"))
            for r in inside
            if r["event_type"] == 2
        ),
        # Sunday first, as Umami's grid: distinct sessions with views per day of week and hour.
        "weekly": Counter(
            (cell[0], cell[1])
            for cell, _ in {
                (((r["created_at"].weekday() + 1) % 7, r["created_at"].hour), r["session_id"])
                for r in views
            }
        ),
    }


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _answers(
    api, headers, website: str, since: datetime, until: datetime, filters: dict | None = None
) -> dict:
    window = {"startAt": _ms(since), "endAt": _ms(until), **(filters or {})}

    def get(path: str, **params):
        response = api.get(
            f"/api/websites/{website}/{path}", params={**window, **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    stats = get("stats")
    series = get("pageviews", unit="day", timezone="UTC")
    metrics = ("pageviews", "visitors", "visits", "bounces", "totaltime")
    breakdown = api.post(
        "/api/reports/breakdown",
        json=report_body(website, "breakdown", since, until, filters, fields=["os", "country"]),
        headers=headers,
    )
    assert breakdown.status_code == 200, breakdown.text
    return {
        "stats": {k: stats[k] for k in metrics},
        "expanded browser": {
            row["name"]: {k: row[k] for k in metrics}
            for row in get("metrics/expanded", type="browser")
        },
        "breakdown os, country": {
            (row["os"], row["country"]): {
                "pageviews": row["views"],
                **{k: row[k] for k in metrics[1:]},
            }
            for row in breakdown.json()
        },
        **{
            t: {m["x"]: m["y"] for m in get("metrics", type=t)}
            for t in ("browser", "path", "referrer", "event")
        },
        "days": [(p["x"][:10], p["y"]) for p in series["pageviews"]],
        "event_days": Counter(
            {
                (p["x"], p["t"][:10]): p["y"]
                for p in get("events/series", unit="day", timezone="UTC")
            }
        ),
        "weekly": Counter(
            {
                (day, hour): n
                for day, hours in enumerate(get("sessions/weekly", timezone="UTC"))
                for hour, n in enumerate(hours)
                if n
            }
        ),
    }


def _assert_rollups_answer(
    services, website_id, since: datetime, until: datetime, filters: dict | None = None
) -> None:
    """The decider sends this window's queries to the rollups: all of them unfiltered; with
    filters on session attributes, those the visit rollup answers."""
    parsed = tuple(F.parse_value(name, name, value) for name, value in (filters or {}).items())
    query = Query(
        website_id,
        T.to_us(since),
        T.to_us(until),
        unit="day",
        timezone="UTC",
        filters=F.Filters(parsed),
    )
    per_value = Source.RAW if parsed else Source.ROLLUPS
    with services.db.events.connect() as conn:
        reader = Reader.open(conn, services.db.events.kind)
        assert decide(reader, query).source is Source.ROLLUPS
        assert decide(reader, query, bucketed=True).source is Source.ROLLUPS
        assert decide(reader, query, events=True, bucketed=True).source is per_value
        for name in ("path", "referrer", "event"):
            assert decide(reader, query, [R.DIMENSIONS[name]]).source is per_value
        # A session attribute's values come from the visit rollup alone.
        assert decide(reader, query, [R.DIMENSIONS["browser"]]).source is Source.RAW
        for names in (["browser"], ["os", "country"]):
            attributes = [R.DIMENSIONS[name] for name in names]
            assert decide_attributes(reader, query, attributes).source is Source.ROLLUPS


@dataclass
class Site:
    """A Katsuo server on a fresh chdb database, one website, and the test's own client."""

    client: object
    services: object
    api: TestClient
    headers: dict
    website: str
    start: datetime  # a whole hour, 8 hours ago

    @property
    def wid(self) -> uuid.UUID:
        return uuid.UUID(self.website)


@contextmanager
def _site(chdb_databases, request, tmp_path_factory, name: str) -> Iterator[Site]:
    url = chdb_databases.create()
    client, _ = _client(url)
    services = _start(request, tmp_path_factory, url)
    try:
        with TestClient(create_app(services.settings, services)) as api:
            token, website = admin_with_website(api, name)
            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            yield Site(
                client,
                services,
                api,
                {"Authorization": f"Bearer {token}"},
                website,
                start - timedelta(hours=8),
            )
    finally:
        services.close()


def test_rollups_answer_exactly_across_partial_hours(chdb_databases, request, tmp_path_factory):
    with _site(chdb_databases, request, tmp_path_factory, "Rolled up") as site:
        start = site.start
        rows = _traffic(site.wid, start)
        _insert(site.client, rows)
        hourly = site.client.query(
            "SELECT count() FROM katsuo_hourly WHERE website_id = %(w)s", {"w": site.wid}
        ).result_rows[0][0]
        assert hourly > 0  # fed by the materialized view, from another writer's insert
        # Most views have no referrer; no metric counts an empty value, so none is kept.
        assert any(r["event_type"] == 1 and not r["referrer_domain"] for r in rows)
        empty = site.client.query(
            "SELECT count() FROM katsuo_hourly WHERE website_id = %(w)s AND value = '' "
            "AND kind != 'event_name'",
            {"w": site.wid},
        ).result_rows[0][0]
        assert empty == 0

        for since, until in [
            (start + timedelta(minutes=20), start + timedelta(hours=4, minutes=40)),
            (start + timedelta(minutes=57), start + timedelta(hours=5, minutes=1, seconds=9)),
            (start - timedelta(hours=1), start + timedelta(hours=7)),
        ]:
            _assert_rollups_answer(site.services, site.wid, since, until)
            assert _answers(site.api, site.headers, site.website, since, until) == _expected(
                rows, since, until
            ), (since, until)


def test_the_visit_rollup_applies_filters_on_session_attributes(
    chdb_databases, request, tmp_path_factory
):
    """Stats, the views series, the weekly grid, an expanded table and the breakdown under a
    session-attribute filter come from the visit rollup, each row kept by its own attributes;
    the rest reads the events. Both must be the test's own counts."""
    with _site(chdb_databases, request, tmp_path_factory, "Filtered") as site:
        rows = _traffic(site.wid, site.start)
        _insert(site.client, rows)
        since = site.start + timedelta(minutes=20)
        until = site.start + timedelta(hours=6, minutes=10)
        for filters, keep in [
            ({"country": "FR"}, lambda r: r["country"] == "FR"),
            ({"browser": "neq.chrome"}, lambda r: r["browser"] != "chrome"),
        ]:
            _assert_rollups_answer(site.services, site.wid, since, until, filters)
            found = _answers(site.api, site.headers, site.website, since, until, filters)
            assert found == _expected(rows, since, until, keep), filters
            assert found["stats"]["pageviews"] > 0


def test_a_delete_before_a_time_inside_an_hour_keeps_the_rollups_exact(
    chdb_databases, request, tmp_path_factory
):
    with _site(chdb_databases, request, tmp_path_factory, "Retention") as site:
        rows = _traffic(site.wid, site.start)
        _insert(site.client, rows)
        before = site.start + timedelta(hours=1, minutes=2)  # inside a visit, inside an hour
        store = site.services.db.events
        with store.connect() as conn:
            collected.delete_before(conn, store, site.wid, before, {schema.website_event.name})
        kept = [r for r in rows if r["created_at"] >= before]
        assert 0 < len(kept) < len(rows)
        since, until = site.start, site.start + timedelta(hours=7)
        _assert_rollups_answer(site.services, site.wid, since, until)
        assert _answers(site.api, site.headers, site.website, since, until) == _expected(
            kept, since, until
        )


def test_rollups_made_after_the_events_are_filled_from_them(
    chdb_databases, request, tmp_path_factory
):
    """A database whose events were stored before the rollups existed (an adopted Umami
    database, or one made by an earlier Katsuo): creating the layout fills them."""
    with _site(chdb_databases, request, tmp_path_factory, "Filled") as site:
        for table in layout.ROLLUPS:
            site.client.command(f"DROP TABLE `{table.name}_mv`")
            site.client.command(f"DROP TABLE `{table.name}`")
        rows = _traffic(site.wid, site.start)
        _insert(site.client, rows)
        with site.services.db.events.connect() as conn:
            layout.create(conn)
        hourly = site.client.query(
            "SELECT sum(hits) FROM katsuo_visit_hourly WHERE website_id = %(w)s", {"w": site.wid}
        ).result_rows[0][0]
        assert hourly == sum(1 for r in rows if r["event_type"] == 1)
        since = site.start + timedelta(minutes=30)
        until = site.start + timedelta(hours=6, minutes=30)
        _assert_rollups_answer(site.services, site.wid, since, until)
        assert _answers(site.api, site.headers, site.website, since, until) == _expected(
            rows, since, until
        )


def test_a_rollup_of_an_earlier_layout_is_rebuilt(chdb_databases, request, tmp_path_factory):
    """An earlier Katsuo's visit rollup (without the session attributes) is dropped with the
    view feeding it, made anew and filled from the stored events when the layout is created."""
    with _site(chdb_databases, request, tmp_path_factory, "Rebuilt") as site:
        rows = _rebuilt_over(
            site,
            layout.KATSUO_VISIT_HOURLY,
            [
                (
                    "CREATE TABLE katsuo_visit_hourly (website_id UUID, hour DateTime('UTC'), "
                    "session_id UUID, visit_id UUID, hits SimpleAggregateFunction(sum, UInt64)) "
                    "ENGINE = AggregatingMergeTree ORDER BY (website_id, hour, session_id, visit_id)"
                ),
                (
                    "CREATE MATERIALIZED VIEW katsuo_visit_hourly_mv TO katsuo_visit_hourly AS "
                    "SELECT website_id, toStartOfHour(created_at) AS hour, session_id, visit_id, "
                    "count() AS hits FROM website_event GROUP BY website_id, hour, session_id, visit_id"
                ),
            ],
        )
        columns = site.client.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() "
            "AND table = 'katsuo_visit_hourly' ORDER BY position"
        ).result_rows
        assert [c[0] for c in columns] == [name for name, _ in layout.KATSUO_VISIT_HOURLY.columns]
        _assert_exact_over_the_traffic(site, rows)


def _rebuilt_over(site, rollup: layout.Table, earlier: list[str]) -> list[dict]:
    """`rollup` and its view replaced by an earlier Katsuo's (the `earlier` statements), the
    test's traffic stored beside them, then the layout created; the rows stored."""
    site.client.command(f"DROP TABLE `{rollup.name}_mv`")
    site.client.command(f"DROP TABLE `{rollup.name}`")
    for statement in earlier:
        site.client.command(statement)
    rows = _traffic(site.wid, site.start)
    _insert(site.client, rows)
    with site.services.db.events.connect() as conn:
        layout.create(conn)
    return rows


def _assert_exact_over_the_traffic(site, rows: list[dict]) -> None:
    """The rollups answer the traffic's whole span, with the numbers counted from its rows."""
    since, until = site.start, site.start + timedelta(hours=7)
    _assert_rollups_answer(site.services, site.wid, since, until)
    assert _answers(site.api, site.headers, site.website, since, until) == _expected(
        rows, since, until
    )


def test_the_rollups_carry_only_what_they_answer():
    """Filters (but those on session attributes where the visit rollup answers), entry and exit
    pages, and windows shorter than an hour go to the events; so do series in a zone whose
    offset is not whole hours."""
    from katsuo.analytics import rollups
    from katsuo.store.engines import clickhouse

    hour = T.US_PER_HOUR
    website = uuid.uuid4()
    whole = Query(website, 10 * hour + 5, 14 * hour, unit="day", timezone="UTC")
    short = Query(website, 10 * hour + 5, 10 * hour + hour // 2, unit="day", timezone="UTC")
    us = (F.parse_value("country", "country", "US"),)
    filtered = Query(
        website, 10 * hour, 14 * hour, unit="day", timezone="UTC", filters=F.Filters(us)
    )
    india = Query(website, 10 * hour, 14 * hour, unit="hour", timezone="Asia/Kolkata")
    assert rollups.whole_hours(whole) == (11 * hour, 14 * hour)
    reader = Reader(None, clickhouse.DIALECT, False, clickhouse)  # no slices: rollups or raw

    def source(query, names=(), **kw):
        return decide(reader, query, [R.DIMENSIONS[n] for n in names], **kw).source

    assert source(whole) is Source.ROLLUPS
    assert source(whole, ["path"]) is Source.ROLLUPS
    assert source(whole, ["entry"]) is Source.RAW
    assert source(whole, ["region"]) is Source.RAW
    assert source(whole, ["browser"]) is Source.RAW  # by value: the visit rollup (below)
    assert source(short) is Source.RAW
    assert source(filtered, ["path"]) is Source.RAW
    assert source(india) is Source.ROLLUPS
    assert source(india, bucketed=True) is Source.RAW

    def by_attributes(query, names, **kw):
        return decide_attributes(reader, query, [R.DIMENSIONS[n] for n in names], **kw).source

    assert by_attributes(whole, ["os", "country"]) is Source.ROLLUPS
    assert by_attributes(whole, ["os", "path"]) is Source.RAW
    assert by_attributes(filtered, ["os"]) is Source.ROLLUPS  # a filter on an attribute
    on_path = (F.parse_value("path", "path", "/pricing"),)
    by_path = Query(
        website, 10 * hour, 14 * hour, unit="day", timezone="UTC", filters=F.Filters(on_path)
    )
    assert by_attributes(by_path, ["os"]) is Source.RAW
    assert source(by_path) is Source.RAW
    assert source(filtered) is Source.ROLLUPS
    assert source(filtered, events=True) is Source.RAW
    assert by_attributes(short, ["os"]) is Source.RAW
    link = Query(website, 10 * hour, 14 * hour, unit="day", timezone="UTC", target_kind="link")
    # A link's hits are its views for the metrics, but never page views for the breakdown.
    assert by_attributes(link, ["os"]) is Source.ROLLUPS
    assert by_attributes(link, ["os"], page_views=True) is Source.RAW
    assert by_attributes(whole, ["os"], page_views=True) is Source.ROLLUPS


def test_an_hourly_rollup_of_an_earlier_version_is_rebuilt(
    chdb_databases, request, tmp_path_factory
):
    """katsuo_hourly made by an earlier Katsuo (the same columns, no version comment, a view that
    also wrote the session attributes' values) is dropped with its view, made anew and filled
    from the stored events: none of the kinds it no longer keeps is left."""
    from dataclasses import replace

    with _site(chdb_databases, request, tmp_path_factory, "Versioned") as site:
        rows = _rebuilt_over(
            site,
            layout.KATSUO_HOURLY,
            [
                *layout._create_table(replace(layout.KATSUO_HOURLY, version=""), ""),
                (
                    "CREATE MATERIALIZED VIEW katsuo_hourly_mv TO katsuo_hourly AS SELECT website_id, "
                    "toStartOfHour(toDateTime(created_at, 'UTC')) AS hour, 'browser' AS kind, "
                    "toString(browser) AS value, count() AS hits, uniqExactState(session_id) "
                    "AS sessions FROM website_event WHERE event_type = 1 "
                    "GROUP BY website_id, hour, kind, value"
                ),
            ],
        )
        kinds = {
            k[0] for k in site.client.query("SELECT DISTINCT kind FROM katsuo_hourly").result_rows
        }
        assert "url_path" in kinds
        assert kinds <= set(layout.ROLLUP_COLUMNS)
        assert "browser" not in layout.ROLLUP_COLUMNS
        comment = site.client.query(
            "SELECT comment FROM system.tables WHERE database = currentDatabase() "
            "AND name = 'katsuo_hourly'"
        ).result_rows[0][0]
        assert comment == layout.KATSUO_HOURLY.version
        _assert_exact_over_the_traffic(site, rows)
