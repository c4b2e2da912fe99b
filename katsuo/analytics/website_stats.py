"""Website statistics (docs: API › Website statistics): stats, pageviews, metrics, expanded
metrics, channels, active visitors, date range, filter values and the CSV export.

Each function takes a Reader and a Query and returns the documented JSON shape. Where the visit
slices can answer (`Reader.from_slices`), they do; otherwise the query Umami runs over the raw
events, written once here (queries.md §5–§9, §13–§14).
"""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on

from katsuo import checks
from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.analytics.slices import DIM_EVENT, DIM_PATH, DIM_REFERRER, DIM_VIEW
from katsuo.analytics.summary import attr_key, value_key
from katsuo.errors import BadRequest
from katsuo.store import schema
from katsuo.store.records import iso_ms

# --- metric types (queries.md §7) -------------------------------------------------------------

EVENT_TYPES = {
    "path": "url_path",
    "entry": "url_path",
    "exit": "url_path",
    "referrer": "referrer_domain",
    "domain": "referrer_domain",
    "title": "page_title",
    "query": "url_query",
    "event": "event_name",
    "tag": "tag",
    "hostname": "hostname",
    "utmSource": "utm_source",
    "utmMedium": "utm_medium",
    "utmCampaign": "utm_campaign",
    "utmContent": "utm_content",
    "utmTerm": "utm_term",
}
SESSION_TYPES = {
    "browser": "browser",
    "os": "os",
    "device": "device",
    "screen": "screen",
    "language": "language",
    "country": "country",
    "region": "region",
    "city": "city",
    "distinctId": "distinct_id",
}
METRIC_TYPES = (*EVENT_TYPES, *SESSION_TYPES, "channel")
SLICE_DIMS = {"path": DIM_PATH, "referrer": DIM_REFERRER, "domain": DIM_REFERRER}

# Brand groups of referrer domains for expanded `domain` metrics (queries.md §8).
GROUPED_DOMAINS = [
    ("baidu.com", ["baidu."]),
    ("bing.com", ["bing."]),
    ("brave.com", ["brave."]),
    ("chatgpt.com", ["chatgpt."]),
    ("duckduckgo.com", ["duckduckgo."]),
    ("facebook.com", ["facebook."]),
    ("github.com", ["github."]),
    ("google.com", ["google."]),
    ("news.ycombinator.com", ["news.ycombinator.com"]),
    ("instagram.com", ["instagram.", "ig.com"]),
    ("linkedin.com", ["linkedin."]),
    ("pinterest.com", ["pinterest."]),
    ("reddit.com", ["reddit."]),
    ("snapchat.com", ["snapchat."]),
    ("twitter.com", ["twitter.", "t.co", "x.com"]),
    ("yahoo.com", ["yahoo."]),
    ("yandex.ru", ["yandex."]),
]

# Channel rules (queries.md §9), first match wins. `None` prefix: fixed name.
PAID_AD_PARAMS = [
    "ad_id=",
    "aid=",
    "dclid=",
    "epik=",
    "fbclid=",
    "gclid=",
    "li_fat_id=",
    "msclkid=",
    "ob_click_id=",
    "pc_id=",
    "rdt_cid=",
    "scid=",
    "ttclid=",
    "twclid=",
    "utm_medium=cpc",
    "utm_medium=paid",
    "utm_medium=paid_social",
    "utm_source=google",
]
SEARCH_DOMAINS = [
    "baidu.com",
    "bing.com",
    "chatgpt.com",
    "duckduckgo.com",
    "ecosia.org",
    "google.",
    "msn.com",
    "perplexity.ai",
    "search.brave.com",
    "yandex.",
]
SOCIAL_DOMAINS = [
    "bsky.app",
    "facebook.com",
    "fb.com",
    "ig.com",
    "instagram.com",
    "linkedin.",
    "news.ycombinator.com",
    "pinterest.",
    "reddit.",
    "snapchat.",
    "t.co",
    "threads.net",
    "tiktok.",
    "twitter.com",
    "x.com",
]
EMAIL_DOMAINS = ["gmail.", "hotmail.", "mail.yahoo.", "outlook.", "proton.me", "protonmail."]
SHOPPING_DOMAINS = [
    "alibaba.com",
    "aliexpress.com",
    "amazon.",
    "bestbuy.com",
    "ebay.com",
    "etsy.com",
    "newegg.com",
    "target.com",
    "walmart.com",
]
VIDEO_DOMAINS = ["twitch.", "youtube."]

