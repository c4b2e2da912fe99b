"""Events, event data, sessions, session data, weekly traffic and the small endpoints (date
range, filter values, export) against the model."""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from collections import defaultdict

import pytest

from tests.analytics import traffic
from tests.analytics.model import at, iso, ms, previous_window
from tests.analytics.test_website_stats import ranked

START, END = traffic.START, traffic.END


def data_rows(hit) -> list[tuple]:
    """(key, data type, rendered value) of an event's flattened data."""
    rows = []
    for key, value in (hit.data or {}).items():
        if isinstance(value, bool):
            rows.append((key, 3, str(value).lower()))
        elif isinstance(value, (int, float)):
            rows.append((key, 2, f"{value:.4f}".replace(".0000", "")))
        else:
            rows.append((key, 1, value))
    return rows


# --- events ---------------------------------------------------------------------------------


def test_event_list(dataset):
    model = dataset.model
    hits = sorted(model.select(START, END, types=None), key=lambda h: h.at, reverse=True)
    body = dataset.get(dataset.stats_path("events"), **dataset.range(), pageSize=500)
    assert body["count"] == len(hits) and body["page"] == 1 and body["pageSize"] == 500
    got = [
        (
            r["createdAt"],
            r["urlPath"],
            r["eventType"],
            r["eventName"],
            r["country"],
            r["browser"],
            r["hasData"],
            r["referrerDomain"],
            r["pageTitle"],
        )
        for r in body["data"]
    ]
    expected = [
        (
            iso(h.at),
            h.path,
            h.event_type,
            h.name,
            h.visitor.country,
            h.visitor.browser,
            int(bool(h.data)),
            h.referrer_domain,
            h.title,
        )
        for h in hits
    ]
    assert sorted(got, key=lambda r: (r[0], r[1], r[2])) == sorted(
        expected, key=lambda r: (r[0], r[1], r[2])
    )
    assert [r["createdAt"] for r in body["data"]] == sorted(
        (r["createdAt"] for r in body["data"]), reverse=True
    )
    page2 = dataset.get(dataset.stats_path("events"), **dataset.range(), page=2, pageSize=5)
    assert [r["createdAt"] for r in page2["data"]] == [iso(h.at) for h in hits[5:10]]


def test_event_list_search_and_filter(dataset):
    model = dataset.model
    expected = [
        h
        for h in model.select(START, END, {"country": ("eq", "US")}, types=None)
        if (h.event_type == 2 and "sign" in h.name) or (h.event_type == 1 and "sign" in h.path)
    ]
    body = dataset.get(dataset.stats_path("events"), **dataset.range(), search="SIGN", country="US")
    assert body["count"] == len(expected)
    assert sorted(r["createdAt"] for r in body["data"]) == sorted(iso(h.at) for h in expected)


@pytest.mark.parametrize(
    "zone,unit", [("UTC", "day"), ("America/New_York", "hour"), ("utc", "month")]
)
def test_event_series(dataset, zone, unit):
    model = dataset.model
    start, end = (
        (at("2026-03-08 00:00:00"), at("2026-03-09 23:00:00")) if unit == "hour" else (START, END)
    )
    counts: dict = defaultdict(int)
    for hit in model.select(start, end, types="custom"):
        counts[(hit.name, model.bucket(hit.at, unit, zone))] += 1
    body = dataset.get(
        dataset.stats_path("events/series"),
        startAt=ms(start),
        endAt=ms(end),
        unit=unit,
        timezone=zone,
    )
    assert sorted(body, key=lambda r: (r["t"], r["x"])) == [
        {"x": name, "t": label, "y": n}
        for (name, label), n in sorted(counts.items(), key=lambda i: (i[0][1], i[0][0]))
    ]
    assert {r["t"] for r in body} == {label for _, label in counts}
    assert [r["t"] for r in body] == sorted(r["t"] for r in body)


