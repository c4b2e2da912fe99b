"""The one place queries run: a Reader holds the connection, the engine's dialect, and whether the
visit slices may answer (the decider's input, analytics/decider.py); it executes statements within the request's
budget (analytics/budget.py) and maps the engines' errors: an invalid regular expression is the
client's (400), a statement stopped by the budget a 503, anything else a server error."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import slices, summary
from katsuo.analytics.budget import TIMEOUT, Budget
from katsuo.analytics.dialects import Dialect
from katsuo.analytics.query import Query
from katsuo.errors import BadRequest
from katsuo.store import engines, schema
from katsuo.store.database import Database
from katsuo.store.engines.engine import Engine

MAX_BOUND_SESSIONS = 5000


@dataclass
class Reader:
    conn: sa.Connection
    dialect: Dialect
    slices_ready: bool
    engine: Engine  # the store's engine (store/engines): budgets, error kinds
    budget: Budget | None = None
    # Websites whose slices are incomplete (being rebuilt or repaired): they read raw tables.
    stale: frozenset = frozenset()

    @classmethod
    def open(
        cls,
        conn: sa.Connection,
        engine: str,
        *,
        use_slices: bool = True,
        budget: Budget | None = None,
    ) -> Reader:
        store = engines.named(engine)
        ready = use_slices and store.DERIVED_TABLES and slices.is_built(conn)
        stale = frozenset(slices.stale_websites(conn)) if ready else frozenset()
        return cls(conn, store.DIALECT, ready, store, budget, stale)

    @classmethod
    @contextmanager
    def of(
        cls,
        db: Database,
        conn: sa.Connection,
        *,
        use_slices: bool = True,
        budget: Budget | None = None,
    ) -> Iterator[Reader]:
        """The Reader of a request holding `conn` on the management store: the same connection,
        or one to ClickHouse when the events live there (no visit slices: it reads the events).
        With a `budget`, the engine stops the request's statements when it runs out."""
        separate = db.separate_events
        with db.events.connect() if separate else nullcontext(conn) as events:
            reader = cls.open(events, db.events.kind, use_slices=use_slices, budget=budget)
            with reader._budgeted():
                yield reader

    def _budgeted(self):
        if self.budget is None:
            return nullcontext()
        return self.engine.budgeted(self.conn, self.budget.remaining())

    def execute(self, stmt: sa.Executable, query: Query | None = None) -> Sequence[sa.Row]:
        """All rows of `stmt`, within the request's budget."""
        return self._fetch(lambda: self.conn.execute(stmt).all(), query)

    def _fetch(self, fetch, query: Query | None):
        running = (
            self.budget.running(self.engine.canceller(self.conn))
            if self.budget is not None
            else nullcontext()
        )
        try:
            with running:
                return fetch()
        except sa.exc.DBAPIError as error:
            raise self._error(error, query) from error

    def _error(self, error: sa.exc.DBAPIError, query: Query | None) -> Exception:
        kind = self.engine.error_kind(error.orig)
        if self.budget is not None and (self.budget.stopped or kind == "timeout"):
            self.budget.stopped = self.budget.stopped or TIMEOUT
            return self.budget.error()
        if kind == "invalid-regex" and query is not None:
            # The engine names no filter: the first regular-expression filter is the suspect.
            for f in query.filters.items:
                if f.operator in (F.REGEX, F.NOT_REGEX):
                    return BadRequest(f"{f.param}: invalid regular expression")
        return error

    def plan(self, query: Query, dim: int, *, session_attrs: bool = False) -> summary.Plan:
        """A visit-slice plan, told which sessions have pending events in its range."""
        p = schema.slice_pending
        found = self.execute(
            sa.select(p.c.session_id)
            .distinct()
            .where(
                p.c.website_id == query.website_id,
                p.c.created_us.between(query.start_us, query.end_us),
            )
        )
        sessions = [row.session_id for row in found]
        # Bound as a list when short (fast on both engines); a long backlog falls back to
        # subqueries, keeping far below the engines' parameter limits.
        known = tuple(sessions) if len(sessions) <= MAX_BOUND_SESSIONS else None
        return summary.Plan(
            query, self.dialect, dim, session_attrs=session_attrs, pending_sessions=known
        )

    def rows(self, stmt: sa.Executable, query: Query | None = None) -> list[dict[str, Any]]:
        result = self._fetch(lambda: self.conn.execute(stmt).mappings().all(), query)
        return [{k: plain(v) for k, v in row.items()} for row in result]

    def one(self, stmt: sa.Executable, query: Query | None = None) -> dict[str, Any]:
        found = self.rows(stmt, query)
        return found[0] if found else {}


def as_int(value: Any) -> int:
    """A count or sum as an int (0 for NULL: an aggregate over no rows)."""
    return int(value or 0)


def plain(value: Any) -> Any:
    """Counts and sums as JSON numbers (PostgreSQL returns sums as numeric)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