e = schema.website_event
s = schema.session


def _int(value: Any) -> int:
    return int(value or 0)


MAX_ROWS = 1_000_000_000  # the largest `limit` or `offset`: far past any result, inside int32


def parse_limit(name: str, raw: str | None, default: int) -> int:
    """`limit` or `offset`: a whole number from 0 (every engine's LIMIT/OFFSET takes it)."""
    return checks.integer(name, raw, low=0, high=MAX_ROWS, default=default)


# --- stats --------------------------------------------------------------------------------------


def _totals(reader: Reader, query: Query) -> dict[str, int]:
    if query.empty:
        return {"pageviews": 0, "visitors": 0, "visits": 0, "bounces": 0, "totaltime": 0}
    if reader.from_slices(query):
        # The visit totals and distinct sessions in one statement, with no key: one row.
        row = reader.one(reader.plan(query, DIM_VIEW).expanded([]), query)
    else:
        events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
        per_visit = (
            events.select(
                e.c.session_id,
                e.c.visit_id,
                sa.func.count().label("c"),
                sa.func.min(events.us()).label("f"),
                sa.func.max(events.us()).label("l"),
            )
            .group_by(e.c.session_id, e.c.visit_id)
            .subquery("t")
        )
        t = per_visit.c
        row = reader.one(
            sa.select(
                sa.func.coalesce(sa.func.sum(t.c), 0).label("pageviews"),
                sa.func.count(sa.distinct(t.session_id)).label("visitors"),
                sa.func.count(sa.distinct(t.visit_id)).label("visits"),
                sa.func.coalesce(sa.func.sum(sa.case((t.c == 1, 1), else_=0)), 0).label("bounces"),
                sa.func.coalesce(sa.func.sum(Q.seconds_between(reader.dialect, t.f, t.l)), 0).label(
                    "totaltime"
                ),
            ),
            query,
        )
    result = {
        k: _int(row.get(k)) for k in ("pageviews", "visitors", "visits", "bounces", "totaltime")
    }
    if query.exclude_bounce:
        result["bounces"] = 0
    return result


def stats(reader: Reader, query: Query) -> dict:
    """`/stats`: totals of the range and of the comparison window (default `prev`)."""
    return {**_totals(reader, query), "comparison": _totals(reader, query.compared("prev"))}


# --- pageviews ----------------------------------------------------------------------------------


def series(reader: Reader, query: Query) -> tuple[list[dict], list[dict]]:
    """Views and distinct sessions per bucket, each `[{x, y}]` in bucket order."""
    if query.empty:
        return [], []
    offsets = query.offsets
    if reader.from_slices(query, bucketed=True):
        plan = reader.plan(query, DIM_VIEW)

        def bucket(us):
            return Q.bucket(reader.dialect, us, query.unit, offsets)

        # Both series in one statement (buckets with views are the buckets with sessions).
        counts = plan.counts([], bucket).subquery("views")
        distinct = plan.distinct_sessions([], bucket).subquery("sessions")
        both = reader.rows(
            sa.select(counts.c.b, counts.c.n, distinct.c.n.label("sessions")).select_from(
                counts.join(distinct, distinct.c.b == counts.c.b)
            ),
            query,
        )
        views = [{"b": r["b"], "n": r["n"]} for r in both]
        sessions = [{"b": r["b"], "n": r["sessions"]} for r in both]
    else:
        events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
        b = events.bucket().label("b")
        views = reader.rows(events.select(b, sa.func.count().label("n")).group_by(b), query)
        sessions = reader.rows(
            events.select(b, sa.func.count(sa.distinct(e.c.session_id)).label("n")).group_by(b),
            query,
        )

    def points(found: list[dict]) -> list[dict]:
        return [
            {"x": T.bucket_label(r["b"], query.unit, query.timezone), "y": _int(r["n"])}
            for r in sorted(found, key=lambda r: r["b"])
            if r["n"]
        ]

    return points(views), points(sessions)


