"""Teams and their members (the `team` and `team_user` tables)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from pydantic import Field

from katsuo.store import ids, schema
from katsuo.store.records import Counted, Page, Team, TeamMember, TeamMemberWithUser
from katsuo.store.repositories.common import columns, now, one, paginate, search_any

t = schema.team
tu = schema.team_user
u = schema.user
_live = t.c.deleted_at.is_(None)
_select = sa.select(*columns(t)).where(_live)
_member_select = sa.select(*columns(tu))

OWNER_ROLE = "team-owner"


class TeamWithMembers(Team):
    """A team with its memberships (GET /api/teams/:id)."""

    members: list[TeamMember] = Field(default_factory=list)


class TeamListing(Team, Counted):
    """A row of a team list: the team, its members with their names, and `_count`."""

    members: list[TeamMemberWithUser] = Field(default_factory=list)


def new_access_code() -> str:
    """`team_` and 16 random letters or digits, the form Umami gives access codes."""
    return "team_" + ids.random_chars(16)


def roles_of(conn: sa.Connection, user_id: UUID) -> dict[UUID, str]:
    """The user's role in each live team they belong to."""
    rows = conn.execute(
        sa.select(tu.c.team_id, tu.c.role)
        .join(t, t.c.team_id == tu.c.team_id)
        .where(tu.c.user_id == user_id, _live)
    )
    return {team_id: role for team_id, role in rows}


def teams_of(conn: sa.Connection, user_id: UUID) -> list[Team]:
    """The live teams the user is a member of."""
    stmt = _select.join(tu, tu.c.team_id == t.c.team_id).where(tu.c.user_id == user_id)
    rows = conn.execute(stmt.order_by(t.c.name)).mappings()
    return [Team.model_validate(dict(row)) for row in rows]


def get(conn: sa.Connection, team_id: UUID) -> Team | None:
    return one(conn, _select.where(t.c.team_id == team_id), Team)


def get_with_members(conn: sa.Connection, team_id: UUID) -> TeamWithMembers | None:
    team = one(conn, _select.where(t.c.team_id == team_id), TeamWithMembers)
    if team is not None:
        rows = conn.execute(
            _member_select.where(tu.c.team_id == team_id).order_by(tu.c.created_at)
        ).mappings()
        team.members = [TeamMember.model_validate(dict(row)) for row in rows]
    return team


def with_owners(conn: sa.Connection, team_ids: set[UUID]) -> dict[UUID, TeamWithMembers]:
    """Live teams by id, each with its owner memberships (the admin website list shows them)."""
    if not team_ids:
        return {}
    found = {
        row["id"]: TeamWithMembers.model_validate(dict(row))
        for row in conn.execute(_select.where(t.c.team_id.in_(team_ids))).mappings()
    }
    owners = conn.execute(
        _member_select.where(tu.c.team_id.in_(list(found)), tu.c.role == OWNER_ROLE).order_by(
            tu.c.created_at
        )
    ).mappings()
    for row in owners:
        found[row["team_id"]].members.append(TeamMember.model_validate(dict(row)))
    return found


def find_by_access_code(conn: sa.Connection, access_code: str) -> Team | None:
    return one(conn, _select.where(t.c.access_code == access_code), Team)


def access_code_taken(
    conn: sa.Connection, access_code: str, *, except_id: UUID | None = None
) -> bool:
    stmt = sa.select(t.c.team_id).where(t.c.access_code == access_code)
    if except_id is not None:
        stmt = stmt.where(t.c.team_id != except_id)
    return conn.execute(stmt.limit(1)).first() is not None


def create(conn: sa.Connection, *, name: str, owner_id: UUID) -> tuple[Team, TeamMember]:
    """A new team with a fresh access code, and the owner's membership."""
    team_id, created = ids.new_id(), now()
    access_code = new_access_code()
    while access_code_taken(conn, access_code):
        access_code = new_access_code()
    conn.execute(
        t.insert().values(
            team_id=team_id,
            name=name,
            access_code=access_code,
            created_at=created,
            updated_at=created,
        )
    )
    return get(conn, team_id), add_member(conn, team_id, owner_id, OWNER_ROLE)


def update(conn: sa.Connection, team_id: UUID, **values) -> Team | None:
    if values:
        conn.execute(t.update().where(t.c.team_id == team_id).values(**values, updated_at=now()))
    return get(conn, team_id)


def delete(conn: sa.Connection, team_id: UUID) -> None:
    """Memberships and the team go; team-owned websites, links and pixels stay
    (docs/data-lifecycle.md#deleting-and-resetting)."""
    conn.execute(tu.delete().where(tu.c.team_id == team_id))
    conn.execute(t.delete().where(t.c.team_id == team_id))


