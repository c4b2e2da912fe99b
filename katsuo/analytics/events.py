"""Events and event data (docs: API › Events, Website statistics › events/series):
the event list, the custom-event series and stats, and the event-data breakdowns
(docs/query-formulas.md#events, #event-data)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from katsuo.analytics import rollups
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.decider import decide
from katsuo.analytics.metrics import event_query
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader, as_int
from katsuo.analytics.slices import DIM_EVENT
from katsuo.analytics.summary import value_key
from katsuo.store import schema
from katsuo.store.records import iso_ms

e = schema.website_event
s = schema.session
d = schema.event_data


def _has_data(query: Query) -> sa.ColumnElement:
    """Whether the event has event_data rows in the range (`hasData`, 1 or 0)."""
    in_range = sa.select(d.c.website_event_id).where(
        d.c.website_id == query.website_id,
        d.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
    )
    return sa.case((e.c.event_id.in_(in_range), 1), else_=0)


def iso_or_none(value) -> str | None:
    return iso_ms(value) if value is not None else None


def page(rows: list[dict], count: int, page_number: int, page_size: int) -> dict:
    return {"data": rows, "count": count, "page": page_number, "pageSize": page_size}


def event_list(
    reader: Reader, query: Query, search: str | None, page_number: int, page_size: int
) -> dict:
    """`/events`: every event type, newest first, with the session's place and device."""
    if query.empty:
        return page([], 0, page_number, page_size)
    events = Q.Events(query, reader.dialect, types=None, join_session=True)
    clauses = []
    if search:
        clauses.append(
            sa.or_(
                sa.and_(reader.dialect.contains(e.c.event_name, search), e.c.event_type == 2),
                sa.and_(reader.dialect.contains(e.c.url_path, search), e.c.event_type == 1),
            )
        )
    base = events.select(e.c.event_id).where(*clauses)
    count = reader.one(sa.select(sa.func.count()).select_from(base.subquery()), query)
    stmt = (
        events.select(
            e.c.event_id.label("id"),
            e.c.website_id.label("websiteId"),
            e.c.session_id.label("sessionId"),
            e.c.created_at.label("createdAt"),
            e.c.hostname,
            e.c.url_path.label("urlPath"),
            e.c.url_query.label("urlQuery"),
            e.c.referrer_path.label("referrerPath"),
            e.c.referrer_query.label("referrerQuery"),
            e.c.referrer_domain.label("referrerDomain"),
            s.c.country,
            s.c.city,
            s.c.device,
            s.c.os,
            s.c.browser,
            e.c.page_title.label("pageTitle"),
            e.c.event_type.label("eventType"),
            e.c.event_name.label("eventName"),
            _has_data(query).label("hasData"),
        )
        .where(*clauses)
        .order_by(e.c.created_at.desc(), e.c.event_id)
        .limit(page_size)
        .offset((page_number - 1) * page_size)
    )
    rows = reader.rows(stmt, query)
    for row in rows:
        row["createdAt"] = iso_or_none(row["createdAt"])
    return page(rows, as_int(next(iter(count.values()), 0)), page_number, page_size)


def series(reader: Reader, query: Query, limit: int | None) -> list[dict]:
    """`/events/series`: `[{x: name, t: bucket, y: count}]` of custom events by bucket. `limit`
    keeps the most frequent names of the range, ranked without the other filters."""
    if query.empty:
        return []
    query = event_query(query)
    top: list[str] | None = None
    if limit:
        ranked = (
            sa.select(e.c.event_name)
            .where(
                e.c.website_id == query.website_id,
                e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
                e.c.event_type == 2,
            )
            .group_by(e.c.event_name)
            .order_by(sa.func.count().desc(), e.c.event_name)
            .limit(limit)
        )
        top = [r["event_name"] for r in reader.rows(ranked, query)]
    offsets = query.offsets
    decision = decide(reader, query, events=True, bucketed=True)
    if decision.rollups:
        found = reader.rows(rollups.events_series(reader.dialect, query), query)
    elif decision.slices:
        plan = reader.plan(query, DIM_EVENT)
        found = reader.rows(
            plan.counts(
                [value_key()], lambda us: Q.bucket(reader.dialect, us, query.unit, offsets)
            ),
            query,
        )
    else:
        events = Q.Events(query, reader.dialect, types="custom")
        b = events.bucket().label("b")
        found = reader.rows(
            events.select(e.c.event_name.label("x"), b, sa.func.count().label("n")).group_by(
                e.c.event_name, b
            ),
            query,
        )
    if top is not None:
        found = [r for r in found if r["x"] in top]
    found.sort(key=lambda r: (r["b"], str(r["x"])))
    return [
        {"x": r["x"], "t": T.bucket_label(r["b"], query.unit, query.timezone), "y": as_int(r["n"])}
        for r in found
        if r["n"]
    ]


