"""Operations that remove data across stores: resetting a website, deleting a website, a link, a
pixel or a user.

Each runs in three steps, in this order, so a failure part way never loses what was kept:
1. the management change, in the request's transaction (`conn` from `Database.begin`), which also
   empties the collected tables of the management store and queues the deletion for a separate
   events store (store/repositories/collected.py);
2. once that committed, the queued deletions in the events store (ClickHouse); one that fails
   stays queued, is logged, and is retried by the next removal and at start;
3. then the caches: the ids leave the collector's website cache (and the link and pixel slugs),
   and the writer forgets the stored sessions, so returning visitors get their rows written
   again.
A change that rolls back runs neither 2 nor 3.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING
from uuid import UUID

import sqlalchemy as sa

from katsuo.store.database import after_commit
from katsuo.store.repositories import collected, users, websites

if TYPE_CHECKING:
    from katsuo.services import Services


def reset_website(conn: sa.Connection, svc: Services, website_id: UUID) -> None:
    websites.reset(conn, website_id)
    _after(conn, svc, [website_id])


def delete_website(conn: sa.Connection, svc: Services, website_id: UUID) -> None:
    websites.delete(conn, website_id)
    _after(conn, svc, [website_id])


def delete_slugged(
    conn: sa.Connection, svc: Services, repository: ModuleType, entity_id: UUID
) -> None:
    """Delete a link or a pixel (`repository`: links or pixels): its /q/ or /p/ slug stops
    answering once this committed."""
    repository.delete(conn, entity_id)
    _after(conn, svc, [entity_id], slugs=True)


def delete_user(conn: sa.Connection, svc: Services, user_id: UUID) -> None:
    """Delete a user with the websites they own (and those websites' collected data)."""
    _after(conn, svc, users.delete(conn, user_id))


def _after(conn: sa.Connection, svc: Services, entity_ids: list[UUID], *, slugs=False) -> None:
    after_commit(conn, lambda: _clean_up(svc, entity_ids, slugs=slugs))


def _clean_up(svc: Services, entity_ids: Iterable[UUID], *, slugs: bool) -> None:
    collected.purge(svc.db)
    if svc.collector is not None:
        svc.collector.forget_websites(entity_ids)
    if slugs and svc.slugs is not None:
        svc.slugs.clear()
