"""The one Query every analytics request becomes: website, range, unit, zone, filters, cohort.

`parse` turns a request's parameters (a plain mapping, never an HTTP object) into a Query:
validated dates, the unit after the documented auto-upgrade, the zone, the filters with a
segment's saved filters applied, a cohort resolved to its own range and criteria, and the
start clamped to the website's `reset_at` (queries.md §1). Reports build Queries the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import timeframe as T
from katsuo.errors import BadRequest
from katsuo.store import schema


@dataclass(frozen=True)
class Target:
    """What an analytics request is about: a website, link or pixel (their hits are stored under
    their own id), with the website's reset time if any."""

    id: UUID
    reset_at_us: int | None = None
    kind: str = "website"  # or "link", "pixel"


@dataclass(frozen=True)
class Cohort:
    """Sessions that did `action` (with `filters`) inside [start, end] (queries.md §1.3)."""

    start_us: int
    end_us: int
    action: F.Filter
    filters: F.Filters


NO_FILTERS = F.Filters()


@dataclass(frozen=True)
class Query:
    website_id: UUID
    start_us: int
    end_us: int
    unit: str = "day"
    timezone: str | None = None
    filters: F.Filters = NO_FILTERS
    cohort: Cohort | None = None
    exclude_bounce: bool = False
    compare: str | None = None
    target_kind: str = "website"  # Target.kind: links and pixels store only their own hit types

    @property
    def empty(self) -> bool:
        """A range that selects nothing (e.g. entirely before the website's reset)."""
        return self.end_us < self.start_us

    @property
    def offsets(self) -> T.ZoneOffsets:
        return T.zone_offsets(self.timezone, self.start_us, max(self.start_us, self.end_us))

    def window(self, start_us: int, end_us: int) -> Query:
        return replace(self, start_us=start_us, end_us=end_us)

    def compared(self, default: str | None = None) -> Query | None:
        """The comparison window's Query (`compare`, else `default`), same filters and unit."""
        compare = self.compare or default
        if compare is None:
            return None
        return self.window(*T.comparison_window(compare, self.start_us, self.end_us))


def _uuid(name: str, raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise BadRequest(f"{name}: must be a UUID") from None


def parse(
    params: Mapping[str, str],
    target: Target,
    conn: sa.Connection,
    *,
    now_us: int,
    timezone_required: bool = False,
    unit_param: bool = True,
) -> Query:
    """A Query from request parameters (`startAt`, `endAt`, `unit`, `timezone`, `compare`,
    filters, `match`, `segment`, `cohort`, `excludeBounce`)."""
    start_us = T.parse_ms("startAt", params.get("startAt"))
    end_us = T.parse_ms("endAt", params.get("endAt"))
    zone = T.parse_timezone(params.get("timezone"), required=timezone_required)
    requested = (params.get("unit") or None) if unit_param else None
    compare = T.parse_compare(params.get("compare"))
    match = F.parse_match(params.get("match"))
    raw_filters = {k: v for k, v in params.items()}

    segment = None
    if params.get("segment"):
        segment = _load_segment(conn, target.id, _uuid("segment", params["segment"]), "segment")
        # A segment's filters override request filters with the same key; its match wins.
        raw_filters.update(F.object_to_params(segment.get("filters") or []))
        if segment.get("match") in ("all", "any"):
            match = segment["match"]
    filters = F.Filters(tuple(F.from_params(raw_filters)), match)

    cohort = None
    if params.get("cohort"):
        cohort = _cohort(conn, target.id, _uuid("cohort", params["cohort"]), now_us)

    if end_us < start_us:
        raise BadRequest("endAt: must not be before startAt")
    if target.reset_at_us is not None:
        start_us = max(start_us, target.reset_at_us)
    unit = T.choose_unit(start_us, end_us, requested)
    return Query(
        website_id=target.id,
        start_us=start_us,
        end_us=end_us,
        unit=unit,
        timezone=zone,
        filters=filters,
        cohort=cohort,
        exclude_bounce=bool(params.get("excludeBounce")),
        compare=compare,
        target_kind=target.kind,
    )


def _load_segment(
    conn: sa.Connection, website_id: UUID, segment_id: UUID, kind: str
) -> dict[str, Any]:
    # Like Umami, any saved segment of the website may be used as a segment or as a cohort.
    t = schema.segment
    row = conn.execute(
        sa.select(t.c.parameters).where(t.c.segment_id == segment_id, t.c.website_id == website_id)
    ).first()
    if row is None or not isinstance(row.parameters, dict):
        raise BadRequest(f"{kind}: no such {kind} for this website")
    return row.parameters


def _cohort(conn: sa.Connection, website_id: UUID, cohort_id: UUID, now_us: int) -> Cohort:
    saved = _load_segment(conn, website_id, cohort_id, "cohort")
    action = saved.get("action")
    if not isinstance(action, dict) or action.get("type") not in ("path", "event"):
        raise BadRequest("cohort: the cohort has no path or event action")
    start_us, end_us = parse_date_range(saved.get("dateRange") or "30day", now_us)
    action_filter = F.parse_value("cohort.action", action["type"], f"eq.{action.get('value', '')}")
    items = tuple(F.parse_saved(saved.get("filters") or [], "cohort"))
    match = "any" if saved.get("match") == "any" else "all"
    return Cohort(start_us, end_us, action_filter, F.Filters(items, match))


_RELATIVE = re.compile(r"^(?P<num>[0-9-]+)(?P<unit>hour|day|week|month|year)$")


def parse_date_range(value: str, now_us: int) -> tuple[int, int]:
    """A saved relative range (`30day`, `24hour`, `2week`, …) or `range:<startMs>:<endMs>`,
    evaluated now in UTC (the reference server runs in UTC)."""
    if value.startswith("range"):
        parts = value.split(":")
        try:
            return int(parts[1]) * T.US_PER_MS, int(parts[2]) * T.US_PER_MS
        except (IndexError, ValueError):
            raise BadRequest("cohort: invalid dateRange") from None
    match = _RELATIVE.match(value)
    if not match:
        raise BadRequest("cohort: invalid dateRange")
    try:
        num = int(match.group("num"))
    except ValueError:
        raise BadRequest("cohort: invalid dateRange") from None
    unit = match.group("unit")
    now = T.from_us(now_us)
    if unit == "hour":
        start = now.replace(minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=1)
        start -= timedelta(hours=num)
    elif unit == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        start -= timedelta(days=num)
    elif unit == "week":  # weeks start on Sunday (en-US)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = today - timedelta(days=(today.weekday() + 1) % 7)
        end = start + timedelta(days=7)
        start -= timedelta(weeks=num)
    elif unit == "month":
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = T._add_months(start, 1)
        start = T._add_months(start, -num)
    else:
        start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1)
        start = start.replace(year=start.year - num)
    # The end is the last millisecond of the current period (date-fns endOf…).
    return T.to_us(start), T.to_us(end) - T.US_PER_MS


def now_us() -> int:
    return T.to_us(datetime.now(UTC))
