"""The SQL vocabulary shared by every query: event sources over Umami's tables, filters, time.

`Events` is the FROM/WHERE every raw query starts from, written the way Umami writes it
(docs/query-formulas.md#filters): website_event in the range, the session table inner-joined when a filter
needs it, the cohort and `excludeBounce` restrictions, the filters combined by `match`. The
visit-slice plans (`summary.py`) reuse the filter and time pieces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import timeframe as T
from katsuo.analytics.dialects import BigInt, Dialect
from katsuo.analytics.query import Cohort, Query
from katsuo.store import schema

VIEW_TYPES_EXCLUDED = (2, 5)  # custom events and performance beacons are not views
CUSTOM_EVENT = 2

Resolver = Callable[[F.Field], sa.ColumnElement]


# --- filters ------------------------------------------------------------------------------------


def filter_clause(dialect: Dialect, f: F.Filter, column: sa.ColumnElement) -> sa.ColumnElement:
    """One filter on its column. `neq`/`dnc`/`nre` never match NULL, as in PostgreSQL."""
    if f.field.name == "eventType":
        values = [int(v) for v in f.values]
        return column.in_(values) if f.operator == F.EQ else column.not_in(values)
    if f.operator == F.EQ:
        return column.in_(f.values)
    if f.operator == F.NEQ:
        return column.not_in(f.values)
    if f.operator in (F.CONTAINS, F.NOT_CONTAINS):
        clause = dialect.contains(column, f.value)
        return clause if f.operator == F.CONTAINS else sa.not_(clause)
    clause = dialect.regex(column, f.value)
    return clause if f.operator == F.REGEX else sa.not_(clause)


def filters_clauses(
    dialect: Dialect,
    filters: F.Filters,
    resolve: Resolver,
    *,
    always_and: tuple[F.Filter, ...] = (),
    referrer_side_effect: Callable[[], sa.ColumnElement] | None = None,
) -> list[sa.ColumnElement]:
    """The WHERE clauses of a filter set: ANDed, or ORed with `match=any` (eventType and
    `always_and` stay ANDed). A `referrer` filter also drops self-referrals (docs/query-formulas.md#filters)."""
    anded: list[sa.ColumnElement] = []
    ored: list[sa.ColumnElement] = []
    for f in filters.items:
        clause = filter_clause(dialect, f, resolve(f.field))
        if f.field.name == "eventType" or filters.match != "any":
            anded.append(clause)
        else:
            ored.append(clause)
        if f.field.name == "referrer" and referrer_side_effect is not None:
            anded.append(referrer_side_effect())
    for f in always_and:
        anded.append(filter_clause(dialect, f, resolve(f.field)))
    if ored:
        anded.insert(0, sa.or_(*ored))
    return anded


# --- time ---------------------------------------------------------------------------------------


def local_us(us: sa.ColumnElement, offsets: T.ZoneOffsets) -> sa.ColumnElement:
    """UTC µs → wall-clock µs in the zone, as a CASE over the zone's offset changes."""
    if offsets.constant:
        return us if offsets.offsets[0] == 0 else us + sa.literal(offsets.offsets[0], BigInt)
    whens = [
        (us < sa.literal(start, BigInt), sa.literal(offset, BigInt))
        for start, offset in zip(offsets.starts[1:], offsets.offsets[:-1])
    ]
    return us + sa.case(*whens, else_=sa.literal(offsets.offsets[-1], BigInt))


def bucket(
    dialect: Dialect, us: sa.ColumnElement, unit: str, offsets: T.ZoneOffsets
) -> sa.ColumnElement:
    """The wall-clock µs at which the bucket of `unit` containing `us` starts."""
    local = local_us(us, offsets)
    if unit in T.FIXED_UNITS:
        size = T.FIXED_UNITS[unit]
        return dialect.div(local, size) * sa.literal(size, BigInt)
    return dialect.truncate_local(local, unit)


def weekly_cell(dialect: Dialect, us: sa.ColumnElement, offsets: T.ZoneOffsets) -> sa.ColumnElement:
    """Day of week (0 = Sunday) × 24 + hour, in the zone. 1970-01-01 was a Thursday."""
    local = local_us(us, offsets)
    days = dialect.div(local, T.US_PER_DAY)
    hours = dialect.div(local, T.US_PER_HOUR)
    return ((days + 4) % 7) * 24 + hours % 24


def at(us: int) -> sa.BindParameter:
    return sa.literal(T.from_us(us), schema.Timestamp)


# --- the raw event source -----------------------------------------------------------------------


@dataclass
class Events:
    """website_event rows of a Query, with the joins its filters need, as Umami selects them.

    `types`: "views" (event_type not 2/5), "custom" (2), or None (all types).
    """

    query: Query
    dialect: Dialect
    types: str | None = "views"
    join_session: bool = False
    with_range: bool = True
    exclude_bounce: bool = False
    extra_filters: tuple[F.Filter, ...] = ()
    e: sa.Table = field(init=False)
    s: sa.Table = field(init=False)

    def __post_init__(self):
        self.e = schema.website_event
        self.s = schema.session
        if self.query.filters.joins_session or any(f.is_session for f in self.extra_filters):
            self.join_session = True

    def resolve(self, f: F.Field) -> sa.ColumnElement:
        return (self.s if f.level == F.SESSION else self.e).c[f.column]

    def self_referral_clause(self) -> sa.ColumnElement:
        e = self.e
        return sa.or_(
            e.c.referrer_domain != self.dialect.strip_www(e.c.hostname),
            e.c.referrer_domain.is_(None),
        )

    def from_(self) -> sa.FromClause:
        e, s = self.e, self.s
        source: sa.FromClause = e
        if self.query.cohort is not None:
            cohort = cohort_sessions(
                self.dialect, self.query.website_id, self.query.cohort
            ).subquery("cohort")
            source = source.join(cohort, cohort.c.session_id == e.c.session_id)
        if self.exclude_bounce and self.query.exclude_bounce:
            visits = bounce_free_visits(self.query).subquery("exclude_bounce")
            source = source.join(
                visits,
                sa.and_(visits.c.session_id == e.c.session_id, visits.c.visit_id == e.c.visit_id),
            )
        if self.join_session:
            source = source.join(
                s, sa.and_(s.c.session_id == e.c.session_id, s.c.website_id == e.c.website_id)
            )
        return source

    def where(self) -> list[sa.ColumnElement]:
        e, q = self.e, self.query
        clauses = [e.c.website_id == q.website_id]
        if self.with_range:
            clauses.append(e.c.created_at.between(at(q.start_us), at(q.end_us)))
        if self.types == "views":
            clauses.append(e.c.event_type.not_in(VIEW_TYPES_EXCLUDED))
        elif self.types == "custom":
            clauses.append(e.c.event_type == CUSTOM_EVENT)
        clauses += filters_clauses(
            self.dialect,
            q.filters,
            self.resolve,
            always_and=self.extra_filters,
            referrer_side_effect=self.self_referral_clause,
        )
        return clauses

    def select(self, *columns) -> sa.Select:
        return sa.select(*columns).select_from(self.from_()).where(*self.where())

    def us(self) -> sa.ColumnElement:
        return self.dialect.epoch_us(self.e.c.created_at)

    def bucket(self, unit: str | None = None) -> sa.ColumnElement:
        return bucket(self.dialect, self.us(), unit or self.query.unit, self.query.offsets)


def cohort_sessions(dialect: Dialect, website_id, cohort: Cohort) -> sa.Select:
    """Sessions with an event matching the cohort's action and filters in its own range; the
    cohort query always inner-joins the session table (docs/query-formulas.md#segments-and-cohorts)."""
    e = schema.website_event.alias("cohort_event")
    s = schema.session.alias("cohort_session")

    def resolve(f: F.Field) -> sa.ColumnElement:
        return (s if f.level == F.SESSION else e).c[f.column]

    return (
        sa.select(e.c.session_id)
        .distinct()
        .select_from(
            e.join(s, sa.and_(s.c.session_id == e.c.session_id, s.c.website_id == e.c.website_id))
        )
        .where(
            e.c.website_id == website_id,
            e.c.created_at.between(at(cohort.start_us), at(cohort.end_us)),
            *filters_clauses(dialect, cohort.filters, resolve, always_and=(cohort.action,)),
        )
    )


def bounce_free_visits(query: Query) -> sa.Select:
    """Visits with more than one page view (type 1) in the range: `excludeBounce`."""
    e = schema.website_event.alias("bounce_event")
    return (
        sa.select(e.c.session_id, e.c.visit_id)
        .where(
            e.c.website_id == query.website_id,
            e.c.created_at.between(at(query.start_us), at(query.end_us)),
            e.c.event_type == 1,
        )
        .group_by(e.c.session_id, e.c.visit_id)
        .having(sa.func.count() > 1)
    )


def seconds_between(
    dialect: Dialect, first_us: sa.ColumnElement, last_us: sa.ColumnElement
) -> sa.ColumnElement:
    """⌊last − first⌋ in whole seconds (never negative here)."""
    return dialect.div(last_us - first_us, T.US_PER_SECOND)