def pageviews(reader: Reader, query: Query) -> dict:
    """`/pageviews`: views and distinct sessions per bucket; with `compare`, the same for the
    comparison window and both windows' dates."""
    views, sessions = series(reader, query)
    body: dict[str, Any] = {"pageviews": views, "sessions": sessions}
    compared = query.compared()
    if compared is not None:
        compare_views, compare_sessions = series(reader, compared)
        body.update(
            startDate=iso_ms(T.from_us(query.start_us)),
            endDate=iso_ms(T.from_us(query.end_us)),
            compare={
                "pageviews": compare_views,
                "sessions": compare_sessions,
                "startDate": iso_ms(T.from_us(compared.start_us)),
                "endDate": iso_ms(T.from_us(compared.end_us)),
            },
        )
    return body


# --- metrics ------------------------------------------------------------------------------------


def check_type(metric_type: str | None) -> str:
    if not metric_type:
        raise BadRequest("type: required")
    if metric_type not in METRIC_TYPES:
        raise BadRequest(f"type: unknown metric type {metric_type!r}")
    return metric_type


def searched(query: Query, metric_type: str, search: str | None) -> Query:
    """`search=s` adds (replacing any same-named filter) the filter `<type>=c.s`; types without a
    filter column (screen, channel) ignore it, as Umami does."""
    if not search or metric_type not in F.FIELDS:
        return query
    kept = tuple(f for f in query.filters.items if f.param != metric_type)
    new = F.parse_value(metric_type, metric_type, f"c.{search}")
    return Query(**{**query.__dict__, "filters": F.Filters(kept + (new,), query.filters.match)})


def _ordered(rows: list[dict], limit: int | None, offset: int, key: str = "y") -> list[dict]:
    rows.sort(key=lambda r: (-r[key], str(r.get("x", r.get("name", "")))))
    return rows[offset : offset + limit] if limit is not None else rows[offset:]


def metrics(reader: Reader, query: Query, metric_type: str, limit: int, offset: int) -> list[dict]:
    """`/metrics`: `[{x, y}]` by y desc (queries.md §7)."""
    if query.empty:
        return []
    if metric_type == "channel":
        return channels(reader, query)
    if metric_type == "event":
        return _event_metrics(reader, query, limit, offset)
    if metric_type in SESSION_TYPES:
        return _session_metrics(reader, query, metric_type, limit, offset)
    return _pageview_metrics(reader, query, metric_type, limit, offset)


def _session_key(column: str) -> tuple:
    if column == "language":
        return ("x", lambda c: sa.func.lower(sa.func.left(c.language, 2)))
    return attr_key(column)


def _session_metrics(
    reader: Reader, query: Query, metric_type: str, limit: int, offset: int
) -> list[dict]:
    column = SESSION_TYPES[metric_type]
    with_country = column in ("region", "city")
    keys = [_session_key(column)] + ([attr_key("country", "country")] if with_country else [])
    if reader.from_slices(query):
        found = reader.rows(
            reader.plan(query, DIM_VIEW, session_attrs=True).distinct_sessions(keys), query
        )
        rows = [
            {"x": r["x"], "y": _int(r["n"]), **({"country": r["country"]} if with_country else {})}
            for r in found
            if r["x"] not in (None, "")
        ]
        return _ordered(rows, limit, offset)
    events = Q.Events(query, reader.dialect, types="views", join_session=True, exclude_bounce=True)
    x = keys[0][1](s.c).label("x")
    extra = [s.c.country] if with_country else []
    stmt = (
        events.select(x, sa.func.count(sa.distinct(e.c.session_id)).label("y"), *extra)
        .where(x != "")
        .group_by(x, *extra)
        .order_by(sa.desc("y"), x)
        .limit(limit)
        .offset(offset)
    )
    return [
        {"x": r["x"], "y": _int(r["y"]), **({"country": r["country"]} if with_country else {})}
        for r in reader.rows(stmt, query)
    ]


def _entry_exit(query: Query, first: bool) -> sa.Subquery:
    """The url_path of each visit's first (entry) or last (exit) view in range, over the
    website's views ignoring the filters (queries.md §7)."""
    x = schema.website_event.alias("x_event")
    order = x.c.created_at.asc() if first else x.c.created_at.desc()
    return (
        sa.select(x.c.visit_id, x.c.url_path)
        .ext(distinct_on(x.c.visit_id))
        .where(
            x.c.website_id == query.website_id,
            x.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
            x.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
        )
        .order_by(x.c.visit_id, order, x.c.event_id)
        .subquery("x")
    )


