"""ClickHouse's pointer rows (analytics/pointers.py, pointer_entries.py, pointer_upkeep.py;
docs/clickhouse.md#pointer-rows) give the raw events' exact distinct sessions per path, referrer
and session attribute, and the exact totals, series and weekly grid: over the hours they keep and
the hours not kept yet, from a range start before or inside the traffic, after another writer's
late rows, after a delete, and when two processes keep them at once.

The rows are written straight into website_event as another writer (Umami) would; every expected
number is counted here from those rows. The server's own rounds are stopped: each test runs them
itself, at the time it chooses.
"""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from katsuo.analytics import filters as F
from katsuo.analytics import pointer_entries, pointer_upkeep
from katsuo.analytics import registry as R
from katsuo.analytics import timeframe as T
from katsuo.analytics.decider import Source, decide_pointers
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.store import schema
from katsuo.store.engines import clickhouse_layout as layout
from katsuo.store.repositories import collected
from tests.engines.test_clickhouse_layout import _insert, _visit
from tests.engines.test_clickhouse_rollups import _expected, _ms, _site, _traffic

KINDS = ("path", "referrer", "browser", "os", "country")


def _answers(site, since: datetime, until: datetime) -> dict:
    found = {}
    for kind in KINDS:
        response = site.api.get(
            f"/api/websites/{site.website}/metrics",
            params={"startAt": _ms(since), "endAt": _ms(until), "type": kind},
            headers=site.headers,
        )
        assert response.status_code == 200, response.text
        found[kind] = {m["x"]: m["y"] for m in response.json()}
    return found


def _counted(rows: list[dict], since: datetime, until: datetime) -> dict:
    """Distinct sessions per value of each kind, over the window's views, each with its own
    row's value (the referrer without self-referrals: the rollup tests count it)."""
    expected = _expected(rows, since, until)
    views = [r for r in rows if since <= r["created_at"] <= until and r["event_type"] == 1]
    found = {kind: expected[kind] for kind in ("path", "referrer", "browser")}
    for kind in ("os", "country"):
        pairs = {(r[kind], r["session_id"]) for r in views if r[kind]}
        found[kind] = dict(Counter(value for value, _ in pairs))
    return found


def _source(site, since: datetime, until: datetime):
    """The decider's choice for the window's metrics of every kind (the same for all), and the
    end of the hours the pointer rows answer."""
    query = Query(site.wid, T.to_us(since), T.to_us(until), unit="day", timezone="UTC")
    with site.services.db.events.connect() as conn:
        reader = Reader.open(conn, site.services.db.events.kind)
        decisions = {decide_pointers(reader, query, [R.DIMENSIONS[kind]]) for kind in KINDS}
    (decision,) = decisions
    until_us = decision.until_us
    return decision.source, until_us and datetime.fromtimestamp(until_us / 1e6, UTC)


def _keep(site, at: datetime | None = None) -> int:
    return pointer_upkeep.keep(site.services.db, None if at is None else T.to_us(at))


def _stop_rounds(site) -> None:
    site.services.pointers.stop()


