"""Teams and their members."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from katsuo.store import schema
from katsuo.store.records import Team
from katsuo.store.repositories.common import columns, one

tu = schema.team_user


def roles_of(conn: sa.Connection, user_id: UUID) -> dict[UUID, str]:
    """The user's role in each live team they belong to."""
    rows = conn.execute(
        sa.select(tu.c.team_id, tu.c.role)
        .join(schema.team, schema.team.c.team_id == tu.c.team_id)
        .where(tu.c.user_id == user_id, schema.team.c.deleted_at.is_(None))
    )
    return {team_id: role for team_id, role in rows}


def teams_of(conn: sa.Connection, user_id: UUID) -> list[Team]:
    """The live teams the user is a member of."""
    t = schema.team
    rows = conn.execute(
        sa.select(*columns(t))
        .join(tu, tu.c.team_id == t.c.team_id)
        .where(tu.c.user_id == user_id, t.c.deleted_at.is_(None))
        .order_by(t.c.name)
    ).mappings()
    return [Team.model_validate(dict(row)) for row in rows]


def get(conn: sa.Connection, team_id: UUID) -> Team | None:
    t = schema.team
    return one(conn, sa.select(*columns(t)).where(t.c.team_id == team_id, t.c.deleted_at.is_(None)), Team)