def _pageview_metrics(
    reader: Reader, query: Query, metric_type: str, limit: int, offset: int
) -> list[dict]:
    column = EVENT_TYPES[metric_type]
    dim = SLICE_DIMS.get(metric_type)
    if dim is not None and reader.from_slices(query, dim=dim):
        found = reader.rows(reader.plan(query, dim).distinct_sessions([value_key()]), query)
        rows = [{"x": r["x"], "y": _int(r["n"])} for r in found if r["x"] not in (None, "")]
        return _ordered(rows, limit, offset)
    events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
    clauses = []
    if metric_type in ("entry", "exit"):
        visits = _entry_exit(query, metric_type == "entry")
        x = visits.c.url_path.label("x")
        source = events.from_().join(visits, visits.c.visit_id == e.c.visit_id)
    else:
        x = e.c[column].label("x")
        source = events.from_()
        if column == "referrer_domain":
            clauses += [
                e.c.referrer_domain != reader.dialect.strip_www(e.c.hostname),
                e.c.referrer_domain != "",
            ]
    stmt = (
        sa.select(x, sa.func.count(sa.distinct(e.c.session_id)).label("y"))
        .select_from(source)
        .where(*events.where(), x != "", *clauses)
        .group_by(x)
        .order_by(sa.desc("y"), x)
        .limit(limit)
        .offset(offset)
    )
    return [{"x": r["x"], "y": _int(r["y"])} for r in reader.rows(stmt, query)]


def _event_query(query: Query) -> Query:
    """Event metrics force eventType = 2 (a request's own eventType filter is replaced)."""
    kept = tuple(f for f in query.filters.items if f.field.name != "eventType")
    return Query(**{**query.__dict__, "filters": F.Filters(kept, query.filters.match)})


def _event_metrics(reader: Reader, query: Query, limit: int, offset: int) -> list[dict]:
    query = _event_query(query)
    if reader.from_slices(query, dim=DIM_EVENT):
        found = reader.rows(reader.plan(query, DIM_EVENT).counts([value_key()]), query)
        rows = [{"x": r["x"], "y": _int(r["n"])} for r in found if r["n"]]
        return _ordered(rows, limit, offset)
    events = Q.Events(query, reader.dialect, types="custom")
    x = e.c.event_name.label("x")
    stmt = (
        events.select(x, sa.func.count().label("y"))
        .group_by(x)
        .order_by(sa.desc("y"), x)
        .limit(limit)
        .offset(offset)
    )
    return [{"x": r["x"], "y": _int(r["y"])} for r in reader.rows(stmt, query)]


# --- channels -----------------------------------------------------------------------------------


def _contains_any(dialect, column, needles: list[str]) -> sa.ColumnElement:
    # Umami's pattern is `%needle%` with `_` left a wildcard (e.g. `ad_id=`).
    return sa.or_(*(dialect.ilike(column, f"%{needle}%") for needle in needles))


def _channel_expr(dialect, c, *, revenue: bool = False) -> sa.ColumnElement:
    """The channel of a row (queries.md §9). A missing referrer or query counts as empty:
    PostgreSQL stores a missing referrer as NULL, which makes Umami's `referrer_domain = ''`
    test fail so `direct` never appears there (upstream bug #3789); the documented intent —
    and ClickHouse's behaviour — is `direct` for such traffic, which Katsuo follows.

    `revenue`: the revenue report's variant — a case-insensitive paid test (`cp`, `ppc`,
    `retargeting`, `paid`) and `Unknown` for rows no rule matches (queries.md §15.6)."""
    referrer = sa.func.coalesce(c.referrer_domain, "")
    query = sa.func.coalesce(c.url_query, "")
    medium, source = c.utm_medium, c.utm_source
    if revenue:
        paid = _contains_any(dialect, medium, ["cp", "ppc", "retargeting", "paid"])
    else:
        paid = sa.or_(
            medium.like("p%"), medium.like("%ppc%"), medium.like("%retargeting%"), medium.like("%paid%")
        )
    prefix = sa.case((paid, "paid"), else_="organic")

    def ilike(col, needle):
        return dialect.ilike(col, f"%{needle}%")

    return sa.case(
        (sa.and_(referrer == "", query == ""), "direct"),
        (_contains_any(dialect, query, PAID_AD_PARAMS), "paidAds"),
        (_contains_any(dialect, medium, ["referral", "app", "link"]), "referral"),
        (ilike(medium, "affiliate"), "affiliate"),
        (sa.or_(ilike(medium, "sms"), ilike(source, "sms")), "sms"),
        (
            sa.or_(_contains_any(dialect, referrer, SEARCH_DOMAINS), ilike(medium, "organic")),
            prefix + "Search",
        ),
        (_contains_any(dialect, referrer, SOCIAL_DOMAINS), prefix + "Social"),
        (sa.or_(_contains_any(dialect, referrer, EMAIL_DOMAINS), ilike(medium, "mail")), "email"),
        (
            sa.or_(_contains_any(dialect, referrer, SHOPPING_DOMAINS), ilike(medium, "shop")),
            prefix + "Shopping",
        ),
        (
            sa.or_(_contains_any(dialect, referrer, VIDEO_DOMAINS), ilike(medium, "video")),
            prefix + "Video",
        ),
        (sa.and_(referrer != dialect.strip_www(c.hostname), referrer != ""), "referral"),
        else_="Unknown" if revenue else "",
    )


