"""Resolving a bare id to the website, link or pixel it names: analytics, reports, segments and
shares accept any of the three where Umami's API says "websiteId" (data-model §4)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from katsuo.store.records import Link, Pixel, Share, Website
from katsuo.store.repositories import links, pixels, websites

# share_type of each kind (data-model §3.3); boards (4) are not served yet.
SHARE_TYPES = {"website": 1, "link": 2, "pixel": 3}
_REPOSITORIES = {"website": websites, "link": links, "pixel": pixels}
_KINDS = {share_type: kind for kind, share_type in SHARE_TYPES.items()}

Entity = Website | Link | Pixel


def find(conn: sa.Connection, entity_id: UUID) -> tuple[str, Entity] | None:
    """(kind, record) of the live entity with this id, websites first, or None."""
    for kind, repository in _REPOSITORIES.items():
        entity = repository.get(conn, entity_id)
        if entity is not None:
            return kind, entity
    return None


def of_share(conn: sa.Connection, share: Share) -> tuple[str, Entity] | None:
    """(kind, record) of the live entity a share publishes, looked up by the share's type (one
    query), or None when it is gone or is not of that type."""
    kind = _KINDS.get(share.share_type)
    entity = _REPOSITORIES[kind].get(conn, share.entity_id) if kind else None
    return (kind, entity) if entity is not None else None
