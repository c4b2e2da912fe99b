"""Breakdown and UTM reports against the model: two fields of either level, the event field,
every selection; campaign page views only."""

from __future__ import annotations

import pytest

from tests.reports import traffic
from tests.reports.conftest import SELECTIONS

FIELD_SETS = [
    ["os", "country"],
    ["path", "referrer"],
    ["path"],
    ["browser", "path", "device"],
    ["event", "path"],
    ["utmSource", "language"],
    ["title", "region", "city", "distinctId"],
]


def assert_rows(body: list[dict], expected: list[dict]) -> None:
    """The expected rows, by visitors then views (descending), ties in any order."""
    keys = [(row["visitors"], row["views"]) for row in body]
    assert keys == sorted(keys, reverse=True)
    assert sorted(body, key=repr) == sorted(expected, key=repr)


@pytest.mark.parametrize("fields", FIELD_SETS, ids=["+".join(f) for f in FIELD_SETS])
def test_breakdown_fields(data, fields):
    body = data.run("breakdown", fields=fields)
    assert_rows(body, data.expect.breakdown(traffic.START, traffic.END, fields))


@pytest.mark.parametrize("selection", SELECTIONS)
def test_breakdown_selections(data, selection):
    filters, model_selection = data.selections[selection]
    body = data.run("breakdown", filters=filters, fields=["os", "path"])
    assert_rows(
        body, data.expect.breakdown(traffic.START, traffic.END, ["os", "path"], model_selection)
    )


def test_breakdown_by_hand(data):
    """Page views from Germany on Windows 10: anna's three visits, 7 page views; her first visit
    lasted 600 s (10:00 to 10:10 in page views), the second 120 s, the third 90 s; none bounced."""
    body = data.run("breakdown", fields=["os", "country"])
    assert {
        "views": 7,
        "visitors": 1,
        "visits": 3,
        "bounces": 0,
        "totaltime": 810,
        "os": "Windows 10",
        "country": "DE",
    } in body
    assert list(body[0]) == ["views", "visitors", "visits", "bounces", "totaltime", "os", "country"]


@pytest.mark.parametrize("selection", SELECTIONS)
def test_utm(data, selection):
    filters, model_selection = data.selections[selection]
    assert data.run("utm", filters=filters) == data.expect.utm(
        traffic.START, traffic.END, model_selection
    )


def test_utm_by_hand(data):
    body = data.run("utm")
    assert list(body) == ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]
    # Campaigns on custom events (kim's linkedin, gus's ev) are not page views.
    assert body["utm_source"] == [
        {"utm": "github", "views": 1},
        {"utm": "google", "views": 1},
        {"utm": "hn", "views": 1},
        {"utm": "newsletter", "views": 1},
    ]
    assert body["utm_term"] == [{"utm": "analytics", "views": 1}]
