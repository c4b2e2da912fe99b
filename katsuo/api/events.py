"""Events and event data (docs: API › Events; `/events/series` and `/events/stats`)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from katsuo.analytics import events as E
from katsuo.analytics.metric_types import parse_limit
from katsuo.api.paging import page_params
from katsuo.api.targets import AnalyticsRequest
from katsuo.errors import BadRequest

router = APIRouter(prefix="/api/websites", tags=["events"])


@router.get("/{website_id}/events")
def events(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    page, page_size = page_params(ctx.params)
    return E.event_list(ctx.reader, ctx.query(), ctx.param("search"), page, page_size)


@router.get("/{website_id}/events/series")
def event_series(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    limit = parse_limit("limit", ctx.param("limit"), 0) or None
    return E.series(ctx.reader, ctx.query(timezone_required=True), limit)


@router.get("/{website_id}/events/stats")
def event_stats(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    return E.stats(ctx.reader, ctx.query())


@router.get("/{website_id}/event-data")
def event_data(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    page, page_size = page_params(ctx.params)
    return E.event_data_list(ctx.reader, ctx.query(), page, page_size)


@router.get("/{website_id}/event-data/events")
def event_data_events(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return E.event_data_events(ctx.reader, ctx.query(), ctx.param("event"))


@router.get("/{website_id}/event-data/fields")
def event_data_fields(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return E.event_data_fields(ctx.reader, ctx.query())


@router.get("/{website_id}/event-data/properties")
def event_data_properties(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return E.event_data_properties(ctx.reader, ctx.query())


@router.get("/{website_id}/event-data/values")
def event_data_values(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    for name in ("event", "propertyName"):
        if not ctx.param(name):
            raise BadRequest(f"{name}: required")
    return E.event_data_values(ctx.reader, ctx.query(), ctx.param("propertyName"))


@router.get("/{website_id}/event-data/stats")
def event_data_stats(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return E.event_data_stats(ctx.reader, ctx.query())


@router.get("/{website_id}/event-data/{event_id}")
def event_data_by_id(website_id: UUID, event_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return E.event_data_by_id(ctx.reader, ctx.target.id, event_id)