def test_pointer_rows_answer_exactly_over_kept_and_unkept_hours(
    chdb_databases, request, tmp_path_factory
):
    with _site(chdb_databases, request, tmp_path_factory, "Pointers") as site:
        _stop_rounds(site)
        start = site.start
        rows = _traffic(site.wid, start)
        _insert(site.client, rows)
        until = start + timedelta(hours=7)
        windows = [(start, until), (start + timedelta(hours=1), until)]
        # Nothing kept yet: the rollups answer.
        assert _source(site, start, until) == (Source.RAW, None)
        # A round 1 h 30 after the start keeps the first hour, one 3 h 30 after it the first
        # three; the rest of the range is read from the events. A visit crosses from the first
        # hour into the second with a path in both: its session counts once for it.
        for hours, kept in ((1, 1), (3, 2)):
            assert _keep(site, start + timedelta(hours=hours, minutes=30)) == kept
            for since, end in windows[: 1 if hours == 1 else 2]:
                assert _source(site, since, end) == (
                    Source.POINTERS,
                    start + timedelta(hours=hours),
                )
                assert _answers(site, since, end) == _counted(rows, since, end), (hours, since)
        # A round now keeps every hour that is over.
        assert _keep(site) > 0
        for since, end in windows:
            source, kept = _source(site, since, end)
            assert source is Source.POINTERS and kept >= start + timedelta(hours=6)
            assert _answers(site, since, end) == _counted(rows, since, end), since
        # A window ending inside an hour: its last part is read from the events.
        since, end = start, start + timedelta(hours=2, minutes=10)
        assert _source(site, since, end) == (Source.POINTERS, start + timedelta(hours=2))
        assert _answers(site, since, end) == _counted(rows, since, end)
        # A window ending hours from now (today until midnight): the rest is read up to now.
        since, end = start, datetime.now(UTC) + timedelta(hours=12)
        assert _source(site, since, end)[0] is Source.POINTERS
        assert _answers(site, since, end) == _counted(rows, since, end)
        assert _keep(site) == 0  # nothing changed: nothing is written again
        # Metrics that key values together (language) or add the country (region, city), the
        # visits' entry and exit paths and filtered queries are not answered from the rows.
        query = Query(site.wid, T.to_us(start), T.to_us(until), unit="day", timezone="UTC")
        filtered = Query(
            site.wid,
            T.to_us(start),
            T.to_us(until),
            unit="day",
            timezone="UTC",
            filters=F.Filters((F.parse_value("browser", "browser", "chrome"),)),
        )
        with site.services.db.events.connect() as conn:
            reader = Reader.open(conn, site.services.db.events.kind)
            for name in ("language", "region", "city", "entry", "exit"):
                assert decide_pointers(reader, query, [R.DIMENSIONS[name]]).source is Source.RAW
            path = [R.DIMENSIONS["path"]]
            assert decide_pointers(reader, filtered, path).source is Source.RAW


def test_pointer_rows_follow_late_rows_and_deletes(chdb_databases, request, tmp_path_factory):
    with _site(chdb_databases, request, tmp_path_factory, "Late rows") as site:
        _stop_rounds(site)
        start = site.start
        rows = _traffic(site.wid, start)
        _insert(site.client, rows)
        assert _keep(site) > 0
        since, until = start + timedelta(hours=1), start + timedelta(hours=7)
        # Another writer adds rows to an hour already kept: a returning session (its first
        # visit was at minute 200) and a new one, with a path seen before and a new one.
        returning = next(r for r in rows if r["created_at"] >= start + timedelta(minutes=200))
        late = _visit(site.wid, start + timedelta(hours=1, minutes=5), "chrome", ["/a", "/late"])
        for row in late:
            row["session_id"] = returning["session_id"]
        late += _visit(site.wid, start + timedelta(hours=1, minutes=6), "firefox", ["/docs"])
        _insert(site.client, late)
        assert _keep(site) > 0
        rows += late
        assert _source(site, since, until)[0] is Source.POINTERS
        assert _answers(site, since, until) == _counted(rows, since, until)
        # Katsuo deletes the events before a time: the website's rows go, the rollups answer
        # until the next round has kept them again.
        before = start + timedelta(hours=2, minutes=2)
        store = site.services.db.events
        with store.connect() as conn:
            collected.delete_before(conn, store, site.wid, before, {schema.website_event.name})
        rows = [r for r in rows if r["created_at"] >= before]
        assert _source(site, since, until) == (Source.RAW, None)
        assert _answers(site, since, until) == _counted(rows, since, until)
        assert _keep(site) > 0
        assert _source(site, since, until)[0] is Source.POINTERS
        assert _answers(site, since, until) == _counted(rows, since, until)


def test_two_processes_keeping_the_rows_at_once_agree(chdb_databases, request, tmp_path_factory):
    with _site(chdb_databases, request, tmp_path_factory, "Two keepers") as site:
        _stop_rounds(site)
        rows = _traffic(site.wid, site.start)
        _insert(site.client, rows)
        rounds = [threading.Thread(target=_keep, args=(site,)) for _ in range(2)]
        for thread in rounds:
            thread.start()
        for thread in rounds:
            thread.join()
        since, until = site.start, site.start + timedelta(hours=7)
        assert _source(site, since, until)[0] is Source.POINTERS
        assert _answers(site, since, until) == _counted(rows, since, until)
        assert _keep(site) == 0