def _event_stats(reader: Reader, query: Query) -> dict[str, int]:
    if query.empty:
        return {"events": 0, "visitors": 0, "visits": 0, "uniqueEvents": 0}
    events = Q.Events(query, reader.dialect, types="custom")
    row = reader.one(
        events.select(
            sa.func.count().label("events"),
            sa.func.count(sa.distinct(e.c.session_id)).label("visitors"),
            sa.func.count(sa.distinct(e.c.visit_id)).label("visits"),
            sa.func.count(sa.distinct(e.c.event_name)).label("uniqueEvents"),
        ),
        query,
    )
    return {k: as_int(row.get(k)) for k in ("events", "visitors", "visits", "uniqueEvents")}


def stats(reader: Reader, query: Query) -> dict:
    """`/events/stats`: `{data: {events, visitors, visits, uniqueEvents, comparison}}`."""
    return {
        "data": {
            **_event_stats(reader, query),
            "comparison": _event_stats(reader, query.compared("prev")),
        }
    }


# --- event data ---------------------------------------------------------------------------------


def _data_source(reader: Reader, query: Query) -> tuple[sa.FromClause, list[sa.ColumnElement]]:
    """event_data in range joined to its (filtered) event in range."""
    events = Q.Events(query, reader.dialect, types=None)
    source = events.from_().join(d, d.c.website_event_id == e.c.event_id)
    where = [
        *events.where(),
        d.c.website_id == query.website_id,
        d.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
    ]
    return source, where


def rendered_value(reader: Reader, table: sa.Table) -> sa.ColumnElement:
    """Numbers without their `.0000`, dates as their UTC hour label, others as stored (docs/query-formulas.md#rendered-values)."""
    hour = T.US_PER_HOUR
    hour_start = reader.dialect.div(reader.dialect.epoch_us(table.c.date_value), hour) * hour
    return sa.case(
        (table.c.data_type == 2, sa.func.replace(table.c.string_value, ".0000", "")),
        (table.c.data_type == 4, sa.cast(hour_start, sa.String)),
        else_=table.c.string_value,
    )


def relabel_dates(rows: list[dict], key: str, types: list[int] | None = None) -> list[dict]:
    for i, row in enumerate(rows):
        data_type = types[i] if types is not None else row.get("dataType")
        if data_type == 4 and row.get(key) is not None:
            row[key] = T.hour_label_utc(int(row[key]))
    return rows


def _data_row(row: dict) -> dict:
    row["createdAt"] = iso_or_none(row.get("createdAt"))
    row["dateValue"] = iso_or_none(row.get("dateValue"))
    return row


_DATA_COLUMNS = (
    d.c.website_id.label("websiteId"),
    d.c.website_event_id.label("eventId"),
    e.c.event_name.label("eventName"),
    d.c.data_key.label("dataKey"),
    d.c.string_value.label("stringValue"),
    d.c.number_value.label("numberValue"),
    d.c.date_value.label("dateValue"),
    d.c.data_type.label("dataType"),
    d.c.created_at.label("createdAt"),
)


def event_data_list(reader: Reader, query: Query, page_number: int, page_size: int) -> dict:
    """`/event-data`: events having data, newest first, each with its properties."""
    if query.empty:
        return page([], 0, page_number, page_size)
    source, where = _data_source(reader, query)
    with_data = (
        sa.select(e.c.event_id, sa.func.max(e.c.created_at).label("last_at"))
        .select_from(source)
        .where(*where)
        .group_by(e.c.event_id)
    )
    count = reader.one(
        sa.select(sa.func.count().label("n")).select_from(with_data.subquery()), query
    )
    paged = (
        with_data.order_by(sa.desc("last_at"), e.c.event_id)
        .limit(page_size)
        .offset((page_number - 1) * page_size)
        .subquery("paged")
    )
    stmt = (
        sa.select(*_DATA_COLUMNS, paged.c.last_at)
        .select_from(
            d.join(e, e.c.event_id == d.c.website_event_id).join(
                paged, paged.c.event_id == d.c.website_event_id
            )
        )
        .where(
            d.c.website_id == query.website_id,
            e.c.website_id == query.website_id,
            d.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
        )
        .order_by(paged.c.last_at.desc(), d.c.website_event_id, d.c.data_key)
    )
    grouped: dict[Any, dict] = {}
    for row in reader.rows(stmt, query):
        row.pop("last_at")
        entry = grouped.setdefault(
            row["eventId"],
            {
                "websiteId": row.pop("websiteId"),
                "eventId": row.pop("eventId"),
                "eventName": row.pop("eventName"),
                "eventProperties": [],
            },
        )
        for k in ("websiteId", "eventId", "eventName"):
            row.pop(k, None)
        entry["eventProperties"].append(_data_row(row))
    return page(list(grouped.values()), as_int(count.get("n")), page_number, page_size)