def test_event_series_limit_and_timezone_required(dataset):
    model = dataset.model
    totals: dict = defaultdict(int)
    for hit in model.select(START, END, types="custom"):
        totals[hit.name] += 1
    top = sorted(totals, key=lambda n: (-totals[n], n))[:1]
    body = dataset.get(
        dataset.stats_path("events/series"), **dataset.range(), unit="day", timezone="UTC", limit=1
    )
    assert {r["x"] for r in body} == set(top)
    error = dataset.get(dataset.stats_path("events/series"), 400, **dataset.range(), unit="day")
    assert "timezone" in error["error"]["message"]


def test_event_stats(dataset):
    model = dataset.model

    def stats(start, end):
        hits = model.select(start, end, types="custom")
        return {
            "events": len(hits),
            "visitors": len({h.session for h in hits}),
            "visits": len({h.visit for h in hits}),
            "uniqueEvents": len({h.name for h in hits}),
        }

    body = dataset.get(dataset.stats_path("events/stats"), **dataset.range())
    assert body == {
        "data": {**stats(START, END), "comparison": stats(*previous_window(START, END))}
    }


# --- event data -----------------------------------------------------------------------------


def with_data(model, start=START, end=END, filters=None):
    return [h for h in model.select(start, end, filters, types="custom") if h.data]


def test_event_data_list_and_by_id(dataset):
    model = dataset.model
    hits = sorted(with_data(model), key=lambda h: h.at, reverse=True)
    body = dataset.get(dataset.stats_path("event-data"), **dataset.range())
    assert body["count"] == len(hits)
    assert [
        (e["eventName"], sorted((p["dataKey"], p["dataType"]) for p in e["eventProperties"]))
        for e in body["data"]
    ] == [(h.name, sorted((k, t) for k, t, _ in data_rows(h))) for h in hits]
    first = body["data"][0]
    rows = dataset.get(dataset.stats_path(f"event-data/{first['eventId']}"))
    assert sorted((r["dataKey"], r["stringValue"], r["eventName"]) for r in rows) == sorted(
        (p["dataKey"], p["stringValue"], first["eventName"]) for p in first["eventProperties"]
    )
    number = [r for r in rows if r["dataType"] == 2]
    for row in number:
        assert row["numberValue"] == float(row["stringValue"])


def test_event_data_breakdowns(dataset):
    model = dataset.model
    hits = with_data(model)
    by_key: dict = defaultdict(int)
    by_value: dict = defaultdict(int)
    fields: dict = defaultdict(int)
    properties: dict = defaultdict(int)
    for hit in hits:
        for key, data_type, value in data_rows(hit):
            by_key[(hit.name, key, data_type)] += 1
            by_value[(hit.name, key, data_type, value)] += 1
            fields[(key, data_type, value)] += 1
            properties[(hit.name, key)] += 1
    body = dataset.get(dataset.stats_path("event-data/events"), **dataset.range())
    assert {(r["eventName"], r["propertyName"], r["dataType"]): r["total"] for r in body} == by_key
    body = dataset.get(dataset.stats_path("event-data/fields"), **dataset.range())
    assert {(r["propertyName"], r["dataType"], r["value"]): r["total"] for r in body} == fields
    body = dataset.get(dataset.stats_path("event-data/properties"), **dataset.range())
    assert {(r["eventName"], r["propertyName"]): r["total"] for r in body} == properties
    body = dataset.get(dataset.stats_path("event-data/stats"), **dataset.range())
    assert body == [
        {
            "events": len(hits),
            "properties": len({k for _, k, _ in by_key}),
            "records": sum(by_key.values()),
        }
    ]
    plan = [h for h in hits if h.name == "signup-click"]
    expected = defaultdict(int)
    for hit in plan:
        expected[hit.data["plan"]] += 1
    body = dataset.get(
        dataset.stats_path("event-data/values"),
        **dataset.range(),
        event="signup-click",
        propertyName="plan",
    )
    assert {r["value"]: r["total"] for r in body} == expected
    body = dataset.get(
        dataset.stats_path("event-data/events"), **dataset.range(), event="signup-click"
    )
    assert {
        (r["eventName"], r["propertyName"], r["dataType"], r["propertyValue"]): r["total"]
        for r in body
    } == {k: v for k, v in by_value.items() if k[0] == "signup-click"}
    dataset.get(
        dataset.stats_path("event-data/values"), 400, **dataset.range(), event="signup-click"
    )


