"""API keys of users (Katsuo's own table)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa

from katsuo.store import ids, schema
from katsuo.store.records import ApiKey
from katsuo.store.repositories.common import columns, one

t = schema.api_key
_select = sa.select(*columns(t, exclude=["key_hash"], id_column="api_key_id"))


def create(conn: sa.Connection, *, user_id: UUID, name: str, prefix: str, key_hash: str) -> ApiKey:
    key_id = ids.new_id()
    conn.execute(
        t.insert().values(
            api_key_id=key_id,
            user_id=user_id,
            name=name,
            prefix=prefix,
            key_hash=key_hash,
            created_at=datetime.now(UTC),
        )
    )
    return one(conn, _select.where(t.c.api_key_id == key_id), ApiKey)


def list_for_user(conn: sa.Connection, user_id: UUID) -> list[ApiKey]:
    rows = conn.execute(_select.where(t.c.user_id == user_id).order_by(t.c.created_at)).mappings()
    return [ApiKey.model_validate(dict(row)) for row in rows]


def owner_of(conn: sa.Connection, key_hash: str) -> UUID | None:
    """The user a key belongs to; records when it was last used."""
    user_id = conn.execute(sa.select(t.c.user_id).where(t.c.key_hash == key_hash)).scalar()
    if user_id is not None:
        conn.execute(
            t.update().where(t.c.key_hash == key_hash).values(last_used_at=datetime.now(UTC))
        )
    return user_id


def delete(conn: sa.Connection, *, user_id: UUID, key_id: UUID) -> bool:
    return (
        conn.execute(t.delete().where(t.c.api_key_id == key_id, t.c.user_id == user_id)).rowcount
        > 0
    )