def event_data_by_id(reader: Reader, website_id, event_id) -> list[dict]:
    """`/event-data/:eventId`: the event's data rows."""
    stmt = (
        sa.select(*_DATA_COLUMNS)
        .select_from(
            d.join(e, sa.and_(e.c.event_id == d.c.website_event_id, e.c.website_id == website_id))
        )
        .where(d.c.website_id == website_id, d.c.website_event_id == event_id)
        .order_by(d.c.data_key)
    )
    return [_data_row(r) for r in reader.rows(stmt)]


def event_data_events(reader: Reader, query: Query, event: str | None) -> list[dict]:
    """`/event-data/events`: rows per (event, property, type) — and value when `event` is given.

    Umami's PostgreSQL query without `event` lacks its GROUP BY and fails (docs/query-formulas.md#event-data);
    Katsuo returns the intended grouping."""
    if query.empty:
        return []
    source, where = _data_source(reader, query)
    keys = [
        e.c.event_name.label("eventName"),
        d.c.data_key.label("propertyName"),
        d.c.data_type.label("dataType"),
    ]
    if event:
        keys.append(d.c.string_value.label("propertyValue"))
    stmt = (
        sa.select(*keys, sa.func.count().label("total"))
        .select_from(source)
        .where(*where)
        .group_by(*(k.element for k in keys))
        .order_by(*(k.element for k in keys[:3]), sa.desc("total"), *(k.element for k in keys[3:]))
    )
    if not event:
        stmt = stmt.limit(500)
    return [{**r, "total": as_int(r["total"])} for r in reader.rows(stmt, query)]


def event_data_fields(reader: Reader, query: Query) -> list[dict]:
    """`/event-data/fields`: `[{propertyName, dataType, value, total}]`, top 100."""
    if query.empty:
        return []
    source, where = _data_source(reader, query)
    value = rendered_value(reader, d)
    stmt = (
        sa.select(
            d.c.data_key.label("propertyName"),
            d.c.data_type.label("dataType"),
            value.label("value"),
            sa.func.count().label("total"),
        )
        .select_from(source)
        .where(*where)
        .group_by(d.c.data_key, d.c.data_type, value)
        .order_by(d.c.data_type.desc(), sa.desc("total"), d.c.data_key, value)
        .limit(100)
    )
    rows = [{**r, "total": as_int(r["total"])} for r in reader.rows(stmt, query)]
    return relabel_dates(rows, "value")


def event_data_properties(reader: Reader, query: Query) -> list[dict]:
    """`/event-data/properties`: `[{eventName, propertyName, total}]` (data rows), top 500."""
    if query.empty:
        return []
    source, where = _data_source(reader, query)
    stmt = (
        sa.select(
            e.c.event_name.label("eventName"),
            d.c.data_key.label("propertyName"),
            sa.func.count().label("total"),
        )
        .select_from(source)
        .where(*where)
        .group_by(e.c.event_name, d.c.data_key)
        .order_by(sa.desc("total"), e.c.event_name, d.c.data_key)
        .limit(500)
    )
    return [{**r, "total": as_int(r["total"])} for r in reader.rows(stmt, query)]


def event_data_values(reader: Reader, query: Query, property_name: str) -> list[dict]:
    """`/event-data/values`: `[{value, total}]` of one property, top 100."""
    if query.empty:
        return []
    source, where = _data_source(reader, query)
    value = rendered_value(reader, d)
    stmt = (
        sa.select(
            value.label("value"),
            sa.func.max(d.c.data_type).label("dataType"),
            sa.func.count().label("total"),
        )
        .select_from(source)
        .where(*where, d.c.data_key == property_name)
        .group_by(value)
        .order_by(sa.desc("total"), value)
        .limit(100)
    )
    rows = relabel_dates(reader.rows(stmt, query), "value")
    return [{"value": r["value"], "total": as_int(r["total"])} for r in rows]


def event_data_stats(reader: Reader, query: Query) -> list[dict]:
    """`/event-data/stats`: one-element list `[{events, properties, records}]`."""
    if query.empty:
        return [{"events": 0, "properties": 0, "records": 0}]
    source, where = _data_source(reader, query)
    row = reader.one(
        sa.select(
            sa.func.count(sa.distinct(d.c.website_event_id)).label("events"),
            sa.func.count(sa.distinct(d.c.data_key)).label("properties"),
            sa.func.count().label("records"),
        )
        .select_from(source)
        .where(*where),
        query,
    )
    return [{k: as_int(row.get(k)) for k in ("events", "properties", "records")}]
