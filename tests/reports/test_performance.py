"""Performance report against the model: Web Vitals percentiles of the beacons by time bucket,
in summary and by page, title, device and browser."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.reports import traffic
from tests.reports.model import percentile

METRICS = ("lcp", "inp", "cls", "fcp", "ttfb")


def _stats(beacons, metric: str) -> dict:
    values = [b.metrics.get(metric) for b in beacons]
    return {p: percentile(values, f) for p, f in (("p50", 0.5), ("p75", 0.75), ("p95", 0.95))}


def _approx(value):
    return pytest.approx(value) if isinstance(value, float) else value


def in_range(country: str | None = None):
    return [
        b
        for b in traffic.beacons()
        if traffic.START <= b.at <= traffic.END
        and (country is None or b.visitor.country == country)
    ]


@pytest.mark.parametrize("metric", ["lcp", "inp", "cls"])
def test_performance(data, metric):
    body = data.run("performance", metric=metric, timezone="Europe/Berlin")
    beacons = in_range()
    days: dict = defaultdict(list)
    for beacon in beacons:
        days[data.expect.bucket_instant(beacon.at, "day", "Europe/Berlin")].append(beacon)
    assert body["chart"] == [
        {"t": t, **{k: _approx(v) for k, v in _stats(days[t], metric).items()}}
        for t in sorted(days)
    ]
    assert body["summary"] == {
        **{m: {k: _approx(v or 0) for k, v in _stats(beacons, m).items()} for m in METRICS},
        "count": len(beacons),
    }
    for key, attribute in (
        ("pages", lambda b: b.path),
        ("pageTitles", lambda b: b.title),
        ("devices", lambda b: b.visitor.device),
        ("browsers", lambda b: b.visitor.browser),
    ):
        groups: dict = defaultdict(list)
        for beacon in beacons:
            groups[attribute(beacon)].append(beacon)
        rows = [
            {"name": name, **_stats(found, metric), "count": len(found)}
            for name, found in groups.items()
        ]
        rows.sort(key=lambda r: (r["p75"] is None, -(r["p75"] or 0), r["name"]))
        assert body[key] == [{k: _approx(v) for k, v in row.items()} for row in rows]


def test_performance_filtered(data):
    body = data.run("performance", filters={"country": "ES"})
    assert body["summary"]["count"] == 2
    assert body["summary"]["lcp"] == {"p50": 2200, "p75": 2400, "p95": 2560}
    assert body["summary"]["inp"] == {"p50": 150, "p75": 150, "p95": 150}  # one beacon had no INP
    assert [row["name"] for row in body["pages"]] == ["/docs/install", "/docs/api"]


def test_unknown_metric(data):
    body = data.run("performance", expect=400, metric="fid")
    assert "parameters.metric" in body["error"]["message"]
