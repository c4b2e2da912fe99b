"""Answers from visit slices: the same numbers as Umami's queries over raw events, read from
a few million pre-grouped rows instead of every event, without hashing distinct sessions.

A range [S, E] is split at half-hour (slot) boundaries into a head [S, BS), a body [BS, BE) and
a tail [BE, E]. Slices never cross a slot boundary, so the body is exactly the slices whose
first occurrence lies in it; head and tail (under half an hour each) are read from the raw
events; events written since the last settle (pending) are added as a delta. Then:

* counts (views, custom events) are sums over the three parts;
* distinct sessions per value and bucket: a body slice counts when the previous occurrence of
  its (session, value) lies before max(S, bucket start) — that slice holds the pair's first
  occurrence in the bucket, and exactly one slice does. Head pairs always count (nothing in
  range precedes them). A tail pair counts when its first tail slice's previous occurrence
  lies before max(S, bucket start). Pending pairs count when no settled occurrence in the same
  bucket exists. Bucket boundaries fall on slot boundaries for zones whose offsets are whole
  half hours, which the decider checks;
* visit totals (visits, bounces, time): a visit lying wholly in the body and untouched by
  pending events is summed from its first slice's visit totals; any other visit is regrouped
  from its body slices plus its head, tail and pending events.

analytics/decider.py says when a Query can be answered this way (no event-level filter but one
`path` value, no excludeBounce, zone offsets aligned for buckets); otherwise the raw queries run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa

from katsuo.analytics import builder as B
from katsuo.analytics import filters as F
from katsuo.analytics import registry as R
from katsuo.analytics import sql as Q
from katsuo.analytics.dialects import BigInt, Dialect
from katsuo.analytics.query import Query
from katsuo.analytics.slices import (
    DIM_EVENT,
    DIM_PATH,
    DIM_REFERRER,
    DIM_VIEW,
    SESSION_ATTRS,
    SLOT_US,
)
from katsuo.store import schema

slice_t = schema.visit_slice
pending_t = schema.slice_pending

# A key: a named expression over a part's columns (value, session attributes).
Key = tuple[str, Callable[[sa.ColumnCollection], sa.ColumnElement]]


def value_key(name: str = "x") -> Key:
    return name, lambda c: c.value


def attr_key(column: str, name: str = "x") -> Key:
    return name, lambda c: c[column]


RAW_ONLY = object()  # path_restriction: the filters need the raw events


def path_restriction(query: Query):
    """The event-level filter slices can take — one `path` equal to one value, the dashboard's
    click-to-filter — as (path, the query without it); (None, query) when there is no
    event-level filter; RAW_ONLY when the filters need the raw events."""
    on_events = [f for f in query.filters.items if f.field.level == F.EVENT]
    if not on_events:
        return None, query
    (only,) = on_events if len(on_events) == 1 else (None,)
    if (
        only is None
        or only.field.name != "path"
        or only.operator != F.EQ
        or len(only.values) != 1
        or query.filters.match != "all"
    ):
        return RAW_ONLY
    rest = F.Filters(tuple(f for f in query.filters.items if f is not only), query.filters.match)
    return only.value, replace(query, filters=rest)


def body_bounds(query: Query) -> tuple[int, int]:
    body_start = -(-query.start_us // SLOT_US) * SLOT_US
    body_end = (query.end_us + 1) // SLOT_US * SLOT_US
    return body_start, body_end


@dataclass
class Plan:
    """The three parts of one query over one dimension. `session_attrs`: the measure keys on
    session attributes (session filters bring them in anyway)."""

    query: Query
    dialect: Dialect
    dim: int
    session_attrs: bool = False
    pending_sessions: tuple | None = None  # sessions of pending events in range (None: unknown)

    def __post_init__(self):
        self.path, self.query = path_restriction(self.query)
        if self.path is not None:
            self.dim = DIM_PATH
        self.start, self.end = self.query.start_us, self.query.end_us
        self.body_start, self.body_end = body_bounds(self.query)
        self.attrs = self.session_attrs or any(f.is_session for f in self.query.filters.items)
        self.pending = self.pending_sessions is None or bool(self.pending_sessions)
        self.body = self._body().subquery("body")
        self.edge = self._attach(self._edge_events(), "edge", self._edge_sessions())
        self.delta = self._attach(self._delta_events(), "delta", self._pending_sessions())

    # --- the three parts -------------------------------------------------------------------

    def _session_clauses(
        self, columns: sa.ColumnCollection | None, session_id: sa.ColumnElement
    ) -> list:
        q = self.query
        clauses = (
            Q.filters_clauses(self.dialect, q.filters, lambda f: columns[f.column])
            if columns is not None
            else []
        )
        if q.cohort is not None:
            clauses.append(session_id.in_(Q.cohort_sessions(self.dialect, q.website_id, q.cohort)))
        return clauses

    def _body(self) -> sa.Select:
        s = slice_t
        return sa.select(s).where(
            s.c.website_id == self.query.website_id,
            s.c.dim == self.dim,
            s.c.first_us >= sa.literal(self.body_start, BigInt),
            s.c.first_us < sa.literal(self.body_end, BigInt),
            *([s.c.value == self.path] if self.path is not None else []),
            *self._session_clauses(s.c, s.c.session_id),
        )

    def _mapped_where(self, c: sa.ColumnCollection) -> tuple[sa.ColumnElement, sa.ColumnElement]:
        """(value, condition) of this plan's dimension over raw-shaped event columns."""
        view = c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED)
        if self.dim == DIM_VIEW:
            return sa.literal("", sa.String), view
        if self.dim == DIM_REFERRER:
            return c.referrer_domain, sa.and_(
                view,
                c.referrer_domain != "",
                c.referrer_domain != self.dialect.strip_www(c.hostname),
            )
        if self.dim == DIM_EVENT:
            return c.event_name, c.event_type == Q.CUSTOM_EVENT
        if self.path is not None:
            return c.url_path, sa.and_(view, c.url_path == self.path)
        return c.url_path, view

    def _events(self, c: sa.ColumnCollection, t: sa.ColumnElement, where: list) -> sa.Select:
        value, condition = self._mapped_where(c)
        return sa.select(
            c.session_id, c.visit_id, sa.cast(value, sa.String).label("value"), t.label("t")
        ).where(c.website_id == self.query.website_id, condition, *where)

    def _edge_events(self) -> sa.CTE:
        e = schema.website_event
        settled = e.c.event_id.not_in(
            sa.select(pending_t.c.event_id).where(pending_t.c.website_id == self.query.website_id)
        )
        t = self.dialect.epoch_us(e.c.created_at)
        windows = [(self.start, self.body_start - 1), (self.body_end, self.end)]
        parts = [
            self._events(e.c, t, [e.c.created_at.between(Q.at(lo), Q.at(hi)), settled])
            for lo, hi in windows
            if lo <= hi
        ]
        events = (
            sa.union_all(*parts)
            if len(parts) > 1
            else parts[0]
            if parts
            else self._events(e.c, t, [sa.false()])
        )
        return self.dialect.materialized(events, "edge_events")

    def _delta_events(self) -> sa.CTE:
        p = pending_t
        span = p.c.created_us.between(sa.literal(self.start, BigInt), sa.literal(self.end, BigInt))
        return self.dialect.materialized(
            self._events(p.c, p.c.created_us, [span if self.pending else sa.false()]),
            "delta_events",
        )

    def _edge_sessions(self) -> sa.Select:
        """Attributes of the edge events' sessions, from the slices of the two edge slots (every
        settled event has its slice there): small and time-pruned, unlike the session table."""
        s = slice_t
        head_slot = self.start // SLOT_US * SLOT_US
        in_edges = sa.or_(
            s.c.first_us.between(
                sa.literal(head_slot, BigInt), sa.literal(self.body_start - 1, BigInt)
            ),
            s.c.first_us.between(
                sa.literal(self.body_end, BigInt), sa.literal(self.body_end + SLOT_US - 1, BigInt)
            ),
        )
        return (
            sa.select(s.c.session_id, *(s.c[a] for a in SESSION_ATTRS))
            .distinct()
            .where(
                s.c.website_id == self.query.website_id,
                s.c.dim == self.dim,
                s.c.first_us.between(
                    sa.literal(head_slot, BigInt), sa.literal(self.body_end + SLOT_US - 1, BigInt)
                ),
                in_edges,
            )
        )

    def _pending_sessions(self) -> sa.Select:
        """Attributes of the pending events' sessions, looked up by id: joining the session table
        to a subquery makes DuckDB hash the whole session table."""
        s = schema.session
        ids = list(self.pending_sessions or ())
        lookup = (
            s.c.session_id.in_(ids)
            if self.pending_sessions is not None
            else s.c.session_id.in_(
                sa.select(pending_t.c.session_id).where(
                    pending_t.c.website_id == self.query.website_id
                )
            )
        )
        return sa.select(s.c.session_id, *(s.c[a] for a in SESSION_ATTRS)).where(
            s.c.website_id == self.query.website_id, lookup
        )

    def _attach(self, events: sa.CTE, name: str, sessions: sa.Select) -> sa.Subquery:
        """Edge or delta rows with their session's attributes when the plan needs them, filtered
        and restricted to the cohort."""
        ev = events.c
        if not self.attrs:
            return (
                sa.select(ev.session_id, ev.visit_id, ev.value, ev.t)
                .where(*self._session_clauses(None, ev.session_id))
                .subquery(name)
            )
        found = sessions.subquery(f"{name}_sessions")
        return (
            sa.select(
                ev.session_id, ev.visit_id, ev.value, ev.t, *(found.c[a] for a in SESSION_ATTRS)
            )
            .select_from(events.outerjoin(found, found.c.session_id == ev.session_id))
            .where(*self._session_clauses(found.c, ev.session_id))
            .subquery(name)
        )

    # --- measures ---------------------------------------------------------------------------

    def counts(self, keys: Sequence[Key], bucket: Callable | None = None) -> sa.Select:
        """Σ occurrences per key (and bucket): views, or custom events."""
        b = bucket or _no_bucket
        body, edge, delta = self.body.c, self.edge.c, self.delta.c
        parts = [
            _grouped(keys, b(body.first_us), body, sa.func.sum(body.hits)),
            _grouped(keys, b(edge.t), edge, sa.func.count()),
            _grouped(keys, b(delta.t), delta, sa.func.count()),
        ]
        return _summed(parts, keys, ["n"])

    def distinct_sessions(
        self,
        keys: Sequence[Key],
        bucket: Callable | None = None,
        *,
        pointer: str = "prev_us",
        per_bucket: bool = True,
    ) -> sa.Select:
        """Distinct sessions per key (and bucket). `pointer` names the slices' previous-
        occurrence column; `per_bucket` says whether a bucket change also starts a new count
        (time buckets: yes; weekly cells, which recur, use their own pointer instead)."""
        b = bucket or _no_bucket
        start = sa.literal(self.start, BigInt)
        body, edge = self.body.c, self.edge.c

        def fresh(previous: sa.ColumnElement, current_bucket: sa.ColumnElement) -> sa.ColumnElement:
            clause = sa.or_(previous.is_(None), previous < start)
            if per_bucket and bucket is not None:
                clause = sa.or_(clause, b(previous) != current_bucket)
            return clause

        counted_body = _grouped(
            keys,
            b(body.first_us),
            body,
            sa.func.count(),
            where=fresh(body[pointer], b(body.first_us)),
        )

        def pairs(part, where, name: str):
            return (
                sa.select(
                    part.session_id,
                    part.value,
                    *(fn(part).label(k) for k, fn in keys),
                    b(part.t).label("b"),
                )
                .where(where)
                .distinct()
                .subquery(name)
            )

        head = pairs(edge, edge.t < sa.literal(self.body_start, BigInt), "head_pairs")
        tail = pairs(edge, edge.t >= sa.literal(self.body_end, BigInt), "tail_pairs")
        s = slice_t
        tail_slices = (
            sa.select(
                s.c.session_id,
                s.c.value,
                sa.func.min(sa.func.coalesce(s.c[pointer], -1)).label("m"),
            )
            .where(
                s.c.website_id == self.query.website_id,
                s.c.dim == self.dim,
                s.c.first_us >= sa.literal(self.body_end, BigInt),
                s.c.first_us < sa.literal(self.body_end + SLOT_US, BigInt),
                s.c.first_us <= sa.literal(self.end, BigInt),
            )
            .group_by(s.c.session_id, s.c.value)
            .subquery("tail_slices")
        )
        tail_counted = (
            sa.select(*(tail.c[k] for k, _ in keys), tail.c.b, sa.func.count().label("n"))
            .select_from(
                tail.join(
                    tail_slices,
                    sa.and_(
                        tail_slices.c.session_id == tail.c.session_id,
                        tail_slices.c.value == tail.c.value,
                    ),
                )
            )
            .where(fresh(tail_slices.c.m, tail.c.b))
            .group_by(*(tail.c[k] for k, _ in keys), tail.c.b)
        )
        head_counted = sa.select(
            *(head.c[k] for k, _ in keys), head.c.b, sa.func.count().label("n")
        ).group_by(*(head.c[k] for k, _ in keys), head.c.b)
        parts = [counted_body, head_counted, tail_counted]
        if self.pending:
            parts.append(self._pending_counted(keys, b, pairs, head, tail))
        return _summed(parts, keys, ["n"])

    def _pending_counted(self, keys, b, pairs, head, tail) -> sa.Select:
        """Pending (session, value, bucket) pairs with no settled occurrence in the same bucket
        in range. An anti-join on the settled pairs of the pending sessions only (hash joins on
        both engines; correlated NOT EXISTS makes PostgreSQL rescan the body per pair)."""
        body, delta = self.body.c, self.delta.c
        pending = pairs(delta, sa.true(), "delta_pairs")
        sessions = (
            body.session_id.in_(self.pending_sessions)
            if self.pending_sessions is not None
            else body.session_id.in_(sa.select(pending.c.session_id))
        )
        seen = sa.union_all(
            sa.select(head.c.session_id, head.c.value, head.c.b),
            sa.select(tail.c.session_id, tail.c.value, tail.c.b),
            sa.select(body.session_id, body.value, b(body.first_us)).where(sessions),
        ).subquery("seen")
        joined = pending.outerjoin(
            seen,
            sa.and_(
                seen.c.session_id == pending.c.session_id,
                seen.c.value == pending.c.value,
                seen.c.b == pending.c.b,
            ),
        )
        return (
            sa.select(*(pending.c[k] for k, _ in keys), pending.c.b, sa.func.count().label("n"))
            .select_from(joined)
            .where(seen.c.session_id.is_(None))
            .group_by(*(pending.c[k] for k, _ in keys), pending.c.b)
        )

    def distinct_cells(self, cell: Callable) -> sa.Select:
        """Distinct sessions per weekly cell by hashing (session, cell) pairs: for zones whose
        cells do not map one-to-one onto UTC hours (changing or half-hour offsets)."""
        body, edge, delta = self.body.c, self.edge.c, self.delta.c
        pairs = sa.union_all(
            sa.select(body.session_id, cell(body.first_us).label("b")),
            sa.select(edge.session_id, cell(edge.t)),
            sa.select(delta.session_id, cell(delta.t)),
        ).subquery("cells")
        return sa.select(
            pairs.c.b, sa.func.count(sa.distinct(pairs.c.session_id)).label("n")
        ).group_by(pairs.c.b)

    def visit_totals(self, keys: Sequence[Key]) -> sa.Select:
        """Per key: each summed metric of the registry (pageviews, visits, bounces, total time …)
        over the part of each visit in range."""
        edge, delta = self.edge.c, self.delta.c
        if self.pending:
            # Visits with pending events are regrouped; a LEFT JOIN keeps the small pending
            # side as the hash table (a correlated EXISTS would hash the body instead).
            touched = (
                sa.select(delta.session_id, delta.visit_id, delta.value)
                .distinct()
                .subquery("touched")
            )
            b0 = self.body.c
            marked = (
                sa.select(*b0, touched.c.session_id.is_not(None).label("touched"))
                .select_from(
                    self.body.outerjoin(
                        touched,
                        sa.and_(
                            touched.c.session_id == b0.session_id,
                            touched.c.visit_id == b0.visit_id,
                            touched.c.value == b0.value,
                        ),
                    )
                )
                .subquery("marked")
            )
            body = marked.c
            is_touched = body.touched
        else:
            body = self.body.c
            is_touched = sa.false()
        inside = sa.and_(
            body.group_first_us >= sa.literal(self.body_start, BigInt),
            body.group_last_us < sa.literal(self.body_end, BigInt),
        )
        clean = _grouped(
            keys,
            None,
            body,
            *B.summed(
                B.visit(self.dialect, body.group_hits, body.group_first_us, body.group_last_us)
            ),
            where=sa.and_(body.first_us == body.group_first_us, inside, sa.not_(is_touched)),
        )

        def per_visit(part, n, first, last, where):
            return (
                sa.select(
                    *(fn(part).label(k) for k, fn in keys),
                    part.session_id,
                    part.visit_id,
                    part.value,
                    n.label("n"),
                    first.label("f"),
                    last.label("l"),
                )
                .where(where)
                .group_by(*(fn(part) for _, fn in keys), part.session_id, part.visit_id, part.value)
            )

        dirty_parts = sa.union_all(
            per_visit(
                body,
                sa.func.sum(body.hits),
                sa.func.min(body.first_us),
                sa.func.max(body.last_us),
                sa.or_(sa.not_(inside), is_touched),
            ),
            per_visit(edge, sa.func.count(), sa.func.min(edge.t), sa.func.max(edge.t), sa.true()),
            per_visit(
                delta, sa.func.count(), sa.func.min(delta.t), sa.func.max(delta.t), sa.true()
            ),
        ).subquery("dirty_parts")
        d = dirty_parts.c
        visits = (
            sa.select(
                *(d[k] for k, _ in keys),
                sa.func.sum(d.n).label("n"),
                sa.func.min(d.f).label("f"),
                sa.func.max(d.l).label("l"),
            )
            .group_by(*(d[k] for k, _ in keys), d.session_id, d.visit_id, d.value)
            .subquery("dirty_visits")
        )
        v = visits.c
        dirty = sa.select(
            *(v[k] for k, _ in keys),
            _ZERO.label("b"),
            *B.summed(B.visit(self.dialect, v.n, v.f, v.l)),
        ).group_by(*(v[k] for k, _ in keys))
        return _summed([clean, dirty], keys, [m.name for m in R.summed_metrics()])

    def expanded(self, keys: Sequence[Key]) -> sa.Select:
        """Per key (one row with no key): every metric of the registry — the visit totals and
        the distinct sessions in one statement. Combined by UNION ALL and GROUP BY rather than a
        join, since key values may be NULL and GROUP BY takes NULLs as equal."""
        names = [k for k, _ in keys]
        totals = self.visit_totals(keys).subquery("totals")
        sessions = self.distinct_sessions(keys).subquery("sessions")
        metrics = list(R.METRICS.values())
        t = totals.c
        combined = sa.union_all(
            sa.select(
                *(t[k] for k in names),
                *(t[m.name] if m.summed else _ZERO.label(m.name) for m in metrics),
            ),
            sa.select(
                *(sessions.c[k] for k in names),
                *(_ZERO if m.summed else sessions.c.n for m in metrics),
            ),
        ).subquery("combined")
        c = combined.c
        return sa.select(
            *(c[k] for k in names), *(sa.func.sum(c[m.name]).label(m.name) for m in metrics)
        ).group_by(*(c[k] for k in names))


