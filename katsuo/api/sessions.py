"""Sessions and session data (docs: API › Sessions)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from katsuo.analytics import sessions as S
from katsuo.api.paging import page_params
from katsuo.api.targets import AnalyticsRequest

router = APIRouter(prefix="/api/websites", tags=["sessions"])


@router.get("/{website_id}/sessions")
def sessions(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    page, page_size = page_params(ctx.params)
    return S.session_list(ctx.reader, ctx.query(), ctx.param("search"), page, page_size)


@router.get("/{website_id}/sessions/stats")
def session_stats(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    return S.session_stats(ctx.reader, ctx.query())


@router.get("/{website_id}/sessions/weekly")
def weekly(website_id: UUID, ctx: AnalyticsRequest) -> list[list[int]]:
    return S.weekly(ctx.reader, ctx.query(timezone_required=True))


@router.get("/{website_id}/sessions/{session_id}")
def session(website_id: UUID, session_id: UUID, ctx: AnalyticsRequest) -> dict:
    return S.session(ctx.reader, ctx.target.id, session_id)


@router.get("/{website_id}/sessions/{session_id}/activity")
def activity(website_id: UUID, session_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return S.activity(ctx.reader, ctx.query(), session_id)


@router.get("/{website_id}/sessions/{session_id}/properties")
def properties(website_id: UUID, session_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return S.properties(ctx.reader, ctx.target.id, session_id)


@router.get("/{website_id}/session-data/properties")
def data_properties(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return S.data_properties(ctx.reader, ctx.query())


@router.get("/{website_id}/session-data/values")
def data_values(website_id: UUID, ctx: AnalyticsRequest) -> list[dict]:
    return S.data_values(ctx.reader, ctx.query(), ctx.param("propertyName"))
