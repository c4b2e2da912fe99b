"""Realtime (docs: API › Realtime): the last 30 minutes by minute, and the latest 100 events
with the countries, pages and referrers they show (docs/query-formulas.md#realtime)."""

from __future__ import annotations

from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.events import iso_or_none
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.analytics.totals import series
from katsuo.store import schema

WINDOW_MINUTES = 30
e = schema.website_event
s = schema.session


def window(now_us: int) -> tuple[int, int]:
    """From the start of the current minute minus 30 minutes, to now."""
    minute_start = now_us // T.US_PER_MINUTE * T.US_PER_MINUTE
    return minute_start - WINDOW_MINUTES * T.US_PER_MINUTE, now_us


def _increment(counts: dict, key) -> None:
    if key:
        counts[key] = counts.get(key, 0) + 1


def _bare(domain: str | None) -> str:
    return (domain or "").removeprefix("www.")


def realtime(reader: Reader, query: Query, now_ms: int) -> dict:
    """`query` spans `window()` with unit minute."""
    events = Q.Events(query, reader.dialect, types=None, join_session=True)
    latest = reader.rows(
        events.select(
            e.c.session_id.label("sessionId"),
            e.c.event_name.label("eventName"),
            e.c.created_at.label("createdAt"),
            s.c.browser,
            s.c.os,
            s.c.device,
            s.c.country,
            e.c.url_path.label("urlPath"),
            e.c.referrer_domain.label("referrerDomain"),
            e.c.hostname,
        )
        .order_by(e.c.created_at.desc(), e.c.event_id)
        .limit(100),
        query,
    )
    countries: dict = {}
    urls: dict = {}
    referrers: dict = {}
    listed: list[dict] = []
    seen = set()
    # Oldest first, so each session's entry precedes its events; reversed at the end.
    for event in reversed(latest):
        event["createdAt"] = iso_or_none(event["createdAt"])
        if event["sessionId"] not in seen:
            seen.add(event["sessionId"])
            _increment(countries, event["country"])
            listed.append({"__type": "session", **event})
        _increment(urls, event["urlPath"])
        # A move within the site is no referral (as in the metrics' referrers).
        if _bare(event["referrerDomain"]) != _bare(event["hostname"]):
            _increment(referrers, event["referrerDomain"])
        listed.append({"__type": "event" if event["eventName"] else "pageview", **event})
    views, visitors = series(reader, query)
    return {
        "countries": countries,
        "urls": urls,
        "referrers": referrers,
        "events": list(reversed(listed)),
        "series": {"views": views, "visitors": visitors},
        "totals": {
            "views": sum(p["y"] for p in views),
            # Σ of per-minute distinct sessions, not a distinct count over the window (as Umami).
            "visitors": sum(p["y"] for p in visitors),
            "events": sum(1 for event in latest if event["eventName"]),
            "countries": len(countries),
        },
        "timestamp": now_ms,
    }
