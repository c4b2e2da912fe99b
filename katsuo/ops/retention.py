"""Retention: each day, collected data older than its website's limit is deleted.

The limit is the website's own (`retentionDays`, in `katsuo_website_retention`) or else
KATSUO_RETENTION_DAYS; without either, data is kept for ever. Deleted are the events, their
data, revenue and replays collected before the limit, the sessions no event is left for, and
the same span of the read path's derived tables (analytics/slices.py); in ClickHouse, its tables.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import sqlalchemy as sa

from katsuo.analytics import slices
from katsuo.background import BackgroundJob
from katsuo.store import schema
from katsuo.store.database import Database
from katsuo.store.repositories import collected

log = logging.getLogger("katsuo.retention")

# The first round waits a little after the start, so that it never slows a restart down.
FIRST_ROUND_SECONDS = 60.0
ROUND_SECONDS = 24 * 3600.0


def limits(conn: sa.Connection, default_days: int) -> list[tuple[UUID, int]]:
    """(website id, days) of every website that has a limit."""
    w, r = schema.website, schema.website_retention
    days = sa.func.coalesce(r.c.days, default_days or None)
    rows = conn.execute(
        sa.select(w.c.website_id, days)
        .select_from(w.outerjoin(r, r.c.website_id == w.c.website_id))
        .where(w.c.deleted_at.is_(None), days.is_not(None))
    )
    return [(row[0], row[1]) for row in rows]


def apply(db: Database, now: datetime | None = None) -> dict[UUID, dict[str, int]]:
    """Delete what every website with a limit collected before it; returns the rows deleted per
    website and table (websites with nothing to delete left out)."""
    now = now or datetime.now(UTC)
    with db.connect() as conn:
        websites = limits(conn, db.settings.retention_days)
    deleted = {}
    for website_id, days in websites:
        counts = _apply_one(db, website_id, now - timedelta(days=days))
        if any(counts.values()):
            deleted[website_id] = counts
            log.info(
                "retention: deleted what website %s collected more than %d days ago: %s",
                website_id,
                days,
                ", ".join(f"{n} {t}" for t, n in counts.items() if n),
            )
    return deleted


def _apply_one(db: Database, website_id: UUID, before: datetime) -> dict[str, int]:
    here = {table.name for table in collected.DATED} | {schema.session.name}
    if db.separate_events:
        there = {table.name for table in db.events.engines.TABLES}
        with db.events.connect() as conn:
            counts = collected.delete_before(conn, db.events, website_id, before, there)
        here -= there
        with db.begin() as conn:
            counts |= collected.delete_before(conn, db, website_id, before, here)
        return counts
    with slices.upkeep(db, wait=True), db.begin() as conn:
        slices.forget_before(conn, db.engines.DIALECT, website_id, before)
        return collected.delete_before(conn, db, website_id, before, here)


class RetentionJob(BackgroundJob):
    """The daily round in the server process; `on_deleted` runs after a round deleted rows (the
    writer must forget the session ids it knew)."""

    thread_name = "katsuo-retention"

    def __init__(self, db: Database, on_deleted: Callable[[], None]):
        super().__init__(ROUND_SECONDS)
        self.db = db
        self.on_deleted = on_deleted

    def run_once(self, now: datetime | None = None) -> dict[UUID, dict[str, int]]:
        deleted = apply(self.db, now)
        if deleted:
            self.on_deleted()
        return deleted

    def _run(self) -> None:
        wait = FIRST_ROUND_SECONDS
        while not self._stop.wait(wait):
            wait = self.interval
            try:
                self.run_once()
            except Exception:  # an outage: the next round tries again
                log.exception("retention: the round failed; the next one tries again")
