"""The Breakdown report in every state of the visit slices (pending, settled, raw): session
fields and `path` are answered from the slices when they can be, and must equal the reports
model for ranges whose ends fall mid-half-hour and mid-visit (head, body and tail parts), with
pending events touching settled visits, with and without a session or path filter; a link's
clicks are never page views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from katsuo.analytics.reports import breakdown
from tests.analytics import traffic
from tests.analytics.model import at, ms
from tests.reports.model import NONE, Reports, Selection

FIELD_SETS = [
    ["os", "country"],
    ["browser"],
    ["path"],
    ["path", "device"],
    ["country", "city"],
    ["language", "distinctId", "region"],
]

WINDOWS = {
    # Both ends mid-visit (ny straddles the start, sf the end; both have pending views).
    "whole": (traffic.START, traffic.END),
    # Starts inside sf's visit (its first view left out), which crosses 14:30 and gets a
    # back-dated pending view at 14:45; ends inside saopaulo's visit (15:55 in, 15:57 out).
    "afternoon": (at("2026-03-06 14:26:10"), at("2026-03-06 15:56:30.250")),
    # Head: mumbai's second and third views of one visit; body over two days with berlin's
    # pending view; tail: paris's first two views of four.
    "days": (at("2026-03-07 18:22:00"), at("2026-03-09 09:01:45.5")),
    # Head and body hold parts of the same visit (14:25 in the head, 14:30 on in the body).
    "split visit": (at("2026-03-06 14:24:30"), at("2026-03-06 15:00:30")),
}

UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

SELECTIONS = {
    "none": ({}, NONE),
    "country": ({"country": "US"}, Selection({"country": ("eq", "US")})),
    "path": ({"path": "/pricing"}, Selection({"path": ("eq", "/pricing")})),
}


def run(dataset, start, end, fields, filters=None) -> list[dict]:
    return dataset.report("breakdown", start, end, filters, fields=fields)


def assert_rows(body: list[dict], expected: list[dict], fields: list[str]) -> None:
    """The expected rows in the report's shape, by visitors then views (descending)."""
    keys = [(row["visitors"], row["views"]) for row in body]
    assert keys == sorted(keys, reverse=True)
    for row in body:
        assert list(row) == ["views", "visitors", "visits", "bounces", "totaltime", *fields]
    assert sorted(body, key=repr) == sorted(expected, key=repr)


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("fields", FIELD_SETS, ids=["+".join(f) for f in FIELD_SETS])
def test_breakdown_windows(dataset, fields, window):
    start, end = WINDOWS[window]
    expected = Reports(dataset.model).breakdown(start, end, fields)
    assert expected  # the window holds page views
    assert_rows(run(dataset, start, end, fields), expected, fields)


@pytest.mark.parametrize("selection", [name for name in SELECTIONS if name != "none"])
@pytest.mark.parametrize("window", ["whole", "afternoon", "days"])
@pytest.mark.parametrize("fields", [["os", "country"], ["path", "device"]], ids="+".join)
def test_breakdown_selections(dataset, fields, window, selection):
    start, end = WINDOWS[window]
    filters, model_selection = SELECTIONS[selection]
    expected = Reports(dataset.model).breakdown(start, end, fields, model_selection)
    assert_rows(run(dataset, start, end, fields, filters), expected, fields)


def test_breakdown_by_hand(dataset):
    """sf's afternoon visit from 14:26:10: /docs/install (14:30) and /pricing (14:35) settled,
    /changelog (14:45) written later — one visit of three views over 900 s, no bounce; the
    14:25 view lies before the range."""
    body = run(dataset, *WINDOWS["afternoon"], ["os", "country"])
    assert {
        "views": 3,
        "visitors": 1,
        "visits": 1,
        "bounces": 0,
        "totaltime": 900,
        "os": "Linux",
        "country": "US",
    } in body


# ClickHouse's visit rollup keeps these session attributes; the windows holding a whole UTC hour.
ROLLUP_FIELDS = {"browser", "os", "device", "screen", "language", "country", "region", "city"}
HOURLY_WINDOWS = {"whole", "days"}


def _expected_source(dataset, fields: list[str], window: str) -> str:
    if dataset.services.db.separate_events:  # ClickHouse: no slices, rollups
        rollup = window in HOURLY_WINDOWS and set(fields) <= ROLLUP_FIELDS
        return "rollups" if rollup else "raw"
    return "raw" if dataset.state == "raw" else "slices"


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("fields", FIELD_SETS, ids=["+".join(f) for f in FIELD_SETS])
def test_source_answering(dataset, fields, window, monkeypatch):
    """While the slices are built these breakdowns come from them; once the slices are stale
    (`raw`) the query over the raw events answers. On ClickHouse, session attributes over a
    range holding a whole hour come from the visit rollup."""
    answered = []
    for source in ("rollups", "slices"):
        original = getattr(breakdown, f"_from_{source}")

        def observed(*args, source=source, original=original):
            found = original(*args)
            if found is not None:
                answered.append(source)
            return found

        monkeypatch.setattr(breakdown, f"_from_{source}", observed)
    start, end = WINDOWS[window]
    expected = Reports(dataset.model).breakdown(start, end, fields)
    assert_rows(run(dataset, start, end, fields), expected, fields)
    assert (answered or ["raw"]) == [_expected_source(dataset, fields, window)]


def test_link_hits_are_not_page_views(dataset):
    """A link's clicks are stored as their own event type, which the slices count as views but
    the breakdown (page views only) does not: over a link it stays empty in every state."""
    headers = {"Authorization": f"Bearer {dataset.token}"}
    slug = f"breakdown-{dataset.state}"
    created = dataset.client.post(
        "/api/links",
        json={"name": "Docs", "url": "https://example.com/docs", "slug": slug},
        headers=headers,
    )
    assert created.status_code == 200, created.text
    link = created.json()["id"]
    for _ in range(2):
        dataset.client.get(
            f"/q/{slug}",
            headers={"User-Agent": UA, "X-Forwarded-For": "81.2.69.41"},
            follow_redirects=False,
        )
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=2), now + timedelta(minutes=1)
    window = {"startAt": ms(start), "endAt": ms(end)}
    assert dataset.get(dataset.stats_path("stats", link), **window)["pageviews"] == 2
    assert dataset.report("breakdown", start, end, website=link, fields=["os"]) == []
    # The metrics do count them, per session attribute too: one visitor, two clicks.
    by_browser = dataset.get(dataset.stats_path("metrics", link), type="browser", **window)
    assert by_browser == [{"x": "chrome", "y": 1}]
    expanded = dataset.get(dataset.stats_path("metrics/expanded", link), type="os", **window)
    assert [(row["name"], row["pageviews"], row["visitors"]) for row in expanded] == [
        ("Windows 10", 2, 1)
    ]
