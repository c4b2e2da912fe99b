"""Website statistics (docs: API › Website statistics, plus daterange, values and export)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from katsuo.analytics import chart as C
from katsuo.analytics import expanded as expanded_stats
from katsuo.analytics import export as exports
from katsuo.analytics import metric_types, totals
from katsuo.analytics import metrics as metric_lists
from katsuo.analytics import values as current
from katsuo.api.targets import AnalyticsRequest

router = APIRouter(prefix="/api/websites", tags=["website statistics"])


@router.get("/{website_id}/active")
def active(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    return current.active(ctx.reader, ctx.target.id, ctx.now_us)


@router.get("/{website_id}/stats")
def stats(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    return totals.stats(ctx.reader, ctx.query())


@router.get("/{website_id}/pageviews")
def pageviews(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    return totals.pageviews(ctx.reader, ctx.query())


@router.get("/{website_id}/chart", include_in_schema=False)
def chart(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    """Katsuo's own, for the dashboard: every bucket of the range and the comparison window."""
    return C.chart(ctx.reader, ctx.query())


def _metrics_args(ctx):
    metric_type = metric_types.check_type(ctx.param("type"))
    limit = metric_types.parse_limit("limit", ctx.param("limit"), 500)
    offset = metric_types.parse_limit("offset", ctx.param("offset"), 0)
    query = metric_types.searched(ctx.query(), metric_type, ctx.param("search"))
    return query, metric_type, limit, offset


@router.get("/{website_id}/metrics")
def metrics(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return metric_lists.metrics(ctx.reader, *_metrics_args(ctx))


@router.get("/{website_id}/metrics/expanded")
def expanded_metrics(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return expanded_stats.expanded(ctx.reader, *_metrics_args(ctx))


@router.get("/{website_id}/daterange")
def date_range(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    return current.date_range(ctx.reader, ctx.target.id)


@router.get("/{website_id}/values")
def values(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    field_name = ctx.param("type")
    # Only the range, the type and the search apply here, as in Umami.
    query = ctx.query(unit_param=False)
    return current.values(ctx.reader, query, field_name, ctx.param("search"))


@router.get("/{website_id}/export")
def export(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    return exports.export(ctx.reader, ctx.query())
