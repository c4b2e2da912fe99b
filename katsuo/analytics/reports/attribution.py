"""Attribution (docs: Attribution; API › Reports › attribution): what brought the visitors who
converted — the referrer, paid-ad click id and campaign of one "touch" event per converting
session (docs/query-formulas.md#attribution).

Converting sessions did the conversion step (a page view of a path, or a custom event) in the
range under the filters. The touch is, for first-click, the session's earliest event of the
range; for last-click, its latest event before its last conversion (sessions without one drop
out). Every event at the touch instant counts, as in Umami. One statement computes all lists,
another the totals.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics.query import Query
from katsuo.analytics.reports import revenue
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.reports.steps import STEP_TYPES, column, event_type_filter, with_event_type
from katsuo.analytics.runner import Reader
from katsuo.store import schema

FIRST_CLICK, LAST_CLICK = "first-click", "last-click"
# Umami's server takes `first-click`/`last-click`; the API page lists `firstClick`/`lastClick`.
MODELS = {
    FIRST_CLICK: FIRST_CLICK,
    LAST_CLICK: LAST_CLICK,
    "firstClick": FIRST_CLICK,
    "lastClick": LAST_CLICK,
}
# The first click id present names the ad network.
PAID_ADS = (
    ("gclid", "Google Ads"),
    ("fbclid", "Facebook / Meta"),
    ("msclkid", "Microsoft Ads"),
    ("ttclid", "TikTok Ads"),
    ("li_fat_id", "LinkedIn Ads"),
    ("twclid", "Twitter Ads (X)"),
)
UTM_LISTS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
LISTS = ("referrer", "paidAds", *UTM_LISTS)
TOTAL = "total"
# What the lists read of a touch event.
TOUCH_COLUMNS = (
    "session_id",
    "referrer_domain",
    "hostname",
    *UTM_LISTS,
    *(column for column, _ in PAID_ADS),
)
TOP = 20
e = schema.website_event


def _in_range(query: Query) -> list[sa.ColumnElement]:
    return [
        e.c.website_id == query.website_id,
        e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
    ]


def _touches(reader: Reader, query: Query, conversions: sa.CTE, model: str) -> sa.CTE:
    """Every event of a converting session at its touch instant (the earliest event of the
    range, or the latest before the last conversion). The converting sessions' events are read
    once: as a CTE used twice where the engine computes a CTE once (DuckDB, PostgreSQL; the
    faster plan there), else in one grouping per session that keeps the rows at the instant
    (ClickHouse, which inlines a CTE at every reference; a window over each session's events
    took half as long again)."""
    us = reader.dialect.epoch_us(e.c.created_at)
    converting = e.join(conversions, conversions.c.session_id == e.c.session_id)
    if reader.dialect.inlines_ctes:
        return _touches_per_session(reader, query, converting, us, model, conversions.c.last_us)
    theirs = (
        sa.select(*(e.c[name] for name in TOUCH_COLUMNS), us.label("us"), conversions.c.last_us)
        .select_from(converting)
        .where(*_in_range(query))
    )
    once = theirs.cte("theirs")
    t = once.c
    if model == FIRST_CLICK:
        instant, before = sa.func.min(t.us), []
    else:
        instant, before = sa.func.max(t.us), [t.us < t.last_us]
    touch_at = (
        sa.select(t.session_id, instant.label("touch_us"))
        .where(*before)
        .group_by(t.session_id)
        .subquery("touch_at")
    )
    at_touch = sa.and_(touch_at.c.session_id == t.session_id, touch_at.c.touch_us == t.us)
    return sa.select(once).select_from(once.join(touch_at, at_touch)).cte("touches")


def _touches_per_session(
    reader: Reader,
    query: Query,
    converting: sa.FromClause,
    us: sa.ColumnElement,
    model: str,
    last_us: sa.ColumnElement,
) -> sa.CTE:
    """_touches in one grouping per converting session (Dialect.each_at_extreme)."""
    dialect = reader.dialect
    listed = [name for name in TOUCH_COLUMNS if name != "session_id"]
    before = None if model == FIRST_CLICK else us < last_us
    each = dialect.each_at_extreme([e.c[n] for n in listed], us, before, model == LAST_CLICK)
    per_session = (
        sa.select(e.c.session_id, each.label("touch"))
        .select_from(converting)
        .where(*_in_range(query))
        .group_by(e.c.session_id)
        .subquery("per_session")
    )
    touch = per_session.c.touch
    return sa.select(
        per_session.c.session_id,
        *(
            dialect.tuple_item(touch, i, e.c[name].type).label(name)
            for i, name in enumerate(listed, start=2)
        ),
    ).cte("touches")


def _totals(conversions: sa.CTE) -> sa.Select:
    """The conversions' totals, one row (a visit belongs to one session, so the sessions'
    distinct visits add up)."""
    c = conversions.c
    return sa.select(
        sa.func.sum(c.hits).label("pageviews"),
        sa.func.count().label("visitors"),
        sa.func.sum(c.visits).label("visits"),
    ).select_from(conversions)


def _lists(reader: Reader, touches: sa.CTE) -> sa.Select:
    """Every list's (list, name, value) rows in one pass over the touches: each touch is paired
    with each list name, and its name on that list is NULL where the list does not count it.
    (ClickHouse inlines a CTE at every reference: a UNION of one query per list read the
    converting sessions' events once per list.)"""
    t = touches.c
    lists = sa.union_all(*(sa.select(sa.literal(n, sa.String).label("list")) for n in LISTS))
    lists = lists.subquery("lists")
    paid_ad = sa.case(
        *((sa.func.coalesce(t[c], "") != "", label) for c, label in PAID_ADS), else_=""
    )
    # Umami's referrer list also inner-joins the session table; every stored event has its session.
    referrer = sa.and_(
        t.referrer_domain != reader.dialect.strip_www(t.hostname), t.referrer_domain != ""
    )
    name = sa.case(
        (lists.c.list == "referrer", sa.case((referrer, t.referrer_domain))),
        (lists.c.list == "paidAds", sa.case((paid_ad != "", paid_ad))),
        *((lists.c.list == n, sa.case((t[n] != "", t[n]))) for n in UTM_LISTS),
    ).label("name")
    return (
        sa.select(lists.c.list, name, sa.func.count(sa.distinct(t.session_id)).label("value"))
        # Every pair: no list name is a session id. (A condition comparing both sides, so that
        # SQLAlchemy's FROM linter sees the join on every engine's compiler.)
        .select_from(touches.join(lists, sa.cast(t.session_id, sa.String) != lists.c.list))
        .where(name.is_not(None))
        .group_by(lists.c.list, name)
    )


def run(reader: Reader, query: Query, params: Parameters) -> dict:
    model = params.choice("model", MODELS)
    step_type = params.choice("type", STEP_TYPES)
    step = params.text("step")
    if params.get("currency") not in (None, ""):
        revenue.parse_currency(params)  # accepted (the UI sends it) but unused, as in Umami
    result: dict = {name: [] for name in LISTS}
    result[TOTAL] = {"pageviews": 0, "visitors": 0, "visits": 0}
    if query.empty:
        return result
    query = with_event_type(query, event_type_filter(step_type))
    events = Q.Events(query, reader.dialect, types=None)
    converting = events.where() + [column(step_type) == step]
    conversions = (
        sa.select(
            e.c.session_id,
            sa.func.max(events.us()).label("last_us"),
            sa.func.count().label("hits"),
            sa.func.count(sa.distinct(e.c.visit_id)).label("visits"),
        )
        .select_from(events.from_())
        .where(*converting)
        .group_by(e.c.session_id)
        .cte("conversions")
    )
    touches = _touches(reader, query, conversions, model)
    for row in reader.rows(_lists(reader, touches), query):
        result[row["list"]].append({"name": row["name"], "value": int(row["value"])})
    totals = reader.one(_totals(conversions), query)
    result[TOTAL] = {name: int(totals.get(name) or 0) for name in result[TOTAL]}
    for name in LISTS:
        result[name].sort(key=lambda item: (-item["value"], item["name"]))
        del result[name][TOP:]
    return result
