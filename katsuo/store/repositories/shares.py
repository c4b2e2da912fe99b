"""Shares: public, read-only links to a website's (or link's, pixel's, board's) dashboard.

An Umami 3.0 database has no `share` table: there are no shares to read, and creating one
answers a 400 that says so (store/umami.py)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from katsuo.store import ids, schema, umami
from katsuo.store.records import Page, Share
from katsuo.store.repositories.common import columns, now, one, paginate

t = schema.share
_select = sa.select(*columns(t))

WEBSITE, LINK, PIXEL, BOARD = 1, 2, 3, 4
DEFAULT_WEBSITE_PARAMETERS = {"overview": True, "events": True}


def random_slug() -> str:
    return ids.random_chars(16)


def _stored(conn: sa.Connection) -> bool:
    return umami.level(conn).has(umami.SHARES)


def slug_taken(conn: sa.Connection, slug: str, *, except_id: UUID | None = None) -> bool:
    if not _stored(conn):
        return False
    stmt = sa.select(t.c.share_id).where(t.c.slug == slug)
    if except_id is not None:
        stmt = stmt.where(t.c.share_id != except_id)
    return conn.execute(stmt.limit(1)).first() is not None


def get(conn: sa.Connection, share_id: UUID) -> Share | None:
    if not _stored(conn):
        return None
    return one(conn, _select.where(t.c.share_id == share_id), Share)


def get_by_slug(conn: sa.Connection, slug: str) -> Share | None:
    if not _stored(conn):
        return None
    return one(conn, _select.where(t.c.slug == slug), Share)


def list_for_entity(conn: sa.Connection, entity_id: UUID, *, page: int, page_size: int) -> Page:
    """An entity's shares, newest first (docs/permissions.md#lists-paging-order-and-search)."""
    if not _stored(conn):
        return Page(data=[], count=0, page=page, page_size=page_size, order_by="createdAt")
    stmt = _select.where(t.c.entity_id == entity_id).order_by(t.c.created_at.desc(), t.c.share_id)
    return paginate(conn, stmt, Share, page, page_size, order_by="createdAt")


def create(
    conn: sa.Connection,
    *,
    entity_id: UUID,
    share_type: int,
    name: str,
    slug: str | None = None,
    parameters: dict | None = None,
) -> Share:
    umami.level(conn).require(umami.SHARES, "Sharing")
    share_id, created = ids.new_id(), now()
    conn.execute(
        t.insert().values(
            share_id=share_id,
            entity_id=entity_id,
            share_type=share_type,
            name=name,
            slug=slug or random_slug(),
            parameters=parameters or {},
            created_at=created,
            updated_at=created,
        )
    )
    return get(conn, share_id)


def update(
    conn: sa.Connection, share_id: UUID, *, name: str, slug: str, parameters: dict
) -> Share | None:
    conn.execute(
        t.update()
        .where(t.c.share_id == share_id)
        .values(name=name, slug=slug, parameters=parameters, updated_at=now())
    )
    return get(conn, share_id)


def delete(conn: sa.Connection, share_id: UUID) -> None:
    conn.execute(t.delete().where(t.c.share_id == share_id))


def create_website_share(conn: sa.Connection, website_id: UUID, slug: str) -> Share:
    """The legacy `shareId` field of a website: a new share with that slug becomes its share URL."""
    return create(
        conn,
        entity_id=website_id,
        share_type=WEBSITE,
        name="Share",
        slug=slug,
        parameters=DEFAULT_WEBSITE_PARAMETERS,
    )


def delete_for_entity(conn: sa.Connection, entity_id: UUID) -> None:
    if _stored(conn):
        conn.execute(t.delete().where(t.c.entity_id == entity_id))