def channels(reader: Reader, query: Query) -> list[dict]:
    """`/metrics?type=channel`: distinct sessions per channel; limit/offset ignored."""
    events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
    rows = events.select(e.c.session_id, _channel_expr(reader.dialect, e.c).label("x")).subquery(
        "channels"
    )
    stmt = (
        sa.select(rows.c.x, sa.func.count(sa.distinct(rows.c.session_id)).label("y"))
        .where(rows.c.x != "")
        .group_by(rows.c.x)
    )
    found = [{"x": r["x"], "y": _int(r["y"])} for r in reader.rows(stmt, query)]
    return _ordered(found, None, 0)


# --- expanded metrics ---------------------------------------------------------------------------


def _grouped_domain(dialect, column) -> sa.ColumnElement:
    return sa.case(
        *((_contains_any(dialect, column, needles), domain) for domain, needles in GROUPED_DOMAINS),
        else_="Other",
    )


def expanded(reader: Reader, query: Query, metric_type: str, limit: int, offset: int) -> list[dict]:
    """`/metrics/expanded`: per value, pageviews, visitors, visits, bounces and total time of the
    (value, session, visit) groups (queries.md §8)."""
    if query.empty:
        return []
    dialect = reader.dialect
    extra: list = []
    clauses: list = []
    group_extra: list = []
    if metric_type == "channel":
        events = Q.Events(query, dialect, types="views", exclude_bounce=True)
        name = _channel_expr(dialect, e.c)
        # Umami groups by the rule inputs before classifying, so one visit can count as
        # several bounces when its views differ in query (queries.md §9).
        group_extra = [
            sa.func.coalesce(e.c.referrer_domain, ""),
            sa.func.coalesce(e.c.url_query, ""),
            e.c.utm_medium,
            e.c.utm_source,
            e.c.hostname,
        ]
        source = events.from_()
        limit, offset = None, 0
    elif metric_type == "event":
        events = Q.Events(_event_query(query), dialect, types="custom")
        name = e.c.event_name
        source = events.from_()
    elif metric_type in SESSION_TYPES:
        events = Q.Events(query, dialect, types="views", join_session=True, exclude_bounce=True)
        column = SESSION_TYPES[metric_type]
        name = sa.func.lower(sa.func.left(s.c.language, 2)) if column == "language" else s.c[column]
        if column in ("region", "city"):
            extra = [s.c.country.label("country")]
        source = events.from_()
    else:
        events = Q.Events(query, dialect, types="views", exclude_bounce=True)
        column = EVENT_TYPES[metric_type]
        name = e.c[column]
        source = events.from_()
        if column == "referrer_domain":
            clauses += [
                e.c.referrer_domain != dialect.strip_www(e.c.hostname),
                e.c.referrer_domain != "",
            ]
            if metric_type == "domain":
                name = _grouped_domain(dialect, e.c.referrer_domain)
        if metric_type in ("entry", "exit"):
            x = schema.website_event.alias("x_event")
            target = (
                sa.select(
                    x.c.visit_id,
                    (sa.func.min if metric_type == "entry" else sa.func.max)(x.c.created_at).label(
                        "target_created_at"
                    ),
                )
                .where(
                    x.c.website_id == query.website_id,
                    x.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
                    x.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
                )
                .group_by(x.c.visit_id)
                .subquery("x")
            )
            source = source.join(
                target,
                sa.and_(
                    target.c.visit_id == e.c.visit_id, target.c.target_created_at == e.c.created_at
                ),
            )
    us = dialect.epoch_us(e.c.created_at)
    name = name.label("name")
    groups = (
        sa.select(
            name,
            *extra,
            e.c.session_id,
            e.c.visit_id,
            sa.func.count().label("c"),
            sa.func.min(us).label("f"),
            sa.func.max(us).label("l"),
        )
        .select_from(source)
        .where(*events.where(), *clauses)
        .group_by(name, *extra, e.c.session_id, e.c.visit_id, *group_extra)
        .subquery("t")
    )
    t = groups.c
    extra_cols = [t.country] if extra else []
    stmt = (
        sa.select(
            t.name,
            *extra_cols,
            sa.func.sum(t.c).label("pageviews"),
            sa.func.count(sa.distinct(t.session_id)).label("visitors"),
            sa.func.count(sa.distinct(t.visit_id)).label("visits"),
            sa.func.sum(sa.case((t.c == 1, 1), else_=0)).label("bounces"),
            sa.func.sum(Q.seconds_between(dialect, t.f, t.l)).label("totaltime"),
        )
        .where(t.name != "")
        .group_by(t.name, *extra_cols)
    )
    rows = []
    for r in reader.rows(stmt, query):
        row = {"name": r["name"], **({"country": r["country"]} if extra else {})}
        row.update(
            {k: _int(r[k]) for k in ("pageviews", "visitors", "visits", "bounces", "totaltime")}
        )
        rows.append(row)
    rows.sort(key=lambda r: (-r["visitors"], -r["visits"], str(r["name"])))
    return rows[offset : offset + limit] if limit is not None else rows


