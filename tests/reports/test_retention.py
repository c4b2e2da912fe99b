"""Retention report against the model: cohorts by first local day across the March/April
boundary and the Berlin DST change, in UTC and named zones, under every selection."""

from __future__ import annotations

import pytest

from katsuo.analytics.reports import retention
from tests.analytics.model import at
from tests.reports import traffic
from tests.reports.conftest import SELECTIONS

ZONES = [None, "utc", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo"]


def approx(rows: list[dict]) -> list[dict]:
    return [{**row, "percentage": pytest.approx(row["percentage"])} for row in rows]


@pytest.mark.parametrize("zone", ZONES)
def test_retention_by_zone(data, zone):
    params = {"timezone": zone} if zone else {}
    body = data.run("retention", **params)
    assert body == approx(data.expect.retention(traffic.START, traffic.END, zone))


@pytest.mark.parametrize("selection", SELECTIONS)
def test_retention_selections(data, selection):
    filters, model_selection = data.selections[selection]
    body = data.run("retention", filters=filters, timezone="Europe/Berlin")
    assert body == approx(
        data.expect.retention(traffic.START, traffic.END, "Europe/Berlin", model_selection)
    )


def test_month_boundary_by_hand(data):
    """The docs' month in Los Angeles (UTC−7): cohorts are local days, labelled as the instant
    the local day starts. The 27 March cohort is anna, ben, chloe and dev (23:50 UTC is 16:50
    local); femi's 00:05 UTC visit belongs to 26 March. chloe returns on day 1 (01:30 UTC on the
    29th), anna on days 2 and 5 (1 April), ben (his March session) on day 4. emma alone starts
    on 29 March and returns on days 2 (06:30 UTC on 1 April is still 31 March), 4 and 6."""
    body = data.run("retention", timezone="America/Los_Angeles")
    first = [row for row in body if row["date"] == "2026-03-27T07:00:00Z"]
    assert first[0] == {
        "date": "2026-03-27T07:00:00Z",
        "day": 0,
        "visitors": 4,
        "returnVisitors": 4,
        "percentage": 100,
    }
    assert {row["day"]: row["returnVisitors"] for row in first} == {0: 4, 1: 1, 2: 1, 4: 1, 5: 1}
    assert first[1]["percentage"] == 25
    assert body[0]["date"] == "2026-03-26T07:00:00Z"
    emma = {
        row["day"]: row["returnVisitors"] for row in body if row["date"] == "2026-03-29T07:00:00Z"
    }
    assert emma == {0: 1, 2: 1, 4: 1, 6: 1}


def test_cohorts_only_from_the_range(data):
    start, end = at("2026-03-31 00:00:00"), at("2026-04-02 23:59:59.999")
    body = data.run("retention", start=start, end=end, timezone="Asia/Tokyo")
    assert body == approx(data.expect.retention(start, end, "Asia/Tokyo"))
    assert (
        data.run("retention", start=at("2025-01-01 00:00:00"), end=at("2025-01-31 00:00:00")) == []
    )


@pytest.mark.parametrize("selection", ["none", "path"])
def test_ranges_longer_than_the_day_patterns(data, selection):
    """Past MASK_DAYS local days the counts come from a join instead of per-session day
    patterns: the same answer, the path filter choosing each session's cohort day."""
    start, end = at("2026-02-01 00:00:00"), at("2026-04-30 23:59:59.999")
    assert (end - start).days > retention.MASK_DAYS
    filters, model_selection = data.selections[selection]
    body = data.run("retention", start=start, end=end, filters=filters, timezone="Europe/Berlin")
    assert body
    assert body == approx(data.expect.retention(start, end, "Europe/Berlin", model_selection))
