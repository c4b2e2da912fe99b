"""Performance (Umami's `performance` report, docs/query-formulas.md#performance): Web Vitals percentiles from the
tracker's performance beacons (event type 5) — a chart of one metric over time, a summary of all
five, and the chosen metric by page, page title, device and browser."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics.dialects import Dialect
from katsuo.analytics.query import Query
from katsuo.analytics.reports import output
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.runner import Reader
from katsuo.store import schema, umami

METRICS = ("lcp", "inp", "cls", "fcp", "ttfb")
PERCENTILES = (("p50", 0.5), ("p75", 0.75), ("p95", 0.95))
PERFORMANCE = 5
# (response key, field, limit)
BREAKDOWNS = (
    ("pages", "path", 500),
    ("pageTitles", "title", 500),
    ("devices", "device", None),
    ("browsers", "browser", 500),
)
e = schema.website_event
s = schema.session


def _percentiles(
    dialect: Dialect, column: sa.ColumnElement, prefix: str = ""
) -> list[sa.ColumnElement]:
    # As double precision: DuckDB would interpolate inside the column's decimal scale.
    value = sa.cast(column, sa.Double)
    return [
        dialect.percentile(fraction, value).label(prefix + name) for name, fraction in PERCENTILES
    ]


def _value(raw) -> float | int:
    return output.number(raw) or 0


def run(reader: Reader, query: Query, params: Parameters) -> dict:
    umami.level(reader.conn).require(umami.PERFORMANCE, "The performance report")
    metric = params.choice("metric", METRICS, default="lcp")
    empty = {name: {p: 0 for p, _ in PERCENTILES} for name in METRICS}
    result: dict = {
        "chart": [],
        "summary": {**empty, "count": 0},
        **{key: [] for key, _, _ in BREAKDOWNS},
    }
    if query.empty:
        return result
    beacons = Q.Events(
        query,
        reader.dialect,
        types=None,
        extra_filters=(F.parse_value("eventType", "eventType", str(PERFORMANCE)),),
    )
    bucket = beacons.bucket().label("b")
    chart = (
        beacons.select(bucket, *_percentiles(reader.dialect, e.c[metric]))
        .group_by(bucket)
        .order_by(bucket)
    )
    result["chart"] = [
        {
            "t": output.bucket_instant(row["b"], query.timezone),
            **{p: output.number(row[p]) for p, _ in PERCENTILES},
        }
        for row in reader.rows(chart, query)
    ]
    summary = reader.one(
        beacons.select(
            *(
                column
                for name in METRICS
                for column in _percentiles(reader.dialect, e.c[name], f"{name}_")
            ),
            sa.func.count().label("count"),
        ),
        query,
    )
    result["summary"] = {
        name: {p: _value(summary.get(f"{name}_{p}")) for p, _ in PERCENTILES} for name in METRICS
    }
    result["summary"]["count"] = int(summary.get("count") or 0)
    for key, field_name, limit in BREAKDOWNS:
        field = F.fields()[field_name]
        grouped = Q.Events(
            query,
            reader.dialect,
            types=None,
            join_session=field.level == F.SESSION,
            extra_filters=beacons.extra_filters,
        )
        name = grouped.resolve(field)
        p75 = sa.literal_column("p75")
        stmt = (
            grouped.select(
                name.label("name"),
                *_percentiles(reader.dialect, e.c[metric]),
                sa.func.count().label("count"),
            )
            .group_by(name)
            .order_by(p75.desc().nulls_last(), name)
            .limit(limit)
        )
        result[key] = [
            {
                "name": row["name"],
                **{p: output.number(row[p]) for p, _ in PERCENTILES},
                "count": int(row["count"]),
            }
            for row in reader.rows(stmt, query)
        ]
    return result
