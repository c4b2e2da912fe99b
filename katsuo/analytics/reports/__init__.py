"""Insights reports (docs: Insights; API › Reports): one module per report type, each a `run`
that reads its own parameters and answers one Query with the documented JSON shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from katsuo.analytics.query import Query
from katsuo.analytics.reports import (
    attribution,
    breakdown,
    funnel,
    goal,
    journey,
    performance,
    retention,
    revenue,
    utm,
)
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.runner import Reader

Runner = Callable[[Reader, Query, Parameters], Any]

RUNNERS: dict[str, Runner] = {
    "attribution": attribution.run,
    "breakdown": breakdown.run,
    "funnel": funnel.run,
    "goal": goal.run,
    "journey": journey.run,
    "performance": performance.run,
    "retention": retention.run,
    "revenue": revenue.run,
    "utm": utm.run,
}
