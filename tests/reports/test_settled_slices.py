"""The reports the visit slices answer — journey, retention and breakdown — once the slices are settled, under
every selection (filters, segment, cohort). The other modules of this package run with every
event still pending; this one, last in the package, folds them in first, and the answers must
not change. Left out on ClickHouse, which keeps no slices."""

from __future__ import annotations

import pytest

from katsuo.analytics import slices
from tests.reports import traffic
from tests.reports.conftest import SELECTIONS
from tests.reports.test_breakdown_utm import assert_rows
from tests.reports.test_journey import by_count
from tests.reports.test_retention import approx

pytestmark = pytest.mark.slices


@pytest.fixture(scope="module")
def settled(data):
    assert slices.settle(data.services.db) > 0
    return data


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("steps", [3, 7])
def test_journey_settled(settled, selection, steps):
    filters, model_selection = settled.selections[selection]
    body = settled.run("journey", filters=filters, steps=steps)
    expected = settled.expect.journey(traffic.START, traffic.END, steps, selection=model_selection)
    assert by_count(body) == by_count(expected)


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("fields", [["os", "country"], ["path", "device"]])
def test_breakdown_settled(settled, selection, fields):
    filters, model_selection = settled.selections[selection]
    body = settled.run("breakdown", filters=filters, fields=fields)
    assert_rows(body, settled.expect.breakdown(traffic.START, traffic.END, fields, model_selection))


@pytest.mark.parametrize("selection", SELECTIONS)
def test_retention_settled(settled, selection):
    filters, model_selection = settled.selections[selection]
    body = settled.run("retention", filters=filters, timezone="America/Los_Angeles")
    expected = settled.expect.retention(
        traffic.START, traffic.END, "America/Los_Angeles", model_selection
    )
    assert body == approx(expected)
