"""Sessions and session data (docs: API › Sessions): the session list, session stats, the weekly
heat map, one session's profile, activity and properties, and the session-data breakdowns
(docs/query-formulas.md#sessions)."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import names, pointers, rollups
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.decider import decide, decide_overview
from katsuo.analytics.events import iso_or_none, page, relabel_dates, rendered_value
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader, as_int
from katsuo.analytics.slices import DIM_VIEW, SLOT_US
from katsuo.store import schema

e = schema.website_event
s = schema.session
sd = schema.session_data
d = schema.event_data


def session_list(
    reader: Reader, query: Query, search: str | None, page_number: int, page_size: int
) -> dict:
    """`/sessions`: one row per session and hostname with events in range, latest first."""
    if query.empty:
        return page([], 0, page_number, page_size)
    events = Q.Events(query, reader.dialect, types=None, join_session=True)
    clauses = []
    if search:
        # A search also finds the sessions whose country, browser, system or device it names
        # ("Germany", "DE", "iOS Safari"), as the list shows them by name.
        named = [
            s.c[c] == code
            for c in ("country", "browser", "os", "device")
            if (code := names.code_of(c, search) or (search.upper() if c == "country" else None))
        ]
        clauses.append(
            sa.or_(
                *(
                    reader.dialect.contains(s.c[c], search)
                    for c in ("distinct_id", "city", "browser", "os", "device")
                ),
                *named,
            )
        )
    # The page's (session, hostname) groups first, grouping on those two columns only, with the
    # total as a window count; then the details of just the page's sessions.
    last = sa.func.max(e.c.created_at)
    groups = (
        events.select(e.c.session_id, e.c.hostname, last.label("last_at"))
        .where(*clauses)
        .group_by(e.c.session_id, e.c.hostname)
        .subquery("groups")
    )
    g = groups.c
    keys = reader.rows(
        sa.select(g.session_id, g.hostname, sa.func.count().over().label("total"))
        .order_by(g.last_at.desc(), g.session_id, g.hostname)
        .limit(page_size)
        .offset((page_number - 1) * page_size),
        query,
    )
    if not keys:
        total = reader.one(sa.select(sa.func.count().label("n")).select_from(groups), query)
        return page([], as_int(total.get("n")), page_number, page_size)
    group = [
        s.c.session_id,
        s.c.website_id,
        e.c.hostname,
        *(s.c[c] for c in schema.SESSION_ATTRIBUTES),
    ]
    stmt = (
        events.select(
            s.c.session_id.label("id"),
            s.c.website_id.label("websiteId"),
            e.c.hostname,
            *(s.c[c] for c in schema.SESSION_ATTRIBUTES),
            sa.func.min(e.c.created_at).label("firstAt"),
            last.label("lastAt"),
            sa.func.count(sa.distinct(e.c.visit_id)).label("visits"),
            sa.func.sum(sa.case((e.c.event_type == 1, 1), else_=0)).label("views"),
            sa.func.sum(sa.case((e.c.event_type == 2, 1), else_=0)).label("events"),
        )
        .where(*clauses, e.c.session_id.in_([k["session_id"] for k in keys]))
        .group_by(*group)
    )
    order = {(k["session_id"], k["hostname"]): i for i, k in enumerate(keys)}
    found = [r for r in reader.rows(stmt, query) if (r["id"], r["hostname"]) in order]
    found.sort(key=lambda r: order[(r["id"], r["hostname"])])
    rows = []
    for r in found:
        r.update(
            firstAt=iso_or_none(r["firstAt"]),
            lastAt=iso_or_none(r["lastAt"]),
            createdAt=iso_or_none(r["lastAt"]),
            visits=as_int(r["visits"]),
            views=as_int(r["views"]),
            events=as_int(r["events"]),
        )
        rows.append(r)
    return page(rows, as_int(keys[0]["total"]), page_number, page_size)


def session_stats(reader: Reader, query: Query) -> dict:
    """`/sessions/stats`: here `pageviews` counts events of every type (docs/query-formulas.md#sessions)."""
    names = ("pageviews", "visitors", "visits", "countries", "events")
    if query.empty:
        return {name: {"value": 0} for name in names}
    events = Q.Events(query, reader.dialect, types=None, join_session=True)
    row = reader.one(
        events.select(
            sa.func.count().label("pageviews"),
            sa.func.count(sa.distinct(e.c.session_id)).label("visitors"),
            sa.func.count(sa.distinct(e.c.visit_id)).label("visits"),
            sa.func.count(sa.distinct(s.c.country)).label("countries"),
            sa.func.coalesce(sa.func.sum(sa.case((e.c.event_type == 2, 1), else_=0)), 0).label(
                "events"
            ),
        ),
        query,
    )
    return {name: {"value": as_int(row.get(name))} for name in names}


def weekly(reader: Reader, query: Query) -> list[list[int]]:
    """`/sessions/weekly`: distinct sessions with views per [day of week][hour] in the zone."""
    grid = [[0] * 24 for _ in range(7)]
    if query.empty:
        return grid
    offsets = query.offsets

    def cell(us):
        return Q.weekly_cell(reader.dialect, us, offsets)

    decision = decide_overview(reader, query, weekly=True)
    if decision.pointers:
        found = pointers.weekly(reader, query, decision.until_us)
    elif decision.rollups:
        sessions = reader.rows(rollups.series(reader.dialect, query, cell), query)
        found = [{"b": r["b"], "n": r["sessions"]} for r in sessions]
    elif decide(reader, query).slices and offsets.aligned_to(SLOT_US):
        plan = reader.plan(query, DIM_VIEW)
        if plan.path is None and offsets.constant and offsets.offsets[0] % T.US_PER_HOUR == 0:
            # A fixed whole-hour offset maps UTC hours of the week one-to-one onto the zone's
            # cells, so the slices' same-hour-of-week pointer counts each (session, cell) once.
            found = reader.rows(
                plan.distinct_sessions([], cell, pointer="prev_how_us", per_bucket=False), query
            )
        else:
            found = reader.rows(plan.distinct_cells(cell), query)
    else:
        events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
        b = cell(events.us()).label("b")
        found = reader.rows(
            events.select(b, sa.func.count(sa.distinct(e.c.session_id)).label("n")).group_by(b),
            query,
        )
    for r in found:
        grid[int(r["b"]) // 24][int(r["b"]) % 24] = as_int(r["n"])
    return grid


def session(reader: Reader, website_id, session_id) -> dict:
    """`/sessions/:id`: the session over its whole history; `{}` when unknown."""
    us = reader.dialect.epoch_us(e.c.created_at)
    per_visit = (
        sa.select(
            s.c.session_id,
            s.c.distinct_id,
            s.c.website_id,
            *(s.c[c] for c in schema.SESSION_ATTRIBUTES),
            e.c.visit_id,
            sa.func.min(e.c.created_at).label("first_at"),
            sa.func.max(e.c.created_at).label("last_at"),
            sa.func.min(us).label("f"),
            sa.func.max(us).label("l"),
            sa.func.sum(sa.case((e.c.event_type == 1, 1), else_=0)).label("views"),
            sa.func.sum(sa.case((e.c.event_type == 2, 1), else_=0)).label("events"),
        )
        .select_from(s.join(e, e.c.session_id == s.c.session_id))
        .where(s.c.website_id == website_id, s.c.session_id == session_id)
        .group_by(
            s.c.session_id,
            s.c.distinct_id,
            s.c.website_id,
            *(s.c[c] for c in schema.SESSION_ATTRIBUTES),
            e.c.visit_id,
        )
        .subquery("t")
    )
    t = per_visit.c
    attrs = [t.session_id, t.distinct_id, t.website_id, *(t[c] for c in schema.SESSION_ATTRIBUTES)]
    row = reader.one(
        sa.select(
            *attrs,
            sa.func.min(t.first_at).label("firstAt"),
            sa.func.max(t.last_at).label("lastAt"),
            sa.func.count(sa.distinct(t.visit_id)).label("visits"),
            sa.func.sum(t.views).label("views"),
            sa.func.sum(t.events).label("events"),
            sa.func.sum(Q.seconds_between(reader.dialect, t.f, t.l)).label("totaltime"),
        ).group_by(*attrs)
    )
    if not row:
        return {}
    return {
        "id": row["session_id"],
        "distinctId": row["distinct_id"],
        "websiteId": row["website_id"],
        **{c: row[c] for c in schema.SESSION_ATTRIBUTES},
        "firstAt": iso_or_none(row["firstAt"]),
        "lastAt": iso_or_none(row["lastAt"]),
        **{k: as_int(row[k]) for k in ("visits", "views", "events", "totaltime")},
    }


def activity(reader: Reader, query: Query, session_id) -> list[dict]:
    """`/sessions/:id/activity`: the session's 500 newest events in range."""
    if query.empty:
        return []
    in_range = sa.select(d.c.website_event_id).where(
        d.c.website_id == query.website_id,
        d.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
    )
    stmt = (
        sa.select(
            e.c.created_at.label("createdAt"),
            e.c.url_path.label("urlPath"),
            e.c.url_query.label("urlQuery"),
            e.c.referrer_domain.label("referrerDomain"),
            e.c.event_id.label("eventId"),
            e.c.event_type.label("eventType"),
            e.c.event_name.label("eventName"),
            e.c.visit_id.label("visitId"),
            e.c.hostname,
            sa.case((e.c.event_id.in_(in_range), 1), else_=0).label("hasData"),
        )
        .where(
            e.c.website_id == query.website_id,
            e.c.session_id == session_id,
            e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
        )
        .order_by(e.c.created_at.desc(), e.c.event_id)
        .limit(500)
    )
    rows = reader.rows(stmt, query)
    for r in rows:
        r["createdAt"] = iso_or_none(r["createdAt"])
    return rows


def properties(reader: Reader, website_id, session_id) -> list[dict]:
    """`/sessions/:id/properties`: the session's identify data, by key."""
    stmt = (
        sa.select(
            sd.c.website_id.label("websiteId"),
            sd.c.session_id.label("sessionId"),
            sd.c.data_key.label("dataKey"),
            sd.c.data_type.label("dataType"),
            sa.func.replace(sd.c.string_value, ".0000", "").label("stringValue"),
            sd.c.number_value.label("numberValue"),
            sd.c.date_value.label("dateValue"),
            sd.c.created_at.label("createdAt"),
        )
        .where(sd.c.website_id == website_id, sd.c.session_id == session_id)
        .order_by(sd.c.data_key, sd.c.created_at)
    )
    rows = reader.rows(stmt)
    for r in rows:
        r["createdAt"], r["dateValue"] = iso_or_none(r["createdAt"]), iso_or_none(r["dateValue"])
    return rows


def _data_source(reader: Reader, query: Query):
    events = Q.Events(query, reader.dialect, types=None)
    source = events.from_().join(
        sd, sa.and_(sd.c.session_id == e.c.session_id, sd.c.website_id == e.c.website_id)
    )
    return source, events.where()


def data_properties(reader: Reader, query: Query) -> list[dict]:
    """`/session-data/properties`: per key, distinct sessions with it and an event in range."""
    if query.empty:
        return []
    source, where = _data_source(reader, query)
    total = sa.func.count(sa.distinct(sd.c.session_id))
    stmt = (
        sa.select(sd.c.data_key.label("propertyName"), total.label("total"))
        .select_from(source)
        .where(*where)
        .group_by(sd.c.data_key)
        .order_by(total.desc(), sd.c.data_key)
        .limit(500)
    )
    return [{**r, "total": as_int(r["total"])} for r in reader.rows(stmt, query)]


def data_values(reader: Reader, query: Query, property_name: str | None) -> list[dict]:
    """`/session-data/values`: `[{value, total}]` (distinct sessions) of a key, top 100."""
    if query.empty:
        return []
    source, where = _data_source(reader, query)
    value = rendered_value(reader, sd)
    total = sa.func.count(sa.distinct(sd.c.session_id))
    stmt = (
        sa.select(
            value.label("value"),
            sa.func.max(sd.c.data_type).label("dataType"),
            total.label("total"),
        )
        .select_from(source)
        .where(*where, *([sd.c.data_key == property_name] if property_name is not None else []))
        .group_by(value)
        .order_by(total.desc(), value)
        .limit(100)
    )
    rows = relabel_dates(reader.rows(stmt, query), "value")
    return [{"value": r["value"], "total": as_int(r["total"])} for r in rows]