def _no_bucket(_column) -> sa.ColumnElement:
    """The one bucket of an unbucketed measure (inlined: engines refuse parameters in GROUP BY)."""
    return _ZERO


_ZERO = sa.literal_column("0", BigInt)


def _grouped(keys, bucket_expr, part, *aggregates, where=None) -> sa.Select:
    key_exprs = [fn(part) for _, fn in keys]
    constant = bucket_expr is None or bucket_expr is _ZERO
    stmt = sa.select(
        *(e.label(k) for e, (k, _) in zip(key_exprs, keys)),
        (_ZERO if constant else bucket_expr).label("b"),
        *aggregates,
    )
    if where is not None:
        stmt = stmt.where(where)
    group = key_exprs if constant else [*key_exprs, bucket_expr]
    return stmt.group_by(*group) if group else stmt


def _summed(parts: list[sa.Select], keys: Sequence[Key], measures: list[str]) -> sa.Select:
    """Union the parts — each (key…, b, measures…) by position — and add them up per key and b."""
    names = [k for k, _ in keys] + ["b"] + measures
    union = sa.union_all(*parts).subquery("parts")
    columns = dict(zip(names, union.c))
    group = [columns[name] for name in names[: len(keys) + 1]]
    return sa.select(
        *(column.label(name) for name, column in zip(names, group)),
        *(sa.func.coalesce(sa.func.sum(columns[m]), 0).label(m) for m in measures),
    ).group_by(*group)
