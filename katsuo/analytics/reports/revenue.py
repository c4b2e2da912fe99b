"""Revenue (docs: Revenue; API › Reports › revenue): the revenue recorded in one currency — by
event and time bucket, totals with a comparison window, by country and region, and credited to
the referrer and channel of each paying session's first event (docs/query-formulas.md#revenue).

Revenue rows come from the `revenue` table (one per event whose data carried `revenue` and
`currency`); there is no conversion between currencies. Filters, a segment or a cohort keep the
revenue of custom events in range that pass them.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics.channels import channel_expr
from katsuo.analytics.query import Query
from katsuo.analytics.reports import output
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.runner import Reader, plain
from katsuo.errors import BadRequest
from katsuo.store import schema

e = schema.website_event
s = schema.session
r = schema.revenue


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    from iso4217 import Currency

    return frozenset(currency.code for currency in Currency)


def parse_currency(params: Parameters) -> str:
    """An ISO 4217 code in any case; stored currencies are compared upper-cased, as in Umami."""
    code = params.text("currency", max_length=10).strip().upper()
    if code not in _currencies():
        raise BadRequest(f"parameters.currency: {code!r} is not an ISO 4217 currency code")
    return code


def _in_range(table: sa.Table, query: Query) -> list[sa.ColumnElement]:
    return [
        table.c.website_id == query.website_id,
        table.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
    ]


def _revenue(reader: Reader, query: Query, currency: str) -> sa.Subquery:
    """The revenue in `currency` per event of the range, for custom events that pass the
    request's filters: event_id, session_id, event_name, created_at, revenue (the sum of the
    event's revenue rows) and rows (their number).

    Written without a join — one stream of revenue rows and passing events, grouped by event —
    so that its cost grows with the rows read whatever a planner guesses: joined, PostgreSQL on
    missing or stale statistics (as for a new website) scans the events once per revenue row."""
    custom = Q.Events(query, reader.dialect, types="custom")
    stream = sa.union_all(
        sa.select(
            r.c.event_id,
            r.c.session_id,
            r.c.event_name,
            r.c.created_at,
            r.c.revenue,
            sa.literal(0).label("is_event"),
        ).where(*_in_range(r, query), sa.func.upper(r.c.currency) == currency),
        custom.select(
            e.c.event_id,
            e.c.session_id,
            sa.cast(sa.null(), r.c.event_name.type),
            sa.cast(sa.null(), r.c.created_at.type),
            sa.cast(sa.null(), r.c.revenue.type),
            sa.literal(1),
        ),
    ).subquery("stream")
    return (
        sa.select(
            stream.c.event_id,
            stream.c.session_id,
            sa.func.max(stream.c.event_name).label("event_name"),
            sa.func.max(stream.c.created_at).label("created_at"),
            sa.func.sum(stream.c.revenue).label("revenue"),
            sa.func.count(stream.c.created_at).label("rows"),
        )
        .group_by(stream.c.event_id, stream.c.session_id)
        .having(sa.func.min(stream.c.is_event) == 0, sa.func.max(stream.c.is_event) == 1)
        .subquery("revenue")
    )


def _total(reader: Reader, query: Query, currency: str) -> dict:
    rows = _revenue(reader, query, currency)
    sessions = (
        sa.select(sa.func.count(sa.distinct(e.c.session_id)))
        .where(*_in_range(e, query))
        .scalar_subquery()
    )
    found = reader.one(
        sa.select(
            sa.func.coalesce(sa.func.sum(rows.c.revenue), 0).label("sum"),
            sa.func.count(sa.distinct(rows.c.event_id)).label("count"),
            sa.func.count(sa.distinct(rows.c.session_id)).label("unique_count"),
            sessions.label("total_sessions"),
        ),
        query,
    )
    total, count, sessions_count = found["sum"], int(found["count"]), int(found["total_sessions"])
    return {
        "sum": total,
        "count": count,
        "unique_count": int(found["unique_count"]),
        "total_sessions": sessions_count,
        "average": output.number(total / count) if count else 0,
        "arpu": output.number(total / sessions_count) if sessions_count else 0,
    }


def _chart(reader: Reader, query: Query, currency: str) -> list[dict]:
    rows = _revenue(reader, query, currency)
    bucket = Q.bucket(
        reader.dialect, reader.dialect.epoch_us(rows.c.created_at), query.unit, query.offsets
    ).label("b")
    stmt = (
        sa.select(
            rows.c.event_name.label("x"),
            bucket,
            sa.func.sum(rows.c.revenue).label("y"),
            sa.func.sum(rows.c.rows).label("count"),
        )
        .group_by(rows.c.event_name, bucket)
        .order_by(bucket, rows.c.event_name)
    )
    return [
        {
            "x": row["x"],
            "t": output.bucket_instant(row["b"], query.timezone),
            "y": row["y"],
            "count": int(row["count"]),
        }
        for row in reader.rows(stmt, query)
    ]


def _places(reader: Reader, query: Query, currency: str) -> tuple[list[dict], list[dict]]:
    rows = _revenue(reader, query, currency)
    joined = rows.join(
        s, sa.and_(s.c.session_id == rows.c.session_id, s.c.website_id == query.website_id)
    )
    value = sa.func.sum(rows.c.revenue).label("value")
    country = sa.select(s.c.country.label("name"), value).select_from(joined).group_by(s.c.country)
    region = (
        sa.select(s.c.country, s.c.region.label("name"), value)
        .select_from(joined)
        .group_by(s.c.country, s.c.region)
    )
    return (
        _by_value(reader.rows(country, query), ("name",)),
        _by_value(reader.rows(region, query), ("country", "name")),
    )


def _first_touch(reader: Reader, query: Query, currency: str) -> tuple[list[dict], list[dict]]:
    """Each paying session's revenue credited to its first event of the range (the earliest,
    then the least event id) by referrer domain and by channel.

    One grouping by session of the range's events and the revenue, without a join (see
    `_revenue`: joined, PostgreSQL could rescan the events once per event)."""
    rows = _revenue(reader, query, currency)
    columns = (e.c.referrer_domain, e.c.url_query, e.c.utm_medium, e.c.utm_source, e.c.hostname)
    stream = sa.union_all(
        sa.select(
            e.c.session_id,
            e.c.created_at,
            e.c.event_id,
            *columns,
            sa.cast(sa.null(), r.c.revenue.type).label("value"),
            sa.literal(1).label("is_event"),
        ).where(*_in_range(e, query)),
        sa.select(
            rows.c.session_id,
            sa.cast(sa.null(), e.c.created_at.type),
            sa.cast(sa.null(), e.c.event_id.type),
            *(sa.cast(sa.null(), c.type) for c in columns),
            rows.c.revenue,
            sa.literal(0),
        ),
    ).subquery("stream")
    first = (stream.c.created_at, stream.c.event_id)
    is_event = stream.c.is_event == 1
    first_by = reader.dialect.first_by
    touch = (
        sa.select(
            *(first_by(stream.c[c.name], first, is_event).label(c.name) for c in columns),
            sa.func.sum(stream.c.value).label("value"),
        )
        .group_by(stream.c.session_id)
        .having(sa.func.min(stream.c.is_event) == 0, sa.func.max(stream.c.is_event) == 1)
        .cte("touch")
    )
    channel = channel_expr(reader.dialect, touch.c, revenue=True).label("channel")
    both = sa.select(
        touch.c.referrer_domain, channel, sa.func.sum(touch.c.value).label("value")
    ).group_by(touch.c.referrer_domain, channel)
    # One pass serves both lists: its few rows are summed here, exactly (as Decimals).
    by_referrer: dict = defaultdict(int)
    by_channel: dict = defaultdict(int)
    for row in reader.execute(both, query):
        by_referrer[row.referrer_domain] += row.value or 0
        by_channel[row.channel] += row.value or 0
    referrer, channel = (
        [{"name": name, "value": plain(total)} for name, total in found.items()]
        for found in (by_referrer, by_channel)
    )
    return _by_value(referrer, ("name",)), _by_value(channel, ("name",))


def _by_value(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    rows.sort(key=lambda row: (-row["value"], *(str(row[k]) for k in keys)))
    return [{**{k: row[k] for k in keys}, "value": row["value"]} for row in rows]


def run(reader: Reader, query: Query, params: Parameters) -> dict:
    currency = parse_currency(params)
    compared = query.compared("prev")
    empty_total = {
        "sum": 0,
        "count": 0,
        "unique_count": 0,
        "total_sessions": 0,
        "average": 0,
        "arpu": 0,
    }
    if query.empty:
        return {
            "chart": [],
            "total": {**empty_total, "comparison": empty_total},
            "country": [],
            "region": [],
            "referrer": [],
            "channel": [],
        }
    country, region = _places(reader, query, currency)
    referrer, channel = _first_touch(reader, query, currency)
    return {
        "chart": _chart(reader, query, currency),
        "total": {
            **_total(reader, query, currency),
            "comparison": empty_total if compared.empty else _total(reader, compared, currency),
        },
        "country": country,
        "region": region,
        "referrer": referrer,
        "channel": channel,
    }
