"""What a website's data holds now: its active visitors, its date range, and the most frequent
values of a field for the filter picker."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader, as_int
from katsuo.errors import BadRequest
from katsuo.store import schema
from katsuo.store.records import iso_ms

e = schema.website_event
s = schema.session


def active(reader: Reader, website_id, now_us: int) -> dict:
    """Distinct sessions with any event in the last five minutes."""
    stmt = sa.select(sa.func.count(sa.distinct(e.c.session_id)).label("visitors")).where(
        e.c.website_id == website_id, e.c.created_at >= Q.at(now_us - 5 * T.US_PER_MINUTE)
    )
    return {"visitors": as_int(reader.one(stmt).get("visitors"))}


def date_range(reader: Reader, website_id) -> dict:
    """First and last event since 2000-01-01 (reset_at is not applied)."""
    since = T.to_us(T.from_us(0).replace(year=2000))
    row = reader.one(
        sa.select(
            sa.func.min(e.c.created_at).label("start"), sa.func.max(e.c.created_at).label("end")
        ).where(e.c.website_id == website_id, e.c.created_at >= Q.at(since))
    )
    return {
        "startDate": iso_ms(row["start"]) if row.get("start") else None,
        "endDate": iso_ms(row["end"]) if row.get("end") else None,
    }


def value_types() -> dict[str, F.Field]:
    """The fields the filter picker lists values of: every plain filter but eventType."""
    return {
        name: f for name, f in F.fields().items() if f.filter == "plain" and name != "eventType"
    }


def values(reader: Reader, query: Query, field_name: str | None, search: str | None) -> list[dict]:
    """`/values`: the ten most frequent values of a field over all events in range, for the
    filter picker. A comma in `search` gives up to five case-insensitive exact alternatives."""
    if not field_name:
        raise BadRequest("type: required")
    if field_name not in value_types():
        raise BadRequest(f"type: unknown field {field_name!r}")
    if query.empty:
        return []
    f = value_types()[field_name]
    column = f.on(e, s)
    clauses = []
    if search:
        if "," in search:
            alternatives = search.split(",")[:5]
            clauses.append(
                sa.or_(*(reader.dialect.equals_ignoring_case(column, a) for a in alternatives))
            )
        else:
            clauses.append(reader.dialect.contains(column, search))
    if f.column == "referrer_domain":
        clauses += [
            e.c.referrer_domain != reader.dialect.strip_www(e.c.hostname),
            e.c.referrer_domain != "",
        ]
    stmt = (
        sa.select(column.label("value"), sa.func.count().label("count"))
        .select_from(
            e.join(s, sa.and_(s.c.session_id == e.c.session_id, s.c.website_id == e.c.website_id))
        )
        .where(
            e.c.website_id == query.website_id,
            e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
            *clauses,
        )
        .group_by(column)
        .order_by(sa.desc("count"), column)
        .limit(10)
    )
    return [{"value": r["value"], "count": as_int(r["count"])} for r in reader.rows(stmt, query)]


# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula (or, for
