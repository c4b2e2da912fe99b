"""The builder: the pieces every statement of the read path is assembled from, whatever the source
(docs/read-path.md#the-builder) — the registry's metrics as aggregates over per-visit rows, a
dimension as a key over the visit slices, and the ranking (ORDER BY, LIMIT, OFFSET) that every
source's rows get in SQL. The sources themselves are sql.Events (raw events) and summary.Plan
(the visit slices); the decider (decider.py) picks one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from katsuo.analytics import registry as R
from katsuo.analytics import sql as Q
from katsuo.analytics.dialects import Dialect


def visit(
    dialect: Dialect,
    hits: sa.ColumnElement,
    first_us: sa.ColumnElement,
    last_us: sa.ColumnElement,
) -> R.Visit:
    """A visit's part as the metrics read it, from its occurrence count and first/last µs."""
    return R.Visit(hits, first_us, last_us, Q.seconds_between(dialect, first_us, last_us))


def summed(visit_: R.Visit) -> list[sa.ColumnElement]:
    """Σ of each summed metric's value per visit (registry order), over rows of one visit each."""
    return [sa.func.sum(m.per_visit(visit_)).label(m.name) for m in R.summed_metrics()]


def over_visits(
    dialect: Dialect,
    visits: sa.ColumnCollection,
    unique: Sequence[str] = (),
    counted: Mapping[str, sa.ColumnElement] | None = None,
) -> list[sa.ColumnElement]:
    """Every metric over raw per-visit rows (columns session_id, visit_id, hits, first_us,
    last_us), as Umami counts them: distinct ids for visitors and visits, sums for the rest
    (0 over no rows). `unique`: id columns whose value no two rows share (counted as rows);
    `counted`: id columns whose distinct count is given (a scalar subquery)."""
    v = visit(dialect, visits.hits, visits.first_us, visits.last_us)
    found = []
    for m in R.METRICS.values():
        if counted and m.distinct in counted:
            found.append(counted[m.distinct].label(m.name))
        elif m.distinct in unique:
            found.append(sa.func.count().label(m.name))
        elif m.distinct is not None:
            found.append(sa.func.count(sa.distinct(visits[m.distinct])).label(m.name))
        else:
            found.append(sa.func.coalesce(sa.func.sum(m.per_visit(v)), 0).label(m.name))
    return found


def per_visit_columns(dialect: Dialect, us: sa.ColumnElement) -> list[sa.ColumnElement]:
    """The per-visit columns `over_visits` reads, as aggregates over a visit's event rows."""
    return [
        sa.func.count().label("hits"),
        sa.func.min(us).label("first_us"),
        sa.func.max(us).label("last_us"),
    ]


def metric_names() -> list[str]:
    return list(R.METRICS)


def slice_key(dimension: R.Dimension, name: str = "x", *, keyed: bool = True):
    """A dimension as a key of a visit-slice plan (summary.Key) over its slice column; `keyed`:
    as its /metrics key (Dimension.key), else its stored value."""
    column = dimension.slice_column
    if not keyed:
        return name, lambda c: c[column]
    return name, lambda c: dimension.keyed(c[column])


def top(
    rows: sa.Select,
    order: Sequence[tuple[str, bool]],
    limit: int | None,
    offset: int = 0,
    *,
    where: Sequence = (),
) -> sa.Select:
    """`rows` of any source ranked in SQL: ordered by the named columns (`True`: descending),
    cut to `limit` from `offset`, optionally restricted by `where` over its columns (a
    callable of them)."""
    ranked = rows.subquery("ranked")
    c = ranked.c
    stmt = sa.select(*c).where(*(clause(c) for clause in where))
    stmt = stmt.order_by(*(c[name].desc() if desc else c[name] for name, desc in order))
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt.offset(offset) if offset else stmt
