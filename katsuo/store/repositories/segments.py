"""Segments and cohorts: named filter sets of a website, stored with their parameters as given."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from katsuo.store import ids, schema
from katsuo.store.records import Page, Segment
from katsuo.store.repositories.common import columns, now, one, paginate, search_any

t = schema.segment
_select = sa.select(*columns(t))


def get(conn: sa.Connection, website_id: UUID, segment_id: UUID) -> Segment | None:
    return one(
        conn, _select.where(t.c.segment_id == segment_id, t.c.website_id == website_id), Segment
    )


def list_for_website(
    conn: sa.Connection,
    website_id: UUID,
    *,
    segment_type: str,
    search: str | None,
    page: int,
    page_size: int,
) -> Page:
    stmt = _select.where(t.c.website_id == website_id, t.c.type == segment_type)
    if search:
        stmt = stmt.where(search_any(search, t.c.name))
    return paginate(conn, stmt.order_by(t.c.created_at, t.c.segment_id), Segment, page, page_size)


def create(
    conn: sa.Connection, *, website_id: UUID, segment_type: str, name: str, parameters: dict
) -> Segment:
    segment_id, created = ids.new_id(), now()
    conn.execute(
        t.insert().values(
            segment_id=segment_id,
            website_id=website_id,
            type=segment_type,
            name=name,
            parameters=parameters,
            created_at=created,
            updated_at=created,
        )
    )
    return get(conn, website_id, segment_id)


def update(
    conn: sa.Connection,
    website_id: UUID,
    segment_id: UUID,
    *,
    segment_type: str,
    name: str,
    parameters: dict,
) -> Segment | None:
    conn.execute(
        t.update()
        .where(t.c.segment_id == segment_id)
        .values(type=segment_type, name=name, parameters=parameters, updated_at=now())
    )
    return get(conn, website_id, segment_id)


def delete(conn: sa.Connection, segment_id: UUID) -> None:
    conn.execute(t.delete().where(t.c.segment_id == segment_id))
