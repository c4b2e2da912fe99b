"""The one place queries run: a Reader holds the connection, the engine's dialect, and whether the
visit slices may answer (the optimizer's input); it executes statements and maps the errors a
client can cause (an invalid regular expression) to 400."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import slices, summary
from katsuo.analytics.dialects import Dialect, for_engine
from katsuo.analytics.query import Query
from katsuo.errors import BadRequest
from katsuo.store import schema
from katsuo.store.database import Database

MAX_BOUND_SESSIONS = 5000


@dataclass
class Reader:
    conn: sa.Connection
    dialect: Dialect
    slices_ready: bool

    @classmethod
    def open(cls, conn: sa.Connection, engine: str, *, use_slices: bool = True) -> Reader:
        ready = use_slices and slices.is_built(conn)
        return cls(conn, for_engine(engine), ready)

    @classmethod
    @contextmanager
    def of(cls, db: Database, conn: sa.Connection, *, use_slices: bool = True) -> Iterator[Reader]:
        """The Reader of a request holding `conn` on the management store: the same connection,
        or one to ClickHouse when the events live there (no visit slices: it reads the events)."""
        if not db.separate_events:
            yield cls.open(conn, db.kind, use_slices=use_slices)
            return
        with db.events.connect() as events:
            yield cls(events, for_engine(db.events.kind), slices_ready=False)

    def from_slices(
        self, query: Query, *, bucketed: bool = False, dim: int = slices.DIM_VIEW
    ) -> bool:
        """The optimizer: visit slices when they are built and can answer exactly. The journey
        rows hold whole visits (visits.py): any range, but only filters on the session, which
        keep every event of a visit or none."""
        if dim == slices.DIM_JOURNEY:
            return self.slices_ready and all(f.is_session for f in query.filters.items)
        return self.slices_ready and summary.plannable(query, bucketed=bucketed, dim=dim)

    def plan(self, query: Query, dim: int, *, session_attrs: bool = False) -> summary.Plan:
        """A visit-slice plan, told which sessions have pending events in its range."""
        p = schema.slice_pending
        sessions = (
            self.conn.execute(
                sa.select(p.c.session_id)
                .distinct()
                .where(
                    p.c.website_id == query.website_id,
                    p.c.created_us.between(query.start_us, query.end_us),
                )
            )
            .scalars()
            .all()
        )
        # Bound as a list when short (fast on both engines); a long backlog falls back to
        # subqueries, keeping far below the engines' parameter limits.
        known = tuple(sessions) if len(sessions) <= MAX_BOUND_SESSIONS else None
        return summary.Plan(
            query, self.dialect, dim, session_attrs=session_attrs, pending_sessions=known
        )

    def rows(self, stmt: sa.Executable, query: Query | None = None) -> list[dict[str, Any]]:
        try:
            result = self.conn.execute(stmt).mappings().all()
        except sa.exc.DBAPIError as error:
            raise _client_error(error, query) from error
        return [{k: _plain(v) for k, v in row.items()} for row in result]

    def one(self, stmt: sa.Executable, query: Query | None = None) -> dict[str, Any]:
        found = self.rows(stmt, query)
        return found[0] if found else {}


def _plain(value: Any) -> Any:
    """Counts and sums as JSON numbers (PostgreSQL returns sums as numeric)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _client_error(error: sa.exc.DBAPIError, query: Query | None) -> Exception:
    """A regular expression the engine rejects is the client's mistake, not a server error."""
    if query is not None:
        for f in query.filters.items:
            if f.operator in (F.REGEX, F.NOT_REGEX):
                return BadRequest(f"{f.param}: invalid regular expression")
    return error
