"""Users: accounts, their passwords and roles."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from katsuo.store import ids, schema
from katsuo.store.records import Counted, Page, User
from katsuo.store.repositories.common import columns, now, one, paginate, search_any

t = schema.user
_live = t.c.deleted_at.is_(None)
_select = sa.select(*columns(t, exclude=["password"]))


def get(conn: sa.Connection, user_id: UUID) -> User | None:
    return one(conn, _select.where(t.c.user_id == user_id, _live), User)


def get_for_login(conn: sa.Connection, user_id: UUID) -> tuple[User, int] | None:
    """The live user and their current login generation, in one lookup (done on every request
    made with a login token)."""
    g = schema.login_generation
    generation = sa.func.coalesce(g.c.generation, 0).label("login_generation")
    stmt = _select.add_columns(generation).outerjoin(g, g.c.user_id == t.c.user_id)
    row = conn.execute(stmt.where(t.c.user_id == user_id, _live)).mappings().first()
    if row is None:
        return None
    values = dict(row)
    generation = values.pop("login_generation")
    return User.model_validate(values), generation


def end_logins(conn: sa.Connection, user_id: UUID) -> int:
    """Raise the user's login generation, which ends every login issued so far; returns the new
    generation. (DuckDB's SQLAlchemy dialect is PostgreSQL's, so this upsert serves both.)"""
    g = schema.login_generation
    stmt = postgresql.insert(g).values(user_id=user_id, generation=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[g.c.user_id], set_={"generation": g.c.generation + 1}
    )
    conn.execute(stmt)
    return conn.execute(sa.select(g.c.generation).where(g.c.user_id == user_id)).scalar_one()


def admin_count(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).where(t.c.role == "admin", _live)).scalar_one()


def get_many(conn: sa.Connection, user_ids: list[UUID]) -> dict[UUID, User]:
    rows = conn.execute(_select.where(t.c.user_id.in_(user_ids), _live)).mappings()
    return {row["id"]: User.model_validate(dict(row)) for row in rows}


def find_login(conn: sa.Connection, username: str) -> tuple[User, str] | None:
    """The live user with exactly this username, and their password hash."""
    row = (
        conn.execute(sa.select(*columns(t)).where(t.c.username == username, _live))
        .mappings()
        .first()
    )
    if row is None:
        return None
    values = dict(row)
    password = values.pop("password")
    return User.model_validate(values), password


def password_hash(conn: sa.Connection, user_id: UUID) -> str | None:
    return conn.execute(sa.select(t.c.password).where(t.c.user_id == user_id)).scalar()


def username_taken(conn: sa.Connection, username: str, *, except_id: UUID | None = None) -> bool:
    # Deleted users still hold their name (docs/permissions.md#users).
    stmt = sa.select(t.c.user_id).where(t.c.username == username)
    if except_id is not None:
        stmt = stmt.where(t.c.user_id != except_id)
    return conn.execute(stmt.limit(1)).first() is not None


def create(
    conn: sa.Connection,
    *,
    username: str,
    password_hash: str,
    role: str,
    user_id: UUID | None = None,
) -> User:
    user_id = user_id or ids.new_id()
    conn.execute(
        t.insert().values(
            user_id=user_id,
            username=username,
            password=password_hash,
            role=role,
            created_at=(created := now()),
            updated_at=created,
        )
    )
    return get(conn, user_id)


def update(conn: sa.Connection, user_id: UUID, **values) -> User | None:
    if "password_hash" in values:
        values["password"] = values.pop("password_hash")
    if values:
        conn.execute(t.update().where(t.c.user_id == user_id).values(**values, updated_at=now()))
    return get(conn, user_id)


def list_all(conn: sa.Connection, *, search: str | None, page: int, page_size: int) -> Page:
    website_count = (
        sa.select(sa.func.count())
        .where(schema.website.c.user_id == t.c.user_id, schema.website.c.deleted_at.is_(None))
        .scalar_subquery()
        .label("websites_count")
    )
    stmt = (
        sa.select(*columns(t, exclude=["password"]), website_count)
        .where(_live)
        .order_by(t.c.created_at.desc())
    )
    if (clause := search_any(search, t.c.username)) is not None:
        stmt = stmt.where(clause)
    return paginate(
        conn, stmt, AdminUser, page, page_size, order_by="createdAt", counts=("websites_count",)
    )


class AdminUser(User, Counted):
    """A row of the admin user list: the user and how many websites they own."""


def delete(conn: sa.Connection, user_id: UUID) -> list[UUID]:
    """Delete a user and what they own: personal websites with their data, the teams they own,
    their memberships and their reports (docs/data-lifecycle.md#deleting-and-resetting).
    Returns the ids of the deleted websites."""
    from katsuo.store.repositories import websites

    w = schema.website
    website_ids = list(
        conn.execute(sa.select(w.c.website_id).where(w.c.user_id == user_id)).scalars()
    )
    owned_teams = list(
        conn.execute(
            sa.select(schema.team_user.c.team_id).where(
                schema.team_user.c.user_id == user_id, schema.team_user.c.role == "team-owner"
            )
        ).scalars()
    )
    for website_id in website_ids:
        websites.delete(conn, website_id)
    if owned_teams:
        conn.execute(schema.team_user.delete().where(schema.team_user.c.team_id.in_(owned_teams)))
        conn.execute(schema.team.delete().where(schema.team.c.team_id.in_(owned_teams)))
    conn.execute(schema.team_user.delete().where(schema.team_user.c.user_id == user_id))
    conn.execute(schema.report.delete().where(schema.report.c.user_id == user_id))
    conn.execute(schema.api_key.delete().where(schema.api_key.c.user_id == user_id))
    # The generation row stays, raised: a user created later with the same id (POST /api/users
    # accepts one) does not inherit this user's logins.
    end_logins(conn, user_id)
    conn.execute(t.delete().where(t.c.user_id == user_id))
    return website_ids
