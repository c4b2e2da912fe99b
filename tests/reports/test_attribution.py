"""Attribution report against the model: first-click vs last-click over multi-visit sessions,
page and event conversions, paid-ad click ids, campaigns, every selection."""

from __future__ import annotations

import pytest

from tests.reports import traffic
from tests.reports.conftest import SELECTIONS


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("model", ["first-click", "last-click"])
@pytest.mark.parametrize(
    ("step_type", "step"), [("path", "/signup"), ("event", "signup"), ("path", "/pricing")]
)
def test_attribution(data, selection, model, step_type, step):
    filters, model_selection = data.selections[selection]
    body = data.run("attribution", filters=filters, model=model, type=step_type, step=step)
    assert body == data.expect.attribution(
        traffic.START, traffic.END, model, step_type, step, model_selection
    )


def test_first_and_last_click_by_hand(data):
    """Page conversions on /signup: anna (twice: 27 March from a Google search with the spring
    newsletter campaign, 29 March from Hacker News), gus (his page before it was a performance
    beacon, which has no referrer) and kim (a LinkedIn ad click just before)."""
    first = data.run("attribution", model="first-click", type="path", step="/signup")
    assert first["referrer"] == [
        {"name": "google.com", "value": 2},
        {"name": "linkedin.com", "value": 1},
    ]
    assert first["paidAds"] == [{"name": "LinkedIn Ads", "value": 1}]
    assert first["utm_campaign"] == [{"name": "brand", "value": 1}, {"name": "spring", "value": 1}]
    assert first["total"] == {"pageviews": 4, "visitors": 3, "visits": 4}
    last = data.run("attribution", model="lastClick", type="path", step="/signup")
    assert last["referrer"] == [
        {"name": "linkedin.com", "value": 1},
        {"name": "news.ycombinator.com", "value": 1},
    ]
    assert last["utm_source"] == [{"name": "hn", "value": 1}, {"name": "linkedin", "value": 1}]
    assert last["utm_term"] == [{"name": "analytics", "value": 1}]
    assert last["total"] == first["total"]


def test_conversion_without_an_earlier_event(data):
    """kim's signup event is the first event of the session: first-click credits it, last-click
    has no touch before it."""
    first = data.run("attribution", model="first-click", type="event", step="signup")
    last = data.run("attribution", model="last-click", type="event", step="signup")
    assert {"name": "LinkedIn Ads", "value": 1} in first["paidAds"]
    assert all(row["name"] != "LinkedIn Ads" for row in last["paidAds"])
    assert {row["name"] for row in first["paidAds"]} == {
        "Facebook / Meta",
        "Google Ads",
        "LinkedIn Ads",
        "Microsoft Ads",
    }