def _listing(where: sa.ColumnElement) -> sa.Select:
    w = schema.website
    website_count = (
        sa.select(sa.func.count())
        .where(w.c.team_id == t.c.team_id, w.c.deleted_at.is_(None))
        .scalar_subquery()
        .label("websites_count")
    )
    member_count = (
        sa.select(sa.func.count())
        .select_from(tu.join(u, u.c.user_id == tu.c.user_id))
        .where(tu.c.team_id == t.c.team_id, u.c.deleted_at.is_(None))
        .scalar_subquery()
        .label("members_count")
    )
    return sa.select(*columns(t), website_count, member_count).where(where, _live)


def _with_members(conn: sa.Connection, page: Page) -> Page:
    by_team = members_with_users(conn, [team.id for team in page.data])
    for team in page.data:
        team.members = by_team.get(team.id, [])
    return page


def list_for_user(conn: sa.Connection, user_id: UUID, *, page: int, page_size: int) -> Page:
    """The user's live teams with members and counts (GET /api/teams, /api/me/teams)."""
    mine = sa.select(tu.c.team_id).where(tu.c.user_id == user_id)
    stmt = _listing(t.c.team_id.in_(mine)).order_by(t.c.name, t.c.team_id)
    counts = ("websites_count", "members_count")
    return _with_members(conn, paginate(conn, stmt, TeamListing, page, page_size, counts=counts))


def list_all(conn: sa.Connection, *, search: str | None, page: int, page_size: int) -> Page:
    """Every live team, newest first (GET /api/admin/teams)."""
    stmt = _listing(search_any(search, t.c.name) if search else sa.true())
    stmt = stmt.order_by(t.c.created_at.desc(), t.c.team_id)
    counts = ("websites_count", "members_count")
    page_ = paginate(conn, stmt, TeamListing, page, page_size, order_by="createdAt", counts=counts)
    return _with_members(conn, page_)


# --- memberships -------------------------------------------------------------------------------


def _members_with_users_select() -> sa.Select:
    return (
        sa.select(*columns(tu), u.c.username.label("user_username"))
        .join(u, u.c.user_id == tu.c.user_id)
        .where(u.c.deleted_at.is_(None))
    )


def _member_with_user(values: dict) -> TeamMemberWithUser:
    values = dict(values)
    values["user"] = {"id": values["user_id"], "username": values.pop("user_username")}
    return TeamMemberWithUser.model_validate(values)


def members_with_users(
    conn: sa.Connection, team_ids: list[UUID], *, roles: tuple[str, ...] = ()
) -> dict[UUID, list[TeamMemberWithUser]]:
    """Members of several teams at once, oldest first, each with the member's name."""
    if not team_ids:
        return {}
    stmt = _members_with_users_select().where(tu.c.team_id.in_(team_ids))
    if roles:
        stmt = stmt.where(tu.c.role.in_(roles))
    found: dict[UUID, list[TeamMemberWithUser]] = {}
    for row in conn.execute(stmt.order_by(tu.c.created_at, tu.c.team_user_id)).mappings():
        member = _member_with_user(row)
        found.setdefault(member.team_id, []).append(member)
    return found


def members(
    conn: sa.Connection, team_id: UUID, *, search: str | None, page: int, page_size: int
) -> Page:
    """A team's members, oldest first, searchable by username (GET /api/teams/:id/users)."""
    stmt = _members_with_users_select().where(tu.c.team_id == team_id)
    if search:
        stmt = stmt.where(search_any(search, u.c.username))
    stmt = stmt.order_by(tu.c.created_at, tu.c.team_user_id)
    return paginate(conn, stmt, TeamMemberWithUser, page, page_size, build=_member_with_user)


def member(conn: sa.Connection, team_id: UUID, user_id: UUID) -> TeamMember | None:
    stmt = _member_select.where(tu.c.team_id == team_id, tu.c.user_id == user_id)
    return one(conn, stmt.order_by(tu.c.created_at).limit(1), TeamMember)


def add_member(conn: sa.Connection, team_id: UUID, user_id: UUID, role: str) -> TeamMember:
    member_id, created = ids.new_id(), now()
    conn.execute(
        tu.insert().values(
            team_user_id=member_id,
            team_id=team_id,
            user_id=user_id,
            role=role,
            created_at=created,
            updated_at=created,
        )
    )
    return one(conn, _member_select.where(tu.c.team_user_id == member_id), TeamMember)


def set_member_role(
    conn: sa.Connection, team_id: UUID, user_id: UUID, role: str
) -> TeamMember | None:
    conn.execute(
        tu.update()
        .where(tu.c.team_id == team_id, tu.c.user_id == user_id)
        .values(role=role, updated_at=now())
    )
    return member(conn, team_id, user_id)


def remove_member(conn: sa.Connection, team_id: UUID, user_id: UUID) -> None:
    conn.execute(tu.delete().where(tu.c.team_id == team_id, tu.c.user_id == user_id))
