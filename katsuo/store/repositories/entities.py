"""Resolving a bare id to the website, link or pixel it names: analytics, reports, segments and
shares accept any of the three where Umami's API says "websiteId" (docs/schema.md#one-id-space).

The three kinds share one id space: collected rows are keyed by the id alone, so an id held by
two kinds would mix their statistics and let one's owner read the other's. `id_taken` keeps new
ids unique across them (and the ids of deleted ones); an adopted database that already holds an
id in two kinds is refused at lookup rather than guessed (docs/data-lifecycle.md)."""

from __future__ import annotations

import logging
from uuid import UUID

import sqlalchemy as sa

from katsuo.store import schema
from katsuo.store.records import Link, Pixel, Share, Website
from katsuo.store.repositories import links, pixels, websites

log = logging.getLogger("katsuo.store")

# share_type of each kind (docs/schema.md#enumerations); boards (4) are not served yet.
SHARE_TYPES = {"website": 1, "link": 2, "pixel": 3}

Entity = Website | Link | Pixel
ID_TAKEN = "That ID is already in use by a website, link or pixel."

_KINDS = {"website": websites, "link": links, "pixel": pixels}
_SHARED_KINDS = {share_type: kind for kind, share_type in SHARE_TYPES.items()}
_ID_COLUMNS = {
    "website": schema.website.c.website_id,
    "link": schema.link.c.link_id,
    "pixel": schema.pixel.c.pixel_id,
}


def _holders(conn: sa.Connection, entity_id: UUID) -> list[str]:
    """The kinds whose table holds a row with this id, deleted rows included."""
    stmt = sa.union_all(
        *(
            sa.select(sa.literal(kind, sa.String).label("kind")).where(column == entity_id)
            for kind, column in _ID_COLUMNS.items()
        )
    )
    return list(conn.execute(stmt).scalars())


def find(conn: sa.Connection, entity_id: UUID) -> tuple[str, Entity] | None:
    """(kind, record) of the live entity with this id, or None; None too when two kinds hold it."""
    holders = _holders(conn, entity_id)
    if len(holders) > 1:
        log.warning(
            "id %s is held by a %s: refusing to serve either (ids must be unique across "
            "websites, links and pixels)",
            entity_id,
            " and a ".join(holders),
        )
        return None
    if not holders:
        return None
    entity = _KINDS[holders[0]].get(conn, entity_id)
    return (holders[0], entity) if entity is not None else None


def id_taken(conn: sa.Connection, entity_id: UUID) -> bool:
    """Whether a new website, link or pixel may not have this id: a website, link or pixel holds
    it (deleted or not), or held it once."""
    deleted = schema.deleted_id.c.entity_id
    return (
        bool(_holders(conn, entity_id))
        or conn.execute(sa.select(deleted).where(deleted == entity_id)).first() is not None
    )


def of_share(conn: sa.Connection, share: Share) -> tuple[str, Entity] | None:
    """(kind, record) of the live entity a share publishes, looked up by the share's type (one
    query), or None when it is gone or is not of that type."""
    kind = _SHARED_KINDS.get(share.share_type)
    entity = _KINDS[kind].get(conn, share.entity_id) if kind else None
    return (kind, entity) if entity is not None else None
