"""The journey and retention reports in every state of the visit slices (pending, settled, raw):
from the slices' journey rows, visits crossing the range's ends and visits with pending events are
read from their events, and the answer must equal the model's over the same traffic."""

from __future__ import annotations

import pytest

from tests.analytics import traffic
from tests.analytics.model import at
from tests.reports.model import NONE, Reports, Selection
from tests.reports.test_retention import approx

RANGES = {
    "whole": (traffic.START, traffic.END),
    # Ends inside visits: the sf visit touched by a pending event, the end-straddling sf visit.
    "mid-visit": (at("2026-03-06 14:45:30"), at("2026-03-09 17:41:02")),
}
US = ({"country": "US"}, Selection({"country": ("eq", "US")}))


def journey(dataset, start, end, filters=None, **parameters) -> list[dict]:
    return dataset.report("journey", start, end, filters, **parameters)


def ranked(rows: list[dict]) -> list:
    counts = [row["count"] for row in rows]
    assert counts == sorted(counts, reverse=True)
    return sorted(rows, key=lambda row: (-row["count"], repr(row["items"])))


@pytest.mark.parametrize("steps", [3, 5, 7])
@pytest.mark.parametrize("span", list(RANGES))
def test_journey_in_every_state(dataset, span, steps):
    start, end = RANGES[span]
    expected = Reports(dataset.model).journey(start, end, steps)
    assert expected
    assert ranked(journey(dataset, start, end, steps=steps)) == ranked(expected)


@pytest.mark.parametrize("span", list(RANGES))
def test_journey_with_a_session_filter(dataset, span):
    start, end = RANGES[span]
    filters, selection = US
    expected = Reports(dataset.model).journey(start, end, 4, selection=selection)
    assert expected
    assert ranked(journey(dataset, start, end, filters, steps=4)) == ranked(expected)


@pytest.mark.parametrize(
    ("start_step", "end_step"), [("/", None), (None, "/pricing"), ("/", "/docs")]
)
def test_journey_start_and_end_steps(dataset, start_step, end_step):
    start, end = RANGES["whole"]
    expected = Reports(dataset.model).journey(start, end, 3, start_step, end_step, NONE)
    body = journey(dataset, start, end, steps=3, startStep=start_step, endStep=end_step)
    assert ranked(body) == ranked(expected)


@pytest.mark.parametrize("zone", ["utc", "America/Los_Angeles", "Asia/Kolkata"])
@pytest.mark.parametrize("span", list(RANGES))
def test_retention_in_every_state(dataset, span, zone):
    start, end = RANGES[span]
    expected = Reports(dataset.model).retention(start, end, zone)
    assert expected
    body = dataset.report("retention", start, end, timezone=zone)
    assert body == approx(expected)


def test_retention_with_a_session_filter(dataset):
    start, end = RANGES["mid-visit"]
    filters, selection = US
    expected = Reports(dataset.model).retention(start, end, "Europe/Berlin", selection)
    assert expected
    body = dataset.report("retention", start, end, filters, timezone="Europe/Berlin")
    assert body == approx(expected)
