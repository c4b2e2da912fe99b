"""Funnel report against the model: drop-offs, late, out-of-order and out-of-range steps,
wildcards, event-data conditions, every selection; on DuckDB and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.analytics.model import at
from tests.reports import traffic
from tests.reports.conftest import SELECTIONS

CHECKOUT = [
    {"type": "path", "value": "/"},
    {"type": "path", "value": "/pricing"},
    {"type": "event", "value": "signup"},
]


def approx_rows(rows: list[dict]) -> list[dict]:
    return [
        {k: pytest.approx(v) if isinstance(v, float) else v for k, v in row.items()} for row in rows
    ]


@pytest.mark.parametrize("selection", SELECTIONS)
def test_three_steps(data, selection):
    filters, model_selection = data.selections[selection]
    body = data.run("funnel", filters=filters, steps=CHECKOUT, window=30)
    assert body == approx_rows(
        data.expect.funnel(traffic.START, traffic.END, CHECKOUT, 30, model_selection)
    )


def test_three_steps_counts_by_hand(data):
    """The scenario's story, independently of the model: at `/` anna, ben (in March and, a new
    session, in April), chloe, dev, emma, gus, hiro; at /pricing within 30 minutes anna, ben
    (second try), dev, hiro; signup anna, dev, hiro. Femi's `/` precedes the range, emma's
    /pricing follows it."""
    body = data.run("funnel", steps=CHECKOUT, window=30)
    assert [row["visitors"] for row in body] == [8, 4, 3]
    assert body[0] == {
        "type": "path",
        "value": "/",
        "visitors": 8,
        "previous": 0,
        "dropped": 0,
        "dropoff": None,
        "remaining": 1,
    }
    assert body[2]["dropped"] == 1 and body[2]["dropoff"] == pytest.approx(0.25)
    assert body[2]["remaining"] == pytest.approx(3 / 8)


@pytest.mark.parametrize("window", [5, 10, 45, 60 * 24 * 2])
def test_window_is_minutes_after_the_previous_step(data, window):
    body = data.run("funnel", steps=CHECKOUT, window=window)
    assert body == approx_rows(data.expect.funnel(traffic.START, traffic.END, CHECKOUT, window))


@pytest.mark.parametrize(
    "steps",
    [
        [{"type": "path", "value": "/docs*"}, {"type": "path", "value": "*api"}],
        [
            {"type": "path", "value": "*"},
            {"type": "path", "value": "/pricing"},
            {"type": "path", "value": "/signup"},
            {"type": "event", "value": "purchase"},
        ],
        # The signup event happened on /pricing: a path step matches a custom event's page too.
        [{"type": "event", "value": "signup"}, {"type": "path", "value": "/pricing"}],
        [{"type": "path", "value": "/"}, {"type": "path", "value": "/"}],
    ],
)
def test_wildcards_and_repeated_pages(data, steps):
    body = data.run("funnel", steps=steps, window=60)
    assert body == approx_rows(data.expect.funnel(traffic.START, traffic.END, steps, 60))


def test_event_data_conditions(data):
    steps = [
        CHECKOUT[0],
        CHECKOUT[1],
        {
            "type": "event",
            "value": "signup",
            "filters": [{"property": "plan", "operator": "eq", "value": "pro"}],
        },
    ]
    body = data.run("funnel", steps=steps, window=30)
    assert body == approx_rows(data.expect.funnel(traffic.START, traffic.END, steps, 30))
    assert [row["visitors"] for row in body] == [8, 4, 1]  # only anna chose pro
    assert body[2]["filters"] == steps[2]["filters"]
    for operator, value, reached in (
        ("neq", "pro", 1),
        ("c", "RE", 1),
        ("c", "r", 2),
        ("dnc", "fr", 1),
    ):
        steps[2]["filters"] = [{"property": "plan", "operator": operator, "value": value}]
        assert data.run("funnel", steps=steps, window=30)[2]["visitors"] == reached


def test_range_edges(data):
    start, end = at("2026-03-27 10:05:00"), at("2026-03-30 11:15:00")
    body = data.run("funnel", start=start, end=end, steps=CHECKOUT, window=30)
    assert body == approx_rows(data.expect.funnel(start, end, CHECKOUT, 30))


def test_empty_range(data):
    body = data.run(
        "funnel",
        start=at("2025-01-01 00:00:00"),
        end=at("2025-01-02 00:00:00"),
        steps=CHECKOUT,
        window=30,
    )
    assert [(row["visitors"], row["dropoff"], row["remaining"]) for row in body] == [
        (0, None, None)
    ] * 3