def test_a_changed_hour_makes_every_later_hour_stale():
    hour = 3600
    figures = {0: (2, 10), hour: (1, 5), 3 * hour: (4, 7)}
    kept = {h: row for h, *row in pointer_upkeep.stale_hours(figures, {}, 4 * hour)}
    assert list(kept) == [0, hour, 3 * hour, 4 * hour]  # the last hour says how far rows go
    assert kept[3 * hour] == [4, 7, 3, 15] and kept[4 * hour] == [0, 0, 7, 22]
    recorded = {h: tuple(row) for h, row in kept.items()}
    assert pointer_upkeep.stale_hours(figures, recorded, 4 * hour) == []
    # A late event in the second hour: it and every later row are written again.
    figures[hour] = (2, 9)
    again = [h for h, *_ in pointer_upkeep.stale_hours(figures, recorded, 4 * hour)]
    assert again == [hour, 3 * hour, 4 * hour]
    # Every event of the first hour deleted: its row is written again, empty.
    figures = {h: f for h, f in figures.items() if h != 0}
    assert pointer_upkeep.stale_hours(figures, recorded, 4 * hour)[0] == (0, 0, 0, 0, 0)


def _stats(site, since: datetime, until: datetime) -> dict:
    response = site.api.get(
        f"/api/websites/{site.website}/stats",
        params={"startAt": _ms(since), "endAt": _ms(until)},
        headers=site.headers,
    )
    assert response.status_code == 200, response.text
    return {k: response.json()[k] for k in R.METRICS}


def _totals_source(site, since: datetime, until: datetime, unit="day", zone="UTC", **kw):
    """The decider's choice for the window's stats, its series of views by `unit` (`bucketed`)
    or its weekly grid (`weekly`)."""
    query = Query(site.wid, T.to_us(since), T.to_us(until), unit=unit, timezone=zone)
    with site.services.db.events.connect() as conn:
        reader = Reader.open(conn, site.services.db.events.kind)
        return decide_pointers(reader, query, **kw).source


SERIES = (("hour", "America/New_York"), ("day", "Europe/Berlin"), ("hour", "Asia/Kolkata"))
WEEKLY_ZONES = ("UTC", "Asia/Tokyo", "Asia/Kolkata")  # zones without daylight saving time


def _weekly(site, since: datetime, until: datetime, zone: str) -> Counter:
    response = site.api.get(
        f"/api/websites/{site.website}/sessions/weekly",
        params={"startAt": _ms(since), "endAt": _ms(until), "timezone": zone},
        headers=site.headers,
    )
    assert response.status_code == 200, response.text
    grid = response.json()
    return Counter({(d, h): n for d, hours in enumerate(grid) for h, n in enumerate(hours) if n})


def _weekly_counted(rows, since: datetime, until: datetime, zone: str) -> Counter:
    """Distinct sessions with views per (day of week, Sunday first; hour) of the zone."""
    cells = set()
    for r in rows:
        if since <= r["created_at"] <= until and r["event_type"] not in (2, 5):
            local = r["created_at"].astimezone(ZoneInfo(zone))
            cells.add((((local.weekday() + 1) % 7, local.hour), r["session_id"]))
    return Counter(cell for cell, _ in cells)