# --- sessions -------------------------------------------------------------------------------


def test_session_list(dataset):
    model = dataset.model
    groups: dict = defaultdict(list)
    for hit in model.select(START, END, types=None):
        groups[(hit.session, hit.hostname)].append(hit)
    body = dataset.get(dataset.stats_path("sessions"), **dataset.range(), pageSize=100)
    assert body["count"] == len(groups)
    got = sorted(
        (
            r["city"] or "",
            r["firstAt"],
            r["lastAt"],
            r["visits"],
            r["views"],
            r["events"],
            r["createdAt"],
        )
        for r in body["data"]
    )
    expected = sorted(
        (
            hits[0].visitor.city or "",
            iso(min(h.at for h in hits)),
            iso(max(h.at for h in hits)),
            len({h.visit for h in hits}),
            sum(h.event_type == 1 for h in hits),
            sum(h.event_type == 2 for h in hits),
            iso(max(h.at for h in hits)),
        )
        for hits in groups.values()
    )
    assert got == expected
    assert [r["lastAt"] for r in body["data"]] == sorted(
        (r["lastAt"] for r in body["data"]), reverse=True
    )
    found = dataset.get(dataset.stats_path("sessions"), **dataset.range(), search="FRAN")
    assert [r["city"] for r in found["data"]] == ["San Francisco"]


def test_session_stats(dataset):
    hits = dataset.model.select(START, END, types=None)
    body = dataset.get(dataset.stats_path("sessions/stats"), **dataset.range())
    assert body == {
        "pageviews": {"value": len(hits)},
        "visitors": {"value": len({h.session for h in hits})},
        "visits": {"value": len({h.visit for h in hits})},
        "countries": {"value": len({h.visitor.country for h in hits if h.visitor.country})},
        "events": {"value": sum(h.event_type == 2 for h in hits)},
    }


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"])
def test_weekly(dataset, zone):
    from zoneinfo import ZoneInfo

    cells: dict = defaultdict(set)
    for hit in dataset.model.select(START, END):
        local = hit.at.astimezone(ZoneInfo(zone))
        cells[((local.weekday() + 1) % 7, local.hour)].add(hit.session)
    body = dataset.get(dataset.stats_path("sessions/weekly"), **dataset.range(), timezone=zone)
    assert body == [[len(cells.get((day, hour), ())) for hour in range(24)] for day in range(7)]


def _session_id(dataset, city):
    rows = dataset.get(
        dataset.stats_path("sessions"),
        startAt=ms(at("2026-03-01 00:00:00")),
        endAt=ms(at("2026-03-31 00:00:00")),
        pageSize=100,
    )["data"]
    return next(r["id"] for r in rows if r["city"] == city)


