"""A dimension and a metric defined once, in the registry (katsuo/analytics/registry.py), at test
time: served by /stats, /metrics, /metrics/expanded and the breakdown report, usable as a filter,
and listed for the dashboard's filter dialog — on every engine and slice state of the dataset.

The new dimension, `referrerPath`, is the path part of the referrer URL; the new metric,
`engaged`, counts visits with at least two views or at least ten seconds between their first and
last view. The expected numbers are counted here from the hits the dataset sent."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from katsuo.analytics import registry
from katsuo.auth import browser
from tests.analytics import traffic
from tests.analytics.model import previous_window

REFERRER_PATH = registry.Dimension(
    "referrerPath",
    "Referrer path",
    "referrer_path",
    registry.EVENT,
    report=True,
    group="sources",
    tab="Referrer paths",
)
ENGAGED = registry.Metric(
    "engaged",
    "Engaged visits",
    lambda visit: sa.case(((visit.hits >= 2) | (visit.seconds >= 10), 1), else_=0),
)


@pytest.fixture(autouse=True)
def registered():
    registry.register(REFERRER_PATH)
    registry.register(ENGAGED)
    yield
    registry.unregister(REFERRER_PATH.name)
    registry.unregister(ENGAGED.name)


def referrer_path(hit) -> str | None:
    return urlsplit(hit.referrer).path if hit.referrer else None


def visit_numbers(hits) -> dict:
    """The registry's metrics (and `engaged`) over `hits`, counted per visit."""
    times: dict = defaultdict(list)
    for hit in hits:
        times[(hit.session, hit.visit)].append(hit.ts)
    spans = [math.floor(max(t) - min(t)) for t in times.values()]
    return {
        "pageviews": len(hits),
        "visitors": len({hit.session for hit in hits}),
        "visits": len(times),
        "bounces": sum(1 for t in times.values() if len(t) == 1),
        "totaltime": sum(spans),
        "engaged": sum(1 for t, span in zip(times.values(), spans) if len(t) >= 2 or span >= 10),
    }


def by_value(hits, key, *, keep_empty: bool = False) -> dict:
    grouped: dict = defaultdict(list)
    for hit in hits:
        value = key(hit)
        if keep_empty or value not in (None, ""):
            grouped[value].append(hit)
    return {value: visit_numbers(found) for value, found in grouped.items()}


def test_stats_serve_the_new_metric(dataset):
    model = dataset.model
    body = dataset.get(dataset.stats_path("stats"), **dataset.range())
    prev_start, prev_end = previous_window(traffic.START, traffic.END)
    assert body == {
        **visit_numbers(model.select(traffic.START, traffic.END)),
        "comparison": visit_numbers(model.select(prev_start, prev_end)),
    }


def test_the_new_dimension_filters(dataset):
    views = dataset.model.select(traffic.START, traffic.END)
    wanted = next(p for p in map(referrer_path, views) if p not in (None, "", "/"))
    body = dataset.get(dataset.stats_path("stats"), **dataset.range(), referrerPath=wanted)
    chosen = [hit for hit in views if referrer_path(hit) == wanted]
    assert chosen and {k: v for k, v in body.items() if k != "comparison"} == visit_numbers(chosen)


def test_metrics_serve_the_new_dimension(dataset):
    views = dataset.model.select(traffic.START, traffic.END)
    body = dataset.get(dataset.stats_path("metrics"), **dataset.range(), type="referrerPath")
    expected = by_value(views, referrer_path)
    assert len(expected) > 2
    assert body == sorted(
        ({"x": x, "y": numbers["visitors"]} for x, numbers in expected.items()),
        key=lambda row: (-row["y"], row["x"]),
    )


@pytest.mark.parametrize("metric_type", ["referrerPath", "path", "browser"])
def test_expanded_metrics_serve_both(dataset, metric_type):
    """The new dimension from the raw events; the new metric from the visit slices too (path
    and browser are carried by the slices in the pending and settled states)."""
    views = dataset.model.select(traffic.START, traffic.END)
    key = {
        "referrerPath": referrer_path,
        "path": lambda hit: hit.path,
        "browser": lambda hit: hit.visitor.browser,
    }[metric_type]
    body = dataset.get(dataset.stats_path("metrics/expanded"), **dataset.range(), type=metric_type)
    assert {row.pop("name"): row for row in body} == by_value(views, key)
    ranks = [(-row["visitors"], -row["visits"]) for row in body]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize("fields", [["referrerPath"], ["browser"]])
def test_breakdown_serves_both(dataset, fields):
    (field,) = fields
    key = referrer_path if field == "referrerPath" else (lambda hit: hit.visitor.browser)
    views = dataset.model.select(traffic.START, traffic.END)
    body = dataset.report("breakdown", traffic.START, traffic.END, fields=fields)
    expected = by_value(views, key, keep_empty=True)
    found = {}
    for row in body:
        value = row.pop(field)
        row["pageviews"] = row.pop("views")
        found[value] = row
    assert found == expected


def test_filter_dialog_lists_the_new_dimension(dataset):
    client = dataset.client
    response = client.post(
        "/session", json={"token": dataset.token}, headers={browser.CSRF_HEADER: "1"}
    )
    assert response.status_code == 200, response.text
    try:
        page = client.get(f"/websites/{dataset.website}")
    finally:
        client.cookies.clear()
    assert page.status_code == 200
    found = re.search(
        r'<script type="application/json" id="katsuo-lists">(.*?)</script>', page.text
    )
    lists = json.loads(found.group(1))
    assert ["referrerPath", "Referrer path"] in lists["fields"]
    assert ["engaged", "Engaged visits"] in lists["metrics"]
    sources = next(group for group in lists["metricGroups"] if group["id"] == "sources")
    assert ["referrerPath", "Referrer paths", "referrerPath", "Visitors"] in sources["tabs"]
    # …and the filter picker's values of the new field
    values = dataset.get(dataset.stats_path("values"), **dataset.range(), type="referrerPath")
    assert values
