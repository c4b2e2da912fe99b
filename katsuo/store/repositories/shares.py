"""Shares: public, read-only links to a website's (or link's, pixel's, board's) dashboard."""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timezone
from uuid import UUID

import sqlalchemy as sa

from katsuo.store import ids, schema
from katsuo.store.records import Share
from katsuo.store.repositories.common import columns, one

t = schema.share
_select = sa.select(*columns(t))

WEBSITE, LINK, PIXEL, BOARD = 1, 2, 3, 4
DEFAULT_WEBSITE_PARAMETERS = {"overview": True, "events": True}

_ALPHABET = string.ascii_letters + string.digits


def random_slug(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def slug_taken(conn: sa.Connection, slug: str) -> bool:
    return conn.execute(sa.select(t.c.share_id).where(t.c.slug == slug)).first() is not None


def get_by_slug(conn: sa.Connection, slug: str) -> Share | None:
    return one(conn, _select.where(t.c.slug == slug), Share)


def create(
    conn: sa.Connection, *, entity_id: UUID, share_type: int, name: str, slug: str | None = None, parameters: dict | None = None
) -> Share:
    share_id = ids.new_id()
    conn.execute(
        t.insert().values(
            share_id=share_id, entity_id=entity_id, share_type=share_type, name=name,
            slug=slug or random_slug(), parameters=parameters or {}, created_at=datetime.now(timezone.utc),
        )
    )
    return one(conn, _select.where(t.c.share_id == share_id), Share)


def create_website_share(conn: sa.Connection, website_id: UUID, slug: str) -> Share:
    """The legacy `shareId` field of a website: a new share with that slug becomes its share URL."""
    return create(
        conn, entity_id=website_id, share_type=WEBSITE, name="Share", slug=slug, parameters=DEFAULT_WEBSITE_PARAMETERS
    )


def delete_for_entity(conn: sa.Connection, entity_id: UUID) -> None:
    conn.execute(t.delete().where(t.c.entity_id == entity_id))
