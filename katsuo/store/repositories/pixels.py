"""Tracking pixels (`/p/<slug>`): owned by a user or a team."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from katsuo.store import schema
from katsuo.store.records import Pixel
from katsuo.store.repositories.common import columns, one

t = schema.pixel
_select = sa.select(*columns(t))
_live = t.c.deleted_at.is_(None)


def get(conn: sa.Connection, pixel_id: UUID) -> Pixel | None:
    return one(conn, _select.where(t.c.pixel_id == pixel_id, _live), Pixel)


def get_by_slug(conn: sa.Connection, slug: str) -> Pixel | None:
    # Slug lookups ignore deleted_at, as Umami's do (data-model §5).
    return one(conn, _select.where(t.c.slug == slug), Pixel)
