"""Every filter operator on event and session fields, combinations (`match=any`, suffixed
repeats, eventType), the referrer filter's side effect, segments, cohorts and excludeBounce —
each checked on stats, the page series and a metrics list against the model."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from katsuo.store import schema
from tests.analytics import traffic
from tests.analytics.model import at, ms
from tests.analytics.test_website_stats import SESSION_KEYS, ranked

CASES = [
    # (request parameters, model filters)
    ({"path": "/pricing"}, {"path": ("eq", "/pricing")}),
    ({"path": "eq./pricing,/docs"}, {"path": ("eq", "/pricing,/docs")}),
    ({"path": "neq./"}, {"path": ("neq", "/")}),
    ({"path": "c.DOC"}, {"path": ("c", "DOC")}),
    ({"path": "dnc.doc"}, {"path": ("dnc", "doc")}),
    ({"path": "re.^/(blog|docs)"}, {"path": ("re", "^/(blog|docs)")}),
    ({"path": "nre.^/(blog|docs)"}, {"path": ("nre", "^/(blog|docs)")}),
    ({"title": "c.title /docs"}, {"title": ("c", "title /docs")}),
    ({"query": "c.utm_"}, {"query": ("c", "utm_")}),
    ({"hostname": "example.com"}, {"hostname": ("eq", "example.com")}),
    ({"tag": "docs"}, {"tag": ("eq", "docs")}),
    ({"utmSource": "newsletter"}, {"utmSource": ("eq", "newsletter")}),
    ({"utmMedium": "neq.email"}, {"utmMedium": ("neq", "email")}),
    ({"referrer": "google.com"}, {"referrer": ("eq", "google.com")}),
    ({"referrer": "neq.google.com"}, {"referrer": ("neq", "google.com")}),
    ({"referrer": "c.o"}, {"referrer": ("c", "o")}),
    ({"browser": "chrome"}, {"browser": ("eq", "chrome")}),
    ({"browser": "neq.chrome"}, {"browser": ("neq", "chrome")}),
    ({"os": "c.WINDOWS"}, {"os": ("c", "WINDOWS")}),
    ({"os": "dnc.windows"}, {"os": ("dnc", "windows")}),
    ({"device": "re.^(mobile|tablet)$"}, {"device": ("re", "^(mobile|tablet)$")}),
    ({"device": "nre.^mob"}, {"device": ("nre", "^mob")}),
    ({"country": "US,DE"}, {"country": ("eq", "US,DE")}),
    ({"country": "neq.US"}, {"country": ("neq", "US")}),
    ({"region": "US-NY"}, {"region": ("eq", "US-NY")}),
    ({"city": "c.an"}, {"city": ("c", "an")}),
    ({"language": "c.en"}, {"language": ("c", "en")}),
    ({"distinctId": "user-6"}, {"distinctId": ("eq", "user-6")}),
    ({"event": "signup-click"}, {"event": ("eq", "signup-click")}),
    ({"path": "c.docs", "path1": "neq./docs"}, {"path": ("c", "docs"), "path1": ("neq", "/docs")}),
    (
        {"browser": "chrome", "country": "US"},
        {"browser": ("eq", "chrome"), "country": ("eq", "US")},
    ),
    (
        {"browser": "safari", "country": "IN", "match": "any"},
        {"browser": ("eq", "safari"), "country": ("eq", "IN")},
    ),
    (
        {"path": "/", "country": "BR", "match": "any"},
        {"path": ("eq", "/"), "country": ("eq", "BR")},
    ),
]


def _match(params):
    return params.get("match", "all")


@pytest.mark.parametrize("params,filters", CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_filters_on_stats_series_and_metrics(dataset, params, filters):
    model = dataset.model
    start, end = traffic.START, traffic.END
    views = model.select(start, end, filters, match=_match(params))
    body = dataset.get(dataset.stats_path("stats"), **dataset.range(), **params)
    assert {k: body[k] for k in body if k != "comparison"} == model.totals(views)
    series = dataset.get(
        dataset.stats_path("pageviews"),
        **dataset.range(),
        unit="day",
        timezone="America/New_York",
        **params,
    )
    expected_views, expected_sessions = model.series(views, "day", "America/New_York")
    assert series == {"pageviews": expected_views, "sessions": expected_sessions}
    weekly = dataset.get(
        dataset.stats_path("sessions/weekly"), **dataset.range(), timezone="UTC", **params
    )
    cells: dict = {}
    for hit in views:
        cells.setdefault(((hit.at.weekday() + 1) % 7, hit.at.hour), set()).add(hit.session)
    assert weekly == [[len(cells.get((day, hour), ())) for hour in range(24)] for day in range(7)]
    for metric in ("browser", "path"):
        key = SESSION_KEYS.get(metric, lambda h: h.path)
        body = dataset.get(dataset.stats_path("metrics"), **dataset.range(), type=metric, **params)
        assert sorted(body, key=lambda r: (-r["y"], r["x"])) == ranked(
            model.distinct_per(views, key)
        )


def test_event_type_filter_is_always_anded(dataset):
    """eventType stays ANDed under match=any; the metrics of custom events use eventType 2."""
    model = dataset.model
    params = {"browser": "chrome", "country": "IN", "match": "any", "eventType": "1"}
    views = model.select(
        traffic.START,
        traffic.END,
        {"browser": ("eq", "chrome"), "country": ("eq", "IN")},
        match="any",
    )
    body = dataset.get(dataset.stats_path("stats"), **dataset.range(), **params)
    assert body["pageviews"] == model.totals(views)["pageviews"]


def _segment(dataset, kind: str, parameters: dict) -> str:
    segment_id = str(uuid.uuid4())
    with dataset.services.db.begin() as conn:
        conn.execute(
            schema.segment.insert().values(
                segment_id=segment_id,
                website_id=dataset.website,
                type=kind,
                name=kind,
                parameters=parameters,
                created_at=datetime.now(UTC),
            )
        )
    return segment_id


def test_segment_filters_override_request_filters(dataset):
    segment = _segment(
        dataset,
        "segment",
        {
            "filters": [
                {"name": "country", "operator": "eq", "value": "US"},
                {"name": "path", "operator": "c", "value": "doc"},
            ]
        },
    )
    model = dataset.model
    views = model.select(
        traffic.START, traffic.END, {"country": ("eq", "US"), "path": ("c", "doc")}
    )
    body = dataset.get(
        dataset.stats_path("stats"), **dataset.range(), country="DE", segment=segment
    )
    assert {k: body[k] for k in body if k != "comparison"} == model.totals(views)


def test_segment_match_any(dataset):
    segment = _segment(
        dataset,
        "segment",
        {
            "match": "any",
            "filters": [
                {"name": "country", "operator": "eq", "value": "GB"},
                {"name": "browser", "operator": "eq", "value": "ios"},
            ],
        },
    )
    views = dataset.model.select(
        traffic.START, traffic.END, {"country": ("eq", "GB"), "browser": ("eq", "ios")}, match="any"
    )
    body = dataset.get(
        dataset.stats_path("metrics"), **dataset.range(), type="country", segment=segment
    )
    assert sorted(body, key=lambda r: (-r["y"], r["x"])) == ranked(
        dataset.model.distinct_per(views, SESSION_KEYS["country"])
    )


@pytest.mark.parametrize("match", ["all", "any"])
def test_cohort(dataset, match):
    """Sessions that viewed /pricing inside the cohort's own range (with its filters); the main
    query is then restricted to their events."""
    cohort_start, cohort_end = at("2026-03-06 00:00:00"), at("2026-03-08 23:59:59")
    segment = _segment(
        dataset,
        "cohort",
        {
            "dateRange": f"range:{ms(cohort_start)}:{ms(cohort_end)}",
            "match": match,
            "action": {"type": "path", "value": "/pricing"},
            "filters": [
                {"name": "country", "operator": "eq", "value": "US"},
                {"name": "device", "operator": "eq", "value": "mobile"},
            ],
        },
    )
    model = dataset.model
    criteria = {"country": ("eq", "US"), "device": ("eq", "mobile")}
    members = {
        h.session
        for h in model.select(cohort_start, cohort_end, criteria, match=match, types=None)
        if h.path == "/pricing"
    }
    views = model.select(traffic.START, traffic.END, sessions=members)
    body = dataset.get(dataset.stats_path("stats"), **dataset.range(), cohort=segment)
    assert {k: body[k] for k in body if k != "comparison"} == model.totals(views)
    body = dataset.get(
        dataset.stats_path("metrics"), **dataset.range(), type="path", cohort=segment
    )
    assert sorted(body, key=lambda r: (-r["y"], r["x"])) == ranked(
        model.distinct_per(views, lambda h: h.path)
    )


def test_exclude_bounce(dataset):
    model = dataset.model
    start, end = traffic.START, traffic.END
    pages: dict = {}
    for hit in model.select(start, end):
        if hit.event_type == 1:
            pages[hit.visit] = pages.get(hit.visit, 0) + 1
    kept = [h for h in model.select(start, end) if pages.get(h.visit, 0) > 1]
    body = dataset.get(dataset.stats_path("stats"), **dataset.range(), excludeBounce="false")
    assert {k: body[k] for k in body if k != "comparison"} == {**model.totals(kept), "bounces": 0}
    body = dataset.get(
        dataset.stats_path("metrics"), **dataset.range(), type="path", excludeBounce="1"
    )
    assert sorted(body, key=lambda r: (-r["y"], r["x"])) == ranked(
        model.distinct_per(kept, lambda h: h.path)
    )
