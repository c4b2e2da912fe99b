"""Short links (`/q/<slug>`): owned by a user or a team."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from katsuo.store import schema
from katsuo.store.records import Link
from katsuo.store.repositories.common import columns, one

t = schema.link
_select = sa.select(*columns(t))
_live = t.c.deleted_at.is_(None)


def get(conn: sa.Connection, link_id: UUID) -> Link | None:
    return one(conn, _select.where(t.c.link_id == link_id, _live), Link)


def get_by_slug(conn: sa.Connection, slug: str) -> Link | None:
    # Slug lookups ignore deleted_at, as Umami's do (data-model §5).
    return one(conn, _select.where(t.c.slug == slug), Link)