def _series(site, since: datetime, until: datetime, unit: str, zone: str) -> tuple[list, list]:
    response = site.api.get(
        f"/api/websites/{site.website}/pageviews",
        params={"startAt": _ms(since), "endAt": _ms(until), "unit": unit, "timezone": zone},
        headers=site.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return [p["y"] for p in body["pageviews"]], [p["y"] for p in body["sessions"]]


def _series_counted(rows, since: datetime, until: datetime, unit: str, zone: str) -> tuple:
    """Views and distinct sessions per wall-clock hour or day of the zone, in order."""
    views: dict = {}
    for r in rows:
        if since <= r["created_at"] <= until and r["event_type"] not in (2, 5):
            local = r["created_at"].astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            key = local.replace(minute=0, second=0, microsecond=0)
            views.setdefault(key if unit == "hour" else key.date(), []).append(r["session_id"])
    buckets = [views[key] for key in sorted(views)]
    return [len(b) for b in buckets], [len(set(b)) for b in buckets]


def _long_visits(site, start: datetime) -> list[dict]:
    """A visit over five hours with an hour without views, its times with µs whose fraction
    falls from the first view to the last (whole seconds are floored over the visit, not per
    hour); a second visit of one of _traffic's sessions; a visit of one view in each of two
    hours (a bounce over a range that holds one of them)."""
    long = _visit(site.wid, start, "chrome", ["/", "/a", "/b", "/c", "/d", "/e"])
    for row, minutes in zip(long, (10, 20, 70, 130, 250, 251), strict=True):
        row["created_at"] = start + timedelta(minutes=minutes, microseconds=900_000 - minutes)
    long[-1]["created_at"] += timedelta(microseconds=-850_000)
    twice = _visit(site.wid, start + timedelta(minutes=100), "safari", ["/x", "/y"])
    twice[1]["created_at"] = start + timedelta(minutes=125)
    return long + twice


def test_pointer_rows_give_the_stats_series_and_weekly_grid_exactly(
    chdb_databases, request, tmp_path_factory
):
    with _site(chdb_databases, request, tmp_path_factory, "Totals") as site:
        _stop_rounds(site)
        start = site.start
        rows = _traffic(site.wid, start) + _long_visits(site, start)
        # The session of the visit at minute 0 comes back for a second visit in hour 4. It
        # and the visit at minute 70's were there a week before, at the same hours of the week
        # (one weekly cell each); a third session only then.
        week = timedelta(days=7)
        again = _visit(site.wid, start + timedelta(minutes=262), "chrome", ["/", "/pricing"])
        earlier = _visit(site.wid, start - week + timedelta(minutes=30), "chrome", ["/"])
        earlier += _visit(site.wid, start - week + timedelta(minutes=71), "firefox", ["/", "/a"])
        at_70 = next(r for r in rows if r["created_at"] == start + timedelta(minutes=70, seconds=7))
        returning = {0: rows[0]["session_id"], 1: at_70["session_id"]}
        for row in again + earlier[:1]:
            row["session_id"] = returning[0]
        earlier.append(_visit(site.wid, start - week + timedelta(minutes=80), "edge", ["/"])[0])
        for row in earlier[1:3]:
            row["session_id"] = returning[1]
        rows += again + earlier
        _insert(site.client, rows)
        hour = timedelta(hours=1)
        windows = [
            (first, end)
            for first in (*(start + n * hour for n in range(4)), start - week)
            for end in (start + 7 * hour, start + 4 * hour + timedelta(minutes=20))
        ]
        assert _totals_source(site, start, start + 7 * hour) is Source.RAW

        def check(since, end):
            assert _totals_source(site, since, end) is Source.POINTERS
            assert _stats(site, since, end) == _expected(rows, since, end)["stats"], (since, end)
            for requested, zone in SERIES:
                # The unit a long range allows (days over a week), as Umami chooses it.
                unit = T.choose_unit(T.to_us(since), T.to_us(end), requested)
                # A zone whose offset is not whole hours has buckets the rows do not hold.
                whole = zone != "Asia/Kolkata"
                source = Source.POINTERS if whole else Source.RAW
                assert _totals_source(site, since, end, unit, zone, bucketed=True) is source
                counted = _series_counted(rows, since, end, unit, zone)
                assert _series(site, since, end, unit, zone) == counted, (since, end, unit)
            for zone in WEEKLY_ZONES:
                source = Source.POINTERS if zone != "Asia/Kolkata" else Source.RAW
                assert _totals_source(site, since, end, zone=zone, weekly=True) is source
                counted = _weekly_counted(rows, since, end, zone)
                assert _weekly(site, since, end, zone) == counted, (since, end, zone)

        # The hours up to the first two kept (four with events), the rest of each window read
        # from the events; then all.
        assert _keep(site, start + 2 * hour + timedelta(minutes=30)) == 4
        for since, end in windows[:4] + windows[-2:]:
            check(since, end)
        assert _keep(site) > 0
        for since, end in [*windows, (start, datetime.now(UTC) + 12 * hour)]:
            check(since, end)
        # A range starting inside an hour is answered by the rollups.
        assert _totals_source(site, start + timedelta(minutes=30), start + 7 * hour) is Source.RAW


def test_view_entries_add_up_to_each_visits_part_of_any_range():
    """The entries of random visits over two weeks, summed as a read sums them over every range
    of whole hours, against each visit's views in the range counted directly, and the weekly
    grid's sessions per UTC hour of the week."""
    rng = random.Random(7)
    h, base = 3600, 500_000  # hours since 1970, none of them that of "no previous hour"
    hours = [*range(base, base + 10), *range(base + 168, base + 178)]  # a week apart
    rows = []
    for n in range(60):
        session = uuid.UUID(int=rng.randrange(20))  # sessions with several visits
        for hour in sorted(rng.sample(hours, rng.randint(1, 5))):
            first = hour * h * 10**6 + rng.randrange(h * 10**6)
            last = rng.choice((first, rng.randrange(first, (hour + 1) * h * 10**6)))
            rows.append(
                {
                    "session_id": session,
                    "visit_id": uuid.UUID(int=1000 + n),
                    "hour": hour * h,
                    "hits": 1 if last == first else rng.randint(2, 4),
                    "first_us": first,
                    "last_us": last,
                }
            )
    columns = ("session_id", "visit_id", "hour", "hits", "first_us", "last_us")
    entries = pointer_entries.view_entries([[r[c] for c in columns] for r in rows], lambda h: True)
    bounds = [*hours, hours[-1] + 1]
    for first_hour, end_hour in itertools.combinations(bounds, 2):
        found, weekly = Counter(), Counter()
        for hour, counted in entries.items():
            if first_hour * h <= hour < end_hour * h:
                for (kind, start, prev), amount in counted.items():
                    if prev < first_hour * h <= start:
                        found[kind] += amount
                        if kind == pointer_entries.WEEKLY:
                            weekly[hour // h % 168] += amount
        inside = [r for r in rows if first_hour * h <= r["hour"] < end_hour * h]
        visits: dict = {}
        for r in inside:
            hits, first, last = visits.get(r["visit_id"], (0, r["first_us"], r["last_us"]))
            visits[r["visit_id"]] = (
                hits + r["hits"],
                min(first, r["first_us"]),
                max(last, r["last_us"]),
            )
        expected = {
            "visitors": len({r["session_id"] for r in inside}),
            "pageviews": sum(hits for hits, _, _ in visits.values()),
            "visits": len(visits),
            "bounces": sum(1 for hits, _, _ in visits.values() if hits == 1),
            "totaltime": sum((last - first) // 10**6 for _, first, last in visits.values()),
        }
        assert {k: found[k] for k in expected} == expected, (first_hour, end_hour)
        cells = {(r["hour"] // h % 168, r["session_id"]) for r in inside}
        assert weekly == Counter(cell for cell, _ in cells), (first_hour, end_hour)


# The table as stop 32's Katsuo made it: one previous hour per entry, no start hour.
_POINTERS_V1 = """
CREATE TABLE katsuo_pointer_hourly (
  website_id UUID, hour DateTime('UTC'), kind Array(LowCardinality(String)),
  value Array(String), prev_hour Array(DateTime('UTC')), pairs Array(UInt64),
  events UInt64, fingerprint UInt64, events_before UInt64, fingerprint_before UInt64
) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(hour) ORDER BY (website_id, hour)
COMMENT 'katsuo pointers 1'"""


def test_pointer_rows_of_an_earlier_version_are_dropped_and_kept_again(
    chdb_databases, request, tmp_path_factory
):
    """A database whose pointer table an earlier Katsuo made: at start the table is made anew
    (none of its rows is read), the rollups answer until a round has kept it, then the rows."""
    with _site(chdb_databases, request, tmp_path_factory, "Pointers v1") as site:
        _stop_rounds(site)
        site.client.command("DROP TABLE katsuo_pointer_hourly")
        site.client.command(_POINTERS_V1)
        rows = _traffic(site.wid, site.start)
        _insert(site.client, rows)
        site.client.command(
            "INSERT INTO katsuo_pointer_hourly VALUES "
            f"('{site.wid}', now(), ['url_path'], ['/'], [now()], [99], 1, 2, 3, 4)"
        )
        with site.services.db.events.connect() as conn:
            layout.create(conn)
        columns = site.client.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() "
            "AND table = 'katsuo_pointer_hourly' ORDER BY position"
        ).result_rows
        assert [name for (name,) in columns] == list(pointer_upkeep.POINTER_COLUMNS)
        assert site.client.query("SELECT count() FROM katsuo_pointer_hourly").result_rows == [(0,)]
        since, until = site.start, site.start + timedelta(hours=7)
        assert _totals_source(site, since, until) is Source.RAW
        assert _stats(site, since, until) == _expected(rows, since, until)["stats"]
        assert _keep(site) > 0
        assert _totals_source(site, since, until) is Source.POINTERS
        assert _stats(site, since, until) == _expected(rows, since, until)["stats"]
