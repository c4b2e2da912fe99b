"""What a statistics request may ask for: a metric type (a dimension of registry.py), `limit`
and `offset`, and a metrics search (docs/query-formulas.md#metrics)."""

from __future__ import annotations

from katsuo import checks
from katsuo.analytics import filters as F
from katsuo.analytics import registry
from katsuo.analytics.query import Query
from katsuo.errors import BadRequest

MAX_ROWS = 1_000_000_000  # the largest `limit` or `offset`: far past any result, inside int32


def parse_limit(name: str, raw: str | None, default: int) -> int:
    """`limit` or `offset`: a whole number from 0 (every engine's LIMIT/OFFSET takes it)."""
    return checks.integer(name, raw, low=0, high=MAX_ROWS, default=default)


def check_type(metric_type: str | None) -> str:
    if not metric_type:
        raise BadRequest("type: required")
    if metric_type not in registry.metric_types():
        raise BadRequest(f"type: unknown metric type {metric_type!r}")
    return metric_type


def searched(query: Query, metric_type: str, search: str | None) -> Query:
    """`search=s` adds (replacing any same-named filter) the filter `<type>=c.s`; types without a
    filter column (screen, channel) ignore it, as Umami does."""
    if not search or metric_type not in F.fields():
        return query
    kept = tuple(f for f in query.filters.items if f.param != metric_type)
    new = F.parse_value(metric_type, metric_type, f"c.{search}")
    return Query(**{**query.__dict__, "filters": F.Filters(kept + (new,), query.filters.match)})
