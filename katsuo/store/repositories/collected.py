"""The data collected for a website, link or pixel (every collected table keys it by
`website_id`, whichever kind the id names): emptied on reset and on delete.

The management store's tables are emptied in the transaction of the reset or delete. When the
events live in a store of their own (ClickHouse), that store cannot join the transaction: the
deletion there is queued in `katsuo_purge` by the same transaction and run by `purge()` once it
committed, so a change that rolls back never loses data. A purge that fails stays queued and is
retried by the next one and at start. Deleted ids go to `katsuo_deleted_id` and are never given
out again, so rows that outlive their entity can never be read through another one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from katsuo.store import ids, schema, umami
from katsuo.store.database import Database
from katsuo.store.repositories.common import now

log = logging.getLogger("katsuo.store")

# Every table of the management store holding collected data, keyed by website_id: Umami's, and
# the read path's visit slices derived from them (analytics/slices.py), emptied with them.
TABLES: tuple[sa.Table, ...] = (
    schema.visit_slice,
    schema.slice_pending,
    schema.slice_session,
    schema.slice_count,
    schema.slice_stale,
    schema.slice_part,
    schema.session_replay,
    schema.revenue,
    schema.event_data,
    schema.session_data,
    schema.website_event,
    schema.session,
)


def _empty(conn: sa.Connection, entity_id: UUID, before: datetime | None) -> None:
    level = umami.level(conn)
    for table in TABLES:
        if level.has_table(table.name):
            conn.execute(table.delete().where(table.c.website_id == entity_id))
    conn.execute(
        schema.purge.insert().values(
            purge_id=ids.new_id(), entity_id=entity_id, before=before, created_at=now()
        )
    )


def reset(conn: sa.Connection, website_id: UUID, reset_at: datetime) -> None:
    """Delete what was collected for the website before `reset_at` (after it committed, in the
    events store)."""
    _empty(conn, website_id, reset_at)


def delete(conn: sa.Connection, entity_id: UUID, kind: str) -> None:
    """Delete everything collected for the entity and retire its id."""
    _empty(conn, entity_id, None)
    retired = schema.deleted_id.insert().values(entity_id=entity_id, kind=kind, deleted_at=now())
    conn.execute(retired)


# What a retention limit deletes (ops/retention.py), in this order: the rows stamped with their
# time, then the sessions left without any event.
DATED: list[sa.Table] = [
    schema.session_replay,
    schema.revenue,
    schema.event_data,
    schema.session_data,
    schema.website_event,
]


def delete_before(
    conn: sa.Connection, store: Database, website_id: UUID, before: datetime, tables: set[str]
) -> dict[str, int]:
    """Delete, of the `tables` that `store` holds, the website's rows collected before `before`,
    and its sessions that no event is left for; returns the rows deleted per table."""
    deleted = {}
    for table in DATED:
        if table.name in tables:
            where = sa.and_(table.c.website_id == website_id, table.c.created_at < before)
            deleted[table.name] = _delete_counted(conn, store, table, where)
    if schema.session.name in tables:
        s, e = schema.session, schema.website_event
        kept = sa.select(e.c.session_id).where(e.c.website_id == website_id)
        where = sa.and_(
            s.c.website_id == website_id, s.c.created_at < before, s.c.session_id.not_in(kept)
        )
        deleted[s.name] = _delete_counted(conn, store, s, where)
    return deleted


def _delete_counted(conn: sa.Connection, store: Database, table: sa.Table, where) -> int:
    count = conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one()
    if count:
        store.engines.delete_rows(conn, table, where, store.settings)
    return count


def purge(db: Database) -> int:
    """Run the queued deletions in the events store (none to run there when it is the management
    store itself); returns how many are still queued because they failed (logged)."""
    try:
        with db.connect() as conn:
            queued = conn.execute(sa.select(schema.purge).order_by(schema.purge.c.created_at)).all()
    except Exception:
        log.exception("could not read the queued deletions of collected data")
        return 0
    failed = 0
    for item in queued:
        try:
            if db.separate_events:
                _purge_events(db.events, item.entity_id, item.before)
            with db.begin() as conn:
                conn.execute(schema.purge.delete().where(schema.purge.c.purge_id == item.purge_id))
        except Exception:
            log.exception(
                "could not delete the collected data of %s from the events store; "
                "it stays queued and is retried",
                item.entity_id,
            )
            failed += 1
    return failed


def _purge_events(events: Database, entity_id: UUID, before: datetime | None) -> None:
    with events.connect() as conn:
        for table in events.engines.TABLES:
            where = table.c.website_id == entity_id
            if before is not None:
                where = sa.and_(where, table.c.created_at < before)
            events.engines.delete_rows(conn, table, where, events.settings)
