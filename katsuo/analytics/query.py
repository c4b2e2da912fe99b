"""The one Query every analytics request becomes: website, range, unit, zone, filters, cohort.

`parse` turns a request's parameters (a plain mapping, never an HTTP object) into a Query:
validated dates, the unit after the documented auto-upgrade, the zone, the filters with a
segment's saved filters applied, a cohort resolved to its own range and criteria, and the
start clamped to the website's `reset_at` (docs/query-formulas.md#date-range). Reports build Queries the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from katsuo import checks
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
    """Sessions that did `action` (with `filters`) inside [start, end] (docs/query-formulas.md#segments-and-cohorts)."""

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

    if params.get("segment"):
        segment = _load_segment(conn, target.id, _uuid("segment", params["segment"]), "segment")
        # A segment's filters override request filters with the same key; its match wins.
        raw_filters.update(F.object_to_params(segment.get("filters"), "segment"))
        match = _saved_match(segment, "segment") or match
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
        exclude_bounce=bool(params.get("excludeBounce")),  # any value, even `false` (Umami)
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
    cohort = saved_cohort(saved, now_us, "cohort")
    if cohort is None:
        raise BadRequest("cohort: the cohort has no path or event action")
    return cohort


def check_saved(parameters: Mapping[str, Any], now_us: int) -> None:
    """A segment's or cohort's parameters, checked as a query would use them: a 400 naming the
    parameter at save time instead of on every later query."""
    F.parse_saved(F.object_to_params(parameters.get("filters"), "parameters.filters"), "parameters")
    _saved_match(parameters, "parameters")
    saved_cohort(parameters, now_us, "parameters")


def _saved_match(saved: Mapping[str, Any], where: str) -> str | None:
    match = saved.get("match")
    if match in (None, "", "all", "any"):
        return match or None
    raise BadRequest(f"{where}.match: must be all or any")


def saved_cohort(saved: Mapping[str, Any], now_us: int, where: str) -> Cohort | None:
    """The cohort that saved parameters describe (None without an action): its action, its
    filters, and its `dateRange` (default the last 30 days) evaluated now."""
    action = saved.get("action")
    date_range = saved.get("dateRange") or "30day"
    if not isinstance(date_range, str):
        raise BadRequest(f"{where}.dateRange: must be a string")
    start_us, end_us = parse_date_range(date_range, now_us, f"{where}.dateRange")
    if action is None:
        return None
    if not isinstance(action, Mapping) or action.get("type") not in ("path", "event"):
        raise BadRequest(f"{where}.action: must have the type path or event")
    value = action.get("value", "")
    if not isinstance(value, str):
        raise BadRequest(f"{where}.action.value: must be a string")
    action_filter = F.parse_value(f"{where}.action", action["type"], f"eq.{value}")
    items = F.parse_saved(F.object_to_params(saved.get("filters"), where), where)
    match = _saved_match(saved, where) or "all"
    return Cohort(start_us, end_us, action_filter, F.Filters(tuple(items), match))


_RELATIVE = re.compile(r"(?P<num>-?\d{1,5})(?P<unit>hour|day|week|month|year)")


def parse_date_range(value: str, now_us: int, name: str) -> tuple[int, int]:
    """A saved relative range (`30day`, `24hour`, `2week`, …) or `range:<startMs>:<endMs>`,
    evaluated now in UTC (the reference server runs in UTC). A range reaching outside years
    1 to 9999 is refused: no engine stores such times."""
    checks.text(name, value, max_length=100)
    if value.startswith("range"):
        parts = value.split(":")
        if len(parts) != 3:
            raise BadRequest(f"{name}: must be range:<startMs>:<endMs>")
        start_us = T.parse_ms(name, parts[1])
        end_us = T.parse_ms(name, parts[2])
        if end_us < start_us:
            raise BadRequest(f"{name}: the end must not be before the start")
        return start_us, end_us
    match = _RELATIVE.fullmatch(value)
    if not match:
        raise BadRequest(f"{name}: must be like 30day, 24hour, 2week, 3month or 1year")
    try:
        start, end = _relative_range(int(match.group("num")), match.group("unit"), now_us)
    except (ValueError, OverflowError):  # before year 1 or after 9999
        raise BadRequest(f"{name}: out of range") from None
    # The end is the last millisecond of the current period (date-fns endOf…).
    return T.to_us(start), T.to_us(end) - T.US_PER_MS


def _relative_range(num: int, unit: str, now_us: int) -> tuple[datetime, datetime]:
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
        end = T.add_months(start, 1)
        start = T.add_months(start, -num)
    else:
        start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1)
        start = start.replace(year=start.year - num)
    return start, end


def now_us() -> int:
    return T.to_us(datetime.now(UTC))
