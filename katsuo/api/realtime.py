"""Realtime (docs: API › Realtime): the last 30 minutes of a website."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from katsuo.analytics import realtime as R
from katsuo.analytics import timeframe as T
from katsuo.api.targets import AnalyticsRequest

router = APIRouter(prefix="/api/realtime", tags=["realtime"])


@router.get("/{website_id}")
def realtime(website_id: UUID, ctx: AnalyticsRequest) -> dict:
    start_us, end_us = R.window(ctx.now_us)
    query = ctx.query(
        startAt=str(start_us // T.US_PER_MS), endAt=str(end_us // T.US_PER_MS), unit="minute"
    )
    return R.realtime(ctx.reader, query, end_us // T.US_PER_MS)
