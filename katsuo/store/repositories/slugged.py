"""What links and pixels share: rows owned by a user or a team and reached by a unique slug."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from katsuo.store import ids, schema
from katsuo.store.records import Page, Record
from katsuo.store.repositories import collected, shares
from katsuo.store.repositories.common import columns, now, one, paginate, search_any


class SluggedEntities:
    """The repository functions of one such table (`link` or `pixel`)."""

    def __init__(self, table: sa.Table, model: type[Record], search_columns: tuple[str, ...]):
        self.table = table
        self.model = model
        self.id_column = table.c[f"{table.name}_id"]
        self.search_columns = [table.c[name] for name in search_columns]
        self.select = sa.select(*columns(table))
        self.live = table.c.deleted_at.is_(None)

    def get(self, conn: sa.Connection, entity_id: UUID):
        return one(conn, self.select.where(self.id_column == entity_id, self.live), self.model)

    def get_by_slug(self, conn: sa.Connection, slug: str):
        """The live row with this slug: a deleted link redirects nowhere, a deleted pixel counts
        nothing (deleted rows still hold their slug: see slug_taken)."""
        return one(conn, self.select.where(self.table.c.slug == slug, self.live), self.model)

    def slug_taken(self, conn: sa.Connection, slug: str, *, except_id: UUID | None = None) -> bool:
        stmt = sa.select(self.id_column).where(self.table.c.slug == slug)
        if except_id is not None:
            stmt = stmt.where(self.id_column != except_id)
        return conn.execute(stmt.limit(1)).first() is not None

    def create(self, conn: sa.Connection, *, entity_id: UUID | None = None, **values):
        entity_id = entity_id or ids.new_id()
        created = now()
        conn.execute(
            self.table.insert().values(
                {
                    self.id_column.name: entity_id,
                    **values,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        )
        return self.get(conn, entity_id)

    def update(self, conn: sa.Connection, entity_id: UUID, **values):
        if values:
            conn.execute(
                self.table.update()
                .where(self.id_column == entity_id)
                .values(**values, updated_at=now())
            )
        return self.get(conn, entity_id)

    def delete(self, conn: sa.Connection, entity_id: UUID) -> None:
        """Delete the row with its statistics (as a website's: see `collected`), reports,
        segments and shares; its id is never used again."""
        collected.delete(conn, entity_id, self.table.name)
        for table in (schema.report, schema.segment):
            conn.execute(table.delete().where(table.c.website_id == entity_id))
        shares.delete_for_entity(conn, entity_id)
        conn.execute(self.table.delete().where(self.id_column == entity_id))

    def _page(self, conn, where, search: str | None, page: int, page_size: int) -> Page:
        stmt = self.select.where(where, self.live)
        if search:
            stmt = stmt.where(search_any(search, *self.search_columns))
        stmt = stmt.order_by(self.table.c.created_at.desc(), self.id_column)
        return paginate(conn, stmt, self.model, page, page_size)

    def list_for_user(
        self, conn, user_id: UUID, *, search: str | None, page: int, page_size: int
    ) -> Page:
        return self._page(conn, self.table.c.user_id == user_id, search, page, page_size)

    def list_for_team(
        self, conn, team_id: UUID, *, search: str | None, page: int, page_size: int
    ) -> Page:
        return self._page(conn, self.table.c.team_id == team_id, search, page, page_size)
