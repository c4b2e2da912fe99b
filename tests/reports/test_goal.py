"""Goal report against the model: page and event goals, wildcards, every selection, both
documented paths (/goal and /goals)."""

from __future__ import annotations

import pytest

from tests.reports import traffic
from tests.reports.conftest import SELECTIONS


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize(
    "goal", [("path", "/pricing"), ("event", "signup"), ("path", "/docs*"), ("event", "*e")]
)
def test_goal(data, selection, goal):
    filters, model_selection = data.selections[selection]
    body = data.run("goal", filters=filters, type=goal[0], value=goal[1])
    assert body == data.expect.goal(traffic.START, traffic.END, *goal, model_selection)


def test_goals_path_and_counts_by_hand(data):
    # /pricing page views: anna, ben, chloe, dev, emma, femi, gus, hiro — but chloe's, dev's
    # and femi's custom events on /pricing are not page views; all viewed it anyway.
    body = data.run("goal", path="/api/reports/goals", type="path", value="/pricing")
    assert body == {"num": 8, "total": 12}
    # An eventType filter is replaced by the goal's own type.
    assert data.run("goal", filters={"eventType": "2"}, type="path", value="/pricing") == body
