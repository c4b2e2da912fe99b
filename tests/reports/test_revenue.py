"""Revenue report against the model: two currencies kept apart, units and zones, the comparison
window, places, first-touch referrer and channel, every selection."""

from __future__ import annotations

import pytest

from tests.analytics.model import at, previous_window
from tests.reports import traffic
from tests.reports.conftest import SELECTIONS


def approx(value):
    if isinstance(value, float):
        return pytest.approx(value)
    if isinstance(value, dict):
        return {k: approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [approx(v) for v in value]
    return value


def expected(
    data,
    currency,
    unit="day",
    zone=None,
    selection=None,
    start=traffic.START,
    end=traffic.END,
    compare="prev",
):
    prev = (
        previous_window(start, end)
        if compare == "prev"
        else (start.replace(year=start.year - 1), end.replace(year=end.year - 1))
    )
    kwargs = {"selection": selection} if selection is not None else {}
    return approx(data.expect.revenue(start, end, currency, unit, zone, prev=prev, **kwargs))


@pytest.mark.parametrize("currency", ["USD", "EUR", "eur"])
@pytest.mark.parametrize(
    ("unit", "zone"),
    [
        ("day", None),
        ("day", "America/Los_Angeles"),
        ("hour", "Asia/Kolkata"),
        ("month", "Europe/Berlin"),
    ],
)
def test_revenue(data, currency, unit, zone):
    params = {"currency": currency, "unit": unit, **({"timezone": zone} if zone else {})}
    body = data.run("revenue", **params)
    # Nine days are too long for hours: the unit becomes days (docs/query-formulas.md#units).
    if unit == "hour":
        unit = "day"
    assert body == expected(data, currency.upper(), unit, zone)


@pytest.mark.parametrize("selection", SELECTIONS)
def test_revenue_selections(data, selection):
    filters, model_selection = data.selections[selection]
    body = data.run("revenue", filters=filters, currency="USD", timezone="Europe/Berlin")
    assert body == expected(data, "USD", "day", "Europe/Berlin", model_selection)


def test_currencies_by_hand(data):
    """USD: dev 19.99, hiro 100 and 5 (sent as `usd`), ines 7 (an unknown code stored as USD);
    EUR: anna 49.5, ines 30. Ben's 12 USD lies before the range."""
    usd = data.run("revenue", currency="USD")["total"]
    assert usd["sum"] == pytest.approx(131.99) and usd["count"] == 4 and usd["unique_count"] == 3
    eur = data.run("revenue", currency="EUR")
    assert eur["total"]["sum"] == pytest.approx(79.5) and eur["total"]["count"] == 2
    assert eur["country"] == [{"name": "DE", "value": 49.5}, {"name": "ES", "value": 30}]
    # anna's first event came from a Google search; ines's from GitHub.
    assert eur["referrer"] == [
        {"name": "google.com", "value": 49.5},
        {"name": "github.com", "value": 30},
    ]
    assert eur["channel"] == [
        {"name": "organicSearch", "value": 49.5},
        {"name": "referral", "value": 30},
    ]
    # Daily buckets in Los Angeles, labelled as the instant the local day starts (the docs' way).
    chart = data.run("revenue", currency="EUR", timezone="America/Los_Angeles")["chart"]
    assert chart == [
        {"x": "purchase", "t": "2026-03-27T07:00:00Z", "y": 49.5, "count": 1},
        {"x": "purchase", "t": "2026-04-01T07:00:00Z", "y": 30, "count": 1},
    ]


def test_comparison_window(data):
    start, end = at("2026-03-28 00:00:00"), at("2026-04-04 23:59:59.999")
    for compare in ("prev", "yoy"):
        body = data.run("revenue", start=start, end=end, currency="USD", compare=compare)
        assert body == expected(data, "USD", start=start, end=end, compare=compare)
    # The previous week holds ben's 12 USD of 20 March.
    assert (
        data.run("revenue", start=start, end=end, currency="USD")["total"]["comparison"]["sum"]
        == 12
    )
