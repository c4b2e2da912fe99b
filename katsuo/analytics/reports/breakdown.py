"""Breakdown (docs: Breakdown; API › Reports › breakdown): the registry's metrics (views,
visitors, visits, bounces, visit time …) per combination of the chosen fields, top 500 by visitors (docs/query-formulas.md#breakdown).

As in Umami, rows are first grouped by (fields, session, visit) — a bounce is a visit with one
matching view — but the distinct counts are taken by aggregating twice more instead of counting
distinct ids: per (event fields, session), then per field combination, where a session is one
row. Session fields (browser, country, …) are joined after the first two steps, onto one row
per session instead of one per event; where each event row carries them (ClickHouse,
`Dialect.session_on_events`) they are grouped with the event fields from the first step. Where
grouping on the texts is slow (ClickHouse, `Dialect.combination`), the steps group on one key
per combination and the top rows are labelled afterwards (docs/clickhouse.md#reports-over-the-events).

When the fields are session attributes and/or `path` and the visit slices can answer the
query exactly (decider.py), they do (`summary.Plan`, as the overview's expanded totals): visit totals and
distinct sessions per combination, keyed on the slices' session attributes and — with `path` —
the path dimension's value. Slices count every event type but custom events and performance
beacons as a view; only a website's events are all page views then (links and pixels store
their own hit types, `Query.target_kind`), so other targets keep the raw query. Every session
field is one of the slices' session attributes.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import builder as B
from katsuo.analytics import filters as F
from katsuo.analytics import registry as R
from katsuo.analytics import rollups
from katsuo.analytics import sql as Q
from katsuo.analytics.decider import decide, decide_attributes
from katsuo.analytics.query import Query
from katsuo.analytics.reports.params import Parameters, fields
from katsuo.analytics.reports.steps import PAGE_VIEW, with_event_type
from katsuo.analytics.runner import Reader
from katsuo.errors import BadRequest
from katsuo.store import schema

TOP = 500
# At most this many rows tied at the cut are labelled by key (their keys travel in the statement's
# text); with more, the rows are counted on the texts.
MAX_LABELLED = 5_000
# Umami's breakdown names the pageviews metric `views`.
RENAMED = {"pageviews": "views"}
e = schema.website_event
s = schema.session


def parse_fields(params: Parameters) -> list[F.Field]:
    allowed = fields()
    raw = params.items("fields", 1, len(allowed))
    known = F.fields()
    chosen: list[F.Field] = []
    for i, name in enumerate(raw):
        if name not in allowed:
            raise BadRequest(f"parameters.fields.{i}: must be one of {', '.join(allowed)}")
        if known[name] not in chosen:
            chosen.append(known[name])
    return chosen


def _out(name: str) -> str:
    return RENAMED.get(name, name)


def run(reader: Reader, query: Query, params: Parameters) -> list[dict]:
    chosen = parse_fields(params)
    if query.empty:
        return []
    names = [f.name for f in chosen]
    totals = [_out(m) for m in B.metric_names()]
    found = _from_rollups(reader, query, chosen)
    if found is None:
        found = _from_slices(reader, query, chosen)
    if found is None:
        found = _raw(reader, query, chosen)
    return [
        {**{k: int(row[k] or 0) for k in totals}, **{name: row[name] for name in names}}
        for row in found
    ]


def _ordered(chosen: list[F.Field]) -> list[F.Field]:
    """The fields in the order rows are sorted on after the counts: event fields first."""
    return [f for f in chosen if not f.is_session] + [f for f in chosen if f.is_session]


def _from_slices(reader: Reader, query: Query, chosen: list[F.Field]) -> list[dict] | None:
    """The rows from the visit slices, or None when they cannot answer exactly: slices count
    every event type but custom events and performance beacons as a view, so only a website's
    rows (all page views) may come from them."""
    query = with_event_type(query)
    if query.target_kind != "website":
        return None
    decision = decide(reader, query, chosen, every_view=True)
    if not decision.slices:
        return None
    keys = [B.slice_key(f, f.name, keyed=False) for f in chosen]
    plan = reader.plan(query, decision.dim, session_attrs=any(f.is_session for f in chosen))
    return reader.rows(_ranked(plan.expanded(keys), chosen), query)


def _from_rollups(reader: Reader, query: Query, chosen: list[F.Field]) -> list[dict] | None:
    """The rows from ClickHouse's visit rollup when every field is a session attribute it
    keeps, or None."""
    query = with_event_type(query)
    if not decide_attributes(reader, query, chosen, page_views=True).rollups:
        return None
    keys = [(f.name, f.column, None) for f in chosen]
    return reader.rows(_ranked(rollups.by_attributes(reader.dialect, query, keys), chosen), query)


def _ranked(rows: sa.Select, chosen: list[F.Field]) -> sa.Select:
    """The TOP combinations of per-combination metric rows, by visitors then views."""
    b = rows.subquery("expanded").c
    groups = [b[f.name] for f in _ordered(chosen)]
    return (
        sa.select(
            *(b[m].label(_out(m)) for m in B.metric_names()),
            *(b[f.name] for f in chosen),
        )
        .order_by(b.visitors.desc(), b.pageviews.desc(), *groups)
        .limit(TOP)
    )


def _raw(reader: Reader, query: Query, chosen: list[F.Field], *, hashed: bool = True) -> list[dict]:
    # The docs offer `event` as a field; over page views alone (Umami 3.1) it would always be
    # null, so with `event` chosen the rows are custom events, as the `event` metric counts them.
    event_type = Q.CUSTOM_EVENT if any(f.name == "event" for f in chosen) else PAGE_VIEW
    # Session fields are joined onto one row per session, after the first two steps; where the
    # events carry them (ClickHouse) they are grouped with the event fields instead.
    early = reader.dialect.session_on_events
    on_events = [f for f in chosen if early or not f.is_session]
    on_sessions = [f for f in chosen if f not in on_events]
    events = Q.Events(
        with_event_type(query),
        reader.dialect,
        types=None,
        join_session=any(f.is_session for f in on_events),
    )
    fields = [(s if f.is_session else e).c[f.column] for f in on_events]
    # Where the engine groups millions of rows faster on one hash of the fields than on their
    # texts (Dialect.combination), the steps group on the hash and the labels come after.
    combination = reader.dialect.combination(fields) if hashed and not on_sessions else None
    if combination is not None:
        grouped = [combination.label("combination")]
    else:
        grouped = [column.label(f.name) for column, f in zip(fields, on_events, strict=True)]
    per_visit = (
        events.select(
            *grouped,
            e.c.session_id,
            e.c.visit_id,
            *B.per_visit_columns(reader.dialect, events.us()),
        )
        .where(e.c.event_type == event_type)
        .group_by(*(g.element for g in grouped), e.c.session_id, e.c.visit_id)
        .subquery("per_visit")
    )
    v = per_visit.c
    keys = [v[g.name] for g in grouped]
    per_session = (
        sa.select(
            *keys,
            v.session_id,
            *B.summed(B.visit(reader.dialect, v.hits, v.first_us, v.last_us)),
        )
        .group_by(*keys, v.session_id)
        .subquery("per_session")
    )
    p = per_session.c
    source: sa.FromClause = per_session
    if on_sessions:
        source = per_session.join(
            s, sa.and_(s.c.session_id == p.session_id, s.c.website_id == query.website_id)
        )
    groups = [p[g.name] for g in grouped] + [s.c[f.column] for f in on_sessions]
    # Per combination: the summed metrics added up over its sessions; distinct sessions counted.
    totals = [
        (sa.func.sum(p[m.name]) if m.summed else sa.func.count()).label(_out(m.name))
        for m in R.METRICS.values()
    ]
    by = {t.name: t for t in totals}
    stmt = (
        sa.select(
            *totals,
            *(p[g.name] for g in grouped),
            *(s.c[f.column].label(f.name) for f in on_sessions),
        )
        .select_from(source)
        .group_by(*groups)
        .order_by(by["visitors"].desc(), by["views"].desc())
    )
    if combination is None:
        return reader.rows(stmt.order_by(*groups).limit(TOP), query)
    # Ties are ranked by the texts, as above: every combination tied with the last one kept
    # comes back, to be labelled and ranked here.
    found = reader.rows(stmt.fetch(TOP, with_ties=True), query)
    in_range = events.select().where(e.c.event_type == event_type)
    named = None
    if len(found) <= MAX_LABELLED:
        keys = [row["combination"] for row in found]
        named = _labels(reader, query, in_range, combination, fields, on_events, keys)
    if named is None:
        return _raw(reader, query, chosen, hashed=False)
    for row in found:
        row.update(named[row.pop("combination")])
    names = [f.name for f in on_events]
    found.sort(key=lambda row: (-row["visitors"], -row["views"], *_nulls_last(row, names)))
    return found[:TOP]


def _labels(
    reader: Reader,
    query: Query,
    events: sa.Select,
    combination: sa.ColumnElement,
    fields: list[sa.ColumnElement],
    on_events: list[F.Field],
    keys: list[int],
) -> dict[int, dict] | None:
    """The field texts of each combination key of `keys`, read from the range's `events`; None
    when two combinations share a key (a hash collision), so that the rows are counted anew on
    the texts: the answer stays exact."""
    if not keys:
        return {}
    # Two combinations under one key: some field has two texts, or a text and NULL.
    mixed = sa.or_(
        *(
            sa.or_(
                sa.func.min(c) != sa.func.max(c),
                sa.func.count(c).between(1, sa.func.count() - 1),
            )
            for c in fields
        )
    ).label("mixed")
    labels = (
        events.add_columns(
            combination.label("combination"),
            mixed,
            *(sa.func.min(c).label(f.name) for c, f in zip(fields, on_events, strict=True)),
        )
        .where(combination.in_(keys))
        .group_by(combination)
    )
    named = {}
    for row in reader.rows(labels, query):
        if row.pop("mixed"):
            return None
        named[row.pop("combination")] = row
    return named


def _nulls_last(row: dict, names: list[str]) -> list[tuple[bool, str]]:
    """A row's texts as the engines sort them ascending: NULL after every text."""
    return [(row[name] is None, row[name] or "") for name in names]