def test_session_detail_activity_and_properties(dataset):
    model = dataset.model
    sid = _session_id(dataset, "San Francisco")
    hits = [h for h in model.hits if h.visitor.key == "sf" and h.identify is None]
    visits: dict = defaultdict(list)
    for hit in hits:
        visits[hit.visit].append(hit.ts)
    body = dataset.get(dataset.stats_path(f"sessions/{sid}"))
    assert {
        k: body[k] for k in ("browser", "os", "device", "country", "region", "city", "distinctId")
    } == {
        "browser": "firefox",
        "os": "Linux",
        "device": "desktop",
        "country": "US",
        "region": "US-CA",
        "city": "San Francisco",
        "distinctId": None,
    }
    assert (body["firstAt"], body["lastAt"]) == (
        iso(min(h.at for h in hits)),
        iso(max(h.at for h in hits)),
    )
    assert (body["visits"], body["views"], body["events"]) == (
        len(visits),
        sum(h.event_type == 1 for h in hits),
        sum(h.event_type == 2 for h in hits),
    )
    assert body["totaltime"] == sum(int(max(t) - min(t)) for t in visits.values())
    assert dataset.get(dataset.stats_path("sessions/00000000-0000-4000-8000-000000000000")) == {}

    in_range = sorted((h for h in hits if START <= h.at <= END), key=lambda h: h.at, reverse=True)
    activity = dataset.get(dataset.stats_path(f"sessions/{sid}/activity"), **dataset.range())
    assert [(r["createdAt"], r["urlPath"], r["eventType"], r["hasData"]) for r in activity] == [
        (iso(h.at), h.path, h.event_type, int(bool(h.data))) for h in in_range
    ]

    properties = dataset.get(dataset.stats_path(f"sessions/{sid}/properties"))
    assert [(p["dataKey"], p["dataType"], p["stringValue"]) for p in properties] == [
        ("plan", 1, "team"),
        ("seats", 2, "5"),
    ]


def test_session_data(dataset):
    identified = {h.visitor.key: h.identify for h in dataset.model.hits if h.identify is not None}
    active = {h.visitor.key for h in dataset.model.select(START, END, types=None)}
    keys: dict = defaultdict(set)
    for visitor, data in identified.items():
        if visitor in active:
            for key in data:
                keys[key].add(visitor)
    body = dataset.get(dataset.stats_path("session-data/properties"), **dataset.range())
    assert {r["propertyName"]: r["total"] for r in body} == {k: len(v) for k, v in keys.items()}
    body = dataset.get(
        dataset.stats_path("session-data/values"), **dataset.range(), propertyName="plan"
    )
    values: dict = defaultdict(int)
    for visitor, data in identified.items():
        if visitor in active and "plan" in data:
            values[data["plan"]] += 1
    assert {r["value"]: r["total"] for r in body} == values


# --- small endpoints ------------------------------------------------------------------------


def test_date_range(dataset):
    events = [h for h in dataset.model.hits if h.identify is None]
    assert dataset.get(dataset.stats_path("daterange")) == {
        "startDate": iso(min(h.at for h in events)),
        "endDate": iso(max(h.at for h in events)),
    }


def test_values(dataset):
    hits = dataset.model.select(START, END, types=None)
    counts: dict = defaultdict(int)
    for hit in hits:
        if hit.visitor.city and "o" in hit.visitor.city.lower():
            counts[hit.visitor.city] += 1
    body = dataset.get(dataset.stats_path("values"), **dataset.range(), type="city", search="O")
    assert sorted((r["value"], r["count"]) for r in body) == sorted(counts.items())
    body = dataset.get(
        dataset.stats_path("values"), **dataset.range(), type="country", search="us,de"
    )
    expected: dict = defaultdict(int)
    for hit in hits:
        if hit.visitor.country in ("US", "DE"):
            expected[hit.visitor.country] += 1
    assert sorted((r["value"], r["count"]) for r in body) == sorted(expected.items())
    dataset.get(dataset.stats_path("values"), 400, **dataset.range(), type="nonsense")


def test_export(dataset):
    body = dataset.get(dataset.stats_path("export"), **dataset.range())
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(body["zip"])))
    assert sorted(archive.namelist()) == sorted(
        [
            "events.csv",
            "pages.csv",
            "referrers.csv",
            "browsers.csv",
            "os.csv",
            "devices.csv",
            "countries.csv",
        ]
    )
    browsers = list(csv.DictReader(io.StringIO(archive.read("browsers.csv").decode())))
    views = dataset.model.select(START, END)
    assert [{"x": r["x"], "y": int(r["y"])} for r in browsers] == ranked(
        dataset.model.distinct_per(views, lambda h: h.visitor.browser)
    )