# --- active, date range, values, export ---------------------------------------------------------


def active(reader: Reader, website_id, now_us: int) -> dict:
    """Distinct sessions with any event in the last five minutes."""
    stmt = sa.select(sa.func.count(sa.distinct(e.c.session_id)).label("visitors")).where(
        e.c.website_id == website_id, e.c.created_at >= Q.at(now_us - 5 * T.US_PER_MINUTE)
    )
    return {"visitors": _int(reader.one(stmt).get("visitors"))}


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


VALUE_TYPES = {
    name: f for name, f in F.FIELDS.items() if name in F.PLAIN_NAMES and name != "eventType"
}


def values(reader: Reader, query: Query, field_name: str | None, search: str | None) -> list[dict]:
    """`/values`: the ten most frequent values of a field over all events in range, for the
    filter picker. A comma in `search` gives up to five case-insensitive exact alternatives."""
    if not field_name:
        raise BadRequest("type: required")
    if field_name not in VALUE_TYPES:
        raise BadRequest(f"type: unknown field {field_name!r}")
    if query.empty:
        return []
    f = VALUE_TYPES[field_name]
    column = (s if f.level == F.SESSION else e).c[f.column]
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
    return [{"value": r["value"], "count": _int(r["count"])} for r in reader.rows(stmt, query)]


# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula (or, for
# tab and CR, after trimming). Collected text is anyone's: /api/send takes event names, paths
# and referrers from the public.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value as a CSV cell no spreadsheet evaluates: text that could start a formula gets a
    leading apostrophe (the OWASP advice); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export(reader: Reader, query: Query) -> dict:
    """`/export`: a ZIP of CSV files of the main metrics lists, base64-encoded."""
    files = {
        "events.csv": metrics(reader, query, "event", 500, 0),
        "pages.csv": metrics(reader, query, "path", 500, 0),
        "referrers.csv": metrics(reader, query, "referrer", 500, 0),
        "browsers.csv": metrics(reader, query, "browser", 500, 0),
        "os.csv": metrics(reader, query, "os", 500, 0),
        "devices.csv": metrics(reader, query, "device", 500, 0),
        "countries.csv": metrics(reader, query, "country", 500, 0),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in files.items():
            text = io.StringIO()
            if rows:
                writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\r\n")
                writer.writeheader()
                writer.writerows({key: csv_cell(value) for key, value in row.items()}
                                 for row in rows)
            archive.writestr(name, text.getvalue())
    return {"zip": base64.b64encode(buffer.getvalue()).decode()}
