"""Journey report against the model: 3 to 7 steps, start and end steps, views or events only,
every selection, and the documented `items` shape (collapsed repeats, trailing nulls)."""

from __future__ import annotations

import pytest

from tests.reports import traffic
from tests.reports.conftest import SELECTIONS


def by_count(rows: list[dict]) -> list:
    """Rows in count order, ties in any order (the server breaks ties its own way)."""
    counts = [row["count"] for row in rows]
    assert counts == sorted(counts, reverse=True)
    return sorted(rows, key=lambda row: (-row["count"], repr(row["items"])))


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("steps", [3, 5, 7])
def test_journey(data, selection, steps):
    filters, model_selection = data.selections[selection]
    body = data.run("journey", filters=filters, steps=steps)
    assert by_count(body) == by_count(
        data.expect.journey(traffic.START, traffic.END, steps, selection=model_selection)
    )


@pytest.mark.parametrize(
    ("start_step", "end_step"),
    [
        ("/", None),
        (None, "/pricing"),
        ("/", "/pricing"),
        ("/pricing", "signup"),
        ("/docs", "/docs/api"),
    ],
)
def test_start_and_end_steps(data, start_step, end_step):
    body = data.run("journey", steps=4, startStep=start_step, endStep=end_step)
    expected = data.expect.journey(traffic.START, traffic.END, 4, start_step, end_step)
    assert expected, "the traffic should contain such journeys"
    assert by_count(body) == by_count(expected)


@pytest.mark.parametrize("event_type", [1, 2])
def test_views_or_events_only(data, event_type):
    body = data.run("journey", steps=3, eventType=event_type)
    assert by_count(body) == by_count(
        data.expect.journey(traffic.START, traffic.END, 3, event_type=event_type)
    )


def test_items_shape_by_hand(data):
    """anna's first visit: /, /pricing, /signup, signup, purchase; with 3 steps the row is the
    three pages then one null for the absent slots e4…e7; the docs' example shape."""
    body = data.run("journey", steps=3, startStep="/", endStep="/signup")
    assert {"items": ["/", "/pricing", "/signup", None], "count": 1} in body
    # emma's visit of 2 April is one page: e1, SQL NULLs, then the absent slots — two nulls.
    assert {"items": ["/blog", None, None], "count": 1} in data.run(
        "journey", steps=3, startStep="/blog"
    )
    # At 7 steps there are no absent slots, and ines's visit fills all seven (two performance
    # beacons count as events on their pages), so no null at all.
    seven = data.run("journey", steps=7, startStep="/docs/install", endStep="purchase")
    assert seven == [{"items": ["/docs/install", "/docs/api", "/docs", "purchase"], "count": 1}]
    # Views only: three pages, then a SQL NULL and the absent slots.
    assert data.run(
        "journey", steps=5, eventType=1, startStep="/docs/install", endStep="/docs"
    ) == [{"items": ["/docs/install", "/docs/api", "/docs", None, None], "count": 1}]
