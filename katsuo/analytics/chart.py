"""The dashboard's chart: views and visitors in every bucket of the range, empty ones included,
with the unit the server chose, the units it honours for the range and the comparison window's
buckets beside them. The page only draws this; the API's `/pageviews` answer stays Umami's."""

from __future__ import annotations

from dataclasses import replace

from katsuo.analytics import timeframe as T
from katsuo.analytics import totals
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader

# The units a person picks from; minutes only make sense for ranges of an hour.
CHART_UNITS = ("minute", "hour", "day", "month", "year")


def units_for(query: Query) -> list[str]:
    """The units the server honours for the range, finest first, that keep the chart readable."""
    end = max(query.start_us, query.end_us)
    fitting = [
        unit
        for unit in T.allowed_units(query.start_us, end)
        if T.bucket_count(query.start_us, end, unit) <= T.MAX_BUCKETS
    ]
    return fitting or ["year"]


def chart(reader: Reader, query: Query) -> dict:
    units = units_for(query)
    if query.unit not in units:
        coarser = [u for u in units if CHART_UNITS.index(u) > CHART_UNITS.index(query.unit)]
        query = replace(query, unit=(coarser or units)[0])
    body = {"unit": query.unit, "units": units, **_window(reader, query)}
    compared = query.compared()
    body["compare"] = _window(reader, compared) if compared is not None else None
    return body


def _window(reader: Reader, query: Query) -> dict:
    views, sessions = totals.series(reader, query)
    by_views = {row["x"]: row["y"] for row in views}
    by_sessions = {row["x"]: row["y"] for row in sessions}
    labels = T.every_bucket(query.start_us, query.end_us, query.unit, query.offsets, query.timezone)
    return {
        "startAt": query.start_us // T.US_PER_MS,
        "endAt": query.end_us // T.US_PER_MS,
        "buckets": [
            {"t": label, "views": by_views.get(label, 0), "visitors": by_sessions.get(label, 0)}
            for label in labels
        ],
    }
